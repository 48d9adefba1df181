package probe

// maxWebPChunks bounds the chunks walked besides animation frames.
const maxWebPChunks = 4096

// VP8X flags.
const (
	vp8xICC   = 0x20
	vp8xAlpha = 0x10
	vp8xEXIF  = 0x08
	vp8xXMP   = 0x04
	vp8xAnim  = 0x02
)

// readWebP walks the RIFF chunks of a WebP file.
func readWebP(b []byte, info *Info, lim Limits) error {
	riff := int64(le32(b[4:]))
	if riff < 4+8 || riff > int64(len(b)-8) {
		return errDamaged()
	}
	b = b[:8+riff]
	info.BitDepth = 8
	var (
		extended bool
		flags    byte
		frames   int
		image    bool
	)
	i := 12
	for n := 0; ; n++ {
		if i == len(b) || (i+1 == len(b) && b[i] == 0) {
			break
		}
		if n-frames > maxWebPChunks || i+8 > len(b) {
			return errDamaged()
		}
		typ := string(b[i : i+4])
		size := int64(le32(b[i+4:]))
		if size > int64(len(b)-i-8) {
			return errDamaged()
		}
		data := b[i+8 : i+8+int(size)]
		i += 8 + int(size) + int(size&1)
		if i > len(b) {
			i = len(b) // a missing pad byte at the very end
		}
		if n == 0 && typ == "VP8X" {
			if len(data) < 10 {
				return errDamaged()
			}
			extended = true
			flags = data[0]
			info.Width = int(le24(data[4:])) + 1
			info.Height = int(le24(data[7:])) + 1
			info.Alpha = flags&vp8xAlpha != 0
			info.ICC = flags&vp8xICC != 0
			info.HasEXIF = flags&vp8xEXIF != 0
			info.HasXMP = flags&vp8xXMP != 0
			if !withinLimits(info.Width, info.Height, 1, lim) {
				return errTooMany()
			}
			continue
		}
		switch typ {
		case "VP8 ", "VP8L":
			if image || frames > 0 {
				continue // stray data after the image
			}
			var w, h int
			var alpha, ok bool
			if typ == "VP8 " {
				w, h, ok = vp8Size(data)
			} else {
				w, h, alpha, ok = vp8lSize(data)
			}
			if !ok {
				return errDamaged()
			}
			if !extended {
				info.Width, info.Height, info.Alpha = w, h, alpha
				return nil
			}
			image = true
		case "ANMF":
			if !extended || flags&vp8xAnim == 0 || len(data) < 16 {
				return errDamaged()
			}
			frames++
			if !withinLimits(info.Width, info.Height, frames, lim) {
				return errTooMany()
			}
		case "EXIF":
			if extended {
				info.HasEXIF = true
				info.Orientation = exifOrientation(data)
			}
		case "ICCP":
			info.ICC = info.ICC || extended
		case "XMP ":
			info.HasXMP = info.HasXMP || extended
		}
	}
	switch {
	case !extended:
		return errDamaged() // no image chunk
	case flags&vp8xAnim != 0:
		if frames == 0 {
			return errDamaged()
		}
		info.Frames = frames
		info.Animated = frames > 1
		// Frames need not cover the canvas, which is transparent where they
		// do not; decoders (libvips too) give animations an alpha channel.
		info.Alpha = true
	case !image:
		return errDamaged()
	}
	return nil
}

// vp8Size reads the frame size of a lossy VP8 key frame.
func vp8Size(d []byte) (w, h int, ok bool) {
	if len(d) < 10 || d[0]&1 != 0 || d[3] != 0x9D || d[4] != 0x01 || d[5] != 0x2A {
		return 0, 0, false
	}
	return int(le16(d[6:]) & 0x3FFF), int(le16(d[8:]) & 0x3FFF), true
}

// vp8lSize reads the size and alpha hint of a lossless VP8L image.
func vp8lSize(d []byte) (w, h int, alpha, ok bool) {
	if len(d) < 5 || d[0] != 0x2F {
		return 0, 0, false, false
	}
	v := le32(d[1:])
	if v>>29 != 0 { // version must be 0
		return 0, 0, false, false
	}
	return int(v&0x3FFF) + 1, int(v>>14&0x3FFF) + 1, v>>28&1 != 0, true
}
