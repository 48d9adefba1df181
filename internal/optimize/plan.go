package optimize

// Step 4: the plan. Which formats to make for this image, in the order
// they run, and, within the memory budget, how: while they work, libvips
// and the codecs hold buffers that grow with the pixel count (mozjpeg the
// whole image's DCT coefficients for progressive or optimized coding,
// libwebp the picture in RGB, ARGB and YUV, aom a handful of frame
// buffers: on a 50-megapixel photo one AVIF encode takes about 1 GB and
// one WebP encode 750 MB). Each step's peak is estimated before it
// starts, from costs measured on this libvips build (internal/codec's
// table), and runs only within Config.MemoryBudget, which every Optimize
// call in flight shares. What does not fit is done a cheaper way: an image
// too large to hold decoded is read anew from the source by each encode,
// a JPEG is coded baseline, a WebP without smart subsampling, a format
// too costly to search at full size is searched on a reduced copy; a
// format that does not fit even so is left out with a reason.

import (
	"fmt"
	"slices"

	"github.com/imagediet/imgdiet/internal/codec"
)

const mib = 1 << 20

// plan is what the search makes for one image.
type plan struct {
	// formats are the formats to make, in the order they run.
	formats []string
	// reduced lists the formats searched on a copy shrunk to the
	// metric's size and encoded once at full size at the quality found
	// (images read anew per encode only).
	reduced map[string]bool
	skipped []Skipped
}

// plan decides what to make of im (see the file's comment).
func (e *Engine) plan(im *pic, opt Options) plan {
	var p plan
	fs := formats(im, opt)
	if im.noRoom {
		for _, f := range fs {
			p.skipped = append(p.skipped, e.tooLarge(f, im, im.need))
		}
		return p
	}
	if !im.big {
		p.formats = fs
		return p
	}
	// Too large to hold decoded: formats that cannot be encoded at full
	// size within the budget, even with cheaper settings, are left out;
	// in automatic quality, those too costly to search at full size are
	// searched on a reduced copy.
	p.reduced = map[string]bool{}
	for _, f := range fs {
		if opt.Quality > 0 && neverWins(f, im.s, len(p.formats) > 0) {
			continue
		}
		encs := encodings(f, opt.Quality, im)
		if !slices.ContainsFunc(encs, func(enc codec.Encoding) bool { _, _, ok := im.fit(enc); return ok }) {
			p.skipped = append(p.skipped, e.tooLarge(f, im, encs[0].Cost().Bytes(im.pixels(), im.bands)))
			continue
		}
		p.formats = append(p.formats, f)
		if opt.Quality == 0 && !e.searchesFull(f, im) {
			p.reduced[f] = true
		}
	}
	return p
}

// formats returns the formats to try for im, in the order they run: fast
// encoders first, AVIF last.
func formats(im *pic, opt Options) []string {
	if im.frames > 1 {
		// Animations stay animations: WebP when allowed, else GIF.
		if opt.allows(WebP) || im.s.Format == WebP {
			return []string{WebP}
		}
		return []string{GIF}
	}
	var fs []string
	for _, f := range []string{JPEG, WebP, PNG, GIF, AVIF} {
		switch {
		case !opt.allows(f),
			f == JPEG && im.alpha, // JPEG has no transparency
			f == AVIF && opt.SkipSlow,
			f == GIF && im.s.Format != GIF: // palette PNG beats a still GIF
			continue
		}
		fs = append(fs, f)
	}
	return fs
}

// anyFormats is formats for an image whose alpha band has not been
// checked yet: every format it could run.
func anyFormats(im *pic, opt Options) []string {
	if im.bands != 4 {
		return formats(im, opt)
	}
	k := *im
	k.alpha = false
	fs := formats(&k, opt)
	if im.frames > 1 {
		return fs
	}
	k.alpha = true
	for _, f := range formats(&k, opt) {
		if !slices.Contains(fs, f) {
			fs = append(fs, f)
		}
	}
	return fs
}

// neverWins reports that format f need not be made for s once another
// format has a candidate: a lossless copy of a lossy photo is never the
// smallest.
func neverWins(f string, s Source, others bool) bool {
	return f == PNG && others && (s.Format == JPEG || s.Format == AVIF)
}

// encodings lists what making format f may encode: at a fixed quality q
// the one encode, in automatic quality (q 0) everything the search and its
// final encode may run.
func encodings(f string, q int, im *pic) []codec.Encoding {
	switch f {
	case JPEG:
		// At a fixed quality libvips drops chroma subsampling from 90 on;
		// the search tries 4:2:0 first and full chroma after.
		if q > 0 {
			return []codec.Encoding{codec.JPEG.AutoSubsample(q)}
		}
		return []codec.Encoding{codec.JPEG444}
	case WebP:
		if q > 0 {
			return []codec.Encoding{codec.WebP}
		}
		if lossless(im) {
			return []codec.Encoding{codec.WebP, codec.WebPLossless}
		}
		return []codec.Encoding{codec.WebP}
	case PNG:
		if q > 0 {
			return []codec.Encoding{codec.PNGPalette}
		}
		return []codec.Encoding{codec.PNG, codec.PNGPalette}
	case AVIF:
		if q > 0 {
			return []codec.Encoding{codec.AVIF}
		}
		return []codec.Encoding{codec.AVIF, codec.AVIF444}
	case GIF:
		return []codec.Encoding{codec.GIF}
	}
	return nil
}

