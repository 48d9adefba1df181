package probe

import "bytes"

// maxJPEGSegments bounds the marker segments walked before the frame header.
const maxJPEGSegments = 4096

// readJPEG walks the marker segments up to the first start-of-frame.
func readJPEG(b []byte, info *Info) error {
	info.BitDepth = 8
	i := 2 // after SOI
	for range maxJPEGSegments {
		// Find the next marker: like libjpeg, skip stray bytes, then
		// 0xFF and any number of 0xFF fill bytes.
		for i < len(b) && b[i] != 0xFF {
			i++
		}
		for i < len(b) && b[i] == 0xFF {
			i++
		}
		if i >= len(b) {
			return errDamaged()
		}
		m := b[i]
		i++
		switch {
		case m == 0x00 || m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			// Stuffed zero, TEM, RSTn: no length.
			continue
		case m == 0xD8 || m == 0xD9 || m == 0xDA:
			// Another SOI, EOI or scan before any frame header.
			return errDamaged()
		}
		if i+2 > len(b) {
			return errDamaged()
		}
		n := int(be16(b[i:]))
		if n < 2 || i+n > len(b) {
			return errDamaged()
		}
		seg := b[i+2 : i+n]
		i += n
		switch {
		case m == 0xE1:
			switch {
			case bytes.HasPrefix(seg, []byte("Exif\x00")):
				info.HasEXIF = true
				if len(seg) >= 6 {
					info.Orientation = exifOrientation(seg[6:])
				}
			case bytes.HasPrefix(seg, []byte("http://ns.adobe.com/xap/1.0/\x00")),
				bytes.HasPrefix(seg, []byte("http://ns.adobe.com/xmp/extension/\x00")):
				info.HasXMP = true
			}
		case m == 0xE2:
			if bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00")) {
				info.ICC = true
			}
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			// SOFn: precision, height, width, components.
			if len(seg) < 6 {
				return errDamaged()
			}
			info.BitDepth = int(seg[0])
			info.Height = int(be16(seg[1:]))
			info.Width = int(be16(seg[3:]))
			comps := int(seg[5])
			if comps != 1 && comps != 3 && comps != 4 || len(seg) < 6+3*comps {
				return errDamaged()
			}
			info.CMYK = comps == 4
			info.Progressive = m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
			return nil
		}
	}
	return errDamaged()
}
