package probe

import (
	"bytes"
	"errors"
	"image"
	"math/rand/v2"
	"testing"

	"github.com/imagediet/imgdiet/internal/proto"
)

type readCase struct {
	name string
	file []byte
	want Info
	// strict is the prefix length below which every truncation must fail.
	strict int
}

func readCases(t testing.TB) []readCase {
	still := func(format string, w, h, depth int) Info {
		return Info{Format: format, Width: w, Height: h, Frames: 1, Orientation: 1, BitDepth: depth}
	}
	with := func(i Info, f func(*Info)) Info { f(&i); return i }

	jpg := encodeJPEG(t, rgbaImage(7, 5, 255))
	gray := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 33, 17)))
	icc := jpegSeg(0xE2, cat([]byte("ICC_PROFILE\x00\x01\x01"), make([]byte, 40)))
	xmp := jpegSeg(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"))
	exifLE := jpegSeg(0xE1, cat([]byte("Exif\x00\x00"), exifBlock(true, 6)))
	exifBE := jpegSeg(0xE1, cat([]byte("Exif\x00\x00"), exifBlock(false, 6)))
	jpgMeta := jpegInsert(jpg, exifLE, icc, xmp)
	// Fill bytes before a marker are legal.
	jpgFill := cat(jpg[:2], []byte{0xFF, 0xFF, 0xFF}, jpg[2:])
	sofEnd := func(j []byte) int {
		i := bytes.Index(j, []byte{0xFF, 0xC0})
		if i < 0 {
			i = bytes.Index(j, []byte{0xFF, 0xC2})
		}
		return i + 2 + int(be16(j[i+2:]))
	}

	pngRGBA := encodePNG(t, rgbaImage(3, 2, 100))
	pngRGB := encodePNG(t, rgbaImage(40, 30, 255))
	pngGray16 := encodePNG(t, image.NewGray16(image.Rect(0, 0, 9, 4)))
	pngMeta := pngInsert(pngRGB,
		pngChunk("iCCP", []byte("sRGB\x00\x00x\x9c")),
		pngChunk("eXIf", exifBlock(false, 8)),
		pngChunk("tRNS", []byte{0, 0, 0, 0, 0, 0}),
		pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x/>")))
	apng := pngInsert(pngRGB, pngChunk("acTL", cat(u32be(12), u32be(0))))
	idatEnd := func(p []byte) int {
		i := bytes.Index(p, []byte("IDAT")) - 4
		return i + 12 + int(be32(p[i:]))
	}

	gifStill := encodeGIF(t, 10, 6, 1, false)
	gifAnim := encodeGIF(t, 10, 6, 4, true)

	webpLossy := webpFile(vp8Chunk(300, 200))
	webpLossless := webpFile(vp8lChunk(17, 1000, true))
	webpExt := webpFile(vp8xChunk(vp8xICC|vp8xAlpha|vp8xEXIF, 640, 480),
		riffChunk("ICCP", make([]byte, 21)), riffChunk("ALPH", []byte{0, 1, 2}),
		vp8Chunk(640, 480), riffChunk("EXIF", exifBlock(true, 6)))
	webpAnim := webpFile(vp8xChunk(vp8xAnim, 50, 40), // no alpha flag: still RGBA
		riffChunk("ANIM", make([]byte, 6)), anmfChunk(50, 40), anmfChunk(20, 20), anmfChunk(50, 40))

	av1C := box("av1C", []byte{0x81, 0x00, 0x4C, 0x00})
	avif := heifFile(ftyp("avif", "mif1", "avif", "miaf"),
		[][]byte{ispe(640, 480), fullbox("pixi", 0, 0, []byte{3, 10, 10, 10}), av1C, box("colr", []byte("prof"), make([]byte, 8))},
		[][]byte{ispe(100, 100), fullbox("auxC", 0, 0, []byte(alphaURN+"\x00"))},
		infe(1, "av01"), infe(2, "av01"), infe(3, "Exif"))
	avifPlain := heifFile(ftyp("avif", "mif1"), [][]byte{box("av1C", []byte{0x81, 0, 0x6C, 0}), ispe(64, 32)}, nil, infe(1, "av01"))
	hvcC := box("hvcC", cat(make([]byte, 21), []byte{0xF8 | 2}, make([]byte, 2)))
	heic := heifFile(ftyp("heic", "mif1", "heic"),
		[][]byte{hvcC, ispe(4032, 3024), box("irot", []byte{1}), box("colr", []byte("nclx"), make([]byte, 7))}, nil,
		infe(1, "hvc1"), infe(2, "mime"))
	avis := cat(heifFile(ftyp("avis", "avif", "msf1"), [][]byte{ispe(64, 48)}, nil, infe(1, "av01")),
		moov("pict", 64, 48, 12))

	svgPlain := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="24" height="16"><path d="M0 0h24v16z"/></svg>`)
	svgProlog := []byte("\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- by hand -->\n" +
		`<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">` +
		"\n<svg viewBox=\"0 0 120.5 60\" xmlns=\"http://www.w3.org/2000/svg\"/>")
	svgUnits := []byte(`<svg width="25.4mm" viewBox="0,0,50,25" xmlns="http://www.w3.org/2000/svg"></svg>`)
	svgUnknown := []byte(`<svg width="100%" height="2em" xmlns="http://www.w3.org/2000/svg"></svg>`)
	svgIllustrator := []byte(`<?xml version="1.0" encoding="utf-8"?>
<!-- Generator: Adobe Illustrator 16.0.0, SVG Export Plug-In . SVG Version: 6.00 Build 0)  -->
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd" [
	<!ENTITY ns_svg "http://www.w3.org/2000/svg">
	<!ENTITY ns_xlink "http://www.w3.org/1999/xlink">
]>
<svg version="1.1" xmlns="&ns_svg;" xmlns:xlink="&ns_xlink;" width="595.28px" height="841.89px" viewBox="0 0 595.28 841.89"></svg>`)
	svgEntitySize := []byte(`<svg width="&w;" height="10" viewBox="0 0 20 10"/>`)
	// Lighthouse's tester page declares this; an SVG is never rasterized
	// at its declared size, so no pixel limit applies.
	svgHuge := []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10000" height="10000"><rect width="1" height="1"/></svg>`)
	svgAbsurd := []byte(`<svg width="100000" height="1e12"/>`)
	svgStill := func(w, h int) Info { return with(still(SVG, w, h, 8), func(i *Info) { i.Alpha = true }) }

	return []readCase{
		{"jpeg", jpg, still(JPEG, 7, 5, 8), sofEnd(jpg)},
		{"jpeg gray", gray, still(JPEG, 33, 17, 8), sofEnd(gray)},
		{"jpeg metadata", jpgMeta, with(still(JPEG, 7, 5, 8), func(i *Info) {
			i.ICC, i.HasEXIF, i.HasXMP, i.Orientation = true, true, true, 6
		}), sofEnd(jpgMeta)},
		{"jpeg exif big endian", jpegInsert(jpg, exifBE), with(still(JPEG, 7, 5, 8), func(i *Info) {
			i.HasEXIF, i.Orientation = true, 6
		}), 0},
		{"jpeg fill bytes", jpgFill, still(JPEG, 7, 5, 8), sofEnd(jpgFill)},
		{"jpeg progressive", jpegSetSOF(t, jpg, 0xC2), with(still(JPEG, 7, 5, 8), func(i *Info) { i.Progressive = true }), 0},
		{"jpeg cmyk", jpegCMYK(2000, 1000), with(still(JPEG, 2000, 1000, 8), func(i *Info) { i.CMYK = true }), 0},

		{"png rgba", pngRGBA, with(still(PNG, 3, 2, 8), func(i *Info) { i.Alpha = true }), idatEnd(pngRGBA)},
		{"png gray16", pngGray16, still(PNG, 9, 4, 16), idatEnd(pngGray16)},
		{"png metadata", pngMeta, with(still(PNG, 40, 30, 8), func(i *Info) {
			i.Alpha, i.ICC, i.HasEXIF, i.HasXMP, i.Orientation = true, true, true, true, 8
		}), idatEnd(pngMeta)},
		{"apng", apng, with(still(PNG, 40, 30, 8), func(i *Info) { i.Frames, i.Animated = 12, true }), idatEnd(apng)},

		{"gif", gifStill, still(GIF, 10, 6, 8), 0},
		{"gif animated", gifAnim, with(still(GIF, 10, 6, 8), func(i *Info) {
			i.Frames, i.Animated, i.Alpha = 4, true, true
		}), 0},

		{"webp lossy", webpLossy, still(WebP, 300, 200, 8), len(webpLossy)},
		{"webp lossless", webpLossless, with(still(WebP, 17, 1000, 8), func(i *Info) { i.Alpha = true }), len(webpLossless)},
		{"webp extended", webpExt, with(still(WebP, 640, 480, 8), func(i *Info) {
			i.Alpha, i.ICC, i.HasEXIF, i.Orientation = true, true, true, 6
		}), len(webpExt)},
		{"webp animated", webpAnim, with(still(WebP, 50, 40, 8), func(i *Info) {
			i.Frames, i.Animated, i.Alpha = 3, true, true
		}), len(webpAnim)},

		{"avif", avif, with(still(AVIF, 640, 480, 10), func(i *Info) { i.ICC, i.Alpha, i.HasEXIF = true, true, true }), len(avif)},
		{"avif av1C depth", avifPlain, still(AVIF, 64, 32, 12), len(avifPlain)},
		{"heic rotated", heic, still(HEIC, 3024, 4032, 10), len(heic)},
		{"avif sequence", avis, with(still(AVIF, 64, 48, 8), func(i *Info) { i.Frames, i.Animated = 12, true }), len(avis)},

		{"svg", svgPlain, svgStill(24, 16), 0},
		{"svg prolog viewBox", svgProlog, svgStill(121, 60), 0},
		{"svg mm and viewBox", svgUnits, svgStill(96, 48), 0},
		{"svg unknown size", svgUnknown, svgStill(0, 0), 0},
		{"svg illustrator", svgIllustrator, svgStill(595, 842), 0},
		{"svg entity in size", svgEntitySize, svgStill(20, 10), 0},
		{"svg declared 10000x10000", svgHuge, svgStill(10000, 10000), 0},
		{"svg declared absurdly large", svgAbsurd, svgStill(100000, 1<<30), 0},

		{"bmp", bmpFile(320, -240, 24), still(BMP, 320, 240, 24), 30},
		{"tiff", tiffFile(1024, 768, 3), with(still(TIFF, 1024, 768, 8), func(i *Info) { i.Orientation = 3 }), 0},
		{"ico", icoFile(16, 0, 32), with(still(ICO, 256, 256, 32), func(i *Info) { i.Alpha = true }), 6 + 48},
	}
}

