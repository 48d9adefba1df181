package optimize

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"math/rand"
	"slices"
	"testing"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/rs/zerolog"
)

func engine() *Engine { return New(Config{Log: zerolog.Nop()}) }

func run(t *testing.T, src []byte, opt Options) Report {
	t.Helper()
	rep, err := engine().Optimize(context.Background(), src, opt)
	if err != nil {
		t.Fatalf("Optimize: %v", err)
	}
	return rep
}

func candidate(rep Report, format string) *Output {
	for i := range rep.Candidates {
		if rep.Candidates[i].Format == format {
			return &rep.Candidates[i]
		}
	}
	return nil
}

func formatsOf(rep Report) []string {
	var fs []string
	for _, c := range rep.Candidates {
		fs = append(fs, c.Format)
	}
	return fs
}

func TestPhotoJPEG(t *testing.T) {
	src := encJPEG(t, photo(480, 360, 1), 95)
	rep := run(t, src, Options{})
	if rep.Source.Format != JPEG || rep.Source.Width != 480 || rep.Source.Height != 360 || rep.Source.Bytes != int64(len(src)) {
		t.Fatalf("source = %+v", rep.Source)
	}
	if rep.Best == nil {
		t.Fatalf("no candidate smaller than the %d-byte source: %v", len(src), formatsOf(rep))
	}
	if int64(len(rep.Best.Data)) >= rep.Source.Bytes {
		t.Fatalf("best %d bytes is not smaller than source %d", len(rep.Best.Data), len(src))
	}
	for _, f := range []string{JPEG, WebP, AVIF} {
		if candidate(rep, f) == nil {
			t.Errorf("no %s candidate among %v", f, formatsOf(rep))
		}
	}
	for i, c := range rep.Candidates {
		if i > 0 && len(c.Data) < len(rep.Candidates[i-1].Data) {
			t.Errorf("candidates not sorted by size")
		}
		w, h, _, _ := decoded(t, c.Data)
		if w != 480 || h != 360 || c.Width != 480 || c.Height != 360 {
			t.Errorf("%s: decodes to %dx%d, reported %dx%d", c.Format, w, h, c.Width, c.Height)
		}
		if c.Quality < 1 || c.Quality > 100 {
			t.Errorf("%s: quality %d", c.Format, c.Quality)
		}
		want := ReasonCompression
		if c.Format != JPEG {
			want = ReasonFormat
		}
		if !slices.Equal(c.Reasons, []string{want}) {
			t.Errorf("%s: reasons %v, want [%s]", c.Format, c.Reasons, want)
		}
	}
	if jp := candidate(rep, JPEG); jp != nil && !bytes.Contains(jp.Data[:min(len(jp.Data), 4096)], []byte{0xFF, 0xC2}) {
		t.Errorf("JPEG candidate is not progressive")
	}
}

func TestAlphaPNGNeverJPEG(t *testing.T) {
	src := encPNG(t, logo(160, 120))
	rep := run(t, src, Options{Formats: []string{JPEG, PNG, WebP}})
	if candidate(rep, JPEG) != nil {
		t.Fatalf("a PNG with transparency got a JPEG candidate")
	}
	if candidate(rep, PNG) == nil || candidate(rep, WebP) == nil {
		t.Fatalf("candidates %v, want png and webp", formatsOf(rep))
	}
	for _, c := range rep.Candidates {
		if _, _, _, bands := decoded(t, c.Data); bands != 4 {
			t.Errorf("%s lost its alpha channel (%d bands)", c.Format, bands)
		}
	}
}

func TestOpaqueAlphaIsDropped(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 48))
	p := photo(64, 48, 3)
	for y := range 48 {
		for x := range 64 {
			c := p.RGBAAt(x, y)
			img.SetNRGBA(x, y, color.NRGBA{c.R, c.G, c.B, 255})
		}
	}
	rep := run(t, encPNG(t, img), Options{Formats: []string{JPEG, PNG}})
	if candidate(rep, JPEG) == nil {
		t.Fatalf("an RGBA PNG without transparency should allow JPEG, got %v", formatsOf(rep))
	}
}

