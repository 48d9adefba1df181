package butteraugli

import (
	"fmt"
	"math"
	"unsafe"
)

// gauss is a separable Gaussian blur as butteraugli does it: taps out to
// 2.25σ (at least one), single-precision taps and products summed in double
// precision, each output normalised by the taps that fall inside the image
// (border 0) or by all taps (border 1), and evaluated only every step-th
// pixel in each direction, step = max(1, ⌊σ/3⌋); the binary then repeats
// each evaluated value over its step×step cell.
type gauss struct {
	taps   []float32
	radius int
	step   int
	border float64 // mix between in-image (0) and full (1) normalisation
	total  float64 // sum of all taps
}

func newGauss(sigma, border float64) *gauss {
	r := max(1, int(2.25*math.Abs(sigma)))
	g := &gauss{taps: make([]float32, 2*r+1), radius: r, step: max(1, int(sigma/3)), border: border}
	c := -1 / (2 * sigma * sigma)
	for i := -r; i <= r; i++ {
		g.taps[i+r] = float32(math.Exp(c * float64(i) * float64(i)))
	}
	for _, t := range g.taps {
		g.total += float64(t)
	}
	return g
}

// axis is the positions first, first+stride, … (n of them) along an
// axis at which a blur is evaluated.
type axis struct{ first, stride, n int }

// grid returns g's evaluation grid along an axis of length n: every
// step-th position from 0.
func (g *gauss) grid(n int) axis { return axis{0, g.step, (n + g.step - 1) / g.step} }

// scales returns, for each position of a along an axis of length n, the
// factor that normalises the sum of the taps falling inside the axis,
// mixed with the full sum by g.border; it appends to buf.
func (g *gauss) scales(a axis, n int, buf []float64) []float64 {
	buf = buf[:0]
	for i := range a.n {
		p := a.first + i*a.stride
		var sum float64
		for j := max(0, p-g.radius); j < min(n, p+g.radius+1); j++ {
			sum += float64(g.taps[j-p+g.radius])
		}
		sum = (1-g.border)*sum + g.border*g.total
		buf = append(buf, 1/sum)
	}
	return buf
}

// ring holds the last n rows of a sequence of rows computed on demand, in
// increasing order, by fill; each row has size values. Callers that need
// several rows fetch the highest first, so that computing it cannot evict
// a row they hold.
type ring struct {
	size, n int
	buf     []float32
	next    int // the next row to compute
	fill    func(y int, dst []float32)
}

// newRing returns a ring of n rows of size values, at most max rows.
func newRing(size, n, max int, fill func(y int, dst []float32)) *ring {
	n = min(n, max)
	return &ring{size: size, n: n, buf: make([]float32, size*n), fill: fill}
}

// row returns row y, computing the rows up to it that are not yet known.
func (r *ring) row(y int) []float32 {
	for r.next <= y {
		r.fill(r.next, r.slot(r.next))
		r.next++
	}
	if y < r.next-r.n || y < 0 {
		panic(fmt.Sprintf("butteraugli: row %d is no longer held (next %d, %d held)", y, r.next, r.n))
	}
	return r.slot(y)
}

func (r *ring) slot(y int) []float32 {
	o := (y % r.n) * r.size
	return r.buf[o : o+r.size : o+r.size]
}

// blurStream evaluates g's blur of a w×h image, read row by row from src,
// at the columns xs and rows ys, one output row at a time in increasing
// order. It keeps the horizontally blurred source rows that the next
// outputs need. Each output sums the single-precision products of taps and
// pixels in double precision in tap order, as the binary does,
// horizontally first.
type blurStream struct {
	g      *gauss
	w, h   int
	xs, ys axis
	sx, sy []float64
	ia, ib int // columns whose window lies inside the row: [ia, ib)
	hor    *ring
	win    [][]float32
	// Scratch of the vector sums: the source of each tap, the sums, and
	// the source row split into its stride phases (phase φ holds columns
	// φ, φ+stride, … at φ·phaseLen).
	ptrs     []unsafe.Pointer
	acc      []float64
	phase    []float32
	phaseLen int
}

