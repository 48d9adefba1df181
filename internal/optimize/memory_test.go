package optimize

import (
	"context"
	"runtime"
	"testing"

	"github.com/rs/zerolog"
)

func TestMetricSize(t *testing.T) {
	tests := []struct {
		w, h   int
		max    int64
		ww, wh int
	}{
		{800, 600, 2_500_000, 800, 600},
		{1600, 1562, 2_500_000, 1600, 1562}, // exactly at the cap
		{8660, 5773, 2_500_000, 1936, 1290},
		{5773, 8660, 2_500_000, 1290, 1936},
		{100_000, 10, 1000, 1000, 1}, // never below one pixel
		{400, 300, 0, 400, 300},      // no cap
	}
	for _, tt := range tests {
		w, h := metricSize(tt.w, tt.h, tt.max)
		if w != tt.ww || h != tt.wh {
			t.Errorf("metricSize(%d, %d, %d) = %d×%d, want %d×%d", tt.w, tt.h, tt.max, w, h, tt.ww, tt.wh)
		}
		if tt.max > 0 && int64(w)*int64(h) > tt.max && int64(tt.w)*int64(tt.h) > tt.max {
			t.Errorf("metricSize(%d, %d, %d) = %d×%d exceeds the cap", tt.w, tt.h, tt.max, w, h)
		}
	}
}

// TestReferenceSize checks that the metric's reference is shrunk only for
// images above the cap, and not built at all for a fixed quality.
func TestReferenceSize(t *testing.T) {
	src := encJPEG(t, photo(400, 300, 21), 92)
	s := Source{Format: JPEG, Bytes: int64(len(src)), Width: 400, Height: 300, Frames: 1}
	tests := []struct {
		name   string
		cap    int64
		q      int
		ww, wh int // 0×0: no reference
	}{
		{"under the cap", 200_000, 0, 400, 300},
		{"above the cap", 30_000, 0, 200, 150},
		{"fixed quality", 30_000, 70, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Config{MetricPixels: tt.cap, Log: zerolog.Nop()})
			j, err := e.decode(src, s, Options{Quality: tt.q}.normalized())
			if err != nil {
				t.Fatal(err)
			}
			defer j.close()
			if j.width != 400 || j.height != 300 {
				t.Fatalf("job is %d×%d", j.width, j.height)
			}
			if tt.ww == 0 {
				if j.ref != nil {
					t.Fatalf("fixed quality built a %d×%d reference", j.ref.Width(), j.ref.Height())
				}
				return
			}
			if j.ref == nil || j.ref.Width() != tt.ww || j.ref.Height() != tt.wh {
				t.Fatalf("reference %v, want %d×%d", j.ref, tt.ww, tt.wh)
			}
			// The source compared with itself scores 0 at either size.
			b, _, err := j.img.ExportPng(nil)
			if err != nil {
				t.Fatal(err)
			}
			if d, err := j.distance(b); err != nil || d != 0 {
				t.Fatalf("lossless copy: distance %g, %v", d, err)
			}
			// A candidate of another size is refused, not shrunk to fit.
			other := encJPEG(t, photo(300, 400, 21), 92)
			if _, err := j.distance(other); err == nil {
				t.Fatal("a 300×400 candidate was accepted")
			}
		})
	}
}

// TestLargeImageBoundedAllocation optimizes a photo four times the metric
// cap and checks the Go heap allocations: the metric works on the shrunk
// copy, so a whole search allocates less than the image's own RGB size
// would, once per candidate, at full size.
func TestLargeImageBoundedAllocation(t *testing.T) {
	const w, h = 800, 600
	src := encJPEG(t, photo(w, h, 22), 95)
	e := New(Config{MetricPixels: w * h / 4, Log: zerolog.Nop()})
	opt := Options{Formats: []string{JPEG}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	rep, err := e.Optimize(context.Background(), src, opt)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	c := candidate(rep, JPEG)
	if c == nil || c.Width != w || c.Height != h || c.Quality < jpegLo || c.Quality > jpegHi {
		t.Fatalf("candidates %+v", rep.Candidates)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	// Measured: about 15 bytes per source pixel in all (the encoded
	// outputs, the reference once, each candidate's planes at a quarter
	// size); comparing at full size allocated 14 bytes per pixel for every
	// candidate, over 80 for a search.
	if limit := uint64(30 * w * h); alloc > limit {
		t.Errorf("Optimize allocated %d bytes, want < %d", alloc, limit)
	}
	t.Logf("allocated %d bytes (%.1f per pixel)", alloc, float64(alloc)/(w*h))
}
