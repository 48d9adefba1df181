// Package metric measures how visibly a re-encoded image differs from its
// source, so that quality "auto" can pick the smallest encoding that still
// looks like the original.
//
// The measure is a multi-scale SSIM computed on an XYB-like perceptual colour
// space (linear light, an opsin-like cone mix, then a cube root), with luma
// weighted above the two chroma channels. The error maps (1 − SSIM) of each
// scale and channel are pooled both by their mean and by their L4 norm, so a
// small badly damaged region counts for more than its area: the referee the
// thresholds are calibrated against (butteraugli) reports the worst region of
// an image, not its average.
//
// Images with alpha are composited over black and over white and the larger
// of the two distances is reported: an error hidden by one backdrop shows on
// the other, and a change of the alpha channel itself shows on both.
package metric

import (
	"math"

	"github.com/imagediet/imgdiet/internal/proto"
)

// Image is 8-bit sRGB pixels, interleaved, with Bands 3 (RGB) or 4 (RGBA,
// straight alpha). Pix holds at least Width*Height*Bands bytes, rows packed
// without padding.
type Image struct {
	Pix                  []byte
	Width, Height, Bands int
}

// MaxScales is the largest number of scales a Config may use.
const MaxScales = 6

// Channel indices of the perceptual planes in Report and Config.Weights.
const (
	ChanY = iota // luma
	ChanX        // red–green opponent
	ChanB        // blue–yellow opponent
)

// Pooling indices in Report and Config.Weights.
const (
	PoolMean = iota // mean of the error map
	PoolL4          // L4 norm of the error map
	PoolMax         // largest value of the error map
	numPools
)

// Config holds the metric's tunables. DefaultConfig returns the calibrated
// values; the thresholds of Threshold are valid for those only.
type Config struct {
	// Scales is the number of scales, each half the size of the one before.
	Scales int
	// Window is the side of the square SSIM window in pixels (even); the
	// windows are placed every 2 pixels.
	Window int
	// C2 stabilises SSIM's contrast-structure term of each channel where
	// the reference is flat, in the units of the perceptual planes.
	C2 [3]float64
	// MeanK scales the squared difference of local means of each channel
	// into an error (the luminance term).
	MeanK [3]float64
	// Weights[s][c][p] weighs pooled error p (PoolMean, PoolL4, PoolMax) of channel c
	// (ChanY, ChanX, ChanB) at scale s (0 = full size).
	Weights [MaxScales][3][numPools]float64
}

// DefaultConfig returns the configuration Distance uses. Its weights were
// fitted against butteraugli by scripts/calibrate (-tune): the middle
// scales weigh most, the maximum of each error map almost as much as its
// mean (butteraugli reports the worst region), and chroma little.
func DefaultConfig() Config {
	c := Config{
		Scales: 5,
		Window: 8,
		C2:     [3]float64{0.0003, 0.0009, 0.0009},
		MeanK:  [3]float64{100, 100, 100},
	}
	scale := [MaxScales]float64{0.25, 0.8, 1.25, 1, 1, 0}
	channel := [3]float64{1, 0.32, 0.05}
	pool := [numPools]float64{1, 0.2, 0.8}
	for s := range MaxScales {
		for ch := range 3 {
			for p := range numPools {
				c.Weights[s][ch][p] = 10 * scale[s] * channel[ch] * pool[p]
			}
		}
	}
	return c
}

// Report is the pooled error of each scale and channel of one comparison.
type Report struct {
	// Scales is the number of scales that fitted the image.
	Scales int
	// Pooled[s][c][p] is pooled error p of channel c at scale s.
	Pooled [MaxScales][3][numPools]float64
}

// Score is the weighted sum of the pooled errors under c.
func (r Report) Score(c Config) float64 {
	var d float64
	for s := 0; s < r.Scales; s++ {
		for ch := range 3 {
			for p := range numPools {
				d += c.Weights[s][ch][p] * r.Pooled[s][ch][p]
			}
		}
	}
	return d
}

// Distance returns a perceptual distance between ref and dist (same size)
// under DefaultConfig: 0 for identical pixels, larger for more visible
// error.
func Distance(ref, dist Image) (float64, error) {
	return DefaultConfig().Distance(ref, dist)
}

// Distance returns the perceptual distance between ref and dist under c.
func (c Config) Distance(ref, dist Image) (float64, error) {
	reps, err := c.analyze(ref, dist)
	if err != nil {
		return 0, err
	}
	var d float64
	for _, r := range reps {
		d = math.Max(d, r.Score(c))
	}
	return d, nil
}

// Analyze returns the pooled errors behind Distance. For images with alpha
// it returns the report of the backdrop (black or white) that scored worse.
func (c Config) Analyze(ref, dist Image) (Report, error) {
	reps, err := c.analyze(ref, dist)
	if err != nil {
		return Report{}, err
	}
	best := reps[0]
	for _, r := range reps[1:] {
		if r.Score(c) > best.Score(c) {
			best = r
		}
	}
	return best, nil
}

func (c Config) analyze(ref, dist Image) ([]Report, error) {
	if err := check(ref); err != nil {
		return nil, err
	}
	if err := check(dist); err != nil {
		return nil, err
	}
	if ref.Width != dist.Width || ref.Height != dist.Height {
		return nil, proto.Errorf(proto.CodeInternal, "The images to compare differ in size.")
	}
	if c.Scales < 1 || c.Scales > MaxScales || c.Window < 2 {
		return nil, proto.Errorf(proto.CodeInternal, "The quality metric is misconfigured.")
	}
	if ref.Bands == 3 && dist.Bands == 3 || opaque(ref) && opaque(dist) {
		return []Report{c.compare(ref, dist, 0)}, nil
	}
	return []Report{c.compare(ref, dist, 0), c.compare(ref, dist, 255)}, nil
}

func check(m Image) error {
	if m.Bands != 3 && m.Bands != 4 {
		return proto.Errorf(proto.CodeInternal, "The quality metric needs RGB or RGBA pixels.")
	}
	if m.Width < 1 || m.Height < 1 || len(m.Pix) < m.Width*m.Height*m.Bands {
		return proto.Errorf(proto.CodeInternal, "The image to compare has no pixels or too few.")
	}
	return nil
}

// opaque reports whether m has no alpha or only fully opaque pixels.
func opaque(m Image) bool {
	if m.Bands == 3 {
		return true
	}
	n := m.Width * m.Height * 4
	for i := 3; i < n; i += 4 {
		if m.Pix[i] != 255 {
			return false
		}
	}
	return true
}

// compare runs the multi-scale comparison with alpha composited over a
// grey level of bg (0 or 255). Luma starts at full size, chroma at half
// size (see toPlanes).
func (c Config) compare(ref, dist Image, bg int) Report {
	w, h := ref.Width, ref.Height
	var pa, pb [3][]float32
	pa[ChanY], pa[ChanX], pa[ChanB] = toPlanes(ref, bg)
	pb[ChanY], pb[ChanX], pb[ChanB] = toPlanes(dist, bg)
	var r Report
	var sc scratch
	k := max(1, c.Window/2)
	for s := 0; s < c.Scales && w/2 >= k && h/2 >= k; s++ {
		for ch := range 3 {
			if s == 0 && ch != ChanY {
				continue // chroma planes start at scale 1's size
			}
			var pool [numPools]float64
			pool, pa[ch], pb[ch] = sc.ssim(pa[ch], pb[ch], w, h, k, c.C2[ch], c.MeanK[ch])
			r.Pooled[s][ch] = pool
		}
		r.Scales = s + 1
		w, h = w/2, h/2
	}
	return r
}
