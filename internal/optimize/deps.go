package optimize

// Temporary stand-ins for internal/probe, internal/svgclean and
// internal/metric while those packages are being written. Each function
// here has the signature of the real one; this file is replaced by thin
// calls once they are committed.

import (
	"bytes"
	"math"
	"regexp"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/proto"
)

type headerInfo struct {
	Format        string
	Width, Height int
	Frames        int
	Animated      bool
	Orientation   int
}

func probeRead(b []byte, maxPixels int64, maxFrames int) (headerInfo, error) {
	var h headerInfo
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		h.Format = "jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		h.Format = "png"
	case bytes.HasPrefix(b, []byte("GIF8")):
		h.Format = "gif"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		h.Format = "webp"
	case len(b) >= 12 && string(b[4:12]) == "ftypavif":
		h.Format = "avif"
	case bytes.Contains(b[:min(len(b), 1024)], []byte("<svg")):
		h.Format = "svg"
		return h, nil
	default:
		return h, proto.Errorf(proto.CodeUnsupportedFormat, "The file is not an image format Image Diet can read.")
	}
	p := &vips.ImportParams{}
	if h.Format == "gif" || h.Format == "webp" {
		p.NumPages.Set(-1)
	}
	img, err := vips.LoadImageFromBuffer(b, p)
	if err != nil {
		return h, proto.Errorf(proto.CodeDecodeFailed, "The image is damaged and cannot be read.")
	}
	defer img.Close()
	h.Frames = max(img.Pages(), 1)
	h.Width, h.Height = img.Width(), img.Height()/h.Frames
	h.Animated = h.Frames > 1
	h.Orientation = img.Orientation()
	if int64(h.Width)*int64(h.Height)*int64(h.Frames) > maxPixels {
		return h, proto.Errorf(proto.CodeTooManyPixels, "The image has more pixels than Image Diet accepts.")
	}
	if h.Frames > maxFrames {
		return h, proto.Errorf(proto.CodeTooManyPixels, "The animation has more frames than Image Diet accepts.")
	}
	return h, nil
}

var (
	svgScript = regexp.MustCompile(`(?is)<script.*?</script>`)
	svgOn     = regexp.MustCompile(`(?i)\s+on[a-z]+\s*=\s*("[^"]*"|'[^']*')`)
	svgSpace  = regexp.MustCompile(`>\s+<`)
)

func cleanSVG(src []byte, keepMetadata bool) ([]byte, error) {
	b := svgScript.ReplaceAll(src, nil)
	b = svgOn.ReplaceAll(b, nil)
	b = svgSpace.ReplaceAll(b, []byte("><"))
	return bytes.TrimSpace(b), nil
}

type pixels struct {
	Pix                  []byte
	Width, Height, Bands int
}

// distance is a PSNR-based placeholder on the butteraugli-like scale of
// the real metric (0.5 high, 1 balanced, 2 small).
func distance(ref, dist pixels) (float64, error) {
	if ref.Width != dist.Width || ref.Height != dist.Height || ref.Bands != dist.Bands || len(ref.Pix) != len(dist.Pix) {
		return 0, proto.Errorf(proto.CodeInternal, "size mismatch")
	}
	var se float64
	for i := range ref.Pix {
		d := float64(ref.Pix[i]) - float64(dist.Pix[i])
		se += d * d
	}
	mse := se / float64(len(ref.Pix))
	if mse == 0 {
		return 0, nil
	}
	psnr := 10 * math.Log10(255*255/mse)
	return math.Max(0, (45-psnr)/6), nil
}

func threshold(target, codec string) (float64, bool) {
	switch target {
	case "high":
		return 0.5, true
	case "balanced", "":
		return 1, true
	case "small":
		return 2, true
	}
	return 0, false
}