// newBlurStream returns the stream of g's blur of the w×h image whose rows
// src returns; scales returns g.scales for an axis, possibly shared.
func newBlurStream(g *gauss, w, h int, xs, ys axis, src func(y int) []float32, scales func(*gauss, axis, int) []float64) *blurStream {
	b := &blurStream{g: g, w: w, h: h, xs: xs, ys: ys,
		sx: scales(g, xs, w), sy: scales(g, ys, h), win: make([][]float32, 2*g.radius+1)}
	r := g.radius
	for i := range xs.n {
		p := xs.first + i*xs.stride
		if p-r < 0 {
			b.ia = i + 1
		}
		if p+r < w {
			b.ib = i + 1
		}
	}
	b.ib = max(b.ia, b.ib)
	if haveAVX2 {
		b.ptrs = make([]unsafe.Pointer, len(g.taps))
		b.acc = make([]float64, max(xs.n, b.ib-b.ia))
		if xs.stride > 1 {
			b.phaseLen = (w + xs.stride - 1) / xs.stride
			b.phase = make([]float32, xs.stride*b.phaseLen)
		}
	}
	b.hor = newRing(xs.n, 2*r+1, h, func(y int, dst []float32) { b.horizontal(src(y), dst) })
	return b
}

// reset starts a new image.
func (b *blurStream) reset() { b.hor.next = 0 }

// horizontal blurs line, a source row, at the columns xs into out. Several
// outputs are summed side by side so that their additions overlap; each
// keeps its own sum in tap order.
func (b *blurStream) horizontal(line, out []float32) {
	taps, r, st := b.g.taps, b.g.radius, b.xs.stride
	first, w, ia, ib, nx := b.xs.first, b.w, b.ia, b.ib, b.xs.n
	n := len(taps)
	line = line[:w]
	out = out[:nx]
	sx := b.sx[:nx]
	i := ia
	if m := (ib - ia) &^ 15; haveAVX2 && m > 0 {
		ptrs := b.ptrs[:n]
		if st == 1 {
			for t := range ptrs {
				ptrs[t] = unsafe.Pointer(&line[first+ia-r+t])
			}
		} else {
			// Output i reads columns first+i·st−r+t: for a given tap,
			// consecutive values of one phase.
			pl, ph := b.phaseLen, b.phase
			for f := range st {
				dst := ph[f*pl : (f+1)*pl]
				for q, x := 0, f; x < w; q, x = q+1, x+st {
					dst[q] = line[x]
				}
			}
			for t := range ptrs {
				c := first + ia*st - r + t
				ptrs[t] = unsafe.Pointer(&ph[(c%st)*pl+c/st])
			}
		}
		acc := b.acc[:m]
		sumTaps16(&acc[0], &ptrs[0], &taps[0], n, m)
		o, c := out[ia:ia+m], sx[ia:ia+m]
		for j, v := range acc {
			o[j] = float32(v * c[j])
		}
		i += m
	}
	if st == 1 {
		// Adjacent outputs: their windows overlap.
		for ; i+8 <= ib; i += 8 {
			p := first + i - r
			seg := line[p : p+n+7]
			var s0, s1, s2, s3, s4, s5, s6, s7 float64
			for t, k := range taps {
				v := (*[8]float32)(seg[t:])
				s0 += float64(v[0] * k)
				s1 += float64(v[1] * k)
				s2 += float64(v[2] * k)
				s3 += float64(v[3] * k)
				s4 += float64(v[4] * k)
				s5 += float64(v[5] * k)
				s6 += float64(v[6] * k)
				s7 += float64(v[7] * k)
			}
			o, c := (*[8]float32)(out[i:]), (*[8]float64)(sx[i:])
			o[0] = float32(s0 * c[0])
			o[1] = float32(s1 * c[1])
			o[2] = float32(s2 * c[2])
			o[3] = float32(s3 * c[3])
			o[4] = float32(s4 * c[4])
			o[5] = float32(s5 * c[5])
			o[6] = float32(s6 * c[6])
			o[7] = float32(s7 * c[7])
		}
	}
	for ; i+4 <= ib; i += 4 {
		p := first + i*st - r
		a0 := line[p:]
		a0 = a0[:len(taps)]
		a1 := line[p+st:]
		a1 = a1[:len(taps)]
		a2 := line[p+2*st:]
		a2 = a2[:len(taps)]
		a3 := line[p+3*st:]
		a3 = a3[:len(taps)]
		var s0, s1, s2, s3 float64
		for t, k := range taps {
			s0 += float64(a0[t] * k)
			s1 += float64(a1[t] * k)
			s2 += float64(a2[t] * k)
			s3 += float64(a3[t] * k)
		}
		o, c := (*[4]float32)(out[i:]), (*[4]float64)(sx[i:])
		o[0] = float32(s0 * c[0])
		o[1] = float32(s1 * c[1])
		o[2] = float32(s2 * c[2])
		o[3] = float32(s3 * c[3])
	}
	for _, span := range [3][2]int{{0, ia}, {i, ib}, {ib, nx}} {
		for i := span[0]; i < span[1]; i++ {
			p := first + i*st
			var sum float64
			for j := max(0, p-r); j < min(w, p+r+1); j++ {
				sum += float64(line[j] * taps[j-p+r])
			}
			out[i] = float32(sum * sx[i])
		}
	}
}

