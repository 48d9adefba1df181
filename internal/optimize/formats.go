package optimize

// Step 6: each format's recipe for the search (search.go): which encodings its
// search measures and which one makes the bytes kept, where its search
// starts, and what it tries besides.

import (
	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/metric"
)

// Quality ranges and efforts, in libvips' own Q scale of each codec.
const (
	// JPEG and WebP search the 64 qualities 36–99 the thresholds were
	// calibrated on (docs/calibration.md).
	jpegLo     = 36
	jpegHi     = 99
	webpLo     = 36
	webpHi     = 99
	avifLo     = 25
	avifHi     = 95
	paletteLo  = 40
	avifSearch = 1 // AVIF effort of a search with the fast metric
	// avifExactSearch is the AVIF effort an exact search runs at: on 8
	// page photos at 640 px one encode took 0.35-0.41 s of CPU against
	// 2.7-3.0 s at effort 4, for +4.4 % bytes at the same butteraugli
	// limit. The final effort is then encoded once, avifFinalShift
	// qualities lower: effort 4 needed 1-3 fewer qualities than effort 3
	// for the same distance on those photos, and 2 fewer missed the limit
	// by less than 1 % more often than not.
	avifExactSearch = 3
	avifFinalShift  = 1
	avifExactSteps  = 5
	webpEffort      = 4 // WebP effort while searching quality
	webpFinalEffort = 6
	paletteRatio    = 3
	// palettePixels is the size above which SkipSlow leaves out palette PNG.
	palettePixels = 1 << 20
)

// format makes format f's candidate: at a fixed quality one encode, in
// automatic quality the recipe's search.
func (s *searcher) format(f string) (*attempt, error) {
	switch f {
	case JPEG:
		return s.jpeg()
	case WebP:
		return s.webp()
	case PNG:
		return s.png()
	case GIF:
		return s.gif()
	case AVIF:
		return s.avif()
	}
	return nil, nil
}

// fixed encodes enc once at the fixed quality.
func (s *searcher) fixed(enc codec.Encoding, effort int) (*attempt, error) {
	b, err := s.encode(enc, s.opt.Quality, effort)
	if err != nil {
		return nil, err
	}
	return &attempt{data: b, q: s.opt.Quality, enc: enc, effort: effort, lossy: enc.Lossy()}, nil
}

// jpeg: progressive mozjpeg. Optimizing the scans only reorders the
// progressive JPEG's coefficients: a search measures encodes without it,
// a third faster, and the quality found is encoded once more with it, to
// the same pixels (TestJPEGScansKeepPixels). Baseline would not do:
// mozjpeg's trellis quantizes baseline differently.
func (s *searcher) jpeg() (*attempt, error) {
	if s.opt.Quality > 0 {
		return s.fixed(codec.JPEG.AutoSubsample(s.opt.Quality), 0)
	}
	thr := s.limit(JPEG)
	guess := guessOr(s.prevQuality(JPEG), startGuess(s.opt.Target, JPEG, 0))
	if !s.ref.exact {
		// The fast metric: libvips' automatic chroma subsampling (4:2:0
		// below quality 90, full chroma from it on).
		return s.lossy(JPEG, func(q int) codec.Encoding { return codec.JPEGSearch.AutoSubsample(q) },
			func(q int) codec.Encoding { return codec.JPEG.AutoSubsample(q) }, thr, guess)
	}
	// libvips' automatic subsampling turns 4:2:0 off from quality 90 on,
	// where the exact search often lands on photos: measured, 4:2:0 at a
	// slightly higher quality is smaller at the same distance. Full
	// chroma stays the fallback when 4:2:0 never gets close enough (red
	// text, fine colour detail).
	a, err := s.lossy(JPEG, always(codec.JPEGSearch), always(codec.JPEG), thr, guess)
	if a == nil && err == nil {
		a, err = s.lossy(JPEG, always(codec.JPEGSearch444), always(codec.JPEG444), thr, 0)
	}
	return a, err
}

func always(e codec.Encoding) func(int) codec.Encoding { return func(int) codec.Encoding { return e } }

// lossy searches with the encodings search gives per quality, then encodes
// the quality found once more with final's, which decode to the same
// pixels (they are not measured again). When the memory budget puts the
// same cheaper settings in place of both, the searched bytes are final.
func (s *searcher) lossy(f string, search, final func(q int) codec.Encoding, thr float64, guess int) (*attempt, error) {
	enc := func(q int) ([]byte, error) { return s.encode(search(q), q, 0) }
	a, err := s.quality(f, enc, thr, jpegLo, jpegHi, maxSteps, true, guess)
	if a == nil || err != nil {
		return a, err
	}
	a.enc = search(a.q)
	fe := final(a.q)
	if x, _, _ := s.im.fit(fe); x == s.fitted(a.enc) {
		a.enc = fe
		return a, nil
	}
	if err := s.check(); err != nil {
		return a, err
	}
	if b, err := s.encode(fe, a.q, 0); err == nil {
		// The same pixels: the same distance.
		return &attempt{data: b, q: a.q, enc: fe, lossy: true, checked: true, dist: a.dist}, nil
	}
	return a, nil
}

