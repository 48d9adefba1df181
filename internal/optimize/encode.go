package optimize

import (
	"context"
	"errors"
	"math"
	"slices"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/metric"
	"github.com/imagediet/imgdiet/internal/proto"
)

// Quality search bounds per codec, in libvips' own Q scale of each.
const (
	maxSteps = 6 // encodes per binary search: 64 qualities searched exactly
	// belowStep is how far under the boundary a search with the exact
	// measure looks once more (distance is not strictly monotone).
	belowStep = 2
	// JPEG and WebP search the 64 qualities 36–99 the thresholds were
	// calibrated on (docs/calibration.md).
	jpegLo          = 36
	jpegHi          = 99
	webpLo          = 36
	webpHi          = 99
	avifLo          = 25
	avifHi          = 95
	paletteLo       = 40
	avifSearch      = 1 // AVIF effort used while searching quality with the fast metric
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

// encoder produces one format at quality q (ignored by lossless encoders).
type encoder func(q int) ([]byte, error)

// plan returns the formats to try for j, in the order they run: fast
// encoders first, AVIF last.
func plan(j *job, opt Options) []string {
	if j.frames > 1 {
		// Animations stay animations: WebP when allowed, else GIF.
		if opt.allows(WebP) || j.srcFormat == WebP {
			return []string{WebP}
		}
		return []string{GIF}
	}
	var fs []string
	for _, f := range []string{JPEG, WebP, PNG, GIF, AVIF} {
		switch {
		case !opt.allows(f),
			f == JPEG && j.alpha, // JPEG has no transparency
			f == AVIF && opt.SkipSlow,
			f == GIF && j.srcFormat != GIF: // palette PNG beats a still GIF
			continue
		}
		fs = append(fs, f)
	}
	return fs
}

func (e *Engine) encodeAll(ctx context.Context, j *job, opt Options) ([]Output, error) {
	thr := j.limit(opt.Target, "")
	var outs []Output
	failed := 0
	formats := plan(j, opt)
	var hint int     // quality found for WebP or JPEG, a starting point for AVIF
	var smallest int // bytes of the smallest candidate so far
	prev := map[string]Output{}
	if j.exact && opt.Quality == 0 {
		for _, o := range opt.Previous {
			prev[o.Format] = o
		}
	}
	if j.exact && opt.Quality == 0 {
		// AVIF, usually the smallest on photos, goes first (refining an
		// earlier answer, it starts from the earlier WebP or JPEG
		// quality), so that the searches of formats it beats stop early.
		formats = avifFirst(formats)
	}
	if len(prev) > 0 {
		if o, ok := prev[WebP]; ok {
			hint = o.Quality
		} else if o, ok := prev[JPEG]; ok {
			hint = o.Quality
		}
	}
	verifiedBest := 0
	j.onVerified = func(o Output) {
		if opt.Progress == nil || !o.verified || (verifiedBest > 0 && len(o.Data) >= verifiedBest) || int64(len(o.Data)) >= j.srcBytes {
			return
		}
		verifiedBest = len(o.Data)
		opt.Progress(j.interim(append(slices.Clone(outs), o)))
	}
	for _, f := range formats {
		if err := canceled(ctx); err != nil {
			if errors.Is(err, errBudget) {
				return outs, err
			}
			return nil, err
		}
		t := j.limit(opt.Target, f)
		if t == 0 {
			t = thr
		}
		if f == PNG && smallest > 0 && (j.srcFormat == JPEG || j.srcFormat == AVIF) {
			// A lossless copy of a lossy photo is never the smallest.
			continue
		}
		if o, ok := prev[f]; ok && smallest > 0 && float64(len(o.Data))*dominated > float64(smallest) {
			// Even the exact measure's usual saving over the earlier,
			// stricter metric could not make this format the smallest:
			// its earlier candidate (within the target, measured by the
			// fast metric) stands.
			outs = append(outs, o)
			continue
		}
		if opt.Quality == 0 {
			j.beat = smallest
		}
		o, ok, err := e.encodeFormat(ctx, j, f, opt, t, hint, smallest, prevQuality(opt.Previous, f))
		if err != nil {
			if errors.Is(err, errBudget) {
				if ok {
					outs = append(outs, o)
				}
				return outs, err
			}
			if errors.Is(err, errCanceled) {
				return nil, err
			}
			failed++
			e.cfg.Log.Debug().Str("format", f).Msg("encode failed")
			continue
		}
		if ok {
			if f == WebP || (f == JPEG && hint == 0) {
				hint = o.Quality
			}
			j.onVerified(o)
			outs = append(outs, o)
			if smallest == 0 || len(o.Data) < smallest {
				smallest = len(o.Data)
			}
		}
	}
	if len(outs) == 0 && failed > 0 {
		return nil, errEncode
	}
	return outs, nil
}

// prevQuality is the quality of the earlier answer's candidate of format
// f, or 0: where the fast metric found f's boundary, the exact search
// starts (the two agree to a few qualities: docs/calibration.md).
func prevQuality(prev []Output, f string) int {
	for _, o := range prev {
		if o.Format == f && o.Quality < 100 {
			return o.Quality
		}
	}
	return 0
}

// guessOr is q, or fallback when q is 0.
func guessOr(q, fallback int) int {
	if q > 0 {
		return q
	}
	return fallback
}

// dominated is the share of an earlier candidate's size that a search with
// the exact measure could at best bring it down to: on the benchmark's
// photos the exact measure saved up to about a third over the fast metric.
const dominated = 0.6

// avifFirst returns formats with AVIF moved to the front.
func avifFirst(formats []string) []string {
	out := make([]string, 0, len(formats))
	for _, f := range formats {
		if f == AVIF {
			out = append(out, f)
		}
	}
	for _, f := range formats {
		if f != AVIF {
			out = append(out, f)
		}
	}
	return out
}

// attempt is one encoded and, in auto mode, measured output.
type attempt struct {
	data    []byte
	q       int
	lossy   bool
	checked bool
}

func (e *Engine) encodeFormat(ctx context.Context, j *job, f string, opt Options, thr float64, hint, smallest, prevQ int) (Output, bool, error) {
	strip := !opt.KeepMetadata
	auto := opt.Quality == 0
	var best *attempt
	keep := func(a *attempt) {
		if a != nil && (best == nil || len(a.data) < len(best.data)) {
			best = a
		}
	}
	var err error
	switch f {
	case JPEG:
		// Optimizing the scans only reorders the progressive JPEG's
		// coefficients: a search measures progressive encodes without it,
		// a third faster, and the quality found is encoded once more with
		// it, to the same pixels (TestJPEGScansKeepPixels). Baseline
		// would not do: mozjpeg's trellis quantizes baseline differently.
		encWith := func(sub vips.SubsampleMode) (search, final encoder) {
			at := func(optimizeScans bool) encoder {
				return func(q int) ([]byte, error) {
					return jpegSave(j.img, q, sub, optimizeScans, strip)
				}
			}
			return at(false), at(true)
		}
		// libvips' automatic chroma subsampling turns 4:2:0 off from
		// quality 90 on, where the exact search often lands on photos:
		// measured, 4:2:0 at a slightly higher quality is smaller at the
		// same distance. Full chroma stays the fallback when 4:2:0 never
		// gets close enough (red text, fine colour detail).
		sub := vips.VipsForeignSubsampleAuto
		if auto && j.exact {
			sub = vips.VipsForeignSubsampleOn
		}
		var a *attempt
		search, final := encWith(sub)
		a, err = e.lossy(ctx, j, f, search, final, opt, thr, jpegLo, jpegHi, guessOr(prevQ, startGuess(opt.Target, JPEG, 0)))
		if a == nil && err == nil && auto && j.exact {
			search, final = encWith(vips.VipsForeignSubsampleOff)
			a, err = e.lossy(ctx, j, f, search, final, opt, thr, jpegLo, jpegHi, 0)
		}
		keep(a)
	case WebP:
		var a *attempt
		a, err = e.webpAuto(ctx, j, opt, thr, strip, guessOr(prevQ, startGuess(opt.Target, WebP, hint)))
		keep(a)
		if err == nil && auto && (j.srcFormat == PNG || j.srcFormat == GIF || (j.srcFormat == WebP && j.frames > 1)) {
			// Graphics and animations are often smaller lossless.
			if err = canceled(ctx); err == nil {
				var b []byte
				if b, err = j.webp(100, webpEffort, true, false, strip); err == nil {
					keep(&attempt{data: b, q: 100})
				}
			}
		}
	case PNG:
		if !auto {
			// A fixed quality is one palette encode at that quality.
			var a *attempt
			a, err = e.palette(ctx, j, opt, thr, strip)
			keep(a)
			break
		}
		var b []byte
		b, _, err = j.img.ExportPng(&vips.PngExportParams{StripMetadata: strip, Compression: 9,
			Filter: vips.PngFilterAll})
		if err != nil {
			break
		}
		keep(&attempt{data: b, q: 100})
		if opt.SkipSlow && j.width*j.height > palettePixels {
			break
		}
		if smallest > 0 && smallest*paletteRatio < len(b) {
			// Palette PNG rarely gets below a third of the lossless size:
			// it cannot beat what another format already found.
			break
		}
		if err = canceled(ctx); err != nil {
			break
		}
		var a *attempt
		a, err = e.palette(ctx, j, opt, thr, strip)
		keep(a)
	case GIF:
		var b []byte
		b, _, err = j.img.ExportGIF(&vips.GifExportParams{Effort: 7, Bitdepth: 8})
		if err != nil {
			break
		}
		a := &attempt{data: b, q: 100, lossy: true, checked: auto}
		if auto {
			var ok bool
			if ok, err = e.meets(j, f, b, thr); err != nil || !ok {
				a = nil
			}
		}
		keep(a)
	case AVIF:
		var a *attempt
		a, err = e.avif(ctx, j, opt, thr, hint, strip)
		keep(a)
	}
	if err != nil && best == nil {
		return Output{}, false, err
	}
	if best == nil {
		return Output{}, false, nil
	}
	if !errors.Is(err, errBudget) {
		err = nil
	}
	return Output{Format: f, Data: best.data, Width: j.width, Height: j.pageHeight, Quality: best.q,
		verified: opt.Quality > 0 || (best.checked && !opt.SkipSlow) || (!best.checked && !best.lossy)}, true, err
}

// lossy encodes once with final at the fixed quality, or searches with
// search the lowest quality in [lo, hi] whose output is within thr of the
// reference (see search; guess is where a fast-metric search starts) and
// encodes that quality once more with final, which must decode to the
// same pixels as search (it is not measured again).
func (e *Engine) lossy(ctx context.Context, j *job, f string, search, final encoder, opt Options, thr float64, lo, hi, guess int) (*attempt, error) {
	if opt.Quality > 0 {
		b, err := final(opt.Quality)
		if err != nil {
			return nil, err
		}
		return &attempt{data: b, q: opt.Quality}, nil
	}
	a, err := e.search(ctx, j, f, search, thr, lo, hi, maxSteps, true, guess)
	if a == nil || err != nil {
		return a, err
	}
	if err := canceled(ctx); err != nil {
		return nil, err
	}
	if b, err := final(a.q); err == nil {
		return &attempt{data: b, q: a.q, lossy: true, checked: true}, nil
	}
	return a, nil
}

// jpegSave encodes img as progressive JPEG with mozjpeg's trellis
// quantization, optimized Huffman coding, overshoot deringing and quant
// table 3, and the scans optimized when optimizeScans is set.
func jpegSave(img *vips.ImageRef, q int, sub vips.SubsampleMode, optimizeScans, strip bool) ([]byte, error) {
	b, _, err := img.ExportJpeg(&vips.JpegExportParams{StripMetadata: strip, Quality: q,
		Interlace: true, OptimizeCoding: true, TrellisQuant: true, OvershootDeringing: true,
		OptimizeScans: optimizeScans, QuantTable: 3, SubsampleMode: sub})
	return b, err
}

// startGuess is where a search with the fast metric starts for format f
// and target: next to hint, the quality the previous format needed, when
// there is one (WebP needed about 2 more than JPEG on the benchmark's
// photos), else the quality photos typically needed (JPEG 90–97 for
// balanced). It only saves encodes: the search finds the same quality
// from any start.
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

// search finds the lowest quality in [lo, hi] whose encode is within thr
// of the reference, in at most steps measured encodes, and returns the
// smallest passing encode, or nil when none passed. With the exact measure
// (or guess 0) it bisects with metric.Search, asking the measure only
// yes or no, so failing candidates stop early; with the fast metric it
// interpolates the distances from guess with metric.Interpolate, which
// needs fewer encodes. When every tested quality failed and hi was not
// tested, hi is encoded and measured too if tryHi is set. A failing encode
// at least as large as the source ends the search, since higher qualities
// only grow.
func (e *Engine) search(ctx context.Context, j *job, f string, enc encoder, thr float64, lo, hi, steps int, tryHi bool, guess int) (*attempt, error) {
	var best *attempt
	full := false
	try := func(q int) (float64, bool, error) {
		if err := canceled(ctx); err != nil {
			return 0, false, err
		}
		b, err := enc(q)
		if err != nil {
			return 0, false, err
		}
		d, ok, err := e.measuredFull(j, f, b, thr, full)
		if err != nil {
			return 0, false, err
		}
		e.cfg.Log.Trace().Str("format", f).Int("q", q).Bool("exact", j.exact).Float64("distance", d).Bool("pass", ok).Msg("searched")
		if ok {
			if best == nil || len(b) < len(best.data) {
				best = &attempt{data: b, q: q, lossy: true, checked: true}
			}
			return d, true, nil
		}
		if int64(len(b)) >= j.srcBytes || (best != nil && j.beat > 0 && len(b) >= j.beat) {
			// Higher qualities only grow: this format can beat neither
			// the source nor, once it has a passing candidate to offer
			// as an alternative, the smallest candidate of another
			// format.
			return d, false, errTooLarge
		}
		return d, false, nil
	}
	var q int
	var tried []int
	var err error
	if guess > 0 {
		// Interpolation needs whole distances, not the early-stopped
		// bound of a failing candidate: measure in full.
		full = true
		slope := 0.0
		if j.exact {
			slope = exactSlopes[f]
		}
		q, tried, err = metric.Interpolate(lo, hi, steps, guess, slope, thr, func(q int) (float64, error) {
			d, _, err := try(q)
			return d, err
		})
	} else {
		q, tried, err = metric.Search(lo, hi, steps, func(q int) (bool, error) {
			_, ok, err := try(q)
			return ok, err
		})
	}
	switch {
	case errors.Is(err, errTooLarge):
		return best, nil
	case err != nil:
		return best, err
	case best != nil && j.exact && best.q-belowStep >= lo:
		// Butteraugli is not strictly monotone in quality: like the
		// oracle, look once a little below the boundary found.
		if err := canceled(ctx); err != nil {
			return nil, err
		}
		q := best.q - belowStep
		if b, err := enc(q); err == nil && len(b) < len(best.data) {
			if ok, err := e.meets(j, f, b, thr); err == nil && ok {
				best = &attempt{data: b, q: q, lossy: true, checked: true}
			}
		}
		return best, nil
	case best != nil || !tryHi || slices.Contains(tried, q):
		return best, nil
	}
	if err := canceled(ctx); err != nil {
		return nil, err
	}
	b, err := enc(q)
	if err != nil {
		return nil, err
	}
	if ok, err := e.meets(j, f, b, thr); err != nil || !ok {
		return nil, err
	}
	return &attempt{data: b, q: q, lossy: true, checked: true}, nil
}

// exactSlopes is the fall in butteraugli's log distance per quality step
// near the targets, per format, that an exact search assumes before two
// measurements bracket the answer: measured on 8 page photos at 640 px
// (JPEG about 0.07, WebP 0.06, AVIF at effort 3 0.033–0.041).
var exactSlopes = map[string]float64{JPEG: 0.07, WebP: 0.06, AVIF: 0.035}

// errTooLarge stops a search whose encodes outgrew the source or the
// smallest candidate of another format.
var errTooLarge = errors.New("encode larger than the source")

// palette tries libimagequant's palette PNG: at full quality first, and
// lower only if that already looks like the reference.
func (e *Engine) palette(ctx context.Context, j *job, opt Options, thr float64, strip bool) (*attempt, error) {
	enc := func(q int) ([]byte, error) {
		b, _, err := j.img.ExportPng(&vips.PngExportParams{StripMetadata: strip, Compression: 9,
			Filter: vips.PngFilterNone, Palette: true, Quality: q, Dither: 1, Bitdepth: 8})
		return b, err
	}
	if opt.Quality > 0 {
		b, err := enc(opt.Quality)
		if err != nil {
			return nil, err
		}
		return &attempt{data: b, q: opt.Quality}, nil
	}
	b, err := enc(100)
	if err != nil {
		return nil, err
	}
	ok, err := e.meets(j, PNG, b, thr)
	if err != nil || !ok {
		return nil, err
	}
	first := &attempt{data: b, q: 100, checked: true}
	a, err := e.search(ctx, j, PNG, enc, thr, paletteLo, 99, 3, false, 0)
	if a != nil && len(a.data) < len(first.data) {
		return a, err
	}
	return first, err
}

// avif searches quality at the configured effort when measuring exactly;
// with the fast metric it searches at a fast effort, then encodes once at
// the configured effort and keeps whichever passing encode is smaller.
// With a hint (the quality WebP or JPEG needed) the search window is
// narrowed.
func (e *Engine) avif(ctx context.Context, j *job, opt Options, thr float64, hint int, strip bool) (*attempt, error) {
	encAt := func(effort int) encoder {
		return func(q int) ([]byte, error) {
			b, _, err := j.img.ExportAvif(&vips.AvifExportParams{StripMetadata: strip, Quality: q,
				Bitdepth: 8, Effort: effort})
			return b, err
		}
	}
	final := encAt(e.cfg.AVIFEffort)
	if opt.Quality > 0 {
		b, err := final(opt.Quality)
		if err != nil {
			return nil, err
		}
		return &attempt{data: b, q: opt.Quality}, nil
	}
	if j.exact {
		return e.avifExact(ctx, j, thr, hint, strip)
	}
	lo, hi, steps := avifLo, avifHi, 5
	if hint > 0 {
		// At equal distance AVIF needed a few points less than WebP in
		// measurements on photos; search a window around that.
		c := max(avifLo, min(avifHi, hint-8))
		lo, hi, steps = max(avifLo, c-12), min(avifHi, c+12), 4
	}
	found, err := e.search(ctx, j, AVIF, encAt(avifSearch), thr, lo, hi, steps, false, 0)
	if err != nil || found == nil || e.cfg.AVIFEffort == avifSearch {
		return found, err
	}
	if err := canceled(ctx); err != nil {
		return nil, err
	}
	b, err := final(found.q)
	if err != nil {
		return found, nil
	}
	if len(b) >= len(found.data) {
		return found, nil
	}
	ok, err := e.meets(j, AVIF, b, thr)
	if err != nil || !ok {
		return found, nil
	}
	return &attempt{data: b, q: found.q, lossy: true, checked: true}, nil
}

// avifExact is avif's search with the exact measure, at the final effort
// (the fast effort's distances differ too much to stand in: searching at
// effort 1 cost +8 % bytes against the oracle, 4 +2 %) and with
// full-resolution chroma, as sharp encodes AVIF by default (libvips'
// automatic 4:2:0 below Q 90 blurs colour edges butteraugli sees, so a
// search would only pass from Q 90 on), over a window of 32 qualities
// around the hint (all of them without one).
func (e *Engine) avifExact(ctx context.Context, j *job, thr float64, hint int, strip bool) (*attempt, error) {
	at := func(effort int) encoder {
		return func(q int) ([]byte, error) {
			b, ok, err := avifSave(j.img, q, effort, true, strip)
			if !ok {
				b, _, err = j.img.ExportAvif(&vips.AvifExportParams{StripMetadata: strip, Quality: q,
					Bitdepth: 8, Effort: effort})
			}
			return b, err
		}
	}
	// On the page photos the exact AVIF boundary lay 3-8 qualities below
	// WebP's fast-metric quality minus 8.
	guess := 75
	if hint > 0 {
		guess = max(avifLo, min(avifHi, hint-13))
	}
	effort := min(e.cfg.AVIFEffort, avifExactSearch)
	found, err := e.search(ctx, j, AVIF, at(effort), thr, avifLo, avifHi, avifExactSteps, false, guess)
	if err != nil || found == nil || effort == e.cfg.AVIFEffort {
		return found, err
	}
	// The final effort reaches the search effort's distance at a slightly
	// lower quality: encode it avifFinalShift below and keep it when it
	// passes and is smaller. The search's own candidate is verified
	// already: the caller may offer it while this runs.
	j.onVerified(Output{Format: AVIF, Data: found.data, Width: j.width, Height: j.pageHeight, Quality: found.q, verified: true})
	q := found.q - avifFinalShift
	if q < avifLo {
		return found, nil
	}
	if err := canceled(ctx); err != nil {
		return found, err
	}
	b, err := at(e.cfg.AVIFEffort)(q)
	if err != nil || len(b) >= len(found.data) {
		return found, nil
	}
	if ok, err := e.meets(j, AVIF, b, thr); err != nil || !ok {
		return found, nil
	}
	return &attempt{data: b, q: q, lossy: true, checked: true}, nil
}

// webpAuto searches WebP quality at effort 4 (with smart subsampling when
// measuring exactly, without for the fast metric, starting from guess),
// then, when the final effort (Config.WebPEffort unless SkipSlow) is not
// the search's own or the measure is exact, encodes the found quality once
// more with smart subsampling at that effort and keeps the smaller of the
// passing two.
func (e *Engine) webpAuto(ctx context.Context, j *job, opt Options, thr float64, strip bool, guess int) (*attempt, error) {
	effort := e.cfg.WebPEffort
	if opt.SkipSlow {
		effort = min(effort, webpEffort)
	}
	if opt.Quality > 0 {
		b, err := j.webp(opt.Quality, effort, false, true, strip)
		if err != nil {
			return nil, err
		}
		return &attempt{data: b, q: opt.Quality}, nil
	}
	// The exact measure sees chroma edges: search with the smart
	// subsampling the final encode uses.
	enc := func(q int) ([]byte, error) { return j.webp(q, webpEffort, false, j.exact, strip) }
	found, err := e.search(ctx, j, WebP, enc, thr, webpLo, webpHi, maxSteps, true, guess)
	if err != nil || found == nil || (effort == webpEffort && !j.exact) {
		// At the search's own effort, smart subsampling alone made 1 of
		// 48 page photo encodes smaller: the fast answer skips it.
		return found, err
	}
	if err := canceled(ctx); err != nil {
		return nil, err
	}
	b, err := j.webp(found.q, effort, false, true, strip)
	if err != nil || len(b) >= len(found.data) {
		return found, nil
	}
	if ok, err := e.meets(j, WebP, b, thr); err != nil || !ok {
		return found, nil
	}
	return &attempt{data: b, q: found.q, lossy: true, checked: true}, nil
}

// webp encodes j's image as WebP, with the options govips lacks when the
// libvips image is reachable and with govips' encoder otherwise.
func (j *job) webp(q, effort int, lossless, smart, strip bool) ([]byte, error) {
	b, ok, err := webpSave(j.img, q, effort, lossless, smart, strip)
	if ok {
		return b, err
	}
	b, _, err = j.img.ExportWebp(&vips.WebpExportParams{StripMetadata: strip, Quality: q,
		Lossless: lossless, ReductionEffort: effort})
	return b, err
}

// meets decodes b and reports whether its distance to the reference is
// within thr.
func (e *Engine) meets(j *job, f string, b []byte, thr float64) (bool, error) {
	_, ok, err := e.measured(j, f, b, thr)
	return ok, err
}

// measured decodes b and returns its distance to the reference and
// whether it is within thr (see job.within: above thr the distance may be
// only a bound).
func (e *Engine) measured(j *job, f string, b []byte, thr float64) (float64, bool, error) {
	return e.measuredFull(j, f, b, thr, false)
}

// measuredFull is measured, with the whole distance even above thr when
// full is set.
func (e *Engine) measuredFull(j *job, f string, b []byte, thr float64, full bool) (float64, bool, error) {
	limit := thr
	if full {
		limit = math.Inf(1)
	}
	d, ok, err := j.within(b, limit)
	ok = ok && d <= thr
	if err != nil {
		return 0, false, err
	}
	e.cfg.Log.Trace().Str("format", f).Int("bytes", len(b)).Float64("distance", d).Float64("threshold", thr).Bool("pass", ok).Msg("measured")
	return d, ok, nil
}

var (
	errShape = proto.Errorf(proto.CodeEncodeFailed, "An encoded image did not match its source.")
	errNoRef = proto.Errorf(proto.CodeInternal, "The image has no reference to compare with.")
)

// within decodes an encoded candidate with libvips, streaming and shrunk
// to the reference's size, and reports whether its distance to the
// reference is at most thr. The distance returned is exact when it is;
// otherwise it may be only a lower bound above thr (see measure).
func (j *job) within(b []byte, thr float64) (float64, bool, error) {
	if j.ref == nil {
		return 0, false, errNoRef
	}
	var d float64
	var ok bool
	err := pixelsOf(nil, b, j.frames > 1, j.bands, j.width, j.height, j.ref.Width(), j.ref.Height(), func(m pixels) error {
		if m.Width != j.ref.Width() || m.Height != j.ref.Height() {
			return errVips
		}
		var err error
		d, ok, err = measure(j.ref, m, thr)
		return err
	})
	if errors.Is(err, errVips) {
		// Undecodable, or not the source's size.
		return 0, false, errShape
	}
	return d, ok, err
}