// row writes output row j (the row ys.first+j·ys.stride) into out.
func (b *blurStream) row(j int, out []float32) {
	taps, r, h, nx := b.g.taps, b.g.radius, b.h, b.xs.n
	p := b.ys.first + j*b.ys.stride
	lo, hi := max(0, p-r), min(h, p+r+1)
	b.hor.row(hi - 1)
	win := b.win[:hi-lo]
	for t := range win {
		win[t] = b.hor.row(lo + t)
	}
	k := taps[lo-p+r : hi-p+r]
	out = out[:nx]
	sc := b.sy[j]
	i := 0
	if m := nx &^ 15; haveAVX2 && m > 0 {
		ptrs := b.ptrs[:len(win)]
		for t, row := range win {
			ptrs[t] = unsafe.Pointer(&row[0])
		}
		acc := b.acc[:m]
		sumTaps16(&acc[0], &ptrs[0], &k[0], len(k), m)
		o := out[:m]
		for j, v := range acc {
			o[j] = float32(v * sc)
		}
		i = m
	}
	for ; i+8 <= nx; i += 8 {
		var s0, s1, s2, s3, s4, s5, s6, s7 float64
		for t, k := range k {
			v := (*[8]float32)(win[t][i:])
			s0 += float64(v[0] * k)
			s1 += float64(v[1] * k)
			s2 += float64(v[2] * k)
			s3 += float64(v[3] * k)
			s4 += float64(v[4] * k)
			s5 += float64(v[5] * k)
			s6 += float64(v[6] * k)
			s7 += float64(v[7] * k)
		}
		o := (*[8]float32)(out[i:])
		o[0] = float32(s0 * sc)
		o[1] = float32(s1 * sc)
		o[2] = float32(s2 * sc)
		o[3] = float32(s3 * sc)
		o[4] = float32(s4 * sc)
		o[5] = float32(s5 * sc)
		o[6] = float32(s6 * sc)
		o[7] = float32(s7 * sc)
	}
	for ; i < nx; i++ {
		var sum float64
		for t, k := range k {
			sum += float64(win[t][i] * k)
		}
		out[i] = float32(sum * sc)
	}
}

// grow returns b resized to n, reallocating only when it is too small.
func grow(b []float32, n int) []float32 {
	if cap(b) < n {
		return make([]float32, n)
	}
	return b[:n]
}
