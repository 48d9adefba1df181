package probe

import "bytes"

// maxBoxes bounds the boxes walked in one container.
const maxBoxes = 4096

// walkBoxes calls fn with the type and payload of each box in b. It fails
// if a box does not fit, so a truncated container is reported.
func walkBoxes(b []byte, fn func(typ string, data []byte) error) error {
	for n := 0; len(b) > 0; n++ {
		if n >= maxBoxes || len(b) < 8 {
			return errDamaged()
		}
		size := uint64(be32(b))
		typ := string(b[4:8])
		hdr := uint64(8)
		switch size {
		case 0: // to the end
			size = uint64(len(b))
		case 1: // 64-bit size
			if len(b) < 16 {
				return errDamaged()
			}
			size = uint64(be32(b[8:]))<<32 | uint64(be32(b[12:]))
			hdr = 16
		}
		if size < hdr || size > uint64(len(b)) {
			return errDamaged()
		}
		if err := fn(typ, b[hdr:size]); err != nil {
			return err
		}
		b = b[size:]
	}
	return nil
}

// fullBox returns the version, flags and payload of a full box.
func fullBox(d []byte) (version byte, flags uint32, rest []byte, ok bool) {
	if len(d) < 4 {
		return 0, 0, nil, false
	}
	return d[0], be32(d) & 0xFFFFFF, d[4:], true
}

// heif collects what the meta and moov boxes say.
type heif struct {
	primary    uint32
	hasPrimary bool
	props      []property // ipco children, index 0 is property 1
	ipmaData   []byte     // payload of ipma, read once ipco is known
	fileLen    uint64
	sequence   bool // ftyp's major brand is an image sequence
	tracks     int  // frames of the first visual track
	trackW     int
	trackH     int
}

type property struct {
	typ  string
	data []byte
}

