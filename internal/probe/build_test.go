package probe

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// Builders of real and hand-assembled image files for the tests.

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u16be(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32be(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func u16le(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func u32le(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func u24le(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16)} }

// exifBlock is a TIFF structure with IFD0 holding one orientation tag.
func exifBlock(le bool, orientation uint16) []byte {
	var o binary.AppendByteOrder = binary.BigEndian
	hdr := []byte("MM\x00*")
	if le {
		o, hdr = binary.LittleEndian, []byte("II*\x00")
	}
	b := append([]byte(nil), hdr...)
	b = o.AppendUint32(b, 8)      // IFD0 offset
	b = o.AppendUint16(b, 2)      // entries
	b = o.AppendUint16(b, 0x010F) // Make, ASCII, 4 bytes inline
	b = o.AppendUint16(b, 2)
	b = o.AppendUint32(b, 4)
	b = append(b, 'A', 'B', 'C', 0)
	b = o.AppendUint16(b, 0x0112) // Orientation, SHORT
	b = o.AppendUint16(b, 3)
	b = o.AppendUint32(b, 1)
	b = o.AppendUint16(b, orientation)
	b = o.AppendUint16(b, 0)
	b = o.AppendUint32(b, 0) // no next IFD
	return b
}

func rgbaImage(w, h int, a uint8) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			m.SetNRGBA(x, y, color.NRGBA{uint8(x * 40), uint8(y * 40), 128, a})
		}
	}
	return m
}

