package adversarial

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand"
)

// tinyPNG is a valid 2×2 PNG.
func tinyPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{200, 10, 10, 255})
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// blocks is a flat image of four coloured blocks with a little noise: it
// compresses well in every format, so every output is smaller than a
// source that carries metadata.
func blocks(w, h int) *image.RGBA {
	r := rand.New(rand.NewSource(7))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	cols := []color.RGBA{{200, 40, 40, 255}, {40, 160, 60, 255}, {30, 60, 200, 255}, {230, 200, 40, 255}}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := cols[(x*2/w)+2*(y*2/h)]
			n := uint8(r.Intn(3))
			img.Set(x, y, color.RGBA{c.R + n, c.G + n, c.B, 255})
		}
	}
	return img
}

// photo is a noisy gradient, encoded as JPEG at quality q.
func photo(w, h int, seed int64, q int) []byte {
	r := rand.New(rand.NewSource(seed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			n := r.Intn(9) - 4
			img.Set(x, y, color.RGBA{uint8(clamp(x*255/w + n)), uint8(clamp(y*255/h + n)), uint8(clamp(100 + n)), 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: q})
	return b.Bytes()
}

func clamp(v int) int { return max(0, min(255, v)) }

// pngChunk encodes one PNG chunk.
func pngChunk(typ string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint32(len(data)))
	b.WriteString(typ)
	b.Write(data)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	return b.Bytes()
}

// pngBomb is a complete, valid PNG of w×h one-colour 1-bit grey pixels:
// a few hundred kilobytes that decode to w×h pixels.
func pngBomb(w, h int) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 1, 0 // bit depth 1, greyscale
	b.Write(pngChunk("IHDR", ihdr))
	// Every row is filter byte 0 and black pixels: all zeros.
	n := h * (1 + (w+7)/8)
	z := []byte{0x78, 0xDA}
	z = append(z, deflateZeros(n)...)
	z = binary.BigEndian.AppendUint32(z, uint32(n%65521)<<16|1) // Adler-32 of n zeros
	b.Write(pngChunk("IDAT", z))
	b.Write(pngChunk("IEND", nil))
	return b.Bytes()
}

// deflateZeros is a raw DEFLATE stream of n zero bytes, built without
// compressing them all: a block that encodes 1 MiB of zeros after a window
// of zeros is valid wherever such a window precedes it, so it is repeated.
func deflateZeros(n int) []byte {
	const chunk = 1 << 20
	zero := make([]byte, chunk)
	if n <= 2*chunk {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestCompression)
		for left := n; left > 0; left -= min(left, chunk) {
			w.Write(zero[:min(left, chunk)])
		}
		w.Close()
		return b.Bytes()
	}
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(zero)
	w.Flush()
	head := b.Len()
	w.Write(zero)
	w.Flush()
	block := append([]byte(nil), b.Bytes()[head:]...)
	out := append([]byte(nil), b.Bytes()[:head]...)
	left := n - chunk
	for left > chunk {
		out = append(out, block...)
		left -= chunk
	}
	var t bytes.Buffer
	w, _ = flate.NewWriter(&t, flate.BestCompression)
	w.Write(zero)
	w.Flush()
	skip := t.Len()
	w.Write(zero[:left])
	w.Close()
	return append(out, t.Bytes()[skip:]...)
}

// gzipZeros is a gzip member of n zero bytes.
func gzipZeros(n int) []byte {
	out := []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff}
	out = append(out, deflateZeros(n)...)
	zero := make([]byte, 1<<20)
	var crc uint32
	for left := n; left > 0; left -= min(left, len(zero)) {
		crc = crc32.Update(crc, crc32.IEEETable, zero[:min(left, len(zero))])
	}
	out = binary.LittleEndian.AppendUint32(out, crc)
	return binary.LittleEndian.AppendUint32(out, uint32(n))
}

// jpegClaiming is a JPEG whose frame header claims w×h pixels, followed by
// a scan of a tiny real image.
func jpegClaiming(w, h int) []byte {
	src := photo(16, 16, 1, 80)
	// Patch the SOF0 dimensions.
	for i := 2; i+9 < len(src); {
		if src[i] != 0xFF {
			break
		}
		m := src[i+1]
		l := int(binary.BigEndian.Uint16(src[i+2:]))
		if m == 0xC0 || m == 0xC2 {
			out := append([]byte(nil), src...)
			binary.BigEndian.PutUint16(out[i+5:], uint16(h))
			binary.BigEndian.PutUint16(out[i+7:], uint16(w))
			return out
		}
		i += 2 + l
	}
	panic("no SOF in the test JPEG")
}

// gifFrames is an animated GIF of n frames of w×h pixels in one colour:
// one encoded frame repeated.
func gifFrames(w, h, n int) []byte {
	pal := color.Palette{color.RGBA{0, 0, 0, 255}, color.RGBA{255, 0, 0, 255}}
	fr := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	var one bytes.Buffer
	gif.EncodeAll(&one, &gif.GIF{Image: []*image.Paletted{fr, fr}, Delay: []int{1, 1}})
	b := one.Bytes()
	// Header (6) + logical screen (7) + global palette, then a Netscape
	// loop extension may follow; frames start at the first 0x21 0xF9.
	start := bytes.Index(b, []byte{0x21, 0xF9})
	second := bytes.Index(b[start+1:], []byte{0x21, 0xF9}) + start + 1
	frame := b[start:second]
	var out bytes.Buffer
	out.Write(b[:start])
	for i := 0; i < n; i++ {
		out.Write(frame)
	}
	out.WriteByte(0x3B)
	return out.Bytes()
}

// tiffClaiming is a little-endian TIFF whose IFD claims w×h 8-bit grey
// pixels in one strip; with loop its next-IFD offset points at itself.
func tiffClaiming(w, h uint32, loop bool) []byte {
	b := []byte("II*\x00\x08\x00\x00\x00")
	entries := [][3]uint32{ // tag, type, value
		{256, 4, w}, {257, 4, h}, {258, 3, 8}, {259, 3, 1}, {262, 3, 1},
		{273, 4, 200}, {278, 4, h}, {279, 4, 16},
	}
	b = binary.LittleEndian.AppendUint16(b, uint16(len(entries)))
	for _, e := range entries {
		b = binary.LittleEndian.AppendUint16(b, uint16(e[0]))
		b = binary.LittleEndian.AppendUint16(b, uint16(e[1]))
		b = binary.LittleEndian.AppendUint32(b, 1)
		b = binary.LittleEndian.AppendUint32(b, e[2])
	}
	next := uint32(0)
	if loop {
		next = 8
	}
	b = binary.LittleEndian.AppendUint32(b, next)
	for len(b) < 216 {
		b = append(b, 0)
	}
	return b
}

// bmpClaiming is a BMP header claiming w×h 24-bit pixels, with 1 KB of
// pixel data.
func bmpClaiming(w, h int32) []byte {
	b := []byte("BM")
	b = binary.LittleEndian.AppendUint32(b, 54+1024)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 54)
	b = binary.LittleEndian.AppendUint32(b, 40)
	b = binary.LittleEndian.AppendUint32(b, uint32(w))
	b = binary.LittleEndian.AppendUint32(b, uint32(h))
	b = binary.LittleEndian.AppendUint16(b, 1)
	b = binary.LittleEndian.AppendUint16(b, 24)
	b = append(b, make([]byte, 24)...)
	return append(b, make([]byte, 1024)...)
}
