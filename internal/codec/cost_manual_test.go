package codec

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"
)

// TestCosts checks the table's memory costs: it scales the photo named by
// IMGDIET_COSTS to IMGDIET_COSTS_MP megapixels (default 12), and encodes
// it once with each encoding in a fresh process, from a streaming decoder
// as the engine's large-image path does, logging the peak resident memory
// over the process's baseline against the table's estimate. A manual
// check (minutes of CPU), skipped unless IMGDIET_COSTS is set; Linux only.
//
// Measured 2026-12-06 on a 2560 × 1600 photo scaled to 12 MP, on 2 busy
// cores: the search variants of JPEG peak within 3 MiB of the final ones
// (84 against 87 MiB at 4:2:0), as the table assumes; palette PNG, AVIF,
// AVIF444 and GIF stay within the table, baseline JPEG within 1 MiB; the
// other JPEGs and the WebPs exceed it by 1–7 % (87 against 82 MiB, 329
// against 321 MiB) and lossless PNG by 42 % (37 against 26 MiB: the
// output, held by libvips and copied into Go, is part of the peak).
func TestCosts(t *testing.T) {
	photo := os.Getenv("IMGDIET_COSTS")
	if photo == "" {
		t.Skip("IMGDIET_COSTS not set")
	}
	mp := 12.0
	if v := os.Getenv("IMGDIET_COSTS_MP"); v != "" {
		var err error
		if mp, err = strconv.ParseFloat(v, 64); err != nil {
			t.Fatal(err)
		}
	}
	img, err := vips.NewImageFromFile(photo)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if err := img.Resize(math.Sqrt(mp*1e6/float64(img.Width()*img.Height())), vips.KernelLanczos3); err != nil {
		t.Fatal(err)
	}
	src := encode(t, img, Settings{Encoding: JPEGBaseline, Quality: 90, Strip: true})
	file := filepath.Join(t.TempDir(), "src.jpg")
	if err := os.WriteFile(file, src, 0o600); err != nil {
		t.Fatal(err)
	}
	px := int64(img.Width()) * int64(img.Height())
	t.Logf("source %d × %d (%.1f MP)", img.Width(), img.Height(), float64(px)/1e6)
	for _, e := range Encodings() {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCostChild$", "-test.v")
		cmd.Env = append(os.Environ(), "IMGDIET_COST_SOURCE="+file, "IMGDIET_COST_ENCODING="+e.String())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", e, err, out)
		}
		_, v, ok := bytes.Cut(out, []byte("peak "))
		if !ok {
			t.Fatalf("%v: no measurement in\n%s", e, out)
		}
		var peak int64
		if _, err := fmt.Sscan(string(v), &peak); err != nil {
			t.Fatal(err)
		}
		est := e.Cost().Bytes(px, 3)
		t.Logf("%-18s peak %5d MiB, table %5d MiB (%.2f B/px above the table's fixed part)",
			e, peak/mib, est/mib, float64(peak-e.Cost().Fixed)/float64(px))
		if peak > est {
			t.Errorf("%v: peak %d MiB is above the table's %d MiB", e, peak/mib, est/mib)
		}
	}
}

// TestCostChild is TestCosts' measuring process.
func TestCostChild(t *testing.T) {
	file := os.Getenv("IMGDIET_COST_SOURCE")
	if file == "" {
		t.Skip("run by TestCosts")
	}
	var enc Encoding
	for _, e := range Encodings() {
		if e.String() == os.Getenv("IMGDIET_COST_ENCODING") {
			enc = e
		}
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	img, err := Load(src, 1<<20, 1<<20, false)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	runtime.GC()
	// Writing 5 to clear_refs resets VmHWM to the current RSS: the peak
	// read after the encode is the encode's own.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatal(err)
	}
	base := procKB(t, "VmRSS")
	if _, err := Encode(img, Settings{Encoding: enc, Quality: 80, Strip: true}); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("peak %d\n", (procKB(t, "VmHWM")-base)*1024)
}

// procKB reads a value in kB from /proc/self/status.
func procKB(t *testing.T, key string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", key)
	return 0
}
