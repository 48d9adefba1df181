// Package butteraugli computes the butteraugli psychovisual distance between
// a reference image and distorted versions of it, in process, agreeing with
// Debian's /usr/bin/butteraugli (package butteraugli 0~20170116-3).
//
// That tool is the butteraugli of early 2017, the copy Google's guetzli
// ships: the 8×8 block version, which compares blocks on a 3-pixel grid by
// their mean colour difference and the contrast-weighted difference of
// their spectra, adds two edge detectors, weights everything by visual
// masking from the local activity of both images, blurs the resulting map
// and reports its maximum. Its constants (opsin absorbances, the rational
// gamma, the contrast sensitivity table, masking curves, blur widths) are
// used here unchanged, and the arithmetic keeps the binary's single and
// double precision steps: on 152 JPEG, WebP and AVIF
// encodes of photos (distances 0.7–9) every result equals the tool's output
// to the 6 decimals it prints. Only what depends on the reference alone
// (its opsin planes) can be precomputed: the later stages mix both images
// from the start.
//
// Pixels are 8-bit sRGB, converted to linear light with the sRGB curve as
// the tool does. An image with alpha is compared over a black and over a
// white background (alpha blended in sRGB with rounding, as the tool does),
// and the larger distance is returned. Images narrower or shorter than 8
// pixels, or at most 10×10, have distance 0 as with the tool (on the latter
// its edge detector has no sample, its map is NaN, and it reports 0).
//
// A distance below about 1 means the images look the same; the tool calls
// 1.0 good quality.
//
// Cost: at 1200×800 pixels, NewReference takes about 45 ms and Distance
// about 0.19 s of one core on amd64 with AVX2 (0.3 s without), a third of
// the tool's time. The AVX2 kernels (blur sums, block spectra, opsin
// transform, intensity masking) put independent outputs in the lanes of a
// register and give every lane the scalar code's exact arithmetic, so the
// results do not depend on the processor. A Distance streams the
// image through its stages row by row, so its scratch is a few dozen image
// rows per stage, about 4 KB a column: 5 bytes a pixel at 1200×800, less
// on taller images. A Reference keeps one idle set of
// scratch; concurrent calls allocate their own.
package butteraugli

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/imagediet/imgdiet/internal/metric"
)

// Reference holds what the comparisons with one reference image share: its
// opsin-transformed planes (12 bytes a pixel, twice that when it has
// transparent pixels) and one set of scratch kept between comparisons.
type Reference struct {
	w, h int
	// opsin[bg] are the reference's XYB planes over black (0) and white
	// (1); over white only when the reference has transparent pixels.
	opsin  [2]*[3][]float32
	filter *filters
	mu     sync.Mutex
	idle   *work // scratch not in use, if any
}

// NewReference prepares comparisons with m, an 8-bit sRGB image with 3 or 4
// (straight alpha) bands.
func NewReference(m metric.Image) (*Reference, error) {
	if err := check(m); err != nil {
		return nil, err
	}
	r := &Reference{w: m.Width, h: m.Height}
	if r.small() {
		return r, nil
	}
	r.filter = newFilters(r.w, r.h)
	k := r.get()
	defer r.put(k)
	bgs := []int{0}
	if !opaque(m) {
		bgs = append(bgs, 255)
	}
	w := r.w
	for i, bg := range bgs {
		var p [3][]float32
		for c := range p {
			p[c] = make([]float32, w*r.h)
		}
		k.start(m, bg, nil)
		for y := range r.h {
			row := k.c1.row(y)
			for c := range p {
				copy(p[c][y*w:(y+1)*w], row[c*w:(c+1)*w])
			}
		}
		r.opsin[i] = &p
	}
	return r, nil
}

// Width returns the reference's width in pixels.
func (r *Reference) Width() int { return r.w }

// Height returns the reference's height in pixels.
func (r *Reference) Height() int { return r.h }

// Distance returns the butteraugli distance between the reference and m,
// which must have the reference's size (3 or 4 bands). When either image
// has transparent pixels it is the larger of the distances over black and
// over white. It is safe for concurrent use and runs on the calling
// goroutine only.
func (r *Reference) Distance(m metric.Image) (float64, error) {
	d, _, err := r.Within(m, math.Inf(1))
	return d, err
}

// Within reports whether the distance between the reference and m is at
// most limit, and returns the distance when it is. When it is not, the
// returned value is only a lower bound above limit: the distance is the
// maximum of a map computed row by row, so the comparison stops at the
// first row whose values exceed limit. Answering a search's yes-or-no
// question this way costs, on a failing candidate, only the rows up to its
// first visible flaw.
func (r *Reference) Within(m metric.Image, limit float64) (float64, bool, error) {
	if err := check(m); err != nil {
		return 0, false, err
	}
	if m.Width != r.w || m.Height != r.h {
		return 0, false, fmt.Errorf("butteraugli: image is %d×%d, reference is %d×%d", m.Width, m.Height, r.w, r.h)
	}
	if r.small() {
		return 0, 0 <= limit, nil
	}
	k := r.get()
	defer r.put(k)
	d := r.distance(k, m, limit)
	return d, d <= limit, nil
}

// distance returns the distance between the reference and m, a valid image
// of its size, using the scratch k, or a lower bound above limit as soon as
// one is known.
func (r *Reference) distance(k *work, m metric.Image, limit float64) float64 {
	k.limit = limit
	over := func(bg int) float64 {
		ref := r.opsin[0]
		if bg != 0 && r.opsin[1] != nil {
			ref = r.opsin[1]
		}
		k.start(m, bg, ref)
		return k.compare()
	}
	d := over(0)
	if d <= limit && (r.opsin[1] != nil || !opaque(m)) {
		d = max(d, over(255))
	}
	return d
}

// small reports whether the images are too small to compare (distance 0).
func (r *Reference) small() bool { return r.w < 8 || r.h < 8 || (r.w <= 10 && r.h <= 10) }

// get returns scratch for one comparison: the idle set if there is one,
// else a new one.
func (r *Reference) get() *work {
	r.mu.Lock()
	k := r.idle
	r.idle = nil
	r.mu.Unlock()
	if k == nil {
		k = newWork(r.w, r.h, r.filter)
	}
	return k
}

// put keeps k for the next comparison unless a set is kept already: the
// Reference holds at most one idle set, and frees everything when dropped.
func (r *Reference) put(k *work) {
	k.img, k.c0 = metric.Image{}, nil
	r.mu.Lock()
	if r.idle == nil {
		r.idle = k
	}
	r.mu.Unlock()
}

// check validates m's layout.
func check(m metric.Image) error {
	if m.Width <= 0 || m.Height <= 0 {
		return errors.New("butteraugli: empty image")
	}
	if m.Bands != 3 && m.Bands != 4 {
		return fmt.Errorf("butteraugli: %d bands, want 3 or 4", m.Bands)
	}
	if len(m.Pix) < m.Width*m.Height*m.Bands {
		return fmt.Errorf("butteraugli: %d bytes of pixels, want %d", len(m.Pix), m.Width*m.Height*m.Bands)
	}
	return nil
}