func TestResizeToDisplay(t *testing.T) {
	src := encJPEG(t, photo(1200, 900, 2), 90)
	rep := run(t, src, Options{Resize: true, DisplayWidth: 150, DisplayHeight: 112.5, DPR: 2, Formats: []string{JPEG, WebP}})
	if rep.Best == nil {
		t.Fatal("no best candidate")
	}
	for _, c := range rep.Candidates {
		w, h, _, _ := decoded(t, c.Data)
		if c.Width != 300 || c.Height != 225 || w != 300 || h != 225 {
			t.Errorf("%s: %dx%d (decodes %dx%d), want 300x225", c.Format, c.Width, c.Height, w, h)
		}
		if !slices.Contains(c.Reasons, ReasonResize) {
			t.Errorf("%s: reasons %v lack resize", c.Format, c.Reasons)
		}
	}
	// Without Resize, or with a display box as large as the image, nothing shrinks.
	for _, opt := range []Options{
		{Resize: false, DisplayWidth: 150, DisplayHeight: 112.5, DPR: 2, Formats: []string{JPEG}},
		{Resize: true, DisplayWidth: 600, DPR: 2, Formats: []string{JPEG}},
		{Resize: true, Formats: []string{JPEG}},
	} {
		rep := run(t, src, opt)
		if c := candidate(rep, JPEG); c == nil || c.Width != 1200 || c.Height != 900 || slices.Contains(c.Reasons, ReasonResize) {
			t.Errorf("%+v: got %+v", opt, c)
		}
	}
}

