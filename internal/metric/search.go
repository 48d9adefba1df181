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
// steps calls of measure. It treats the logarithm of the distance as
// nearly linear in quality (encoders' distances fall by a roughly constant
// factor per quality step near their targets): from guess it takes a
// Newton step assuming the given slope, doubling the step while
// the same side keeps winning, until a passing and a failing quality
// bracket the answer; from then on it interpolates the two log distances
// (bisecting when the same side wins twice in a row, so a curved distance
// cannot stall it). With a fair guess it needs about three calls where
// Search needs six. Like Search, it returns hi when no tested quality
// passed (tested or not: tried tells), and an error from measure stops it.
//
// slope is the fall in log distance per quality step assumed before two
// measurements bracket the answer (0 takes InterpolateSlope).
func Interpolate(lo, hi, steps, guess int, slope, thr float64, measure func(q int) (float64, error)) (q int, tried []int, err error) {
	if slope <= 0 {
		slope = InterpolateSlope
	}
	if hi < lo {
		lo, hi = hi, lo
	}
	pass, fail := hi+1, lo-1 // lowest passing and highest failing qualities tested
	var lPass, lFail float64 // their log distances
	lThr := logDist(thr)
	q = min(max(guess, lo), hi)
	last, same := 0, 0
	for len(tried) < steps && pass-fail > 1 {
		d, err := measure(q)
		tried = append(tried, q)
		if err != nil {
			return 0, tried, err
		}
		side := 1
		if d <= thr {
			pass, lPass = q, logDist(d)
		} else {
			fail, lFail, side = q, logDist(d), -1
		}
		if side == last {
			same++
		} else {
			same = 0
		}
		last = side
		// newton is the step a slope of slope predicts from
		// log distance l to the threshold, at least one quality and
		// doubled for every repeat of the same side.
		newton := func(l float64) int {
			return max(1, int(math.Ceil(math.Abs(l-lThr)/slope))) << min(same, 4)
		}
		switch {
		case pass-fail <= 1:
		case pass > hi: // failures only: higher
			q = min(hi, fail+newton(lFail))
		case fail < lo: // passes only: lower, to the predicted lowest pass
			q = max(lo, pass-newton(lPass)+1)
			if q == pass {
				q--
			}
		case same > 0 || !(lFail > lPass):
			q = fail + (pass-fail)/2
		default:
			t := (lFail - lThr) / (lFail - lPass)
			q = min(max(fail+int(math.Ceil(t*float64(pass-fail))), fail+1), pass-1)
		}
	}
	if pass > hi {
		return hi, tried, nil
	}
	return pass, tried, nil
}

// InterpolateSlope is the fall in log distance per quality step
// Interpolate assumes by default before it has two measurements: about
// what the fast metric shows for JPEG and WebP near their balanced
// thresholds on photos (0.1–0.2).
const InterpolateSlope = 0.15

// logDist is the logarithm of a distance, finite for a distance of 0.
func logDist(d float64) float64 { return math.Log(max(d, 1e-9)) }
