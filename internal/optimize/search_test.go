package optimize

import (
	"context"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"
)

func TestSearch(t *testing.T) {
	src := encJPEG(t, photo(240, 180, 31), 95)
	e := engine()
	s := Source{Format: JPEG, Bytes: int64(len(src)), Width: 240, Height: 180, Frames: 1}
	j, err := e.decode(src, s, Options{}.normalized())
	if err != nil {
		t.Fatal(err)
	}
	defer j.close()
	encodes := 0
	enc := func(q int) ([]byte, error) {
		encodes++
		b, _, err := j.img.ExportJpeg(&vips.JpegExportParams{Quality: q, StripMetadata: true})
		return b, err
	}
	balanced, _ := threshold("balanced", JPEG)
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
			a, err := e.search(context.Background(), j, JPEG, enc, tt.thr, jpegLo, jpegHi, maxSteps, tt.tryHi)
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
			if ok, err := e.meets(j, JPEG, a.data, tt.thr); err != nil || !ok {
				t.Fatalf("pick q%d does not pass: %v", a.q, err)
			}
			if a.q > jpegLo {
				b, _ := enc(a.q - 1)
				if ok, _ := e.meets(j, JPEG, b, tt.thr); ok {
					t.Errorf("q%d passes too: not the lowest", a.q-1)
				}
			}
		})
	}
}
