package probe

import "bytes"

// Sniff returns the image format of b from its leading bytes alone, or ""
// if b does not start like a known format. It never looks at names or
// declared content types.
func Sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return JPEG
	case bytes.HasPrefix(b, pngSig):
		return PNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return GIF
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return WebP
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		return sniffFtyp(b)
	case len(b) >= 4 && (string(b[0:4]) == "II*\x00" || string(b[0:4]) == "MM\x00*"):
		return TIFF
	case sniffBMP(b):
		return BMP
	case sniffICO(b):
		return ICO
	case sniffSVG(b):
		return SVG
	}
	return ""
}

var pngSig = []byte("\x89PNG\r\n\x1a\n")

// sniffFtyp tells AVIF from other HEIF files by the ftyp brands.
func sniffFtyp(b []byte) string {
	size := int(be32(b))
	if size < 16 || size > len(b) {
		size = len(b)
	}
	brands := [][]byte{b[8:12]}
	for i := 16; i+4 <= size; i += 4 {
		brands = append(brands, b[i:i+4])
	}
	heif := false
	for _, br := range brands {
		switch string(br) {
		case "avif", "avis":
			return AVIF
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "mif2", "msf1":
			heif = true
		}
	}
	if heif {
		return HEIC
	}
	return ""
}

func sniffBMP(b []byte) bool {
	if len(b) < 18 || b[0] != 'B' || b[1] != 'M' {
		return false
	}
	switch le32(b[14:]) {
	case 12, 40, 52, 56, 64, 108, 124:
		return true
	}
	return false
}

func sniffICO(b []byte) bool {
	if len(b) < 6 || b[0] != 0 || b[1] != 0 || b[2] != 1 || b[3] != 0 {
		return false
	}
	if le16(b[4:]) == 0 {
		return false
	}
	return len(b) < 22 || b[9] == 0 // first entry's reserved byte
}

// sniffSVG looks for an <svg> root element after an optional byte order
// mark, XML declaration, processing instructions, comments, whitespace and
// document type declaration.
func sniffSVG(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	for range 256 {
		b = bytes.TrimLeft(b, " \t\r\n")
		switch {
		case bytes.HasPrefix(b, []byte("<?")):
			i := bytes.Index(b, []byte("?>"))
			if i < 0 {
				return false
			}
			b = b[i+2:]
		case bytes.HasPrefix(b, []byte("<!--")):
			i := bytes.Index(b[4:], []byte("-->"))
			if i < 0 {
				return false
			}
			b = b[4+i+3:]
		case len(b) >= 9 && bytes.EqualFold(b[:9], []byte("<!DOCTYPE")):
			i := doctypeEnd(b)
			if i < 0 {
				return false
			}
			b = b[i:]
		case bytes.HasPrefix(b, []byte("<svg")):
			if len(b) == 4 {
				return true
			}
			switch b[4] {
			case ' ', '\t', '\r', '\n', '>', '/':
				return true
			}
			return false
		default:
			return false
		}
	}
	return false
}

// doctypeEnd returns the index just past the '>' that closes the document
// type declaration at the start of b, skipping an internal subset and
// quoted strings, or -1.
func doctypeEnd(b []byte) int {
	var quote byte
	depth := 0
	for i := 2; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']':
			depth--
		case c == '>' && depth <= 0:
			return i + 1
		}
	}
	return -1
}
