package optimize

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// TestVariantCost runs, on each photo in the folder IMGDIET_VARIANT_DIR,
// what a scan does with variants at displayWidth 640 and dpr 1: the
// estimate, the final pass, then widths 640 and 1280 in the answer's
// chain, and logs each step's CPU time and each file's quality and
// distance; a manual measurement, skipped unless the variable is set.
func TestVariantCost(t *testing.T) {
	dir := os.Getenv("IMGDIET_VARIANT_DIR")
	if dir == "" {
		t.Skip("IMGDIET_VARIANT_DIR not set")
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*.jpg"))
	if v, err := strconv.Atoi(os.Getenv("IMGDIET_VARIANT_AVIF_EFFORT")); err == nil {
		avifVariantEffort = v
	}
	e := New(Config{Log: zerolog.New(os.Stderr).Level(zerolog.TraceLevel)}) // measured: one line per measure
	ctx := context.Background()
	var finalCPU, varCPU time.Duration
	for _, n := range names {
		src, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		opt := Options{Formats: defaultFormats, Target: "balanced", Resize: true, DisplayWidth: 640, DPR: 1, Budget: 20 * time.Second}
		fast := opt
		fast.SkipSlow = true
		est, err := e.Optimize(ctx, src, fast)
		if err != nil {
			t.Fatal(err)
		}
		opt.Previous = est.Candidates
		c0 := processCPU()
		rep, err := e.Optimize(ctx, src, opt)
		if err != nil {
			t.Fatal(err)
		}
		c1 := processCPU()
		chain := []string{rep.Best.Format}
		if rep.Best.Format == AVIF {
			chain = append(chain, WebP)
		}
		if rep.Best.Format == AVIF || rep.Best.Format == WebP {
			chain = append(chain, JPEG)
		}
		vr, err := e.Variants(ctx, src, VariantRequest{Widths: []int{640, 1280}, Formats: chain, Main: rep, Target: "balanced", Budget: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		c2 := processCPU()
		finalCPU += c1 - c0
		varCPU += c2 - c1
		t.Logf("%s final %.2fs variants %.2fs note %q", filepath.Base(n), (c1 - c0).Seconds(), (c2 - c1).Seconds(), vr.Note)
		for _, c := range rep.Candidates {
			t.Logf("   main %s %d q%d d%.3f %d B", c.Format, c.Width, c.Quality, c.Distance, len(c.Data))
		}
		for _, v := range vr.Variants {
			for _, f := range v.Files {
				t.Logf("   %d×%d %s q%d d%.3f %d B", v.Width, v.Height, f.Format, f.Quality, f.Distance, len(f.Data))
			}
		}
	}
	t.Logf("total final %.1fs variants %.1fs (%.2fx)", finalCPU.Seconds(), varCPU.Seconds(), varCPU.Seconds()/finalCPU.Seconds())
}
