package optimize

// Step 1: the headers. Nothing is decoded: the format, the size as
// displayed and the frames come from the file's own headers, and the
// limits are enforced before libvips sees a pixel. What the engine cannot
// re-encode but is a valid image is kept with the reason.

import (
	"github.com/imagediet/imgdiet/internal/probe"
)

// probe reads src's headers into a Source (its size after EXIF
// orientation) and refuses what the engine cannot or must not decode.
func (e *Engine) probe(src []byte) (Source, error) {
	h, err := probe.Read(src, probe.Limits{MaxPixels: e.cfg.MaxPixels, MaxFrames: e.cfg.MaxFrames})
	if err != nil {
		return Source{Bytes: int64(len(src))}, err
	}
	s := Source{Format: h.Format, Bytes: int64(len(src)), Width: h.Width, Height: h.Height,
		Animated: h.Animated, Frames: max(h.Frames, 1)}
	if h.Orientation >= 5 && h.Orientation <= 8 {
		s.Width, s.Height = h.Height, h.Width
	}
	switch s.Format {
	case SVG, JPEG, PNG, GIF, WebP, AVIF, "tiff":
		return s, nil
	}
	return s, errUnsupported
}

// keptAsIs returns why an image is kept as it is without any encode, or
// "" when it is optimized as usual. libvips reads only the first frame of
// an animated PNG (APNG) and none of an AVIF image sequence, and
// animations never become still images, so neither can be re-encoded yet:
// they are valid files a browser shows, kept with a true reason instead of
// being called damaged.
func keptAsIs(s Source) string {
	if !s.Animated {
		return ""
	}
	switch s.Format {
	case PNG:
		return "Animated PNGs are kept as they are: Image Diet cannot re-encode PNG animations yet."
	case AVIF:
		return "Animated AVIFs are kept as they are: Image Diet cannot re-encode AVIF animations yet."
	}
	return ""
}

// keep returns rep for an image kept as it is: no candidates, the
// source's own format listed as skipped with why.
func keep(rep Report, why string) Report {
	rep.Skipped = []Skipped{{Format: rep.Source.Format, Reason: why}}
	rep.Verified = true
	return rep
}