// fitted is the encoding used in place of enc on the image.
func (s *searcher) fitted(enc codec.Encoding) codec.Encoding {
	x, _, _ := s.im.fit(enc)
	return x
}

// webp searches lossy WebP quality at effort 4 (with smart subsampling
// when measuring exactly, without for the fast metric, starting from the
// guess), then, when the final effort (Config.WebPEffort, at most 4 for
// SkipSlow) is not the search's own or the measure is exact, encodes the
// found quality once more with smart subsampling at that effort and keeps
// the smaller of the passing two. Graphics and animations also try
// lossless.
func (s *searcher) webp() (*attempt, error) {
	effort := s.e.finalEffort(codec.WebP, s.opt)
	if s.opt.Quality > 0 {
		return s.fixed(codec.WebP, effort)
	}
	thr := s.limit(WebP)
	exact := s.ref.exact
	// The exact measure sees chroma edges: it searches with the smart
	// subsampling the final encode uses.
	search := codec.WebPPlain
	if exact {
		search = codec.WebP
	}
	guess := guessOr(s.prevQuality(WebP), startGuess(s.opt.Target, WebP, s.hint))
	found, err := s.quality(WebP, func(q int) ([]byte, error) { return s.encode(search, q, webpEffort) },
		thr, webpLo, webpHi, maxSteps, true, guess)
	if found != nil {
		found.enc, found.effort = search, webpEffort
	}
	best := found
	// At the search's own effort, smart subsampling alone made 1 of 48
	// page photo encodes smaller: the fast answer skips it, as it does
	// when the memory budget has no room for it.
	if err == nil && found != nil && (effort != webpEffort || exact) && s.fitted(codec.WebP) == codec.WebP {
		if err = s.check(); err != nil {
			return best, err
		}
		if b, e := s.encode(codec.WebP, found.q, effort); e == nil && len(b) < len(found.data) {
			if d, ok, e := s.measured(WebP, b, thr, false); e == nil && ok {
				best = &attempt{data: b, q: found.q, enc: codec.WebP, effort: effort, lossy: true, checked: true, dist: d}
			}
		}
	}
	if err == nil && lossless(s.im) {
		if err = s.check(); err != nil {
			return best, err
		}
		var b []byte
		if b, err = s.encode(codec.WebPLossless, 100, webpEffort); err == nil && (best == nil || len(b) < len(best.data)) {
			best = &attempt{data: b, q: 100, enc: codec.WebPLossless, effort: webpEffort}
		}
	}
	return best, err
}

// png: lossless first; then libimagequant's palette, at full quality
// first and lower only if that already looks like the reference, unless
// palette PNG cannot get near what another format found.
func (s *searcher) png() (*attempt, error) {
	if s.opt.Quality > 0 {
		return s.fixed(codec.PNGPalette, 0)
	}
	b, err := s.encode(codec.PNG, 0, 0)
	if err != nil {
		return nil, err
	}
	best := &attempt{data: b, q: 100, enc: codec.PNG}
	if s.opt.SkipSlow && s.im.pixels() > palettePixels {
		return best, nil
	}
	if s.beat > 0 && s.beat*paletteRatio < len(b) {
		// Palette PNG rarely gets below a third of the lossless size: it
		// cannot beat what another format already found.
		return best, nil
	}
	if err := s.check(); err != nil {
		return best, err
	}
	thr := s.limit(PNG)
	enc := func(q int) ([]byte, error) { return s.encode(codec.PNGPalette, q, 0) }
	pb, err := enc(100)
	if err != nil {
		return best, err
	}
	d, ok, err := s.measured(PNG, pb, thr, false)
	if err != nil || !ok {
		return best, err
	}
	pal := &attempt{data: pb, q: 100, enc: codec.PNGPalette, checked: true, dist: d}
	a, err := s.quality(PNG, enc, thr, paletteLo, 99, 3, false, 0)
	if a != nil && len(a.data) < len(pal.data) {
		a.enc = codec.PNGPalette
		pal = a
	}
	if len(pal.data) < len(best.data) {
		best = pal
	}
	return best, err
}

// gif encodes GIF once (only a GIF source stays GIF), kept when it meets
// the target.
func (s *searcher) gif() (*attempt, error) {
	b, err := s.encode(codec.GIF, 0, 0)
	if err != nil {
		return nil, err
	}
	a := &attempt{data: b, q: 100, enc: codec.GIF, lossy: true, checked: s.opt.Quality == 0}
	if s.opt.Quality == 0 {
		d, ok, err := s.measured(GIF, b, s.limit(GIF), false)
		if err != nil || !ok {
			return nil, err
		}
		a.dist = d
	}
	return a, nil
}

