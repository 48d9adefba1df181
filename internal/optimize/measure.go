package optimize

import (
	"github.com/imagediet/imgdiet/internal/butteraugli"
	"github.com/imagediet/imgdiet/internal/metric"
)

// reference is the source as automatic quality compares every candidate
// with it: either butteraugli (exact, the referee our targets are defined
// by) or the faster SSIM-family metric, calibrated against it.
type reference interface {
	Width() int
	Height() int
	Distance(pixels) (float64, error)
}

// stopper is a reference that can stop measuring once a candidate is known
// to exceed a limit (butteraugli, whose distance is a maximum).
type stopper interface {
	Within(m pixels, limit float64) (float64, bool, error)
}

// measure reports whether m is within limit of r, with its distance: exact
// when within, and possibly only a lower bound above limit when not, since
// a reference that can stop early does so at the first visible flaw.
func measure(r reference, m pixels, limit float64) (float64, bool, error) {
	if s, ok := r.(stopper); ok {
		return s.Within(m, limit)
	}
	d, err := r.Distance(m)
	return d, err == nil && d <= limit, err
}

// Butteraugli distances each target stands for: "high" is butteraugli's
// own "looks the same" 1.0, "balanced" the Squoosh CLI's automatic target
// 1.4, "small" 2.2. The exact measure aims a hair under them
// (exactMargin).
var exactLimits = map[string]float64{
	metric.TargetHigh:     1.0,
	metric.TargetBalanced: 1.4,
	metric.TargetSmall:    2.2,
}

// exactMargin is subtracted from exactLimits. internal/butteraugli agrees
// with Debian's butteraugli to its six printed decimals; the margin covers
// rounding in other decoders the referee's PNGs may come from.
const exactMargin = 0.005

// newReference returns the reference for m: butteraugli when exact is set
// and m is at most exactPixels large, else the SSIM-family metric. The
// boolean reports which one it is.
func newReference(m pixels, exact bool, exactPixels int64) (reference, bool, error) {
	if exact && int64(m.Width)*int64(m.Height) <= exactPixels {
		r, err := butteraugli.NewReference(m)
		if err != nil {
			return nil, false, err
		}
		return r, true, nil
	}
	r, err := metric.NewReference(m)
	if err != nil {
		return nil, false, err
	}
	return r, false, nil
}

// limit is the largest distance accepted for target and codec ("" for any
// codec) by the reference j measures with.
func (j *job) limit(target, codec string) float64 {
	if target == "" {
		target = metric.TargetBalanced
	}
	if j.exact {
		return exactLimits[target] - exactMargin
	}
	t, _ := threshold(target, codec)
	return t
}
