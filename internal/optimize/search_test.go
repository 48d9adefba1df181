package optimize

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/codec"
)

func TestSearch(t *testing.T) {
	src := encJPEG(t, photo(240, 180, 31), 95)
	e := engine()
	im, ref := opened(t, e, src, Options{})
	defer im.close()
	encodes := 0
	enc := func(q int) ([]byte, error) {
		encodes++
		b, _, err := im.held.ExportJpeg(&vips.JpegExportParams{Quality: q, StripMetadata: true})
		return b, err
	}
	balanced := ref.limit("balanced", JPEG)
	s := &searcher{e: e, ctx: context.Background(), im: im, ref: ref, opt: Options{}.normalized()}
	tests := []struct {
		name  string
		thr   float64
		tryHi bool
		want  func(q int) bool // nil: no result
		max   int              // encodes at most
	}{
		{"anything passes", 100, true, func(q int) bool { return q == jpegLo }, maxSteps},
		{"nothing passes", 1e-9, true, nil, maxSteps + 1},
		{"nothing passes, hi not tried", 1e-9, false, nil, maxSteps},
		{"balanced", balanced, true, func(q int) bool { return q > jpegLo && q < jpegHi }, maxSteps + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			encodes = 0
			a, err := s.quality(JPEG, enc, tt.thr, jpegLo, jpegHi, maxSteps, tt.tryHi, 0)
			if err != nil {
				t.Fatal(err)
			}
			if encodes > tt.max {
				t.Errorf("%d encodes, want ≤ %d", encodes, tt.max)
			}
			if tt.want == nil {
				if a != nil {
					t.Fatalf("found q%d", a.q)
				}
				return
			}
			if a == nil || !tt.want(a.q) {
				t.Fatalf("found %+v", a)
			}
			// The pick passes and the quality below it does not.
			if ok, err := s.meets(JPEG, a.data, tt.thr); err != nil || !ok {
				t.Fatalf("pick q%d does not pass: %v", a.q, err)
			}
			if a.q > jpegLo {
				b, _ := enc(a.q - 1)
				if ok, _ := s.meets(JPEG, b, tt.thr); ok {
					t.Errorf("q%d passes too: not the lowest", a.q-1)
				}
			}
		})
	}
}

// TestPreviousDominated checks the refinement of an earlier answer: a
// format whose earlier candidate is far larger than the exact AVIF keeps
// it (no new search), and one that could still win is searched again.
func TestPreviousDominated(t *testing.T) {
	src := encJPEG(t, photo(240, 180, 5), 95)
	formats := []string{JPEG, WebP, AVIF}
	first := run(t, src, Options{Formats: formats, SkipSlow: true})
	jpeg, webp := candidate(first, JPEG), candidate(first, WebP)
	if jpeg == nil || webp == nil {
		t.Fatalf("fast answer lacks jpeg or webp: %v", formatsOf(first))
	}
	// The earlier JPEG is made huge: it cannot win and must be carried
	// over as it is. The earlier WebP is made tiny: it must be searched
	// again, so the final WebP is a new encode.
	big := *jpeg
	big.Data = append(append([]byte(nil), jpeg.Data...), make([]byte, 10*len(jpeg.Data))...)
	tiny := *webp
	tiny.Data = webp.Data[:1]
	rep := run(t, src, Options{Formats: formats, Previous: []Output{big, tiny}})
	got := candidate(rep, JPEG)
	if got == nil || len(got.Data) != len(big.Data) {
		t.Errorf("dominated JPEG was searched again: %+v", got)
	}
	if w := candidate(rep, WebP); w == nil || len(w.Data) <= 1 {
		t.Errorf("WebP was not searched again: %+v", w)
	}
	if candidate(rep, AVIF) == nil {
		t.Errorf("no AVIF in the refined answer: %v", formatsOf(rep))
	}
}