func TestBoxWidthCoversDisplay(t *testing.T) {
	s := Source{Width: 1600, Height: 900}
	tests := []struct {
		name string
		opt  Options
		want int
	}{
		{"off", Options{DisplayWidth: 100, DPR: 1}, 0},
		{"unknown display", Options{Resize: true, DPR: 1}, 0},
		{"width only", Options{Resize: true, DisplayWidth: 400, DPR: 2}, 800},
		{"height only", Options{Resize: true, DisplayHeight: 300, DPR: 1}, 534},
		{"cover keeps the taller need", Options{Resize: true, DisplayWidth: 400, DisplayHeight: 400, DPR: 1}, 712},
		{"larger than image", Options{Resize: true, DisplayWidth: 1000, DPR: 2}, 0},
		{"fractional dpr", Options{Resize: true, DisplayWidth: 333.3, DPR: 1.5}, 500},
	}
	for _, tt := range tests {
		if got := boxWidth(s, tt.opt.normalized()); got != tt.want {
			t.Errorf("%s: boxWidth = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestAlreadyOptimalTinyPNG(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	src := encPNG(t, img)
	rep := run(t, src, Options{Formats: []string{PNG, JPEG}})
	if rep.Best != nil {
		t.Fatalf("best = %s of %d bytes for a %d-byte source, want nil", rep.Best.Format, len(rep.Best.Data), len(src))
	}
}

func TestAnimatedGIFToWebP(t *testing.T) {
	src := animation(t, 64, 48, 5)
	rep := run(t, src, Options{})
	if !rep.Source.Animated || rep.Source.Frames != 5 {
		t.Fatalf("source = %+v", rep.Source)
	}
	if len(rep.Candidates) != 1 || rep.Candidates[0].Format != WebP {
		t.Fatalf("candidates %v, want only webp", formatsOf(rep))
	}
	c := rep.Candidates[0]
	w, h, pages, _ := decoded(t, c.Data)
	if w != 64 || h != 48 || pages != 5 || c.Width != 64 || c.Height != 48 {
		t.Fatalf("webp decodes to %dx%d × %d pages (reported %dx%d)", w, h, pages, c.Width, c.Height)
	}
	img, err := vips.LoadImageFromBuffer(c.Data, func() *vips.ImportParams {
		p := &vips.ImportParams{}
		p.NumPages.Set(-1)
		return p
	}())
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if d, err := img.PageDelay(); err != nil || len(d) != 5 || d[0] != 70 {
		t.Errorf("delays %v (%v), want 5 × 70 ms", d, err)
	}
}

func TestAnimatedGIFStaysGIF(t *testing.T) {
	src := animation(t, 64, 48, 4)
	rep := run(t, src, Options{Formats: []string{JPEG, PNG, AVIF}})
	if len(rep.Candidates) != 1 || rep.Candidates[0].Format != GIF {
		t.Fatalf("candidates %v, want only gif", formatsOf(rep))
	}
	if _, _, pages, _ := decoded(t, rep.Candidates[0].Data); pages != 4 {
		t.Fatalf("gif has %d pages, want 4", pages)
	}
}

func TestOrientation6IsApplied(t *testing.T) {
	src := withMetadata(encJPEG(t, photo(120, 80, 4), 92), 6)
	// Held in memory (auto), streamed into one encode (fixed, one format)
	// and, over the memory budget, read anew by each encode.
	opts := []struct {
		opt Options
		cfg Config
	}{
		{Options{Formats: []string{JPEG, WebP}}, Config{}},
		{Options{Formats: []string{JPEG}, Quality: 80}, Config{}},
		{Options{Formats: []string{JPEG, WebP}, SkipSlow: true}, Config{}},
	}
	opts[2].cfg.MemoryBudget = budgetFor(t, src, opts[2].opt, WebP, false)
	for i, keep := range []bool{false, true, false, true, false, true} {
		o := opts[i/2]
		o.opt.KeepMetadata, o.cfg.Log = keep, zerolog.Nop()
		rep, err := New(o.cfg).Optimize(context.Background(), src, o.opt)
		if err != nil || len(rep.Candidates) == 0 {
			t.Fatalf("%+v: candidates %v, err %v", o.opt, formatsOf(rep), err)
		}
		if rep.Source.Width != 80 || rep.Source.Height != 120 {
			t.Fatalf("source %dx%d, want 80x120 as displayed", rep.Source.Width, rep.Source.Height)
		}
		for _, c := range rep.Candidates {
			w, h, _, _ := decoded(t, c.Data)
			if w != 80 || h != 120 || c.Width != 80 || c.Height != 120 {
				t.Errorf("keep=%v %s: %dx%d, want 80x120", keep, c.Format, w, h)
			}
			img, err := vips.NewImageFromBuffer(c.Data)
			if err != nil {
				t.Fatal(err)
			}
			if o := img.Orientation(); o > 1 {
				t.Errorf("keep=%v %s: output still says orientation %d (would rotate twice)", keep, c.Format, o)
			}
			img.Close()
		}
	}
}

func TestMetadataStrippedAndKept(t *testing.T) {
	src := withMetadata(encJPEG(t, photo(96, 64, 5), 92), 1)
	all := []string{JPEG, PNG, WebP, AVIF}
	for _, c := range run(t, src, Options{Formats: all}).Candidates {
		for _, m := range []string{"Exif\x00\x00", xmpNS, gpsMarker} {
			if bytes.Contains(c.Data, []byte(m)) {
				t.Errorf("stripped %s output contains %q", c.Format, m)
			}
		}
	}
	rep := run(t, src, Options{Formats: all, KeepMetadata: true})
	for _, f := range []string{JPEG, WebP} {
		c := candidate(rep, f)
		if c == nil {
			t.Fatalf("no %s candidate", f)
		}
		for _, m := range []string{"Exif", gpsMarker} {
			if !bytes.Contains(c.Data, []byte(m)) {
				t.Errorf("kept %s output lacks %q", f, m)
			}
		}
	}
}

func TestBrokenSources(t *testing.T) {
	jpg := encJPEG(t, photo(200, 150, 6), 90)
	pngb := encPNG(t, photo(200, 150, 7))
	alpha := encPNG(t, logo(200, 150))
	webp := encWebP(t, photo(200, 150, 8))
	anim := animation(t, 64, 48, 6)
	rnd := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(rnd)
	sources := []struct {
		name string
		src  []byte
		code string
	}{
		{"truncated jpeg", jpg[:len(jpg)*6/10], proto.CodeDecodeFailed},
		{"truncated png", pngb[:len(pngb)*6/10], proto.CodeDecodeFailed},
		{"truncated alpha png", alpha[:len(alpha)*6/10], proto.CodeDecodeFailed},
		{"truncated webp", webp[:len(webp)*6/10], proto.CodeDecodeFailed},
		{"truncated animation", anim[:len(anim)*6/10], proto.CodeDecodeFailed},
		{"random bytes", rnd, proto.CodeUnsupportedFormat},
		{"empty", nil, proto.CodeUnsupportedFormat},
		{"huge header", hugePNG(60000, 60000), proto.CodeTooManyPixels},
	}
	// Each way the engine reads a source: held in memory for a search or
	// for several formats, read by a single encode as it decodes, or, over
	// the memory budget, read anew by each encode.
	modes := []struct {
		name string
		opt  Options
		cfg  Config
	}{
		{"auto", Options{}, Config{}},
		{"fixed, several formats", Options{Quality: 70}, Config{}},
		{"fixed jpeg", Options{Quality: 70, Formats: []string{JPEG}}, Config{}},
		{"fixed webp", Options{Quality: 70, Formats: []string{WebP}}, Config{}},
		{"fixed png", Options{Quality: 70, Formats: []string{PNG}}, Config{}},
		{"fixed avif", Options{Quality: 70, Formats: []string{AVIF}}, Config{}},
		{"fixed jpeg, resized", Options{Quality: 70, Formats: []string{JPEG}, Resize: true, DisplayWidth: 50}, Config{}},
		{"auto, over the budget", Options{SkipSlow: true}, Config{MemoryBudget: 20 << 20}},
		{"fixed, over the budget", Options{Quality: 70}, Config{MemoryBudget: 9 << 20}},
	}
	for _, tt := range sources {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				start := time.Now()
				m.cfg.Log = zerolog.Nop()
				_, err := New(m.cfg).Optimize(context.Background(), tt.src, m.opt)
				var pe *proto.Error
				if !errors.As(err, &pe) || pe.Code != tt.code {
					t.Fatalf("err = %v, want code %s", err, tt.code)
				}
				if bytes.Contains([]byte(pe.Message), []byte("\n")) || bytes.Contains([]byte(pe.Message), []byte(".go")) {
					t.Errorf("message carries library text: %q", pe.Message)
				}
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("took %v", d)
				}
			})
		}
	}
}

