// Package probe measures an image from its bytes without decoding pixels.
//
// Read parses only container and codec headers (JPEG markers, PNG chunks,
// GIF blocks, RIFF chunks, ISOBMFF boxes, the SVG root element, and the
// fixed headers of BMP, TIFF and ICO), so the size of an image can be
// checked against the host's limits before any decoder allocates a pixel.
// Every loop is bounded by the input length or a fixed count, nothing is
// allocated from a size read from the file, and malformed input yields an
// error, never a panic.
package probe

import (
	"github.com/imagediet/imgdiet/internal/proto"
)

// Format names returned by Sniff and in Info.Format.
const (
	JPEG = "jpeg"
	PNG  = "png"
	GIF  = "gif"
	WebP = "webp"
	AVIF = "avif"
	HEIC = "heic"
	SVG  = "svg"
	BMP  = "bmp"
	TIFF = "tiff"
	ICO  = "ico"
)

// Info describes an image as its headers declare it.
type Info struct {
	// Format is one of the format constants, or "" if unknown.
	Format string
	// Width and Height are the canvas size in pixels. For SVG they are the
	// intrinsic size in CSS pixels, 0 when the document does not give one.
	Width, Height int
	// Frames is 1 for stills and the frame count of an animation.
	Frames int
	// Animated reports an animation with more than one frame.
	Animated bool
	// Alpha reports a transparency channel or a transparent colour; it is
	// always true for animated WebP and SVG. For AVIF and HEIC it is best
	// effort: false when it cannot be told.
	Alpha bool
	// ICC reports an embedded colour profile.
	ICC bool
	// Orientation is the EXIF orientation, 1 through 8; 1 if absent.
	Orientation int
	// Progressive reports a progressive JPEG.
	Progressive bool
	// CMYK reports a JPEG with four colour components.
	CMYK bool
	// BitDepth is the number of bits per sample (per pixel for BMP and ICO),
	// 0 when unknown.
	BitDepth int
	// HasEXIF and HasXMP report embedded EXIF and XMP metadata.
	HasEXIF, HasXMP bool
}

// Limits bound what Read accepts. Zero fields take the defaults.
type Limits struct {
	// MaxPixels bounds Width*Height*Frames. Default DefaultMaxPixels.
	MaxPixels int64
	// MaxFrames bounds Frames. Default DefaultMaxFrames.
	MaxFrames int
}

// Defaults of Limits.
const (
	DefaultMaxPixels = 50_000_000
	DefaultMaxFrames = 1000
)

func (l Limits) withDefaults() Limits {
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultMaxPixels
	}
	if l.MaxFrames <= 0 {
		l.MaxFrames = DefaultMaxFrames
	}
	return l
}

// Public messages of the errors Read returns.
const (
	msgUnsupported = proto.MsgUnsupportedFormat
	msgDamaged     = proto.MsgDecodeFailed
	msgTooMany     = "The image has more pixels or frames than Image Diet will process."
)

func errUnsupported() error { return proto.Errorf(proto.CodeUnsupportedFormat, msgUnsupported) }
func errDamaged() error     { return proto.Errorf(proto.CodeDecodeFailed, msgDamaged) }
func errTooMany() error     { return proto.Errorf(proto.CodeTooManyPixels, msgTooMany) }

// Read measures the image in b. It returns a *proto.Error with code
// unsupported_format when b is not a known image format, decode_failed
// when its headers are truncated or corrupt, and too_many_pixels when the
// header declares more than lim.MaxFrames frames or more than
// lim.MaxPixels pixels over all frames (not for SVG, whose declared size
// is only reported).
func Read(b []byte, lim Limits) (Info, error) {
	lim = lim.withDefaults()
	format := Sniff(b)
	info := Info{Format: format, Frames: 1, Orientation: 1}
	var err error
	switch format {
	case JPEG:
		err = readJPEG(b, &info)
	case PNG:
		err = readPNG(b, &info, lim)
	case GIF:
		err = readGIF(b, &info, lim)
	case WebP:
		err = readWebP(b, &info, lim)
	case AVIF, HEIC:
		err = readISOBMFF(b, &info, lim)
	case SVG:
		err = readSVG(b, &info)
	case BMP:
		err = readBMP(b, &info)
	case TIFF:
		err = readTIFF(b, &info)
	case ICO:
		err = readICO(b, &info)
	default:
		return Info{}, errUnsupported()
	}
	if err != nil {
		return Info{}, err
	}
	if info.Format != SVG && (info.Width <= 0 || info.Height <= 0) {
		return Info{}, errDamaged()
	}
	if info.Frames < 1 {
		return Info{}, errDamaged()
	}
	// An SVG's declared size is not a pixel count: the SVG is cleaned and
	// minified as text, never rasterized at that size, so width="10000"
	// height="10000" (Lighthouse's own test page has one) must not block it.
	if info.Format != SVG && !withinLimits(info.Width, info.Height, info.Frames, lim) {
		return Info{}, errTooMany()
	}
	if info.Orientation < 1 || info.Orientation > 8 {
		info.Orientation = 1
	}
	return info, nil
}

// withinLimits reports whether w*h*frames fits lim, without overflow.
func withinLimits(w, h, frames int, lim Limits) bool {
	if frames > lim.MaxFrames {
		return false
	}
	if w <= 0 || h <= 0 {
		return true
	}
	px := int64(w) * int64(h) // w, h < 2^31: no overflow
	if px > lim.MaxPixels {
		return false
	}
	return int64(frames) <= lim.MaxPixels/px
}

// be16, be32, le16, le32 read integers; callers check the length first.
func be16(b []byte) uint32 { return uint32(b[0])<<8 | uint32(b[1]) }
func be32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}
func le16(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 }
func le24(b []byte) uint32 { return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 }
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