func TestRead(t *testing.T) {
	for _, tc := range readCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			if got := Sniff(tc.file); got != tc.want.Format {
				t.Errorf("Sniff = %q, want %q", got, tc.want.Format)
			}
			got, err := Read(tc.file, Limits{})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got != tc.want {
				t.Fatalf("Read =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func errCode(err error) string {
	var pe *proto.Error
	if !errors.As(err, &pe) {
		return "not a *proto.Error"
	}
	return pe.Code
}

// TestReadTruncated reads every prefix of every test file.
func TestReadTruncated(t *testing.T) {
	for _, tc := range readCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			for n := range len(tc.file) {
				got, err := Read(tc.file[:n], Limits{})
				if err != nil {
					if c := errCode(err); c != proto.CodeDecodeFailed && c != proto.CodeUnsupportedFormat {
						t.Fatalf("prefix %d: code %q", n, c)
					}
					continue
				}
				if n < tc.strict {
					t.Fatalf("prefix %d of %d read without error: %+v", n, tc.strict, got)
				}
				if got.Format != tc.want.Format || got.Width != tc.want.Width || got.Height != tc.want.Height ||
					got.Frames > tc.want.Frames {
					t.Fatalf("prefix %d = %+v, want the size of %+v", n, got, tc.want)
				}
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	huge := pngHeader(60000, 60000, 8, 6)
	gif5000 := encodeGIF(t, 1, 1, 5000, false)
	tests := []struct {
		name string
		file []byte
		lim  Limits
		code string
	}{
		{"empty", nil, Limits{}, proto.CodeUnsupportedFormat},
		{"text", []byte("hello, world"), Limits{}, proto.CodeUnsupportedFormat},
		{"html", []byte("<!DOCTYPE html><html><body><svg></svg></body></html>"), Limits{}, proto.CodeUnsupportedFormat},
		{"svgz", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00"), Limits{}, proto.CodeUnsupportedFormat},
		{"png 60000x60000", huge, Limits{}, proto.CodeTooManyPixels},
		{"png 60000x60000 truncated", huge[:33], Limits{}, proto.CodeTooManyPixels},
		{"png small under tight limit", pngHeader(100, 100, 8, 2), Limits{MaxPixels: 9999}, proto.CodeTooManyPixels},
		{"png bad ihdr crc", func() []byte { b := pngHeader(10, 10, 8, 2); b[20]++; return b }(), Limits{}, proto.CodeDecodeFailed},
		{"png bad depth", pngHeader(10, 10, 3, 2), Limits{}, proto.CodeDecodeFailed},
		{"png zero width", pngHeader(0, 10, 8, 2), Limits{}, proto.CodeDecodeFailed},
		{"png no IDAT", cat(pngSig, pngChunk("IHDR", cat(u32be(1), u32be(1), []byte{8, 2, 0, 0, 0})), pngChunk("IEND", nil)), Limits{}, proto.CodeDecodeFailed},
		{"apng 5000 frames", pngInsert(pngHeader(10, 10, 8, 2), pngChunk("acTL", cat(u32be(5000), u32be(0)))), Limits{}, proto.CodeTooManyPixels},
		{"gif 5000 frames", gif5000, Limits{}, proto.CodeTooManyPixels},
		{"gif 5000 frames, limit raised", gif5000, Limits{MaxFrames: 4000}, proto.CodeTooManyPixels},
		{"gif frames over pixel limit", encodeGIF(t, 100, 100, 6, false), Limits{MaxPixels: 50_000}, proto.CodeTooManyPixels},
		{"gif bad block", cat(encodeGIF(t, 2, 2, 1, false)[:13+48], []byte{0x99}), Limits{}, proto.CodeDecodeFailed},
		{"jpeg 65535x65535", jpegCMYK(65535, 65535), Limits{}, proto.CodeTooManyPixels},
		{"jpeg scan before frame", []byte{0xFF, 0xD8, 0xFF, 0xDA, 0, 2, 0xFF, 0xD9}, Limits{}, proto.CodeDecodeFailed},
		{"jpeg zero height", jpegCMYK(10, 0), Limits{}, proto.CodeDecodeFailed},
		{"webp canvas 16384x16384", webpFile(vp8xChunk(0, 16384, 16384), vp8Chunk(16384, 16384)), Limits{}, proto.CodeTooManyPixels},
		{"webp 2000 frames", webpFile(vp8xChunk(vp8xAnim, 2, 2), bytes.Repeat(anmfChunk(2, 2), 2000)), Limits{}, proto.CodeTooManyPixels},
		{"webp animated without frames", webpFile(vp8xChunk(vp8xAnim, 2, 2), riffChunk("ANIM", make([]byte, 6))), Limits{}, proto.CodeDecodeFailed},
		{"webp extended without image", webpFile(vp8xChunk(0, 2, 2)), Limits{}, proto.CodeDecodeFailed},
		{"webp riff too long", func() []byte { b := webpFile(vp8Chunk(3, 3)); b[4] += 10; return b }(), Limits{}, proto.CodeDecodeFailed},
		{"webp bad vp8 start code", webpFile(riffChunk("VP8 ", make([]byte, 20))), Limits{}, proto.CodeDecodeFailed},
		{"avif huge ispe", heifFile(ftyp("avif"), [][]byte{ispe(1<<31, 1<<31)}, nil), Limits{}, proto.CodeTooManyPixels},
		{"avif without ispe", heifFile(ftyp("avif"), [][]byte{av1C4()}, nil), Limits{}, proto.CodeDecodeFailed},
		{"avif sequence 5000 frames", cat(heifFile(ftyp("avis"), [][]byte{ispe(8, 8)}, nil), moov("pict", 8, 8, 5000)), Limits{}, proto.CodeTooManyPixels},
		{"ftyp of a video", box("ftyp", []byte("isom\x00\x00\x00\x00isomavc1")), Limits{}, proto.CodeUnsupportedFormat},
		{"svg malformed", []byte(`<svg width="1" height="1"`), Limits{}, proto.CodeDecodeFailed},

		{"bmp 100000x100000", bmpFile(100000, 100000, 24), Limits{}, proto.CodeTooManyPixels},
		{"ico entries missing", icoFile(16, 32)[:30], Limits{}, proto.CodeDecodeFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Read(tt.file, tt.lim)
			if err == nil {
				t.Fatalf("Read = %+v, want %s", got, tt.code)
			}
			if c := errCode(err); c != tt.code {
				t.Fatalf("code %q (%v), want %q", c, err, tt.code)
			}
			if got != (Info{}) {
				t.Fatalf("Info %+v with an error", got)
			}
		})
	}
}

func av1C4() []byte { return box("av1C", []byte{0x81, 0, 0, 0}) }

func TestReadRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		b := make([]byte, r.IntN(600))
		for j := range b {
			b[j] = byte(r.UintN(256))
		}
		_, err := Read(b, Limits{})
		if c := errCode(err); c != proto.CodeUnsupportedFormat {
			t.Fatalf("random input %d (% x...): code %q", i, b[:min(len(b), 16)], c)
		}
	}
}

func TestWithinLimits(t *testing.T) {
	lim := Limits{}.withDefaults()
	tests := []struct {
		w, h, frames int
		want         bool
	}{
		{1, 1, 1, true},
		{10000, 5000, 1, true},
		{10000, 5001, 1, false},
		{1000, 1000, 50, true},
		{1000, 1000, 51, false},
		{1, 1, 1000, true},
		{1, 1, 1001, false},
		{1 << 30, 1 << 30, 1 << 30, false}, // no overflow
		{0, 0, 5, true},
	}
	for _, tt := range tests {
		if got := withinLimits(tt.w, tt.h, tt.frames, lim); got != tt.want {
			t.Errorf("withinLimits(%d, %d, %d) = %v", tt.w, tt.h, tt.frames, got)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	files := map[string][]byte{
		"jpeg":            jpegInsert(encodeJPEG(b, rgbaImage(640, 480, 255)), jpegSeg(0xE1, cat([]byte("Exif\x00\x00"), exifBlock(true, 6)))),
		"png":             encodePNG(b, rgbaImage(640, 480, 100)),
		"gif-1000-frames": encodeGIF(b, 8, 8, 1000, true),
	}
	for name, f := range files {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(f)))
			for b.Loop() {
				if _, err := Read(f, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
