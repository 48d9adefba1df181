package metric

import "math"

// Search returns the lowest quality q in [lo, hi] for which accept(q) is
// true, assuming accept is monotone (false below some quality, true from
// it on), by binary search with at most steps calls of accept. hi itself
// is never tested: it is the answer when every tested quality fails, and
// the caller encodes it as its fallback. A range of 2^steps qualities
// (e.g. 36–99 for 6 steps) is searched exactly; a wider one ends after
// steps calls at the lowest quality not yet ruled out. tried lists the
// qualities accept was called with, in order. An error from accept stops
// the search and is returned.
func Search(lo, hi, steps int, accept func(q int) (bool, error)) (q int, tried []int, err error) {
	if hi < lo {
		lo, hi = hi, lo
	}
	for lo < hi && len(tried) < steps {
		m := lo + (hi-lo)/2
		tried = append(tried, m)
		ok, err := accept(m)
		if err != nil {
			return 0, tried, err
		}
		if ok {
			hi = m
		} else {
			lo = m + 1
		}
	}
	// Out of steps with lo < hi: the lowest untested quality known not to
	// fail is hi (accepted, or the untested top).
	return hi, tried, nil
}

// Interpolate returns the lowest quality q in [lo, hi] whose distance is at
// most thr, assuming the distance falls as quality rises, with at most
// steps calls of measure. It starts at guess and walks away from it in
// doubling strides until a passing and a failing quality bracket the
// answer; from then on it interpolates the distance linearly between the
// two (bisecting when the same side wins twice in a row, so a curved
// distance cannot stall it). With a good guess it needs about four calls
// where Search needs six. Like Search, it returns hi when no tested
// quality passed (tested or not: tried tells), and an error from measure
// stops it.
func Interpolate(lo, hi, steps, guess int, thr float64, measure func(q int) (float64, error)) (q int, tried []int, err error) {
	if hi < lo {
		lo, hi = hi, lo
	}
	pass, fail := hi+1, lo-1 // lowest passing and highest failing qualities tested
	var dPass, dFail float64
	q = min(max(guess, lo), hi)
	stride, last, same := interpolateStride, 0, 0
	for len(tried) < steps && pass-fail > 1 {
		d, err := measure(q)
		tried = append(tried, q)
		if err != nil {
			return 0, tried, err
		}
		side := 1
		if d <= thr {
			pass, dPass = q, d
		} else {
			fail, dFail, side = q, d, -1
		}
		if side == last {
			same++
		} else {
			same = 0
		}
		last = side
		switch {
		case pass-fail <= 1:
		case pass > hi: // failures only: higher
			q = min(hi, fail+stride)
			stride *= 2
		case fail < lo: // passes only: lower
			q = max(lo, pass-stride)
			stride *= 2
		case same > 0 || !(dFail > dPass):
			q = fail + (pass-fail)/2
		default:
			t := (dFail - thr) / (dFail - dPass)
			q = min(max(fail+int(math.Ceil(t*float64(pass-fail))), fail+1), pass-1)
		}
	}
	if pass > hi {
		return hi, tried, nil
	}
	return pass, tried, nil
}

// interpolateStride is Interpolate's first stride away from its guess.
const interpolateStride = 4
