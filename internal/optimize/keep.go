package optimize

// keptAsIs returns why an image is kept as it is without any encode, or
// "" when it is optimized as usual. libvips reads only the first frame of
// an animated PNG (APNG) and none of an AVIF image sequence, and
// animations never become still images, so neither can be re-encoded yet:
// they are valid files a browser shows, kept with a true reason instead of
// being called damaged.
func keptAsIs(s Source) string {
	if !s.Animated {
		return ""
	}
	switch s.Format {
	case PNG:
		return "Animated PNGs are kept as they are: Image Diet cannot re-encode PNG animations yet."
	case AVIF:
		return "Animated AVIFs are kept as they are: Image Diet cannot re-encode AVIF animations yet."
	}
	return ""
}

// keep returns rep for an image kept as it is: no candidates, the
// source's own format listed as skipped with why.
func keep(rep Report, why string) Report {
	rep.Skipped = []Skipped{{Format: rep.Source.Format, Reason: why}}
	rep.Verified = true
	return rep
}