// readISOBMFF reads an AVIF or HEIC file: the primary item's properties
// from meta/iprp, and for image sequences the sample count of moov.
func readISOBMFF(b []byte, info *Info, lim Limits) error {
	h := heif{fileLen: uint64(len(b))}
	var meta, ftyp bool
	err := walkBoxes(b, func(typ string, d []byte) error {
		switch typ {
		case "ftyp":
			ftyp = true
			h.sequence = len(d) >= 4 && (string(d[:4]) == "avis" || string(d[:4]) == "msf1")
		case "meta":
			if meta {
				return nil
			}
			meta = true
			return h.meta(d, info)
		case "moov":
			return h.moov(d, info)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !ftyp || !meta && h.tracks == 0 || h.sequence && h.tracks == 0 {
		return errDamaged()
	}
	h.apply(info)
	if info.Width <= 0 || info.Height <= 0 {
		info.Width, info.Height = h.trackW, h.trackH
	}
	if h.tracks > 1 {
		if h.tracks > lim.MaxFrames {
			return errTooMany()
		}
		info.Frames = h.tracks
		info.Animated = true
	}
	return nil
}

func (h *heif) meta(d []byte, info *Info) error {
	_, _, d, ok := fullBox(d)
	if !ok {
		return errDamaged()
	}
	return walkBoxes(d, func(typ string, d []byte) error {
		switch typ {
		case "pitm":
			v, _, d, ok := fullBox(d)
			switch {
			case ok && v == 0 && len(d) >= 2:
				h.primary, h.hasPrimary = be16(d), true
			case ok && v > 0 && len(d) >= 4:
				h.primary, h.hasPrimary = be32(d), true
			default:
				return errDamaged()
			}
		case "iinf":
			h.iinf(d, info)
		case "iloc":
			if !h.ilocFits(d) {
				return errDamaged()
			}
		case "iprp":
			return walkBoxes(d, func(typ string, d []byte) error {
				switch typ {
				case "ipco":
					return walkBoxes(d, func(typ string, d []byte) error {
						h.props = append(h.props, property{typ, d})
						return nil
					})
				case "ipma":
					h.ipmaData = d
				}
				return nil
			})
		}
		return nil
	})
}

// iinf notes EXIF and XMP metadata items.
func (h *heif) iinf(d []byte, info *Info) {
	v, _, d, ok := fullBox(d)
	if !ok {
		return
	}
	if v == 0 && len(d) >= 2 {
		d = d[2:]
	} else if len(d) >= 4 {
		d = d[4:]
	} else {
		return
	}
	walkBoxes(d, func(typ string, d []byte) error {
		if typ != "infe" {
			return nil
		}
		v, _, d, ok := fullBox(d)
		if !ok || v < 2 {
			return nil
		}
		n := 2 + 2 // item_ID, protection index
		if v > 2 {
			n = 4 + 2
		}
		if len(d) < n+4 {
			return nil
		}
		switch string(d[n : n+4]) {
		case "Exif":
			info.HasEXIF = true
		case "mime":
			rest := d[n+4:]
			if i := bytes.IndexByte(rest, 0); i >= 0 { // skip item_name
				if bytes.Contains(rest[i+1:], []byte("rdf+xml")) {
					info.HasXMP = true
				}
			}
		}
		return nil
	})
}

// primaryProps returns the properties associated with the primary item,
// or nil if ipma or pitm is missing or malformed.
func (h *heif) primaryProps() []property {
	v, flags, d, ok := fullBox(h.ipmaData)
	if !ok || !h.hasPrimary || len(d) < 4 {
		return nil
	}
	count := be32(d)
	d = d[4:]
	idLen, idxLen := 2, 1
	if v > 0 {
		idLen = 4
	}
	if flags&1 != 0 {
		idxLen = 2
	}
	for range min(count, maxBoxes) {
		if len(d) < idLen+1 {
			return nil
		}
		var id uint32
		if idLen == 2 {
			id = be16(d)
		} else {
			id = be32(d)
		}
		n := int(d[idLen])
		d = d[idLen+1:]
		if len(d) < n*idxLen {
			return nil
		}
		if id != h.primary {
			d = d[n*idxLen:]
			continue
		}
		var out []property
		for j := range n {
			var idx int
			if idxLen == 1 {
				idx = int(d[j] & 0x7F)
			} else {
				idx = int(be16(d[2*j:]) & 0x7FFF)
			}
			if idx >= 1 && idx <= len(h.props) {
				out = append(out, h.props[idx-1])
			}
		}
		return out
	}
	return nil
}

const (
	alphaURN     = "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"
	alphaURNHEVC = "urn:mpeg:hevc:2015:auxid:1"
)

// apply sets info from the primary item's properties. Without a usable
// ipma it falls back to the largest ispe and any colour property.
func (h *heif) apply(info *Info) {
	props := h.primaryProps()
	fallback := props == nil
	if fallback {
		props = h.props
	}
	var area int64
	depth, codecDepth := 0, 0
	rotated := false
	for _, p := range h.props {
		if p.typ == "auxC" && len(p.data) > 4 {
			t := p.data[4:]
			if bytes.HasPrefix(t, []byte(alphaURN)) || bytes.HasPrefix(t, []byte(alphaURNHEVC)) {
				info.Alpha = true
			}
		}
	}
	for _, p := range props {
		d := p.data
		switch p.typ {
		case "ispe":
			if len(d) < 12 {
				continue
			}
			w, ht := int64(be32(d[4:])), int64(be32(d[8:]))
			if w > 1<<30 || ht > 1<<30 {
				w, ht = 1<<30, 1<<30 // absurd: still far over any limit
			}
			if !fallback || w*ht > area {
				area = w * ht
				info.Width, info.Height = int(w), int(ht)
			}
		case "pixi":
			if len(d) >= 6 && d[4] > 0 && depth == 0 {
				depth = int(d[5])
			}
		case "av1C":
			if len(d) >= 3 && codecDepth == 0 {
				codecDepth = 8
				if d[2]&0x40 != 0 {
					codecDepth = 10
					if d[2]&0x20 != 0 {
						codecDepth = 12
					}
				}
			}
		case "hvcC":
			if len(d) >= 22 && codecDepth == 0 {
				codecDepth = int(d[21]&7) + 8
			}
		case "colr":
			if len(d) >= 4 && (string(d[:4]) == "prof" || string(d[:4]) == "rICC") {
				info.ICC = true
			}
		case "irot":
			if !fallback && len(d) >= 1 && d[0]&1 != 0 {
				rotated = true
			}
		}
	}
	if rotated {
		info.Width, info.Height = info.Height, info.Width
	}
	switch {
	case depth > 0:
		info.BitDepth = depth
	case codecDepth > 0:
		info.BitDepth = codecDepth
	default:
		info.BitDepth = 8
	}
}

// moov reads the sample count and size of the first visual track of an
// image sequence. An auxiliary (alpha) track sets Alpha.
func (h *heif) moov(d []byte, info *Info) error {
	return walkBoxes(d, func(typ string, d []byte) error {
		if typ != "trak" {
			return nil
		}
		var handler string
		var samples, w, ht int
		err := walkBoxes(d, func(typ string, d []byte) error {
			switch typ {
			case "tkhd":
				v, _, d, ok := fullBox(d)
				off := 72
				if v == 1 {
					off = 84
				}
				if ok && len(d) >= off+8 {
					w, ht = int(be32(d[off:])>>16), int(be32(d[off+4:])>>16)
				}
			case "mdia":
				return walkBoxes(d, func(typ string, d []byte) error {
					switch typ {
					case "hdlr":
						if len(d) >= 12 {
							handler = string(d[8:12])
						}
					case "minf":
						return walkBoxes(d, func(typ string, d []byte) error {
							if typ != "stbl" {
								return nil
							}
							return walkBoxes(d, func(typ string, d []byte) error {
								if typ == "stsz" && len(d) >= 12 {
									samples = int(min(be32(d[8:]), 1<<30))
								}
								return nil
							})
						})
					}
					return nil
				})
			}
			return nil
		})
		if err != nil {
			return err
		}
		switch handler {
		case "auxv":
			info.Alpha = true
		case "pict", "vide":
			if h.tracks == 0 && samples > 0 {
				h.tracks, h.trackW, h.trackH = samples, w, ht
			}
		}
		return nil
	})
}

// ilocFits reports whether every extent that iloc places in the file
// lies inside it, which a truncated file fails.
func (h *heif) ilocFits(d []byte) bool {
	v, _, d, ok := fullBox(d)
	if !ok || len(d) < 2 || v > 2 {
		return false
	}
	offSize, lenSize, baseSize := int(d[0]>>4), int(d[0]&15), int(d[1]>>4)
	idxSize := 0
	if v > 0 {
		idxSize = int(d[1] & 15)
	}
	for _, s := range []int{offSize, lenSize, baseSize, idxSize} {
		if s != 0 && s != 4 && s != 8 {
			return false
		}
	}
	d = d[2:]
	next := func(n int) (uint64, bool) {
		if len(d) < n {
			return 0, false
		}
		var x uint64
		for _, c := range d[:n] {
			x = x<<8 | uint64(c)
		}
		d = d[n:]
		return x, true
	}
	idLen := 2
	if v == 2 {
		idLen = 4
	}
	count, ok := next(idLen)
	if !ok {
		return false
	}
	for range min(count, maxBoxes) {
		if _, ok := next(idLen); !ok {
			return false
		}
		method := uint64(0)
		if v > 0 {
			if method, ok = next(2); !ok {
				return false
			}
			method &= 15
		}
		_, ok1 := next(2) // data reference index
		base, ok2 := next(baseSize)
		extents, ok3 := next(2)
		if !ok1 || !ok2 || !ok3 {
			return false
		}
		for range extents {
			_, ok1 := next(idxSize)
			off, ok2 := next(offSize)
			n, ok3 := next(lenSize)
			if !ok1 || !ok2 || !ok3 {
				return false
			}
			if method == 0 && (base > h.fileLen || off > h.fileLen-base || n > h.fileLen-base-off) {
				return false
			}
		}
	}
	return true
}
