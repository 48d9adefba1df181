package probe

// tiffReader reads a TIFF structure (a TIFF file, or the EXIF block of
// JPEG, PNG and WebP, which is one) in its byte order.
type tiffReader struct {
	b  []byte
	le bool
}

// newTIFF checks the TIFF header at the start of b and returns a reader
// and the offset of IFD0.
func newTIFF(b []byte) (tiffReader, int, bool) {
	if len(b) < 8 {
		return tiffReader{}, 0, false
	}
	var r tiffReader
	switch string(b[0:4]) {
	case "II*\x00":
		r = tiffReader{b, true}
	case "MM\x00*":
		r = tiffReader{b, false}
	default:
		return tiffReader{}, 0, false
	}
	off, _ := r.u32(4)
	return r, int(off), true
}

func (r tiffReader) u16(off int) (uint32, bool) {
	if off < 0 || off+2 > len(r.b) {
		return 0, false
	}
	if r.le {
		return le16(r.b[off:]), true
	}
	return be16(r.b[off:]), true
}

func (r tiffReader) u32(off int) (uint32, bool) {
	if off < 0 || off+4 > len(r.b) {
		return 0, false
	}
	if r.le {
		return le32(r.b[off:]), true
	}
	return be32(r.b[off:]), true
}

// tiff field types used here.
const (
	tiffShort = 3
	tiffLong  = 4
)

// entry is one IFD entry; val is the offset in b of its 4-byte value field.
type entry struct {
	tag, typ, count uint32
	val             int
}

// uint returns the first value of a SHORT or LONG entry that fits its
// value field.
func (r tiffReader) uint(e entry) (uint32, bool) {
	switch e.typ {
	case tiffShort:
		return r.u16(e.val)
	case tiffLong:
		if e.count > 1 {
			o, ok := r.u32(e.val)
			if !ok {
				return 0, false
			}
			return r.u32(int(o))
		}
		return r.u32(e.val)
	}
	return 0, false
}

// maxIFDEntries bounds the entries read from one IFD.
const maxIFDEntries = 4096

// ifd calls fn for each entry of the IFD at off. It reports false if the
// IFD does not fit in b.
func (r tiffReader) ifd(off int, fn func(entry)) bool {
	n, ok := r.u16(off)
	if !ok || off < 8 || n > maxIFDEntries {
		return false
	}
	if off+2+int(n)*12 > len(r.b) {
		return false
	}
	for i := 0; i < int(n); i++ {
		p := off + 2 + i*12
		tag, _ := r.u16(p)
		typ, _ := r.u16(p + 2)
		count, _ := r.u32(p + 4)
		fn(entry{tag, typ, count, p + 8})
	}
	return true
}

// exifOrientation returns the orientation tag of the EXIF (TIFF) block b,
// or 1 if it has none or b is malformed. An "Exif\0\0" prefix is allowed.
func exifOrientation(b []byte) int {
	if len(b) >= 6 && string(b[:6]) == "Exif\x00\x00" {
		b = b[6:]
	}
	r, off, ok := newTIFF(b)
	if !ok {
		return 1
	}
	o := 1
	r.ifd(off, func(e entry) {
		if e.tag == 0x0112 && e.typ == tiffShort {
			if v, ok := r.u16(e.val); ok && v >= 1 && v <= 8 {
				o = int(v)
			}
		}
	})
	return o
}

// readTIFF reads the first image (IFD0) of a TIFF file.
func readTIFF(b []byte, info *Info) error {
	r, off, ok := newTIFF(b)
	if !ok {
		return errDamaged()
	}
	ok = r.ifd(off, func(e entry) {
		switch e.tag {
		case 256:
			if v, ok := r.uint(e); ok && v <= 1<<30 {
				info.Width = int(v)
			}
		case 257:
			if v, ok := r.uint(e); ok && v <= 1<<30 {
				info.Height = int(v)
			}
		case 258: // BitsPerSample, one per sample
			v, ok := r.u16(e.val)
			if e.typ == tiffShort && e.count > 2 {
				o, _ := r.u32(e.val)
				v, ok = r.u16(int(o))
			}
			if ok && e.typ == tiffShort && v <= 64 {
				info.BitDepth = int(v)
			}
		case 262: // PhotometricInterpretation
			if v, ok := r.uint(e); ok && v == 5 {
				info.CMYK = true
			}
		case 274:
			if v, ok := r.uint(e); ok && v >= 1 && v <= 8 {
				info.Orientation = int(v)
			}
		case 338: // ExtraSamples: 1 associated, 2 unassociated alpha
			if v, ok := r.u16(e.val); ok && e.count <= 2 && (v == 1 || v == 2) {
				info.Alpha = true
			} else if e.count > 2 {
				info.Alpha = true
			}
		case 700:
			info.HasXMP = true
		case 34665:
			info.HasEXIF = true
		case 34675:
			info.ICC = true
		}
	})
	if !ok {
		return errDamaged()
	}
	return nil
}
