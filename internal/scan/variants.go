package scan

// Responsive variants (settings.variants): for an image shown smaller than
// its pixels, the widths a page should serve, each in a chain of formats,
// made after the image's final result and sent in a "variants" message of
// its own. The rules here are pure; the work is in variantwork.go.

import (
	"math"
	"slices"

	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/proto"
)

// Reasons an image gets no variants.
const (
	whyNoDisplay  = "The page did not say how wide this image is shown, so no responsive widths were made."
	whyNotSmaller = "The image is not shown smaller than its own width, so it needs no smaller copies."
	whyAnimated   = "Animations get no responsive widths."
	whySVG        = "An SVG scales to any width: it needs no responsive copies."
	whyError      = "The image could not be optimized, so no responsive widths were made."
	whyBudget     = "Image Diet stopped making responsive widths for this image after %d s of work, its budget, before any was ready."
	whyFailed     = "The responsive widths of this image could not be made."
	whyFull       = "Some responsive files of this image are not kept: Image Diet holds as many files as it may; download or release others and scan again."
)

// checkSrcset validates image i's srcsetWidths: at most
// proto.MaxSrcsetWidths whole numbers from 1 to proto.MaxVariantWidth
// (JSON decoding already refused anything but whole numbers).
func checkSrcset(i int, ws []int) *proto.Error {
	if len(ws) > proto.MaxSrcsetWidths {
		return proto.Errorf(proto.CodeBadMessage, "Image %d lists %d \"srcsetWidths\"; at most %d are allowed.", i, len(ws), proto.MaxSrcsetWidths)
	}
	for _, w := range ws {
		if w < 1 || w > proto.MaxVariantWidth {
			return proto.Errorf(proto.CodeBadMessage, "Image %d has a \"srcsetWidths\" entry outside 1 to %d.", i, proto.MaxVariantWidth)
		}
	}
	return nil
}

// VariantWidths returns the widths image im should be served at, given
// its final report, or none and why: round(displayWidth) × 1 and × 2 and
// the image's own srcset widths, each capped at the original width,
// deduplicated, ascending; only for a still raster image shown narrower
// than its pixels.
func VariantWidths(im proto.Image, res *proto.Result) ([]int, string) {
	switch {
	case res == nil || res.Status == proto.StatusError || res.Original == nil:
		return nil, whyError
	case res.Original.Format == optimize.SVG:
		return nil, whySVG
	case res.Original.Animated:
		return nil, whyAnimated
	}
	d := int(math.Round(im.DisplayWidth))
	if d <= 0 {
		return nil, whyNoDisplay
	}
	full := res.Original.Width
	if full <= d {
		return nil, whyNotSmaller
	}
	ws := append([]int{d, 2 * d}, im.SrcsetWidths...)
	for i, w := range ws {
		ws[i] = min(w, full)
	}
	slices.Sort(ws)
	return slices.Compact(ws), ""
}

// VariantChain returns the formats each variant width is made in: the
// format of the image's best answer (best, "" when the image is kept as it
// is); after AVIF also WebP; after AVIF or WebP also a format every
// browser reads (JPEG, or PNG for an image with transparency). An image
// kept as it is keeps its own format (source), or that fallback when the
// engine cannot write its format.
func VariantChain(best, source string, alpha bool) []string {
	fallback := optimize.JPEG
	if alpha {
		fallback = optimize.PNG
	}
	switch best {
	case "":
		switch source {
		case optimize.JPEG, optimize.PNG, optimize.WebP, optimize.AVIF, optimize.GIF:
			return []string{source}
		}
		return []string{fallback}
	case optimize.AVIF:
		return []string{optimize.AVIF, optimize.WebP, fallback}
	case optimize.WebP:
		return []string{optimize.WebP, fallback}
	}
	return []string{best}
}
