package codec

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand"
	"os"
	"sync"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/rs/zerolog"

	"github.com/imagediet/imgdiet/internal/vipsrt"
)

func TestMain(m *testing.M) {
	vipsrt.Start(vipsrt.DefaultConfig(), zerolog.Nop())
	os.Exit(m.Run())
}

// scene paints a w×h test picture with photo-like traits (gradients, hard
// and soft edges, saturated colour, noise) and, when alpha is set, a
// transparent corner. It returns it PNG-encoded.
func scene(t testing.TB, w, h int, alpha bool) []byte {
	t.Helper()
	r := rand.New(rand.NewSource(int64(w*7 + h)))
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			u, v := float64(x)/float64(w), float64(y)/float64(h)
			red := 200*u + 30*math.Sin(v*17)
			grn := 160*v + 40*math.Cos(u*11+v*5)
			blu := 90 + 80*math.Sin((u+v)*9)
			if (x/24+y/24)%2 == 0 && u > 0.5 { // a checkerboard of hard edges
				red, grn, blu = 230, 20, 40
			}
			a := 255.0
			if alpha && u+v < 0.4 {
				a = 255 * (u + v) / 0.4
			}
			n := r.NormFloat64() * 4
			c := func(f float64) uint8 { return uint8(max(0, min(255, math.Round(f+n)))) }
			img.SetNRGBA(x, y, color.NRGBA{c(red), c(grn), c(blu), uint8(a)})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// open loads an encoded image through govips, as the engine's callers do.
func open(t testing.TB, b []byte) *vips.ImageRef {
	t.Helper()
	img, err := vips.NewImageFromBuffer(b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(img.Close)
	return img
}

func encode(t testing.TB, img *vips.ImageRef, s Settings) []byte {
	t.Helper()
	b, err := Encode(img, s)
	if err != nil {
		t.Fatalf("%v: %v", s.Encoding, err)
	}
	return b
}

// TestEncodeMatchesGovips checks, family by family, that the table's
// option strings are the settings the engine passed to govips before this
// package: the same bytes for every encoding govips can express.
func TestEncodeMatchesGovips(t *testing.T) {
	img := open(t, scene(t, 240, 160, false))
	rgba := open(t, scene(t, 120, 90, true))
	mozjpeg := func(q int, sub vips.SubsampleMode, scans bool) func() ([]byte, *vips.ImageMetadata, error) {
		return func() ([]byte, *vips.ImageMetadata, error) {
			return img.ExportJpeg(&vips.JpegExportParams{StripMetadata: true, Quality: q,
				Interlace: true, OptimizeCoding: true, TrellisQuant: true, OvershootDeringing: true,
				OptimizeScans: scans, QuantTable: 3, SubsampleMode: sub})
		}
	}
	tests := []struct {
		name string
		img  *vips.ImageRef
		s    Settings
		want func() ([]byte, *vips.ImageMetadata, error)
	}{
		{"jpeg auto q80", img, Settings{Encoding: JPEG.AutoSubsample(80), Quality: 80, Strip: true},
			mozjpeg(80, vips.VipsForeignSubsampleAuto, true)},
		{"jpeg auto q93", img, Settings{Encoding: JPEG.AutoSubsample(93), Quality: 93, Strip: true},
			mozjpeg(93, vips.VipsForeignSubsampleAuto, true)},
		{"jpeg 4:2:0 q93", img, Settings{Encoding: JPEG, Quality: 93, Strip: true},
			mozjpeg(93, vips.VipsForeignSubsampleOn, true)},
		{"jpeg-search-444", img, Settings{Encoding: JPEGSearch444, Quality: 70, Strip: true},
			mozjpeg(70, vips.VipsForeignSubsampleOff, false)},
		{"jpeg-baseline", img, Settings{Encoding: JPEGBaseline, Quality: 75, Strip: true},
			func() ([]byte, *vips.ImageMetadata, error) {
				return img.ExportJpeg(&vips.JpegExportParams{StripMetadata: true, Quality: 75,
					OvershootDeringing: true, QuantTable: 3, SubsampleMode: vips.VipsForeignSubsampleOn})
			}},
		{"webp-plain", img, Settings{Encoding: WebPPlain, Quality: 77, Strip: true},
			func() ([]byte, *vips.ImageMetadata, error) {
				return img.ExportWebp(&vips.WebpExportParams{StripMetadata: true, Quality: 77, ReductionEffort: 4})
			}},
		{"webp-lossless effort 2", rgba, Settings{Encoding: WebPLossless, Effort: 2, Strip: true},
			func() ([]byte, *vips.ImageMetadata, error) {
				return rgba.ExportWebp(&vips.WebpExportParams{StripMetadata: true, Quality: 100, Lossless: true, ReductionEffort: 2})
			}},
		{"png", rgba, Settings{Encoding: PNG, Strip: true},
			func() ([]byte, *vips.ImageMetadata, error) {
				return rgba.ExportPng(&vips.PngExportParams{StripMetadata: true, Compression: 9, Filter: vips.PngFilterAll})
			}},
		{"png-palette", rgba, Settings{Encoding: PNGPalette, Quality: 60, Strip: true},
			func() ([]byte, *vips.ImageMetadata, error) {
				return rgba.ExportPng(&vips.PngExportParams{StripMetadata: true, Compression: 9,
					Filter: vips.PngFilterNone, Palette: true, Quality: 60, Dither: 1, Bitdepth: 8})
			}},
		{"avif effort 2", img, Settings{Encoding: AVIF, Quality: 50, Effort: 2, Strip: true},
			func() ([]byte, *vips.ImageMetadata, error) {
				return img.ExportAvif(&vips.AvifExportParams{StripMetadata: true, Quality: 50, Bitdepth: 8, Effort: 2})
			}},
		{"gif", rgba, Settings{Encoding: GIF},
			func() ([]byte, *vips.ImageMetadata, error) {
				return rgba.ExportGIF(&vips.GifExportParams{Effort: 7, Bitdepth: 8})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, _, err := tt.want()
			if err != nil {
				t.Fatal(err)
			}
			if got := encode(t, tt.img, tt.s); !bytes.Equal(got, want) {
				t.Errorf("%d bytes, govips %d: the outputs differ", len(got), len(want))
			}
		})
	}
}

// TestEncodingsWithoutGovips checks the settings govips cannot express
// against what they must equal or differ from.
func TestEncodingsWithoutGovips(t *testing.T) {
	img := open(t, scene(t, 240, 160, false))
	// libvips' automatic AVIF subsampling keeps full chroma from Q 90 on:
	// there AVIF444 is AVIF; below it, it is not.
	if a, b := encode(t, img, Settings{Encoding: AVIF, Quality: 92, Effort: 1}), encode(t, img, Settings{Encoding: AVIF444, Quality: 92, Effort: 1}); !bytes.Equal(a, b) {
		t.Error("AVIF444 at Q 92 differs from automatic subsampling")
	}
	if a, b := encode(t, img, Settings{Encoding: AVIF, Quality: 50, Effort: 1}), encode(t, img, Settings{Encoding: AVIF444, Quality: 50, Effort: 1}); bytes.Equal(a, b) || len(b) <= len(a) {
		t.Errorf("AVIF444 at Q 50: %d bytes, 4:2:0 %d", len(b), len(a))
	}
	// Smart subsampling changes the chroma of the hard red edges.
	plain := encode(t, img, Settings{Encoding: WebPPlain, Quality: 75})
	smart := encode(t, img, Settings{Encoding: WebP, Quality: 75})
	if bytes.Equal(plain, smart) {
		t.Error("smart subsampling changed nothing")
	}
	// Effort reaches the encoder: libwebp's effort 0 and 6 differ.
	if bytes.Equal(encode(t, img, Settings{Encoding: WebP, Quality: 75, Effort: 0}), encode(t, img, Settings{Encoding: WebP, Quality: 75, Effort: 6})) {
		t.Error("WebP effort 6 gave the default effort's bytes")
	}
	if !bytes.Equal(smart, encode(t, img, Settings{Encoding: WebP, Quality: 75, Effort: 4})) {
		t.Error("WebP's default effort is not 4")
	}
}

// TestJPEGVariants checks what the engine relies on: the search variant
// decodes to the final encode's pixels, and the chroma sampling each JPEG
// encoding writes in its frame header.
func TestJPEGVariants(t *testing.T) {
	img := open(t, scene(t, 240, 160, false))
	pixels := func(b []byte) []byte {
		var out []byte
		if err := (Render{Bands: 3}).DecodePixels(b, func(p Pixels) error {
			out = bytes.Clone(p.Pix)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, pair := range [][2]Encoding{{JPEGSearch, JPEG}, {JPEGSearch444, JPEG444}} {
		for _, q := range []int{40, 80, 95} {
			search := encode(t, img, Settings{Encoding: pair[0], Quality: q, Strip: true})
			final := encode(t, img, Settings{Encoding: pair[1], Quality: q, Strip: true})
			if !bytes.Equal(pixels(search), pixels(final)) {
				t.Errorf("%v and %v at q%d decode differently", pair[0], pair[1], q)
			}
			if len(final) > len(search) {
				t.Errorf("%v q%d: %d bytes, more than %v's %d", pair[1], q, len(final), pair[0], len(search))
			}
		}
	}
	for _, e := range []Encoding{JPEG, JPEG444, JPEGSearch, JPEGSearch444, JPEGBaseline, JPEGBaseline444} {
		b := encode(t, img, Settings{Encoding: e, Quality: 80, Strip: true})
		full, progressive, ok := jpegFrame(b)
		if !ok {
			t.Fatalf("%v: no frame header", e)
		}
		if want := e.AutoSubsample(99) == e; full != want {
			t.Errorf("%v: full chroma %v, want %v", e, full, want)
		}
		if want := e != JPEGBaseline && e != JPEGBaseline444; progressive != want {
			t.Errorf("%v: progressive %v, want %v", e, progressive, want)
		}
	}
}

// jpegFrame reads a JPEG's start-of-frame segment: whether its first
// component is sampled like the others, and whether it is progressive.
func jpegFrame(b []byte) (full, progressive, ok bool) {
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		n := int(b[i+2])<<8 | int(b[i+3])
		if m == 0xC0 || m == 0xC1 || m == 0xC2 {
			if i+12 > len(b) || b[i+9] < 3 {
				return false, false, false
			}
			return b[i+11] == 0x11, m == 0xC2, true
		}
		i += 2 + n
	}
	return false, false, false
}

// TestEveryEncoding encodes a picture with every encoding and decodes it
// back: the right format and size, and pixels close to the source
// (identical for the lossless ones).
func TestEveryEncoding(t *testing.T) {
	src := scene(t, 160, 120, false)
	img := open(t, src)
	var ref []byte
	if err := (Render{Bands: 3}).Pixels(img, func(p Pixels) error { ref = bytes.Clone(p.Pix); return nil }); err != nil {
		t.Fatal(err)
	}
	types := map[string]vips.ImageType{"jpeg": vips.ImageTypeJPEG, "webp": vips.ImageTypeWEBP,
		"png": vips.ImageTypePNG, "avif": vips.ImageTypeAVIF, "gif": vips.ImageTypeGIF}
	if len(Encodings()) != int(end-1) {
		t.Fatalf("Encodings lists %d of %d", len(Encodings()), end-1)
	}
	for _, e := range Encodings() {
		t.Run(e.String(), func(t *testing.T) {
			if e.Cost().PerPixel <= 0 || e.Cost().Fixed <= 0 {
				t.Errorf("no memory cost: %+v", e.Cost())
			}
			s := Settings{Encoding: e, Quality: 90, Strip: true}
			if e.DefaultEffort() > 0 {
				s.Effort = 1 // fast: this checks the settings, not the encoder
			}
			b := encode(t, img, s)
			out := open(t, b)
			typ := out.Format()
			if e.Format() == "avif" && typ == vips.ImageTypeHEIF {
				typ = vips.ImageTypeAVIF // libvips names the loader, not the brand
			}
			if typ != types[e.Format()] {
				t.Errorf("decodes as %v, want %s", out.Format(), e.Format())
			}
			var diff float64
			err := (Render{Bands: 3, SourceWidth: 160, SourceHeight: 120}).DecodePixels(b, func(p Pixels) error {
				for i := range p.Pix {
					diff += math.Abs(float64(p.Pix[i]) - float64(ref[i]))
				}
				diff /= float64(len(p.Pix))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			lossless := e == PNG || e == WebPLossless
			switch {
			case lossless && diff != 0:
				t.Errorf("lossless, but pixels differ by %.3f on average", diff)
			case !lossless && (diff == 0 || diff > 12):
				t.Errorf("mean difference %.3f per sample", diff)
			}
		})
	}
}

func TestSettingsRejected(t *testing.T) {
	img := open(t, scene(t, 16, 16, false))
	for _, s := range []Settings{{}, {Encoding: end}, {Encoding: JPEG}, {Encoding: AVIF, Quality: 101}} {
		if _, err := Encode(img, s); err == nil {
			t.Errorf("%+v encoded", s)
		}
	}
	if _, err := Encode(nil, Settings{Encoding: PNG}); !errors.Is(err, ErrNoImage) {
		t.Errorf("nil image: %v", err)
	}
	// Quality is ignored where it has no meaning.
	if _, err := Encode(img, Settings{Encoding: PNG, Quality: 0}); err != nil {
		t.Error(err)
	}
}

// TestErrorsKeepLibvipsText checks that each failure carries libvips' own
// words, and that the next failure does not repeat the last one's.
func TestErrorsKeepLibvipsText(t *testing.T) {
	photo := open(t, scene(t, 200, 150, false))
	jpeg := encode(t, photo, Settings{Encoding: JPEG, Quality: 85, Strip: true})
	truncated := jpeg[:len(jpeg)*2/3]
	check := func(err error, op string) *Error {
		t.Helper()
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: %v is not an *Error", op, err)
		}
		if e.Op != op || e.Detail == "" {
			t.Errorf("%s: %+v", op, e)
		}
		t.Log(e)
		return e
	}
	if err := Verify(jpeg, false); err != nil {
		t.Fatalf("intact JPEG: %v", err)
	}
	v := check(Verify(truncated, false), "verify")
	g := check(Verify([]byte("not an image at all"), false), "verify")
	if v.Detail == g.Detail {
		t.Errorf("two failures, one text: %q", v.Detail)
	}
	_, err := Load([]byte("GIF89a but nothing else"), 100, 100, false)
	check(err, "load")
	// libwebp refuses images wider than 16383 pixels.
	wide, err := vips.Black(17000, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer wide.Close()
	_, err = Encode(wide, Settings{Encoding: WebP, Quality: 50})
	check(err, "encode webp")
}

// TestLoadIsStrictAndShrinks loads through the strict loader: a valid
// source shrinks on load to the box and renders; a truncated one fails
// when its pixels are first read.
func TestLoadIsStrictAndShrinks(t *testing.T) {
	photo := open(t, scene(t, 400, 300, false))
	jpeg := encode(t, photo, Settings{Encoding: JPEGBaseline, Quality: 85, Strip: true})
	img, err := Load(jpeg, 200, 200, false)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if img.Width() != 200 || img.Height() != 150 {
		t.Errorf("loaded %d × %d, want 200 × 150", img.Width(), img.Height())
	}
	if err := Materialize(img); err != nil {
		t.Fatal(err)
	}
	if b := encode(t, img, Settings{Encoding: PNG}); len(b) == 0 {
		t.Error("no output")
	}
	bad, err := Load(jpeg[:len(jpeg)/2], 200, 200, false)
	if err != nil {
		return // refused already: as good
	}
	defer bad.Close()
	var e *Error
	if err := Materialize(bad); !errors.As(err, &e) {
		t.Errorf("truncated JPEG rendered: %v", err)
	}
}

func TestPixelsAndAlpha(t *testing.T) {
	rgba := open(t, scene(t, 120, 90, true))
	rgb := open(t, scene(t, 120, 90, false))
	if err := rgb.AddAlpha(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		img    *vips.ImageRef
		opaque bool
	}{{rgba, false}, {rgb, true}} {
		m, err := AlphaMin(tt.img)
		if err != nil {
			t.Fatal(err)
		}
		if (m >= 255) != tt.opaque {
			t.Errorf("alpha min %v, opaque %v", m, tt.opaque)
		}
	}
	// Shrunk to a box, each axis on its own; 3 bands made 4.
	err := (Render{Bands: 4, Width: 60, Height: 30}).Pixels(open(t, scene(t, 120, 90, false)), func(p Pixels) error {
		if p.Width != 60 || p.Height != 30 || p.Bands != 4 || len(p.Pix) != 60*30*4 {
			t.Errorf("%d × %d × %d, %d bytes", p.Width, p.Height, p.Bands, len(p.Pix))
		}
		for i := 3; i < len(p.Pix); i += 4 {
			if p.Pix[i] != 255 {
				t.Fatal("added alpha is not opaque")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A size other than the one expected is an error; fn's error comes back.
	var e *Error
	if err := (Render{Bands: 3, SourceWidth: 100, SourceHeight: 90}).Pixels(rgba, func(Pixels) error { return nil }); !errors.As(err, &e) {
		t.Errorf("wrong size: %v", err)
	}
	stop := errors.New("stop")
	if err := (Render{Bands: 3}).Pixels(rgba, func(Pixels) error { return stop }); err != stop {
		t.Errorf("fn's error: %v", err)
	}
}

func TestReachable(t *testing.T) {
	if !Reachable() {
		t.Fatal("govips ImageRef layout not recognised: the bridge cannot reach libvips images")
	}
}

// TestConcurrentEncodes runs one encode on several goroutines at once and
// expects the bytes of a lone run.
func TestConcurrentEncodes(t *testing.T) {
	img := open(t, scene(t, 160, 120, false))
	want := encode(t, img, Settings{Encoding: WebP, Quality: 70, Strip: true})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := Encode(img, Settings{Encoding: WebP, Quality: 70, Strip: true})
			if err == nil && !bytes.Equal(b, want) {
				err = errors.New("bytes differ from a lone encode")
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
