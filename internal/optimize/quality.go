package optimize

// Below the recipes (formats.go): one measured step of a search. An
// encode from the image (held or read anew, with cheaper settings where
// the budget demands), its measure against the reference (reference.go),
// and the quality search that strings them together.

import (
	"errors"
	"math"
	"slices"

	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/metric"
)

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
		if ok {
			if best == nil || len(b) < len(best.data) {
				best = &attempt{data: b, q: q, lossy: true, checked: true, dist: d}
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
		if s.ref.exact {
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
	case best != nil && s.ref.exact && best.q-belowStep >= lo:
		// Butteraugli is not strictly monotone in quality: like the
		// oracle, look once a little below the boundary found.
		if err := s.check(); err != nil {
			return best, err
		}
		q := best.q - belowStep
		if b, err := enc(q); err == nil && len(b) < len(best.data) {
			if d, ok, err := s.measured(f, b, thr, false); err == nil && ok {
				best = &attempt{data: b, q: q, lossy: true, checked: true, dist: d}
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
	d, ok, err := s.measured(f, b, thr, false)
	if err != nil || !ok {
		return nil, err
	}
	return &attempt{data: b, q: q, lossy: true, checked: true, dist: d}, nil
}
