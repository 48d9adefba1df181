package optimize

// Step 6: the search. Each planned format in turn gets the lowest quality
// whose encode still meets the target, found in a few measured encodes
// (formats.go has each format's recipe), then its final encode. The
// search reads the image through image.read, held or not: one search for
// every image. Formats too costly to search at full size are searched on
// a reduced copy, and the quality found is encoded once at full size.

import (
	"context"
	"errors"
	"math"
	"slices"

	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/metric"
)

// searcher searches the formats of one image.
type searcher struct {
	e     *Engine
	ctx   context.Context
	clock *clock // the call's CPU time budget
	im    *pic
	ref   *reference // nil at a fixed quality
	opt   Options
	strip bool
	// beat is the size of the smallest candidate of another format found
	// so far (0: none): a format's search stops once it cannot get below
	// it.
	beat int
	// hint is the quality WebP (or else JPEG) needed: where AVIF starts.
	hint int
	// prev holds the earlier answer's candidates (Options.Previous).
	prev map[string]Output
	// onVerified is told of each verified candidate (Options.Progress).
	onVerified func(Output)
}

// attempt is one encoded and, in automatic quality, measured output.
type attempt struct {
	data    []byte
	q       int
	enc     codec.Encoding
	effort  int
	lossy   bool
	checked bool
}

// search makes the candidates of every format p plans for im.
func (e *Engine) search(ctx context.Context, clk *clock, im *pic, p *plan, opt Options) ([]Output, error) {
	var here, small []string
	for _, f := range p.formats {
		if p.reduced[f] {
			small = append(small, f)
		} else {
			here = append(here, f)
		}
	}
	s := &searcher{e: e, ctx: ctx, clock: clk, im: im, opt: opt, strip: !opt.KeepMetadata, prev: map[string]Output{}}
	var outs []Output
	if len(here) > 0 {
		if opt.Quality == 0 {
			ref, err := e.reference(ctx, im, opt)
			if err != nil {
				return nil, err
			}
			s.ref = ref
		}
		var err error
		if outs, err = s.run(here, nil); err != nil {
			return outs, err
		}
	}
	if len(small) == 0 {
		return outs, nil
	}
	more, err := e.searchReduced(ctx, s, p, small, outs)
	return append(outs, more...), err
}

// searchReduced searches formats on a copy of full's image shrunk to the
// metric's size, and encodes each pick once at full size at the quality
// found, with the same settings (cheaper ones where they do not fit): a
// quality chosen on the reduced copy holds its artefacts to the target at
// the copy's scale, so the full-size image, whose details are finer,
// shows them less. have are the candidates found at full size.
func (e *Engine) searchReduced(ctx context.Context, full *searcher, p *plan, formats []string, have []Output) ([]Output, error) {
	small, err := e.reduce(ctx, full.im, full.opt)
	if err != nil {
		return nil, err
	}
	defer small.close()
	ref, err := e.reference(ctx, small, full.opt)
	if err != nil {
		return nil, err
	}
	// The copy's candidates are not the image's: none is reported as
	// progress.
	opt := full.opt
	opt.Progress = nil
	s := &searcher{e: e, ctx: ctx, clock: full.clock, im: small, ref: ref, opt: opt, strip: full.strip, prev: map[string]Output{}}
	picks, err := s.run(formats, have)
	if err != nil && !errors.Is(err, errBudget) {
		return nil, err
	}
	cut := err
	// The copy's memory is given back before the full-size encodes take
	// their own.
	small.close()
	var outs []Output
	for _, o := range picks {
		if err := full.check(); err != nil {
			return outs, err
		}
		if _, _, ok := full.im.fit(o.Encoding); !ok {
			// The settings the copy's search chose do not fit at full
			// size (lossless WebP of a large graphic, say).
			p.skipped = append(p.skipped, e.tooLarge(o.Format, full.im, o.Encoding.Cost().Bytes(full.im.pixels(), full.im.bands)))
			continue
		}
		b, err := full.encode(o.Encoding, o.Quality, e.finalEffort(o.Encoding, full.opt))
		if err != nil {
			if errors.Is(err, errCanceled) || errors.Is(err, errBudget) || !full.im.intact() {
				return outs, err
			}
			e.cfg.Log.Debug().Str("format", o.Format).Msg("encode failed")
			continue
		}
		outs = append(outs, Output{Format: o.Format, Data: b, Width: full.im.width, Height: full.im.pageHeight,
			Quality: o.Quality, Encoding: full.fitted(o.Encoding), Effort: e.finalEffort(o.Encoding, full.opt), verified: !full.opt.SkipSlow})
	}
	return outs, cut
}