// TestJPEGScansKeepPixels guards what JPEG's search relies on: with
// libvips' mozjpeg settings, optimizing a progressive JPEG's scans only
// reorders its coefficients, so the search's encode without it decodes to
// exactly the pixels of the one returned unmeasured. (Baseline does not:
// trellis quantization differs.)
func TestJPEGScansKeepPixels(t *testing.T) {
	img, err := vips.NewImageFromBuffer(encPNG(t, photo(320, 240, 5)))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	decode := func(b []byte) []byte {
		d, err := vips.NewImageFromBuffer(b)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		p, err := d.ToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pairs := []struct {
		name         string
		search, kept func(q int) codec.Encoding
	}{
		{"auto", codec.JPEGSearch.AutoSubsample, codec.JPEG.AutoSubsample},
		{"4:2:0", always(codec.JPEGSearch), always(codec.JPEG)},
		{"4:4:4", always(codec.JPEGSearch444), always(codec.JPEG444)},
	}
	for _, sub := range pairs {
		for _, q := range []int{40, 75, 92, 99} {
			plain, err := codec.Encode(img, codec.Settings{Encoding: sub.search(q), Quality: q, Strip: true})
			if err != nil {
				t.Fatal(err)
			}
			opt, err := codec.Encode(img, codec.Settings{Encoding: sub.kept(q), Quality: q, Strip: true})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(decode(plain), decode(opt)) {
				t.Errorf("subsample %s q%d: optimized scans decode differently", sub.name, q)
			}
			if len(opt) > len(plain) {
				t.Errorf("subsample %s q%d: optimized scans %d bytes, plain %d", sub.name, q, len(opt), len(plain))
			}
		}
	}
}

// TestVerified checks which answers claim to be verified: the fast pass's
// estimates do not, the final pass's and a fixed quality's do.
func TestVerified(t *testing.T) {
	photoJPEG := encJPEG(t, photo(240, 180, 7), 95)
	tests := []struct {
		name string
		src  []byte
		opt  Options
		want bool
	}{
		{"fast estimate", photoJPEG, Options{Formats: []string{JPEG, WebP}, SkipSlow: true}, false},
		{"final pass", photoJPEG, Options{Formats: []string{JPEG, WebP}}, true},
		{"fixed quality, fast", photoJPEG, Options{Formats: []string{WebP}, Quality: 70, SkipSlow: true}, true},
		{"palette estimate, fast", encPNG(t, logo(120, 80)), Options{Formats: []string{PNG}, SkipSlow: true}, false},
		{"palette, final pass", encPNG(t, logo(120, 80)), Options{Formats: []string{PNG}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := run(t, tt.src, tt.opt)
			if rep.Best == nil {
				t.Fatalf("no best: %v", formatsOf(rep))
			}
			if rep.Verified != tt.want {
				t.Errorf("Verified = %v, want %v (best %+v)", rep.Verified, tt.want, rep.Best)
			}
			if rep.Note != "" {
				t.Errorf("unexpected note %q", rep.Note)
			}
		})
	}
}

// TestProgress checks that the final pass reports each smaller verified
// candidate as it finds it, and that the answer is never larger than the
// last one reported.
func TestProgress(t *testing.T) {
	src := encJPEG(t, photo(240, 180, 9), 95)
	formats := []string{JPEG, WebP, AVIF}
	first := run(t, src, Options{Formats: formats, SkipSlow: true})
	var seen []int
	rep := run(t, src, Options{Formats: formats, Previous: first.Candidates, Progress: func(r Report) {
		if !r.Verified || r.Best == nil {
			t.Errorf("progress report not verified or without best: %+v", r.Best)
			return
		}
		if n := len(seen); n > 0 && len(r.Best.Data) >= seen[n-1] {
			t.Errorf("progress not smaller: %d after %d", len(r.Best.Data), seen[n-1])
		}
		seen = append(seen, len(r.Best.Data))
	}})
	if len(seen) == 0 {
		t.Fatal("Progress was never called")
	}
	if rep.Best == nil || len(rep.Best.Data) > seen[len(seen)-1] || !rep.Verified {
		t.Errorf("final best %v (verified %v) after progress %v", rep.Best != nil, rep.Verified, seen)
	}
}

// TestBudget checks that a call whose budget runs out answers with what it
// verified so far and a note, rather than failing.
func TestTimeBudget(t *testing.T) {
	src := encJPEG(t, photo(480, 360, 11), 95)
	tests := []struct {
		name   string
		budget time.Duration
		note   bool
	}{
		{"ran out at once", time.Nanosecond, true},
		{"ran out mid-search", 150 * time.Millisecond, true},
		{"enough", 10 * time.Minute, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := engine().Optimize(context.Background(), src, Options{Formats: []string{JPEG, WebP, AVIF}, Budget: tt.budget})
			if err != nil {
				t.Fatalf("Optimize: %v", err)
			}
			if (rep.Note != "") != tt.note {
				t.Fatalf("note %q, want one: %v", rep.Note, tt.note)
			}
			if tt.note && rep.Best != nil && !rep.Verified {
				t.Errorf("a cut answer offers an unverified best")
			}
			if !tt.note && (rep.Best == nil || !rep.Verified) {
				t.Errorf("full answer: best %v verified %v", rep.Best != nil, rep.Verified)
			}
		})
	}
	// Canceling is still an error, budget or not.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := engine().Optimize(ctx, src, Options{Budget: time.Minute}); !errors.Is(err, errCanceled) {
		t.Errorf("canceled call: err = %v", err)
	}
}

// TestOutputSettings checks that every candidate names the settings that
// made it: encoding its image again with them gives the same bytes (the
// benchmark's search overhead encodes each format once this way).
func TestOutputSettings(t *testing.T) {
	src := encJPEG(t, photo(200, 150, 13), 95)
	for _, opt := range []Options{{}, {SkipSlow: true}, {Quality: 70}} {
		e := engine()
		rep := run(t, src, opt)
		im, _ := opened(t, e, src, Options{})
		for _, c := range rep.Candidates {
			b, err := codec.Encode(im.held, codec.Settings{Encoding: c.Encoding, Quality: c.Quality, Effort: c.Effort, Strip: true})
			if err != nil || !bytes.Equal(b, c.Data) {
				t.Errorf("%+v: %s q%d %s effort %d: %d bytes again, %d in the report (%v)", opt, c.Format, c.Quality, c.Encoding, c.Effort, len(b), len(c.Data), err)
			}
		}
		im.close()
	}
}