// avif searches quality at a fast effort and encodes the quality found at
// the configured effort: with the exact measure see avifExact; with the
// fast metric it searches at effort 1 (in a window around the hint, the
// quality WebP or JPEG needed), then keeps the final effort's encode when
// it passes and is smaller.
func (s *searcher) avif() (*attempt, error) {
	if s.opt.Quality > 0 {
		return s.fixed(codec.AVIF, s.e.cfg.AVIFEffort)
	}
	if s.ref.exact {
		return s.avifExact()
	}
	thr := s.limit(AVIF)
	lo, hi, steps := avifLo, avifHi, 5
	if s.hint > 0 {
		// At equal distance AVIF needed a few points less than WebP in
		// measurements on photos; search a window around that.
		c := max(avifLo, min(avifHi, s.hint-8))
		lo, hi, steps = max(avifLo, c-12), min(avifHi, c+12), 4
	}
	found, err := s.quality(AVIF, func(q int) ([]byte, error) { return s.encode(codec.AVIF, q, avifSearch) },
		thr, lo, hi, steps, false, 0)
	if err != nil || found == nil {
		return found, err
	}
	found.enc, found.effort = codec.AVIF, avifSearch
	if s.e.cfg.AVIFEffort == avifSearch {
		return found, nil
	}
	if err := s.check(); err != nil {
		return found, err
	}
	b, err := s.encode(codec.AVIF, found.q, s.e.cfg.AVIFEffort)
	if err != nil || len(b) >= len(found.data) {
		return found, nil
	}
	d, ok, err := s.measured(AVIF, b, thr, false)
	if err != nil || !ok {
		return found, nil
	}
	return &attempt{data: b, q: found.q, enc: codec.AVIF, effort: s.e.cfg.AVIFEffort, lossy: true, checked: true, dist: d}, nil
}

// avifExact is avif's search with the exact measure: with full-resolution
// chroma, as sharp encodes AVIF by default (libvips' automatic 4:2:0 below
// Q 90 blurs colour edges butteraugli sees, so a search would only pass
// from Q 90 on), interpolated from the hint at effort avifExactSearch,
// then one encode at the configured effort avifFinalShift qualities lower,
// kept when it passes and is smaller. The search's own candidate is
// verified already: the caller may offer it while the final encode runs.
func (s *searcher) avifExact() (*attempt, error) {
	thr := s.limit(AVIF)
	// On the page photos the exact AVIF boundary lay 3-8 qualities below
	// WebP's fast-metric quality minus 8.
	guess := 75
	if s.hint > 0 {
		guess = max(avifLo, min(avifHi, s.hint-13))
	}
	effort := min(s.e.cfg.AVIFEffort, avifExactSearch)
	found, err := s.quality(AVIF, func(q int) ([]byte, error) { return s.encode(codec.AVIF444, q, effort) },
		thr, avifLo, avifHi, avifExactSteps, false, guess)
	if err != nil || found == nil {
		return found, err
	}
	found.enc, found.effort = codec.AVIF444, effort
	if effort == s.e.cfg.AVIFEffort {
		return found, nil
	}
	s.onVerified(s.output(AVIF, found))
	q := found.q - avifFinalShift
	if q < avifLo {
		return found, nil
	}
	if err := s.check(); err != nil {
		return found, err
	}
	b, err := s.encode(codec.AVIF444, q, s.e.cfg.AVIFEffort)
	if err != nil || len(b) >= len(found.data) {
		return found, nil
	}
	d, ok, err := s.measured(AVIF, b, thr, false)
	if err != nil || !ok {
		return found, nil
	}
	return &attempt{data: b, q: q, enc: codec.AVIF444, effort: s.e.cfg.AVIFEffort, lossy: true, checked: true, dist: d}, nil
}

// finalEffort is the effort of the encode whose bytes are kept for enc:
// WebP at Config.WebPEffort (at most the search's own for SkipSlow),
// lossless WebP at the search's effort, AVIF at Config.AVIFEffort, the
// others at the table's default.
func (e *Engine) finalEffort(enc codec.Encoding, opt Options) int {
	switch enc {
	case codec.WebP, codec.WebPPlain:
		if opt.SkipSlow {
			return min(e.cfg.WebPEffort, webpEffort)
		}
		return e.cfg.WebPEffort
	case codec.WebPLossless:
		return webpEffort
	case codec.AVIF, codec.AVIF444:
		return e.cfg.AVIFEffort
	}
	return 0
}

// startGuess is where a search starts for format f and target when no
// earlier answer gives one: next to hint, the quality the previous format
// needed, when there is one (WebP needed about 2 more than JPEG on the
// benchmark's photos), else the quality photos typically needed (JPEG
// 90–97 for balanced). It only saves encodes: the search finds the same
// quality from any start.
func startGuess(target, f string, hint int) int {
	if hint > 0 && f == WebP {
		return min(hint+2, webpHi)
	}
	switch target {
	case metric.TargetHigh:
		return 95
	case metric.TargetSmall:
		return 84
	}
	return 92
}

// guessOr is q, or fallback when q is 0.
func guessOr(q, fallback int) int {
	if q > 0 {
		return q
	}
	return fallback
}

// prevQuality is the quality of the earlier answer's candidate of format
// f, or 0: where the fast metric found f's boundary, the exact search
// starts (the two agree to a few qualities: docs/calibration.md).
func (s *searcher) prevQuality(f string) int {
	if o, ok := s.prev[f]; ok && o.Quality < 100 {
		return o.Quality
	}
	return 0
}
