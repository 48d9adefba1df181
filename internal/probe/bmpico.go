package probe

// readBMP reads the DIB header of a BMP file.
func readBMP(b []byte, info *Info) error {
	hdr := int(le32(b[14:]))
	if hdr == 12 { // OS/2 BITMAPCOREHEADER
		if len(b) < 26 {
			return errDamaged()
		}
		info.Width, info.Height = int(le16(b[18:])), int(le16(b[20:]))
		info.BitDepth = int(le16(b[24:]))
		return nil
	}
	if len(b) < 30 {
		return errDamaged()
	}
	w, h := int32(le32(b[18:])), int32(le32(b[22:]))
	if h < 0 && h != -1<<31 {
		h = -h // top-down rows
	}
	info.Width, info.Height = int(w), int(h)
	info.BitDepth = int(le16(b[28:]))
	if info.BitDepth == 32 && hdr >= 56 && len(b) >= 70 && le32(b[66:]) != 0 {
		info.Alpha = true // an alpha channel mask
	}
	return nil
}

// readICO reports the largest image in an ICO directory.
func readICO(b []byte, info *Info) error {
	n := int(le16(b[4:]))
	if len(b) < 6+16*n {
		return errDamaged()
	}
	for i := range n {
		e := b[6+16*i:]
		w, h := int(e[0]), int(e[1])
		if w == 0 {
			w = 256
		}
		if h == 0 {
			h = 256
		}
		if w*h > info.Width*info.Height {
			info.Width, info.Height = w, h
			info.BitDepth = int(le16(e[6:]))
		}
	}
	info.Alpha = info.BitDepth == 32
	return nil
}