func encodePNG(t testing.TB, m image.Image) []byte {
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pngChunk(typ string, data []byte) []byte {
	c := cat(u32be(uint32(len(data))), []byte(typ), data)
	return append(c, u32be(crc32.ChecksumIEEE(c[4:]))...)
}

// pngInsert puts chunks right after IHDR.
func pngInsert(p []byte, chunks ...[]byte) []byte {
	const ihdrEnd = 8 + 25
	return cat(p[:ihdrEnd], cat(chunks...), p[ihdrEnd:])
}

// pngHeader is a hand-made PNG: IHDR, an empty IDAT and IEND.
func pngHeader(w, h uint32, depth, colorType byte) []byte {
	ihdr := cat(u32be(w), u32be(h), []byte{depth, colorType, 0, 0, 0})
	return cat(pngSig, pngChunk("IHDR", ihdr), pngChunk("IDAT", nil), pngChunk("IEND", nil))
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegSeg(marker byte, data []byte) []byte {
	return cat([]byte{0xFF, marker}, u16be(uint16(len(data)+2)), data)
}

// jpegInsert puts segments right after SOI.
func jpegInsert(j []byte, segs ...[]byte) []byte {
	return cat(j[:2], cat(segs...), j[2:])
}

// jpegSetSOF changes the first SOF0 marker to marker (e.g. 0xC2).
func jpegSetSOF(t testing.TB, j []byte, marker byte) []byte {
	i := bytes.Index(j, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0")
	}
	j = append([]byte(nil), j...)
	j[i+1] = marker
	return j
}

// jpegCMYK is a header-only JPEG with a four-component frame.
func jpegCMYK(w, h uint16) []byte {
	sof := cat([]byte{8}, u16be(h), u16be(w), []byte{4, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0})
	adobe := cat([]byte("Adobe"), []byte{0, 100, 0, 0, 0, 0, 0})
	return cat([]byte{0xFF, 0xD8}, jpegSeg(0xEE, adobe), jpegSeg(0xC0, sof),
		jpegSeg(0xDA, []byte{1, 1, 0, 0, 63, 0}), []byte{0xFF, 0xD9})
}

func encodeGIF(t testing.TB, w, h, frames int, transparent bool) []byte {
	pal := color.Palette(palette.Plan9[:16])
	if transparent {
		pal = append(color.Palette{color.NRGBA{}}, pal[1:]...)
	}
	g := &gif.GIF{}
	for i := range frames {
		m := image.NewPaletted(image.Rect(0, 0, w, h), pal)
		m.Pix[0] = uint8(1 + i%15)
		g.Image = append(g.Image, m)
		g.Delay = append(g.Delay, 2)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, g); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func riffChunk(typ string, data []byte) []byte {
	c := cat([]byte(typ), u32le(uint32(len(data))), data)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

func webpFile(chunks ...[]byte) []byte {
	body := cat([]byte("WEBP"), cat(chunks...))
	return cat([]byte("RIFF"), u32le(uint32(len(body))), body)
}

// vp8Chunk is a lossy key frame header for a w×h image.
func vp8Chunk(w, h uint16) []byte {
	d := cat([]byte{0x50, 0x02, 0x00, 0x9D, 0x01, 0x2A}, u16le(w), u16le(h), bytes.Repeat([]byte{0x11}, 11))
	return riffChunk("VP8 ", d)
}

// vp8lChunk is a lossless image header for a w×h image.
func vp8lChunk(w, h uint32, alpha bool) []byte {
	v := (w - 1) | (h-1)<<14
	if alpha {
		v |= 1 << 28
	}
	return riffChunk("VP8L", cat([]byte{0x2F}, u32le(v), []byte{0, 0, 0, 0}))
}

func vp8xChunk(flags byte, w, h uint32) []byte {
	return riffChunk("VP8X", cat([]byte{flags, 0, 0, 0}, u24le(w-1), u24le(h-1)))
}

func anmfChunk(w, h uint32) []byte {
	hdr := cat(u24le(0), u24le(0), u24le(w-1), u24le(h-1), u24le(100), []byte{0})
	return riffChunk("ANMF", cat(hdr, vp8lChunk(w, h, true)))
}

func box(typ string, payload ...[]byte) []byte {
	p := cat(payload...)
	return cat(u32be(uint32(8+len(p))), []byte(typ), p)
}

func fullbox(typ string, version byte, flags uint32, payload ...[]byte) []byte {
	vf := u32be(uint32(version)<<24 | flags)
	return box(typ, append([][]byte{vf}, payload...)...)
}

func ftyp(major string, compat ...string) []byte {
	p := cat([]byte(major), u32be(0))
	for _, c := range compat {
		p = append(p, c...)
	}
	return box("ftyp", p)
}

func ispe(w, h uint32) []byte { return fullbox("ispe", 0, 0, u32be(w), u32be(h)) }

func infe(id uint16, typ string) []byte {
	return fullbox("infe", 2, 0, u16be(id), u16be(0), []byte(typ), []byte("\x00"))
}

// heifFile is a HEIF file whose primary item 1 has props (1-based
// indexes 1..len(props)); item 2 gets extra props after them.
func heifFile(ft []byte, props, extra [][]byte, items ...[]byte) []byte {
	var a1, a2 []byte
	for i := range props {
		a1 = append(a1, byte(0x80|(i+1)))
	}
	for i := range extra {
		a2 = append(a2, byte(len(props)+i+1))
	}
	ipma := fullbox("ipma", 0, 0, u32be(2),
		u16be(1), []byte{byte(len(a1))}, a1,
		u16be(2), []byte{byte(len(a2))}, a2)
	ipco := box("ipco", append(props, extra...)...)
	iinf := fullbox("iinf", 0, 0, u16be(uint16(len(items))), cat(items...))
	hdlr := fullbox("hdlr", 0, 0, u32be(0), []byte("pict"), make([]byte, 12), []byte("\x00"))
	data := []byte("not really coded data")
	iloc := func(off uint32) []byte {
		return fullbox("iloc", 0, 0, []byte{0x44, 0x00}, u16be(1),
			u16be(1), u16be(0), u16be(1), u32be(off), u32be(uint32(len(data))))
	}
	meta := func(off uint32) []byte {
		return fullbox("meta", 0, 0, hdlr, fullbox("pitm", 0, 0, u16be(1)), iloc(off), iinf, box("iprp", ipco, ipma))
	}
	off := uint32(len(ft) + len(meta(0)) + 8)
	return cat(ft, meta(off), box("mdat", data))
}

func moov(handler string, w, h uint16, samples uint32) []byte {
	tkhd := fullbox("tkhd", 0, 0, make([]byte, 72), u32be(uint32(w)<<16), u32be(uint32(h)<<16))
	hdlr := fullbox("hdlr", 0, 0, u32be(0), []byte(handler), make([]byte, 12), []byte("\x00"))
	stsz := fullbox("stsz", 0, 0, u32be(0), u32be(samples))
	return box("moov", box("trak", tkhd, box("mdia", hdlr, box("minf", box("stbl", stsz)))))
}

func bmpFile(w, h int32, bpp uint16) []byte {
	dib := cat(u32le(40), u32le(uint32(w)), u32le(uint32(h)), u16le(1), u16le(bpp), make([]byte, 24))
	return cat([]byte("BM"), u32le(uint32(14+len(dib)+16)), u32le(0), u32le(54), dib, make([]byte, 16))
}

func tiffFile(w, h uint32, orientation uint16) []byte {
	b := cat([]byte("II*\x00"), u32le(8), u16le(4))
	entry := func(tag, typ uint16, v uint32) []byte { return cat(u16le(tag), u16le(typ), u32le(1), u32le(v)) }
	b = cat(b, entry(256, 4, w), entry(257, 4, h), entry(258, 3, 8), entry(274, 3, uint32(orientation)), u32le(0))
	return b
}

func icoFile(sizes ...byte) []byte {
	b := cat(u16le(0), u16le(1), u16le(uint16(len(sizes))))
	for _, s := range sizes {
		b = cat(b, []byte{s, s, 0, 0}, u16le(1), u16le(32), u32le(40), u32le(0))
	}
	return b
}
