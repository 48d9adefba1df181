package optimize

// Step 5: the search. Each planned format in turn gets the lowest quality
// whose encode still meets the target, found in a few measured encodes
// (formats.go has each format's recipe), then its final encode. The
// search reads the image through pic.read, held or not: one search for
// every image. Formats too costly to search at full size are searched on
// a reduced copy, and the quality found is encoded once at full size.

import (
	"context"
	"errors"
	"slices"

	"github.com/imagediet/imgdiet/internal/codec"
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
	// dist is the distance measured for a checked attempt, in the
	// reference's own measure.
	dist float64
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
			Quality: o.Quality, Encoding: full.fitted(o.Encoding), Effort: e.finalEffort(o.Encoding, full.opt), verified: !full.opt.SkipSlow,
			Distance: o.Distance})
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

// output is the candidate a of format f: verified when made at a fixed
// quality, checked by the final pass's measure, or lossless.
func (s *searcher) output(f string, a *attempt) Output {
	o := Output{Format: f, Data: a.data, Width: s.im.width, Height: s.im.pageHeight, Quality: a.q,
		Encoding: s.fitted(a.enc), Effort: a.effort,
		verified: s.opt.Quality > 0 || (a.checked && !s.opt.SkipSlow) || (!a.checked && !a.lossy)}
	if a.checked && s.ref != nil {
		o.Distance = s.ref.butteraugli(f, a.dist)
	}
	return o
}
