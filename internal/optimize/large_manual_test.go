package optimize

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestLargeFile optimizes the file named by IMGDIET_BIG (formats from
// IMGDIET_BIG_FORMATS, default jpeg,webp) and logs sizes; a manual check of
// peak memory on very large photos, skipped unless the variable is set.
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
	q := 0
	if os.Getenv("IMGDIET_BIG_FIXED") != "" {
		q = 80
	}
	rep, err := engine().Optimize(context.Background(), src, Options{Formats: fs, Quality: q})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Candidates {
		t.Logf("%s %dx%d q%d %d B", c.Format, c.Width, c.Height, c.Quality, len(c.Data))
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("Go heap sys %d MiB", ms.HeapSys>>20)
}
