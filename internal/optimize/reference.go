package optimize

// Below the quality search (quality.go): the reference, what automatic
// quality measures each candidate against, built once by search.go: the
// source's pixels as butteraugli sees them (exact, the referee the
// targets are defined by) or as the faster SSIM-family metric calibrated
// against it does. And the measure itself: a candidate decoded, shrunk to
// the reference's size and compared.

import (
	"context"
	"errors"
	"math"

	"github.com/imagediet/imgdiet/internal/butteraugli"
	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/metric"
	"github.com/imagediet/imgdiet/internal/vipsrt"
)

// comparer is a source as candidates are compared with it.
type comparer interface {
	Width() int
	Height() int
	Distance(metric.Image) (float64, error)
}

// stopper is a comparer that can stop measuring once a candidate is known
// to exceed a limit (butteraugli, whose distance is a maximum).
type stopper interface {
	Within(m metric.Image, limit float64) (float64, bool, error)
}

// reference is what one image's candidates are measured against.
type reference struct {
	cmp comparer
	// exact is set when cmp is butteraugli.
	exact bool
	// im is the image the candidates are encoded from: their size is
	// checked against it.
	im *pic
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

// trimPixels is the candidate size from which a measure trims the C heap
// first. Below it the buffers are small and the trim costs more time (the
// next encode faults its pages in again: 5 % on a 1.7 MP page photo) than
// it saves memory.
const trimPixels = 2_000_000

// reference builds im's reference in one pass over its pixels: at most
// MetricPixels large, butteraugli when the fast answer is not asked for
// and im is compared at its own size (as the referee does), else the
// SSIM-family metric.
func (e *Engine) reference(ctx context.Context, im *pic, opt Options) (*reference, error) {
	w, h := metricSize(im.width, im.height, e.cfg.MetricPixels)
	exact := !opt.SkipSlow && !im.reduced && w == im.width && h == im.height
	img, done, err := im.read(ctx, sourceCost(im.s, im.pixels(), im.bands))
	if err != nil {
		return nil, err
	}
	defer done()
	r := &reference{im: im}
	err = codec.Render{Bands: im.bands, Width: w, Height: h}.Pixels(img, func(p codec.Pixels) error {
		m := metric.Image(p)
		if exact && int64(m.Width)*int64(m.Height) <= e.cfg.ExactPixels {
			c, err := butteraugli.NewReference(m)
			r.cmp, r.exact = c, true
			return err
		}
		c, err := metric.NewReference(m)
		r.cmp = c
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// limit is the largest distance accepted for target and codec f by the
// measure r uses.
func (r *reference) limit(target, f string) float64 {
	if target == "" {
		target = metric.TargetBalanced
	}
	if r.exact {
		return exactLimits[target] - exactMargin
	}
	t, _ := metric.ThresholdFor(target, f)
	return t
}

// butteraugli returns distance d, measured by r for a candidate of
// codec f, on butteraugli's scale: as it is when r is butteraugli, else
// the SSIM-family distance mapped through the thresholds calibrated for
// f (docs/calibration.md), linearly between the targets' pairs (0 ↔ 0,
// high ↔ 1.0, balanced ↔ 1.4, small ↔ 2.2) and beyond "small" along the
// last segment.
func (r *reference) butteraugli(f string, d float64) float64 {
	if r.exact || d <= 0 {
		return d
	}
	xs := []float64{0}
	ys := []float64{0}
	for _, t := range []string{metric.TargetHigh, metric.TargetBalanced, metric.TargetSmall} {
		x, _ := metric.ThresholdFor(t, f)
		xs, ys = append(xs, x), append(ys, exactLimits[t])
	}
	for i := 1; i < len(xs); i++ {
		if d <= xs[i] || i == len(xs)-1 {
			return ys[i-1] + (d-xs[i-1])*(ys[i]-ys[i-1])/(xs[i]-xs[i-1])
		}
	}
	return d
}

// within decodes the encoded candidate b, streaming and shrunk to the
// reference's size, and reports whether its distance is at most limit.
// The distance is exact when it is within; above, a measure that stops
// early returns only a lower bound (an infinite limit never stops).
func (r *reference) within(b []byte, limit float64) (float64, bool, error) {
	im := r.im
	if im.pixels() >= trimPixels {
		// The encoder of this large candidate has just freed its buffers:
		// hand them back before the decoder takes its own, so that the
		// two do not add up in the process's resident memory.
		vipsrt.Trim()
	}
	var d float64
	var ok bool
	render := codec.Render{Bands: im.bands, Width: r.cmp.Width(), Height: r.cmp.Height(),
		SourceWidth: im.width, SourceHeight: im.height, Pages: im.frames > 1}
	err := render.DecodePixels(b, func(p codec.Pixels) error {
		m := metric.Image(p)
		if m.Width != r.cmp.Width() || m.Height != r.cmp.Height() {
			return errShape
		}
		if s, can := r.cmp.(stopper); can {
			var err error
			d, ok, err = s.Within(m, limit)
			return err
		}
		var err error
		d, err = r.cmp.Distance(m)
		ok = err == nil && d <= limit
		return err
	})
	var ce *codec.Error
	if errors.As(err, &ce) || errors.Is(err, errShape) {
		// Undecodable, or not the source's size.
		return 0, false, errShape
	}
	return d, ok, err
}

// metricSize is the size the metric compares a w×h image at: the image's
// own size up to max pixels, else shrunk to about max pixels with its
// aspect ratio kept. The metric's thresholds were calibrated on images of
// web size; on much larger ones it compares what a viewer can see at once
// and its cost stays bounded.
func metricSize(w, h int, maxPixels int64) (int, int) {
	if maxPixels <= 0 || int64(w)*int64(h) <= maxPixels {
		return w, h
	}
	s := math.Sqrt(float64(maxPixels) / (float64(w) * float64(h)))
	mw, mh := max(1, int(float64(w)*s)), max(1, int(float64(h)*s))
	// A very thin image: the short side stays one pixel, the long one
	// takes what is left of the cap.
	if int64(mw)*int64(mh) > maxPixels {
		if mh == 1 {
			mw = max(1, int(maxPixels))
		} else {
			mh = max(1, int(maxPixels/int64(mw)))
		}
	}
	return mw, mh
}
