package optimize

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/imagediet/imgdiet/internal/codec"
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
			opt := Options{Quality: tt.q}
			im, ref := opened(t, e, src, opt)
			defer im.close()
			if im.width != 400 || im.height != 300 {
				t.Fatalf("image is %d×%d", im.width, im.height)
			}
			if tt.ww == 0 {
				if ref != nil {
					t.Fatalf("fixed quality built a %d×%d reference", ref.cmp.Width(), ref.cmp.Height())
				}
				return
			}
			if ref == nil || ref.cmp.Width() != tt.ww || ref.cmp.Height() != tt.wh {
				t.Fatalf("reference %v, want %d×%d", ref, tt.ww, tt.wh)
			}
			// The source compared with itself scores 0 at either size.
			b, _, err := im.held.ExportPng(nil)
			if err != nil {
				t.Fatal(err)
			}
			if d, ok, err := ref.within(b, 0); err != nil || d != 0 || !ok {
				t.Fatalf("lossless copy: distance %g, %v", d, err)
			}
			// A candidate of another size is refused, not shrunk to fit.
			other := encJPEG(t, photo(300, 400, 21), 92)
			if _, _, err := ref.within(other, 100); err == nil {
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

func TestBudget(t *testing.T) {
	b := newBudget(100)
	r1, err := b.acquire(context.Background(), 60)
	if err != nil {
		t.Fatal(err)
	}
	// A second 60 waits for the first to be given back.
	got := make(chan error, 1)
	go func() {
		r2, err := b.acquire(context.Background(), 60)
		if err == nil {
			r2()
		}
		got <- err
	}()
	select {
	case <-got:
		t.Fatal("acquired 120 of 100")
	case <-time.After(50 * time.Millisecond):
	}
	r1()
	r1() // giving back twice gives back once
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// More than the whole budget waits for all of it, then runs alone.
	r3, err := b.acquire(context.Background(), 500)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.acquire(ctx, 1); !errors.Is(err, errCanceled) {
		t.Fatalf("acquire on a full budget past its deadline: %v", err)
	}
	r3()
	if b.used != 0 {
		t.Fatalf("used %d after everything was given back", b.used)
	}
}

// budgetFor returns a budget that the in-memory path of src with opt does
// not fit in but the full-size search of f does, with the engine's own
// settings when ownSettings is set.
func budgetFor(t *testing.T, src []byte, opt Options, f string, ownSettings bool) int64 {
	t.Helper()
	e := New(Config{MemoryBudget: 1 << 40, Log: zerolog.Nop()})
	s, err := e.probe(src)
	if err != nil {
		t.Fatal(err)
	}
	im := &pic{src: src, s: s, boxW: unbounded, boxH: unbounded, frames: 1, release: func() {}}
	ref, err := im.load()
	if err != nil {
		t.Fatal(err)
	}
	ref.Close()
	im.big, im.limit = true, 1<<40
	px := im.pixels()
	need := e.fullSearchCost(f, im)
	if ownSettings {
		for _, enc := range fullSearchEncodings(f) {
			need = max(need, enc.Cost().Bytes(px, im.bands))
		}
	}
	b := need
	if in := e.inMemoryCost(im, opt.normalized()); in <= b {
		t.Fatalf("in-memory cost %d fits the budget %d", in, b)
	}
	return b
}

// TestLargePathMatchesInMemory checks that an image too large to hold
// decoded within the budget gets the same JPEG and WebP as when it is
// held: searched at full size, each candidate encoded from the decoder.
func TestLargePathMatchesInMemory(t *testing.T) {
	src := encJPEG(t, photo(640, 480, 23), 92)
	for _, tt := range []struct {
		name string
		opt  Options
	}{
		{"auto jpeg", Options{Formats: []string{JPEG}, SkipSlow: true}},
		{"auto jpeg, exact", Options{Formats: []string{JPEG}}},
		{"auto webp", Options{Formats: []string{WebP}, SkipSlow: true}},
		{"auto webp, exact", Options{Formats: []string{WebP}}},
		{"fixed", Options{Formats: []string{JPEG, WebP, AVIF}, Quality: 70}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.opt.Formats[0]
			budget := budgetFor(t, src, tt.opt, f, true)
			want := run(t, src, tt.opt)
			got, err := New(Config{MemoryBudget: budget, Log: zerolog.Nop()}).Optimize(context.Background(), src, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range want.Candidates {
				g := candidate(got, w.Format)
				if g == nil {
					if w.Format == AVIF && len(got.Skipped) == 1 && got.Skipped[0].Format == AVIF {
						continue // 20 bytes a pixel: over this budget
					}
					t.Fatalf("no %s over the budget; skipped %v", w.Format, got.Skipped)
				}
				if g.Quality != w.Quality || !bytes.Equal(g.Data, w.Data) || g.Width != w.Width || g.Height != w.Height {
					t.Errorf("%s: q%d %d B %dx%d over the budget, q%d %d B %dx%d in memory", w.Format,
						g.Quality, len(g.Data), g.Width, g.Height, w.Quality, len(w.Data), w.Width, w.Height)
				}
			}
		})
	}
}

// TestLargePathCheaperAndSkipped checks what the budget does when even
// the engine's own settings do not fit: formats are encoded with cheaper
// settings or left out with a reason, every output has the source's size,
// and a PNG source keeps its alpha band.
func TestLargePathCheaperAndSkipped(t *testing.T) {
	photoJPEG := encJPEG(t, photo(800, 600, 24), 92)
	logoPNG := encPNG(t, logo(800, 600))
	const px = 800 * 600
	tests := []struct {
		name   string
		src    []byte
		opt    Options
		budget int64
		want   []string // formats produced; nil: each either produced or skipped
		skip   []string
		bands  int
	}{
		// Above a plain JPEG, below the engine's own JPEG and any WebP.
		{"photo, fixed", photoJPEG, Options{Quality: 80}, 10 * mib, []string{JPEG}, []string{WebP, AVIF}, 3},
		// Above plain WebP and lossless PNG, below the search of WebP at
		// full size and a palette PNG: both are searched on a copy.
		{"logo, auto", logoPNG, Options{Formats: []string{JPEG, PNG, WebP}}, 17 * mib, nil, nil, 4},
	}
	if !(codec.JPEGBaseline.Cost().Bytes(px, 3) < 10*mib && codec.JPEG.Cost().Bytes(px, 3) > 10*mib &&
		codec.WebPPlain.Cost().Bytes(px, 3) > 10*mib) {
		t.Fatal("the fixed case's budget does not sit between the costs it tests")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Config{MemoryBudget: tt.budget, Log: zerolog.Nop()})
			rep, err := e.Optimize(context.Background(), tt.src, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			var got, skipped []string
			for _, c := range rep.Candidates {
				got = append(got, c.Format)
				w, h, _, bands := decoded(t, c.Data)
				if w != 800 || h != 600 || c.Width != 800 || c.Height != 600 || bands != tt.bands {
					t.Errorf("%s: %dx%d with %d bands, reported %dx%d", c.Format, w, h, bands, c.Width, c.Height)
				}
			}
			for _, s := range rep.Skipped {
				skipped = append(skipped, s.Format)
				if !strings.Contains(s.Reason, "800 × 600") || !strings.Contains(s.Reason, " MB") {
					t.Errorf("reason %q", s.Reason)
				}
			}
			slices.Sort(got)
			slices.Sort(skipped)
			t.Logf("produced %v, skipped %v", got, skipped)
			if tt.want != nil {
				want, wantSkipped := slices.Sorted(slices.Values(tt.want)), slices.Sorted(slices.Values(tt.skip))
				if !slices.Equal(got, want) || !slices.Equal(skipped, wantSkipped) {
					t.Fatalf("produced %v, skipped %v; want %v, %v", got, skipped, want, wantSkipped)
				}
			} else {
				for _, f := range tt.opt.normalized().Formats {
					in, out := slices.Contains(got, f), slices.Contains(skipped, f)
					switch {
					case f == JPEG && tt.bands == 4:
						if in || out { // transparency: never JPEG, and not a skip
							t.Errorf("%s: produced %v, skipped %v", f, in, out)
						}
					case in == out:
						t.Errorf("%s: produced %v, skipped %v", f, in, out)
					}
				}
			}
			if jp := candidate(rep, JPEG); jp != nil && bytes.Contains(jp.Data[:min(len(jp.Data), 4096)], []byte{0xFF, 0xC2}) {
				t.Errorf("JPEG over the budget is progressive")
			}
		})
	}
}

// TestAnimationOverBudget: an animation is encoded whole or left out.
func TestAnimationOverBudget(t *testing.T) {
	src := animation(t, 200, 150, 8)
	rep, err := New(Config{MemoryBudget: 2 * mib, Log: zerolog.Nop()}).Optimize(context.Background(), src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Candidates) != 0 || rep.Best != nil || len(rep.Skipped) != 1 || rep.Skipped[0].Format != WebP {
		t.Fatalf("candidates %v, skipped %+v", formatsOf(rep), rep.Skipped)
	}
}
