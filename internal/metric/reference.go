package metric

import (
	"math"

	"github.com/imagediet/imgdiet/internal/proto"
)

// Reference is a source image prepared once for many comparisons: its
// perceptual planes at every scale are computed by NewReference, so each
// Distance call converts only the candidate. A Reference is read-only
// after creation and safe for concurrent use.
type Reference struct {
	cfg           Config
	width, height int
	opaque        bool
	// pyr[bg][s][ch] is the plane of channel ch at scale s with alpha
	// composited over black (bg 0) or white (bg 1); nil where unused.
	// An opaque reference has only the black pyramid.
	pyr [2][MaxScales][3][]float32
	// scales is the number of scales that fit the image.
	scales int
}

// NewReference prepares ref for comparisons under DefaultConfig.
func NewReference(ref Image) (*Reference, error) {
	return DefaultConfig().NewReference(ref)
}

// NewReference prepares ref for comparisons under c.
func (c Config) NewReference(ref Image) (*Reference, error) {
	if err := check(ref); err != nil {
		return nil, err
	}
	if c.Scales < 1 || c.Scales > MaxScales || c.Window < 2 {
		return nil, proto.Errorf(proto.CodeInternal, "The quality metric is misconfigured.")
	}
	r := &Reference{cfg: c, width: ref.Width, height: ref.Height, opaque: opaque(ref)}
	bgs := []int{0, 255}
	if r.opaque {
		bgs = bgs[:1]
	}
	for i, bg := range bgs {
		r.scales = r.pyramid(&r.pyr[i], ref, bg)
	}
	return r, nil
}

// pyramid fills p with the planes of m over bg at every scale compare
// visits and returns the number of scales.
func (r *Reference) pyramid(p *[MaxScales][3][]float32, m Image, bg int) int {
	w, h := m.Width, m.Height
	var cur [3][]float32
	cur[ChanY], cur[ChanX], cur[ChanB] = toPlanes(m, bg)
	k := max(1, r.cfg.Window/2)
	n := 0
	for s := 0; s < r.cfg.Scales && w/2 >= k && h/2 >= k; s++ {
		for ch := range 3 {
			if s == 0 && ch != ChanY {
				continue
			}
			p[s][ch] = cur[ch]
			cur[ch] = half(cur[ch], w, h)
		}
		n = s + 1
		w, h = w/2, h/2
	}
	return n
}

// half returns the 2×2 box average of the w×h plane a, as ssim computes
// the planes of the next scale.
func half(a []float32, w, h int) []float32 {
	bw, bh := w/2, h/2
	out := make([]float32, bw*bh)
	for j := range bh {
		a0, a1 := a[2*j*w:2*j*w+2*bw], a[(2*j+1)*w:(2*j+1)*w+2*bw]
		o := out[j*bw : j*bw+bw]
		for i := range bw {
			sa := float64(a0[2*i]) + float64(a0[2*i+1]) + float64(a1[2*i]) + float64(a1[2*i+1])
			o[i] = float32(0.25 * sa)
		}
	}
	return out
}

// Width and Height return the size of the reference image.
func (r *Reference) Width() int { return r.width }

// Height returns the height of the reference image.
func (r *Reference) Height() int { return r.height }

// Distance returns the perceptual distance between the reference and dist
// (same size), equal to Config.Distance of the original pixels and dist.
func (r *Reference) Distance(dist Image) (float64, error) {
	if err := check(dist); err != nil {
		return 0, err
	}
	if dist.Width != r.width || dist.Height != r.height {
		return 0, proto.Errorf(proto.CodeInternal, "The images to compare differ in size.")
	}
	if r.opaque && opaque(dist) {
		return r.compare(dist, 0).Score(r.cfg), nil
	}
	return math.Max(r.compare(dist, 0).Score(r.cfg), r.compare(dist, 255).Score(r.cfg)), nil
}

// compare is Config.compare with the reference's planes precomputed.
func (r *Reference) compare(dist Image, bg int) Report {
	p := &r.pyr[0]
	if bg != 0 && !r.opaque {
		// An opaque reference looks the same over either backdrop.
		p = &r.pyr[1]
	}
	w, h := r.width, r.height
	var pb [3][]float32
	pb[ChanY], pb[ChanX], pb[ChanB] = toPlanes(dist, bg)
	var rep Report
	var sc scratch
	k := max(1, r.cfg.Window/2)
	for s := 0; s < r.scales; s++ {
		last := s == r.scales-1
		for ch := range 3 {
			if s == 0 && ch != ChanY {
				continue
			}
			var pool [numPools]float64
			pool, pb[ch] = sc.ssimRef(p[s][ch], pb[ch], w, h, k, r.cfg.C2[ch], r.cfg.MeanK[ch], !last)
			rep.Pooled[s][ch] = pool
		}
		rep.Scales = s + 1
		w, h = w/2, h/2
	}
	return rep
}
