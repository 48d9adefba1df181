package probe

import "hash/crc32"

// maxPNGChunks bounds the chunks walked before the image data.
const maxPNGChunks = 4096

// readPNG reads IHDR and the ancillary chunks before the first IDAT.
func readPNG(b []byte, info *Info, lim Limits) error {
	i := len(pngSig)
	for n := 0; n < maxPNGChunks; n++ {
		if i+8 > len(b) {
			return errDamaged()
		}
		size := int64(be32(b[i:]))
		typ := string(b[i+4 : i+8])
		if size > int64(len(b)-i-12) {
			return errDamaged()
		}
		data := b[i+8 : i+8+int(size)]
		if n == 0 {
			if typ != "IHDR" || size != 13 {
				return errDamaged()
			}
			if crc32.ChecksumIEEE(b[i+4:i+8+13]) != be32(b[i+8+13:]) {
				return errDamaged()
			}
			if err := readIHDR(data, info); err != nil {
				return err
			}
			if !withinLimits(info.Width, info.Height, 1, lim) {
				return errTooMany()
			}
		}
		i += 12 + int(size)
		switch typ {
		case "IDAT", "IEND":
			if typ == "IEND" {
				return errDamaged() // no image data
			}
			return nil
		case "acTL":
			if len(data) < 8 {
				return errDamaged()
			}
			frames := be32(data)
			if frames == 0 {
				return errDamaged()
			}
			if int64(frames) > int64(lim.MaxFrames) {
				return errTooMany()
			}
			info.Frames = int(frames)
			info.Animated = frames > 1
		case "tRNS":
			info.Alpha = true
		case "iCCP":
			info.ICC = true
		case "eXIf":
			info.HasEXIF = true
			info.Orientation = exifOrientation(data)
		case "iTXt":
			if len(data) >= 18 && string(data[:18]) == "XML:com.adobe.xmp\x00" {
				info.HasXMP = true
			}
		}
	}
	return errDamaged()
}

func readIHDR(d []byte, info *Info) error {
	w, h := be32(d), be32(d[4:])
	depth, color := d[8], d[9]
	if w == 0 || h == 0 || w > 1<<31-1 || h > 1<<31-1 {
		return errDamaged()
	}
	var ok bool
	switch color {
	case 0:
		ok = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16
	case 3:
		ok = depth == 1 || depth == 2 || depth == 4 || depth == 8
	case 2, 4, 6:
		ok = depth == 8 || depth == 16
	}
	if !ok || d[10] != 0 || d[11] != 0 || d[12] > 1 {
		return errDamaged()
	}
	info.Width, info.Height = int(w), int(h)
	info.BitDepth = int(depth)
	info.Alpha = color == 4 || color == 6
	return nil
}