// lossless reports whether im's WebP search also tries a lossless encode:
// graphics and animations are often smaller lossless.
func lossless(im *pic) bool {
	return im.s.Format == PNG || im.s.Format == GIF || im.frames > 1
}

// measureCosts is the peak memory of decoding one candidate of a format
// and shrinking it to the metric's size, as automatic quality does.
var measureCosts = map[string]codec.Cost{
	JPEG: {PerPixel: 1.5, Fixed: 14 * mib},
	WebP: {PerPixel: 8, Fixed: 14 * mib},
	AVIF: {PerPixel: 15, Fixed: 16 * mib},
	PNG:  {PerPixel: 2.7, Fixed: 8 * mib},
	GIF:  {PerPixel: 6.5, Fixed: 8 * mib},
}

// sourceCost is the memory of one streaming pass over the source, shrunk
// or not: its decoder's, as when a candidate of its format is measured.
func sourceCost(s Source, px int64, bands int) int64 {
	c, ok := measureCosts[s.Format]
	if !ok {
		c = measureCosts[PNG]
	}
	return c.Bytes(px, bands)
}

// inMemoryCost estimates the peak of working on im held decoded: the
// decoded copy plus the costliest single step, an encode or, in automatic
// quality, the decode of a candidate (the two follow each other, and
// measuring a large candidate hands the encoder's freed memory back
// first). A single encode at a fixed quality holds no copy.
func (e *Engine) inMemoryCost(im *pic, opt Options) int64 {
	px := im.pixels()
	var work int64
	fs := anyFormats(im, opt)
	for _, f := range fs {
		for _, enc := range encodings(f, opt.Quality, im) {
			work = max(work, enc.Cost().Bytes(px, im.bands))
		}
		if opt.Quality == 0 {
			work = max(work, measureCosts[f].Bytes(px, im.bands))
		}
	}
	if opt.Quality > 0 && im.bands == 3 && len(fs) == 1 {
		return work
	}
	return px*int64(im.bands) + work
}

// fit returns the encoding to use for enc on im and its memory: enc when
// im is held (its cost counted when it was) or when enc fits the budget,
// else the first cheaper substitute that does; ok is false when none does
// (n is then the cheapest one's cost).
func (im *pic) fit(enc codec.Encoding) (use codec.Encoding, n int64, ok bool) {
	n = enc.Cost().Bytes(im.pixels(), im.bands)
	if im.held != nil || !im.big {
		return enc, n, true
	}
	for n > im.limit {
		c, more := enc.Cheaper()
		if !more {
			return enc, n, false
		}
		enc, n = c, c.Cost().Bytes(im.pixels(), im.bands)
	}
	return enc, n, true
}

// searchesFull reports whether format f of im, read anew per encode, is
// searched at full size: JPEG and lossy WebP, when an encode with
// settings that fit and the decode of a candidate fit in the budget.
func (e *Engine) searchesFull(f string, im *pic) bool {
	if f != JPEG && f != WebP {
		return false
	}
	return e.fullSearchCost(f, im) <= e.cfg.MemoryBudget
}

// fullSearchCost is the memory a full-size search of f on im needs at
// once: its costliest encode that fits, or the decode of a candidate if
// larger.
func (e *Engine) fullSearchCost(f string, im *pic) int64 {
	need := measureCosts[f].Bytes(im.pixels(), im.bands)
	for _, enc := range fullSearchEncodings(f) {
		_, n, _ := im.fit(enc)
		need = max(need, n)
	}
	return need
}

// fullSearchEncodings lists the encodings a full-size search of f runs
// before cheaper ones are substituted.
func fullSearchEncodings(f string) []codec.Encoding {
	if f == JPEG {
		return []codec.Encoding{codec.JPEG, codec.JPEG444}
	}
	return []codec.Encoding{codec.WebPPlain, codec.WebP}
}

// tooLarge is the reason a format is left out.
func (e *Engine) tooLarge(f string, im *pic, need int64) Skipped {
	return Skipped{Format: f, Reason: fmt.Sprintf(
		"%s was not tried: encoding this %d × %d image would take about %d MB of memory, more than the %d MB Image Diet allows itself.",
		formatName(f), im.width, im.pageHeight, (need+mib-1)/mib, e.cfg.MemoryBudget/mib)}
}

func formatName(f string) string {
	switch f {
	case JPEG:
		return "JPEG"
	case PNG:
		return "PNG"
	case WebP:
		return "WebP"
	case AVIF:
		return "AVIF"
	case GIF:
		return "GIF"
	}
	return f
}