// TestSingleEncodeStreams checks that one encode at a fixed quality reads
// the source as it decodes (no copy held in memory) and gives the same
// bytes as the in-memory path, for every format and for sources with and
// without an alpha band.
func TestSingleEncodeStreams(t *testing.T) {
	photoJPEG := encJPEG(t, photo(320, 240, 14), 92)
	logoPNG := encPNG(t, logo(160, 120))
	tests := []struct {
		src      []byte
		format   string
		streamed bool
	}{
		{photoJPEG, JPEG, true},
		{photoJPEG, WebP, true},
		{photoJPEG, PNG, true},
		{photoJPEG, AVIF, true},
		{logoPNG, WebP, false}, // the alpha band is checked in memory first
		{logoPNG, PNG, false},
	}
	e := engine()
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			one := Options{Quality: 60, Formats: []string{tt.format}}.normalized()
			im, _ := opened(t, e, tt.src, one)
			streamed := im.held == nil
			im.close()
			if streamed != tt.streamed {
				t.Fatalf("streamed = %v, want %v", streamed, tt.streamed)
			}
			rep := run(t, tt.src, one)
			c := candidate(rep, tt.format)
			if c == nil || c.Quality != 60 {
				t.Fatalf("candidates %+v", rep.Candidates)
			}
			// Held in memory (as for two formats), the same encode gives
			// the same bytes.
			other := JPEG
			if tt.format == JPEG {
				other = WebP
			}
			two := Options{Quality: 60, Formats: []string{tt.format, other}}.normalized()
			im, _ = opened(t, e, tt.src, two)
			defer im.close()
			if im.held == nil {
				t.Fatal("two formats streamed")
			}
			outs, err := e.search(context.Background(), im, &plan{formats: []string{tt.format}}, one)
			if err != nil || len(outs) != 1 || !bytes.Equal(outs[0].Data, c.Data) {
				t.Errorf("streamed and in-memory %s encodes differ (%v)", tt.format, err)
			}
		})
	}
}

func TestWebPEffort(t *testing.T) {
	src := encJPEG(t, photo(320, 240, 15), 92)
	opt := Options{Quality: 75, Formats: []string{WebP}}
	out := func(cfg Config) []byte {
		cfg.Log = zerolog.Nop()
		rep, err := New(cfg).Optimize(context.Background(), src, opt)
		if err != nil || len(rep.Candidates) != 1 {
			t.Fatalf("candidates %v, err %v", rep.Candidates, err)
		}
		return rep.Candidates[0].Data
	}
	def, e4, e6 := out(Config{}), out(Config{WebPEffort: 4}), out(Config{WebPEffort: 6})
	if !bytes.Equal(def, e6) {
		t.Errorf("the default effort is not 6")
	}
	if bytes.Equal(e4, e6) {
		t.Errorf("WebPEffort 4 and 6 gave the same bytes")
	}
	// The same encode through libvips directly at effort 4.
	v, err := vips.NewImageFromBuffer(src)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	want, err := codec.Encode(v, codec.Settings{Encoding: codec.WebP, Quality: 75, Effort: 4, Strip: true})
	if err != nil || !bytes.Equal(want, e4) {
		t.Errorf("WebPEffort 4 differs from libvips at effort 4 (%v)", err)
	}
}

func TestFixedQuality(t *testing.T) {
	src := encJPEG(t, photo(160, 120, 9), 95)
	rep := run(t, src, Options{Quality: 55})
	if len(rep.Candidates) < 3 {
		t.Fatalf("candidates %v", formatsOf(rep))
	}
	for _, c := range rep.Candidates {
		if c.Format != PNG && c.Quality != 55 {
			t.Errorf("%s quality %d, want 55", c.Format, c.Quality)
		}
	}
	lo := run(t, src, Options{Quality: 20, Formats: []string{JPEG}})
	hi := run(t, src, Options{Quality: 90, Formats: []string{JPEG}})
	if len(lo.Candidates[0].Data) >= len(hi.Candidates[0].Data) {
		t.Errorf("q20 (%d B) not smaller than q90 (%d B)", len(lo.Candidates[0].Data), len(hi.Candidates[0].Data))
	}
}

