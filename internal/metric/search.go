package metric

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
