package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/imagediet/imgdiet/internal/scan"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

func TestOptimizeBudgetFlag(t *testing.T) {
	tests := []struct {
		args []string
		want time.Duration // 0: a usage error naming --budget
	}{
		{nil, 20 * time.Second},
		{[]string{"--budget", "7"}, 7 * time.Second},
		{[]string{"--budget=2.5"}, 2500 * time.Millisecond},
		{[]string{"--budget", "600"}, 600 * time.Second},
		{[]string{"--budget", "1"}, time.Second},
		{[]string{"--budget", "0"}, 0},
		{[]string{"--budget", "0.5"}, 0},
		{[]string{"--budget", "601"}, 0},
		{[]string{"--budget", "NaN"}, 0},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var budget time.Duration
			called := false
			var out, errb bytes.Buffer
			deps := func() OptimizeDeps { called = true; return OptimizeDeps{} }
			f := optimizeFlags{}
			if err := newOptimizeFlags(&f, &errb).Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			opt, err := f.options()
			if err == nil {
				budget = opt.Budget
			}
			if tt.want == 0 {
				if err == nil || !strings.Contains(err.Error(), "--budget") {
					t.Fatalf("options() = %v, want an error naming --budget", err)
				}
				// The command refuses it before starting the engine.
				args := append(append([]string{}, tt.args...), "x.jpg")
				if code := runOptimize(args, &out, &errb, deps); code != ExitUsage || called {
					t.Fatalf("exit %d (engine started: %v), want %d before any work", code, called, ExitUsage)
				}
				return
			}
			if err != nil || budget != tt.want {
				t.Fatalf("budget %v (err %v), want %v", budget, err, tt.want)
			}
		})
	}
}

// TestOptimizeJSONVerified runs the command on a real file: its JSON
// result says the answer was verified.
func TestOptimizeJSONVerified(t *testing.T) {
	vipsrt.Start(vipsrt.DefaultConfig(), zerolog.Nop())
	img := image.NewRGBA(image.Rect(0, 0, 96, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 96; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 2), uint8(y * 3), uint8((x + y) % 256), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 98}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "a.jpg")
	if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	deps := func() OptimizeDeps {
		return OptimizeDeps{Engine: optimize.New(optimize.Config{Log: zerolog.Nop()}), Fetcher: fetch.New(fetch.DefaultConfig(), zerolog.Nop())}
	}
	var out, errb bytes.Buffer
	if code := runOptimize([]string{"--json", "--formats", "jpeg,webp", "--quality", "80", "--budget", "5", in}, &out, &errb, deps); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(strings.SplitN(out.String(), "\n", 2)[0]), &res); err != nil {
		t.Fatalf("%v in %q", err, out.String())
	}
	if res["verified"] != true || res["final"] != true {
		t.Fatalf("result %v, want final and verified", res)
	}
}

// TestOptimizeVariants runs `optimize --variants --width 48 --json --out`
// on a real file: the result line lists widths 48 and 96 in the best
// format's chain, and --out holds each file in a folder named after the
// image, decoding to its width.
func TestOptimizeVariants(t *testing.T) {
	vipsrt.Start(vipsrt.DefaultConfig(), zerolog.Nop())
	img := image.NewRGBA(image.Rect(0, 0, 160, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 160; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y * 2), uint8((x * y) % 256), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 98}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "pic.jpg")
	if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	deps := func() OptimizeDeps {
		return OptimizeDeps{Engine: optimize.New(optimize.Config{Log: zerolog.Nop()}), Fetcher: fetch.New(fetch.DefaultConfig(), zerolog.Nop())}
	}
	out := filepath.Join(dir, "out")
	var stdout, stderr bytes.Buffer
	if code := runOptimize([]string{"--json", "--variants", "--width", "48", "--formats", "jpeg,webp", "--out", out, in}, &stdout, &stderr, deps); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var res proto.Result
	if err := json.Unmarshal([]byte(strings.SplitN(stdout.String(), "\n", 2)[0]), &res); err != nil {
		t.Fatal(err)
	}
	if res.Best == nil || len(res.Variants) != 2 || res.Variants[0].Width != 48 || res.Variants[1].Width != 96 {
		t.Fatalf("result best %v variants %+v, want widths 48 and 96", res.Best, res.Variants)
	}
	for _, v := range res.Variants {
		if want := scan.VariantChain(res.Best.Format, "jpeg", false); len(v.Files) != len(want) {
			t.Errorf("width %d: %d files, want %v", v.Width, len(v.Files), want)
		}
		for _, f := range v.Files {
			data, err := os.ReadFile(filepath.Join(out, "pic", fmt.Sprintf("pic-%dw%s", v.Width, optimize.ExtFor(f.Format))))
			if err != nil || int64(len(data)) != f.Bytes {
				t.Fatalf("width %d %s: %v, %d bytes, want %d", v.Width, f.Format, err, len(data), f.Bytes)
			}
			m, err := vips.NewImageFromBuffer(data)
			if err != nil || m.Width() != v.Width || m.Height() != v.Height {
				t.Fatalf("width %d %s: decodes (%v) to a different size", v.Width, f.Format, err)
			}
			m.Close()
			if f.Distance == nil || *f.Distance > 1.4 {
				t.Errorf("width %d %s: distance %v", v.Width, f.Format, f.Distance)
			}
		}
	}
	if code := runOptimize([]string{"--variants", in}, &stdout, &stderr, deps); code != ExitUsage {
		t.Errorf("--variants without --width: exit %d, want usage", code)
	}
}
