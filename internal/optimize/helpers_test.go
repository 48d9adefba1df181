package optimize

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand"
	"os"
	"testing"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

func TestMain(m *testing.M) {
	vipsrt.Start(vipsrt.DefaultConfig(), zerolog.Nop())
	os.Exit(m.Run())
}

// photo draws a photo-like scene: smooth lighting, a few soft shapes,
// fine texture and sensor noise, so encoders behave as on a real photo.
func photo(w, h int, seed int64) *image.RGBA {
	r := rand.New(rand.NewSource(seed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	type blob struct{ x, y, rad, cr, cg, cb float64 }
	var bs []blob
	for range 12 {
		bs = append(bs, blob{r.Float64() * float64(w), r.Float64() * float64(h),
			(0.05 + r.Float64()*0.25) * float64(w), r.Float64(), r.Float64(), r.Float64()})
	}
	for y := range h {
		for x := range w {
			fx, fy := float64(x)/float64(w), float64(y)/float64(h)
			cr, cg, cb := 0.55-0.3*fy, 0.6-0.2*fy, 0.8-0.4*fy+0.1*fx // sky to ground
			for _, b := range bs {
				d := math.Hypot(float64(x)-b.x, float64(y)-b.y) / b.rad
				if d < 1 {
					k := (1 - d*d) * 0.8
					cr, cg, cb = cr*(1-k)+b.cr*k, cg*(1-k)+b.cg*k, cb*(1-k)+b.cb*k
				}
			}
			tex := 0.04 * math.Sin(float64(x)*0.35+3*math.Sin(float64(y)*0.05)) * math.Cos(float64(y)*0.27)
			n := func(v float64) uint8 {
				v = (v+tex)*255 + r.NormFloat64()*3
				return uint8(max(0, min(255, math.Round(v))))
			}
			img.SetRGBA(x, y, color.RGBA{n(cr), n(cg), n(cb), 255})
		}
	}
	return img
}

func encJPEG(t testing.TB, img image.Image, q int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: q}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encPNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	e := png.Encoder{CompressionLevel: png.BestCompression}
	if err := e.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encWebP(t testing.TB, img image.Image) []byte {
	t.Helper()
	v, err := vips.NewImageFromBuffer(encPNG(t, img))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	b, _, err := v.ExportWebp(&vips.WebpExportParams{Quality: 90})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// logo draws flat-colour graphics with a soft transparent edge.
func logo(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			d := math.Hypot(float64(x-w/2), float64(y-h/2)) / float64(min(w, h)/2)
			a := uint8(max(0, min(255, (1.1-d)*255*4)))
			c := color.NRGBA{200, 40, 60, a}
			if (x/16+y/16)%2 == 0 {
				c = color.NRGBA{30, 90, 200, a}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// animation returns an animated GIF of n frames with 70 ms delays.
func animation(t testing.TB, w, h, n int) []byte {
	t.Helper()
	g := &gif.GIF{LoopCount: 0}
	for i := range n {
		f := image.NewPaletted(image.Rect(0, 0, w, h), palette.Plan9)
		for y := range h {
			for x := range w {
				f.SetColorIndex(x, y, uint8((x+y+i*8)/6%200))
			}
		}
		g.Image = append(g.Image, f)
		g.Delay = append(g.Delay, 7)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Markers whose presence in an output means metadata leaked.
const (
	gpsMarker = "IMGDIETGPS"
	xmpNS     = "http://ns.adobe.com/xap/1.0/"
)

// withMetadata inserts an EXIF segment (orientation, a GPS IFD whose map
// datum is gpsMarker) and an XMP segment right after the JPEG's SOI.
func withMetadata(jpg []byte, orientation uint16) []byte {
	be := binary.BigEndian
	var t []byte // TIFF structure, big-endian
	t = append(t, "MM\x00\x2a\x00\x00\x00\x08"...)
	// IFD0 at 8: two entries (orientation, GPS pointer), then next-IFD 0.
	ifd0 := make([]byte, 2+2*12+4)
	be.PutUint16(ifd0, 2)
	e := ifd0[2:]
	be.PutUint16(e[0:], 0x0112)
	be.PutUint16(e[2:], 3)
	be.PutUint32(e[4:], 1)
	be.PutUint16(e[8:], orientation)
	gpsAt := uint32(8 + len(ifd0))
	e = ifd0[14:]
	be.PutUint16(e[0:], 0x8825)
	be.PutUint16(e[2:], 4)
	be.PutUint32(e[4:], 1)
	be.PutUint32(e[8:], gpsAt)
	t = append(t, ifd0...)
	// GPS IFD: GPSMapDatum (0x0012, ASCII) stored after the IFD.
	gps := make([]byte, 2+12+4)
	be.PutUint16(gps, 1)
	be.PutUint16(gps[2:], 0x0012)
	be.PutUint16(gps[4:], 2)
	datum := gpsMarker + "\x00"
	be.PutUint32(gps[6:], uint32(len(datum)))
	be.PutUint32(gps[10:], gpsAt+uint32(len(gps)))
	t = append(t, gps...)
	t = append(t, datum...)
	exif := append([]byte("Exif\x00\x00"), t...)
	xmp := []byte(xmpNS + "\x00" + `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Someone</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>`)
	seg := func(payload []byte) []byte {
		s := []byte{0xFF, 0xE1, 0, 0}
		be.PutUint16(s[2:], uint16(len(payload)+2))
		return append(s, payload...)
	}
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg(exif)...)
	out = append(out, seg(xmp)...)
	return append(out, jpg[2:]...)
}

// hugePNG is a valid PNG header claiming w×h pixels with almost no data.
func hugePNG(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		c := make([]byte, 4, 12+len(data))
		binary.BigEndian.PutUint32(c, uint32(len(data)))
		c = append(c, typ...)
		c = append(c, data...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, chunk("IHDR", ihdr)...)
	b = append(b, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(b, chunk("IEND", nil)...)
}

// decoded loads an output with libvips, every page, and returns its width,
// page height, page count and band count.
func decoded(t *testing.T, b []byte) (w, h, pages, bands int) {
	t.Helper()
	p := &vips.ImportParams{}
	if vips.DetermineImageType(b) == vips.ImageTypeGIF || vips.DetermineImageType(b) == vips.ImageTypeWEBP {
		p.NumPages.Set(-1)
	}
	img, err := vips.LoadImageFromBuffer(b, p)
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	defer img.Close()
	pages = max(1, img.Pages())
	return img.Width(), img.Height() / pages, pages, img.Bands()
}

// opened probes src and opens it as Optimize does for opt (held decoded
// when it fits), with the reference automatic quality measures against;
// the caller closes it.
func opened(t testing.TB, e *Engine, src []byte, opt Options) (*pic, *reference) {
	t.Helper()
	opt = opt.normalized()
	s, err := e.probe(src)
	if err != nil {
		t.Fatal(err)
	}
	im, err := e.open(context.Background(), src, s, opt)
	if err != nil {
		t.Fatal(err)
	}
	if opt.Quality > 0 {
		return im, nil
	}
	ref, err := e.reference(context.Background(), im, opt)
	if err != nil {
		im.close()
		t.Fatal(err)
	}
	return im, ref
}
