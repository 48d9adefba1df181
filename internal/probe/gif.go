package probe

// readGIF reads the logical screen and walks every block to count frames.
// It stops with too_many_pixels as soon as the frames seen exceed lim.
func readGIF(b []byte, info *Info, lim Limits) error {
	if len(b) < 13 {
		return errDamaged()
	}
	info.Width, info.Height = int(le16(b[6:])), int(le16(b[8:]))
	info.BitDepth = 8
	info.Frames = 0
	i := 13
	if b[10]&0x80 != 0 { // global colour table
		i += 3 << (b[10]&7 + 1)
	}
	for {
		if i >= len(b) {
			// A missing trailer after whole blocks is common and harmless.
			break
		}
		c := b[i]
		i++
		switch c {
		case 0x3B: // trailer
			return gifDone(info)
		case 0x21: // extension
			if i >= len(b) {
				return errDamaged()
			}
			label := b[i]
			i++
			if label == 0xF9 && i+5 <= len(b) && b[i] == 4 && b[i+1]&1 != 0 {
				info.Alpha = true // graphic control: transparent colour
			}
			var ok bool
			if i, ok = skipSubBlocks(b, i); !ok {
				return errDamaged()
			}
		case 0x2C: // image descriptor
			if i+9 > len(b) {
				return errDamaged()
			}
			left, top := int(le16(b[i:])), int(le16(b[i+2:]))
			w, h := int(le16(b[i+4:])), int(le16(b[i+6:]))
			flags := b[i+8]
			i += 9
			if flags&0x80 != 0 { // local colour table
				i += 3 << (flags&7 + 1)
			}
			i++ // LZW minimum code size
			if i > len(b) {
				return errDamaged()
			}
			var ok bool
			if i, ok = skipSubBlocks(b, i); !ok {
				return errDamaged()
			}
			// Like browsers and libnsgif, grow the canvas to hold every frame.
			info.Width = max(info.Width, left+w)
			info.Height = max(info.Height, top+h)
			info.Frames++
			if !withinLimits(info.Width, info.Height, info.Frames, lim) {
				return errTooMany()
			}
		default:
			return errDamaged()
		}
	}
	return gifDone(info)
}

func gifDone(info *Info) error {
	if info.Frames == 0 {
		return errDamaged()
	}
	info.Animated = info.Frames > 1
	return nil
}

// skipSubBlocks skips a chain of data sub-blocks ending in a zero-length
// block and returns the index after it.
func skipSubBlocks(b []byte, i int) (int, bool) {
	for i < len(b) {
		n := int(b[i])
		i += 1 + n
		if n == 0 {
			return i, true
		}
	}
	return i, false
}