// run searches formats in turn and returns their candidates; have are
// candidates already found for the image (they count as others). A
// budget that runs out returns the candidates so far with errBudget.
func (s *searcher) run(formats []string, have []Output) ([]Output, error) {
	opt := s.opt
	exact := s.ref != nil && s.ref.exact
	if exact {
		for _, o := range opt.Previous {
			s.prev[o.Format] = o
		}
		// AVIF, usually the smallest on photos, goes first (refining an
		// earlier answer, it starts from the earlier WebP or JPEG
		// quality), so that the searches of formats it beats stop early.
		formats = avifFirst(formats)
		if o, ok := s.prev[WebP]; ok {
			s.hint = o.Quality
		} else if o, ok := s.prev[JPEG]; ok {
			s.hint = o.Quality
		}
	}
	smallest := 0
	for _, o := range have {
		if smallest == 0 || len(o.Data) < smallest {
			smallest = len(o.Data)
		}
	}
	var outs []Output
	verifiedBest := 0
	s.onVerified = func(o Output) {
		if opt.Progress == nil || !o.verified || (verifiedBest > 0 && len(o.Data) >= verifiedBest) || int64(len(o.Data)) >= s.im.s.Bytes {
			return
		}
		verifiedBest = len(o.Data)
		rep := Report{Source: s.im.s}
		rep.settle(append(slices.Clone(outs), o), false)
		opt.Progress(rep)
	}
	var failed error
	for _, f := range formats {
		if err := s.check(); err != nil {
			if errors.Is(err, errBudget) {
				return outs, err
			}
			return nil, err
		}
		if neverWins(f, s.im.s, smallest > 0) {
			continue
		}
		if o, ok := s.prev[f]; ok && smallest > 0 && float64(len(o.Data))*dominated > float64(smallest) {
			// Even the exact measure's usual saving over the earlier,
			// stricter metric could not make this format the smallest:
			// its earlier candidate (within the target, measured by the
			// fast metric) stands.
			outs = append(outs, o)
			continue
		}
		if opt.Quality == 0 {
			s.beat = smallest
		}
		a, err := s.format(f)
		if a != nil {
			o := s.output(f, a)
			if f == WebP || (f == JPEG && s.hint == 0) {
				s.hint = o.Quality
			}
			s.onVerified(o)
			outs = append(outs, o)
			if smallest == 0 || len(o.Data) < smallest {
				smallest = len(o.Data)
			}
		}
		switch {
		case errors.Is(err, errBudget):
			return outs, err
		case errors.Is(err, errCanceled):
			return nil, err
		case err != nil && a == nil:
			failed = err
			s.e.cfg.Log.Debug().Str("format", f).Err(err).Msg("encode failed")
		}
	}
	if len(outs) == 0 && failed != nil {
		return nil, failed
	}
	return outs, nil
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

// check returns errCanceled when the call was canceled, errBudget when
// its CPU time budget has run out, else nil: the search asks before each
// encode.
func (s *searcher) check() error {
	if err := canceled(s.ctx); err != nil {
		return err
	}
	if s.clock.over() {
		return errBudget
	}
	return nil
}

// output is the candidate a of format f: verified when made at a fixed
// quality, checked by the final pass's measure, or lossless.
func (s *searcher) output(f string, a *attempt) Output {
	return Output{Format: f, Data: a.data, Width: s.im.width, Height: s.im.pageHeight, Quality: a.q,
		Encoding: s.fitted(a.enc), Effort: a.effort,
		verified: s.opt.Quality > 0 || (a.checked && !s.opt.SkipSlow) || (!a.checked && !a.lossy)}
}

// encode encodes the image with enc at quality q and effort (0: the
// encoding's default), with cheaper settings in its place when the image
// is read anew and enc does not fit in the budget.
func (s *searcher) encode(enc codec.Encoding, q, effort int) ([]byte, error) {
	use, n, ok := s.im.fit(enc)
	if !ok {
		return nil, errNoRoom
	}
	if use != enc {
		s.e.cfg.Log.Debug().Str("encoding", enc.String()).Str("instead", use.String()).Int64("pixels", s.im.pixels()).
			Msg("encoded with cheaper settings to fit the memory budget")
	}
	img, done, err := s.im.read(s.ctx, n)
	if err != nil {
		return nil, err
	}
	defer done()
	return codec.Encode(img, codec.Settings{Encoding: use, Quality: q, Effort: effort, Strip: s.strip})
}

// errNoRoom is an encode that does not fit in the memory budget even with
// cheaper settings.
var errNoRoom = errors.New("the encode does not fit in the memory budget")

// limit is the distance format f's candidates must stay within.
func (s *searcher) limit(f string) float64 { return s.ref.limit(s.opt.Target, f) }

// measured decodes b and returns its distance to the reference and
// whether it is within thr; above thr the distance is a lower bound
// unless full is set.
func (s *searcher) measured(f string, b []byte, thr float64, full bool) (float64, bool, error) {
	if s.im.held == nil {
		release, err := s.im.mem.acquire(s.ctx, measureCosts[f].Bytes(s.im.pixels(), s.im.bands))
		if err != nil {
			return 0, false, err
		}
		defer release()
	}
	limit := thr
	if full {
		limit = math.Inf(1)
	}
	d, ok, err := s.ref.within(b, limit)
	if err != nil {
		return 0, false, err
	}
	ok = ok && d <= thr
	s.e.cfg.Log.Trace().Str("format", f).Int("bytes", len(b)).Float64("distance", d).Float64("threshold", thr).Bool("pass", ok).Msg("measured")
	return d, ok, nil
}

// meets reports whether b is within thr of the reference.
func (s *searcher) meets(f string, b []byte, thr float64) (bool, error) {
	_, ok, err := s.measured(f, b, thr, false)
	return ok, err
}

// Quality search bounds per codec, in libvips' own Q scale of each.
const (
	maxSteps = 6 // encodes per binary search: 64 qualities searched exactly
	// belowStep is how far under the boundary a search with the exact
	// measure looks once more (distance is not strictly monotone).
	belowStep = 2
)

// exactSlopes is the fall in butteraugli's log distance per quality step
// near the targets, per format, that an exact search assumes before two
// measurements bracket the answer: measured on 8 page photos at 640 px
// (JPEG about 0.07, WebP 0.06, AVIF at effort 3 0.033–0.041).
var exactSlopes = map[string]float64{JPEG: 0.07, WebP: 0.06, AVIF: 0.035}

// quality finds the lowest quality in [lo, hi] whose encode by enc is
// within thr of the reference, in at most steps measured encodes, and
// returns the smallest passing encode, or nil when none passed. From a
// guess it interpolates the measured distances (metric.Interpolate, a few
// encodes from a fair guess); without one it bisects (metric.Search),
// asking the measure only yes or no, so failing candidates stop early.
// When every tested quality failed and hi was not tested, hi is encoded
// and measured too if tryHi is set. A failing encode at least as large as
// the source ends the search, since higher qualities only grow, and so
// does one as large as another format's smallest candidate once this
// format has a passing one to offer.
func (s *searcher) quality(f string, enc func(q int) ([]byte, error), thr float64, lo, hi, steps int, tryHi bool, guess int) (*attempt, error) {
	var best *attempt
	full := guess > 0
	exact := s.ref.exact
	try := func(q int) (float64, bool, error) {
		if err := s.check(); err != nil {
			return 0, false, err
		}
		b, err := enc(q)
		if err != nil {
			return 0, false, err
		}
		d, ok, err := s.measured(f, b, thr, full)
		if err != nil {
			return 0, false, err
		}
		s.e.cfg.Log.Trace().Str("format", f).Int("q", q).Bool("exact", exact).Float64("distance", d).Bool("pass", ok).Msg("searched")
		if ok {
			if best == nil || len(b) < len(best.data) {
				best = &attempt{data: b, q: q, lossy: true, checked: true}
			}
			return d, true, nil
		}
		if int64(len(b)) >= s.im.s.Bytes || (best != nil && s.beat > 0 && len(b) >= s.beat) {
			return d, false, errTooLarge
		}
		return d, false, nil
	}
	var q int
	var tried []int
	var err error
	if full {
		// Interpolation needs whole distances, not the early-stopped
		// bound of a failing candidate: measure in full.
		slope := 0.0
		if exact {
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
	case best != nil && exact && best.q-belowStep >= lo:
		// Butteraugli is not strictly monotone in quality: like the
		// oracle, look once a little below the boundary found.
		if err := s.check(); err != nil {
			return best, err
		}
		q := best.q - belowStep
		if b, err := enc(q); err == nil && len(b) < len(best.data) {
			if ok, err := s.meets(f, b, thr); err == nil && ok {
				best = &attempt{data: b, q: q, lossy: true, checked: true}
			}
		}
		return best, nil
	case best != nil || !tryHi || slices.Contains(tried, q):
		return best, nil
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	b, err := enc(q)
	if err != nil {
		return nil, err
	}
	if ok, err := s.meets(f, b, thr); err != nil || !ok {
		return nil, err
	}
	return &attempt{data: b, q: q, lossy: true, checked: true}, nil
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
