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

// thumbnailPNG is src shrunk to width w by the engine's own loader, as a
// lossless PNG: the reference a variant of that width is judged against.
func thumbnailPNG(t *testing.T, src []byte, w int) []byte {
	t.Helper()
	ref, err := codec.Load(src, w, unbounded, false)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	b, _, err := ref.ExportPng(&vips.PngExportParams{Compression: 1})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVariants checks the files Variants makes: each decodes to exactly
// its width (and the height it declares), meets the target by the
// independent referee (Debian's butteraugli) against the source shrunk to
// that width, lists the chain's formats in order, and a width equal to
// the main answer's reuses the main answer's verified bytes; at a fixed
// quality each file is one encode at that quality, unmeasured.
func TestVariants(t *testing.T) {
	if testing.Short() {
		t.Skip("encodes AVIF and runs butteraugli many times")
	}
	jpg := encJPEG(t, photo(720, 480, 11), 95)
	png := encPNG(t, logo(720, 480))
	e := New(Config{})
	ctx := context.Background()
	tests := []struct {
		name    string
		src     []byte
		quality int
		formats []string
		widths  []int
	}{
		{"auto, avif chain", jpg, 0, []string{AVIF, WebP, JPEG}, []int{240, 480, 720}},
		{"auto, jpeg alone", jpg, 0, []string{JPEG}, []int{240, 400}},
		{"fixed quality", jpg, 70, []string{WebP, JPEG}, []int{240, 480}},
		{"auto, alpha, png fallback", png, 0, []string{WebP, PNG}, []int{240, 500}},
	}
	for _, tt := range tests {
		src := tt.src
		t.Run(tt.name, func(t *testing.T) {
			main, err := e.Optimize(ctx, src, Options{Formats: tt.formats, Quality: tt.quality, Target: "balanced", Resize: true, DisplayWidth: 240, DPR: 1})
			if err != nil {
				t.Fatal(err)
			}
			vr, err := e.Variants(ctx, src, VariantRequest{Widths: tt.widths, Formats: tt.formats, Main: main, Quality: tt.quality, Target: "balanced", Budget: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if vr.Note != "" || len(vr.Variants) != len(tt.widths) {
				t.Fatalf("%d widths (note %q), want %d", len(vr.Variants), vr.Note, len(tt.widths))
			}
			for i, v := range vr.Variants {
				if v.Width != tt.widths[i] {
					t.Errorf("variant %d is %d wide, want %d", i, v.Width, tt.widths[i])
				}
				if len(v.Files) != len(tt.formats) {
					t.Fatalf("width %d: %d files, want %d", v.Width, len(v.Files), len(tt.formats))
				}
				var ref []byte
				if tt.quality == 0 {
					ref = thumbnailPNG(t, src, v.Width)
				}
				for j, o := range v.Files {
					if o.Format != tt.formats[j] {
						t.Errorf("width %d file %d is %s, want %s", v.Width, j, o.Format, tt.formats[j])
					}
					w, h, _, _ := decoded(t, o.Data)
					if w != v.Width || h != v.Height || o.Width != w || o.Height != h {
						t.Errorf("width %d %s decodes to %d×%d, declared %d×%d (file %d×%d)", v.Width, o.Format, w, h, v.Width, v.Height, o.Width, o.Height)
					}
					if tt.quality > 0 {
						if o.Quality != tt.quality || o.Distance != 0 {
							t.Errorf("width %d %s: quality %d distance %v, want %d and none", v.Width, o.Format, o.Quality, o.Distance, tt.quality)
						}
						continue
					}
					if o.Distance == 0 && !o.Encoding.Lossy() {
						continue // lossless: nothing to measure
					}
					d := referee(t, ref, o.Data)
					t.Logf("%d×%d %s q%d %d bytes: distance %.3f, referee %.3f", v.Width, v.Height, o.Format, o.Quality, len(o.Data), o.Distance, d)
					if d > 1.4 || o.Distance <= 0 || o.Distance > 1.4 || d-o.Distance > 0.01 || o.Distance-d > 0.01 {
						t.Errorf("width %d %s: referee %.3f, reported %.3f: want both within 1.4 and equal", v.Width, o.Format, d, o.Distance)
					}
				}
				if v.Width != 240 {
					continue
				}
				for _, o := range v.Files {
					if m, ok := reusable(main, o.Format, 240, tt.quality > 0); ok && !bytes.Equal(m.Data, o.Data) {
						t.Errorf("width 240 %s: not the main answer's verified bytes", o.Format)
					}
				}
			}
		})
	}
}

// TestVariantsStop checks a call that cannot finish: canceled, it fails
// with canceled; out of budget, it returns what it made (nothing) with a
// note.
func TestVariantsStop(t *testing.T) {
	src := encJPEG(t, photo(480, 320, 12), 95)
	e := New(Config{})
	main, err := e.Optimize(context.Background(), src, Options{Formats: []string{JPEG}, Resize: true, DisplayWidth: 160, DPR: 1})
	if err != nil {
		t.Fatal(err)
	}
	req := VariantRequest{Widths: []int{160, 320}, Formats: []string{JPEG}, Main: main, Target: "balanced"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Variants(ctx, src, req); !errors.Is(err, errCanceled) {
		t.Errorf("canceled call: %v", err)
	}
	req.Budget = time.Nanosecond
	req.Widths = []int{200, 320} // no width reuses the main answer
	vr, err := e.Variants(context.Background(), src, req)
	if err != nil || len(vr.Variants) != 0 || vr.Note == "" {
		t.Errorf("out of budget: %d widths, note %q, %v; want none, a note", len(vr.Variants), vr.Note, err)
	}
	if e.working.Load() != 0 {
		t.Errorf("%d calls still counted as working", e.working.Load())
	}
}
