package optimize

import (
	"bytes"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLargeFile optimizes the file named by IMGDIET_BIG and logs sizes,
// time and the process's peak RSS (VmHWM); a manual check of memory on
// very large photos, skipped unless the variable is set. IMGDIET_BIG_FORMATS
// lists the formats (default jpeg,webp), IMGDIET_BIG_Q fixes the quality,
// IMGDIET_BIG_SKIPSLOW=1 asks for the fast pass and IMGDIET_BIG_BUDGET sets
// Config.MemoryBudget in MiB.
func TestLargeFile(t *testing.T) {
	p := os.Getenv("IMGDIET_BIG")
	if p == "" {
		t.Skip("IMGDIET_BIG not set")
	}
	src, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	fs := []string{JPEG, WebP}
	if v := os.Getenv("IMGDIET_BIG_FORMATS"); v != "" {
		fs = strings.Split(v, ",")
	}
	q, _ := strconv.Atoi(os.Getenv("IMGDIET_BIG_Q"))
	opt := Options{Formats: fs, Quality: q, SkipSlow: os.Getenv("IMGDIET_BIG_SKIPSLOW") != ""}
	mb, _ := strconv.Atoi(os.Getenv("IMGDIET_BIG_BUDGET"))
	start := time.Now()
	rep, err := New(Config{MemoryBudget: int64(mb) << 20}).Optimize(context.Background(), src, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%.1f s", time.Since(start).Seconds())
	for _, c := range rep.Candidates {
		t.Logf("%s %dx%d q%d %d B", c.Format, c.Width, c.Height, c.Quality, len(c.Data))
	}
	for _, s := range rep.Skipped {
		t.Logf("skipped %s: %s", s.Format, s.Reason)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("Go heap sys %d MiB, VmHWM %s", ms.HeapSys>>20, procStatus("VmHWM"))
}

// procStatus returns the value of key in /proc/self/status, or "n/a".
func procStatus(key string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for _, l := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(l, []byte(key+":")); ok {
			return string(bytes.TrimSpace(v))
		}
	}
	return "n/a"
}