func TestSkipSlowHasNoAVIF(t *testing.T) {
	src := encJPEG(t, photo(160, 120, 10), 95)
	rep := run(t, src, Options{SkipSlow: true})
	if candidate(rep, AVIF) != nil {
		t.Fatalf("fast pass produced AVIF")
	}
	if candidate(rep, WebP) == nil || candidate(rep, JPEG) == nil {
		t.Fatalf("fast pass candidates %v", formatsOf(rep))
	}
}

func TestTargetsOrderSizes(t *testing.T) {
	src := encJPEG(t, photo(240, 180, 11), 95)
	size := func(target string) int {
		return len(run(t, src, Options{Target: target, Formats: []string{WebP}}).Candidates[0].Data)
	}
	h, b, s := size("high"), size("balanced"), size("small")
	if !(h >= b && b >= s && h > s) {
		t.Errorf("sizes high %d, balanced %d, small %d: want high ≥ balanced ≥ small", h, b, s)
	}
}

func TestSixteenBitAndCMYK(t *testing.T) {
	p := photo(64, 48, 12)
	img16 := image.NewRGBA64(p.Bounds())
	for y := range 48 {
		for x := range 64 {
			c := p.RGBAAt(x, y)
			img16.SetRGBA64(x, y, color.RGBA64{uint16(c.R) * 257, uint16(c.G) * 257, uint16(c.B) * 257, 0xffff})
		}
	}
	rep := run(t, encPNG(t, img16), Options{Formats: []string{PNG, WebP}})
	for _, c := range rep.Candidates {
		img, err := vips.NewImageFromBuffer(c.Data)
		if err != nil {
			t.Fatal(err)
		}
		if img.BandFormat() != vips.BandFormatUchar {
			t.Errorf("%s output is not 8-bit", c.Format)
		}
		img.Close()
	}

	// A CMYK JPEG made by libvips comes back as 3-band sRGB of similar colour.
	src := encJPEG(t, p, 95)
	v, err := vips.NewImageFromBuffer(src)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.ToColorSpace(vips.InterpretationCMYK); err != nil {
		t.Fatal(err)
	}
	cmyk, _, err := v.ExportJpeg(&vips.JpegExportParams{Quality: 95})
	if err != nil {
		t.Fatal(err)
	}
	rep = run(t, cmyk, Options{Formats: []string{JPEG}})
	c := candidate(rep, JPEG)
	if c == nil {
		t.Fatalf("no jpeg from CMYK source")
	}
	out, err := vips.NewImageFromBuffer(c.Data)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if out.Bands() != 3 || out.Interpretation() != vips.InterpretationSRGB {
		t.Fatalf("CMYK source gave %d bands, %v", out.Bands(), out.Interpretation())
	}
	want, _ := vips.NewImageFromBuffer(src)
	defer want.Close()
	a, _ := out.Average()
	b, _ := want.Average()
	if d := a - b; d > 20 || d < -20 {
		t.Errorf("mean level %.1f after CMYK round trip, source %.1f", a, b)
	}
}

func TestExtAndFormats(t *testing.T) {
	for f, ext := range map[string]string{JPEG: ".jpg", PNG: ".png", WebP: ".webp", AVIF: ".avif", GIF: ".gif", SVG: ".svg", "bmp": ""} {
		if got := ExtFor(f); got != ext {
			t.Errorf("ExtFor(%q) = %q, want %q", f, got, ext)
		}
	}
	fs := Formats()
	for _, f := range []string{JPEG, PNG, WebP, AVIF, GIF, SVG} {
		if !slices.Contains(fs, f) {
			t.Errorf("Formats() = %v lacks %s", fs, f)
		}
	}
}

func TestGovipsLayout(t *testing.T) {
	if !codec.Reachable() {
		t.Fatal("govips ImageRef layout not recognised: the engine cannot reach libvips' images")
	}
	img, err := vips.Black(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	if err := codec.Materialize(img); err != nil || img.Width() != 8 {
		t.Fatalf("materialize: %v, width %d", err, img.Width())
	}
}

func BenchmarkOptimizePhoto(b *testing.B) {
	src := encJPEG(b, photo(1600, 1067, 13), 92)
	e := engine()
	for _, fs := range [][]string{{JPEG}, {WebP}, {PNG}, {AVIF}} {
		b.Run(fs[0], func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Optimize(context.Background(), src, Options{Formats: fs}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
