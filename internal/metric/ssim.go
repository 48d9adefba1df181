package metric

import "math"

// scratch holds the row buffers of ssim, reused across channels and scales.
type scratch struct {
	mom  [5][]float64 // moments of the 2×2 blocks of one block row
	ring [5][]float64 // K rows of horizontal window sums
	acc  [5][]float64 // vertical sums of ring: the window sums
}

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// ssim compares the w×h planes a (reference) and b. It gathers the moments
// (Σa, Σb, Σa², Σb², Σab) of every 2×2 pixel block, sums them over windows
// of k×k blocks at a stride of one block, and returns the mean, the L4
// norm and the maximum of 1 − SSIM over those windows, along with the 2×2 box averages of a
// and b: the planes of the next scale. SSIM's luminance ratio is replaced by
// 1 − min(1, mk·Δμ²) because the planes are already perceptually uniform.
func (sc *scratch) ssim(a, b []float32, w, h, k int, c2, mk float64) (pool [numPools]float64, na, nb []float32) {
	na = make([]float32, (w/2)*(h/2))
	nb = make([]float32, (w/2)*(h/2))
	return sc.run(a, b, w, h, k, c2, mk, na, nb), na, nb
}

// ssimRef is ssim for a reference whose next-scale planes are already
// known: it returns only b's box averages, and none when next is false.
func (sc *scratch) ssimRef(a, b []float32, w, h, k int, c2, mk float64, next bool) (pool [numPools]float64, nb []float32) {
	if next {
		nb = make([]float32, (w/2)*(h/2))
	}
	return sc.run(a, b, w, h, k, c2, mk, nil, nb), nb
}

// run is the body of ssim; it writes the box averages of a and b into na
// and nb when they are not nil.
func (sc *scratch) run(a, b []float32, w, h, k int, c2, mk float64, na, nb []float32) (pool [numPools]float64) {
	bw, bh := w/2, h/2
	ow, oh := bw-k+1, bh-k+1
	for q := range 5 {
		sc.mom[q] = grow(sc.mom[q], bw)
		sc.ring[q] = grow(sc.ring[q], k*ow)
		clear(sc.ring[q])
		sc.acc[q] = grow(sc.acc[q], ow)
		clear(sc.acc[q])
	}
	m0, m1, m2, m3, m4 := sc.mom[0][:bw], sc.mom[1][:bw], sc.mom[2][:bw], sc.mom[3][:bw], sc.mom[4][:bw]
	s0, s1, s2, s3, s4 := sc.acc[0][:ow], sc.acc[1][:ow], sc.acc[2][:ow], sc.acc[3][:ow], sc.acc[4][:ow]
	inv := 1 / float64(4*k*k)
	var sum, sum4, top float64
	for j := range bh {
		a0, a1 := a[2*j*w:2*j*w+2*bw], a[(2*j+1)*w:(2*j+1)*w+2*bw]
		b0, b1 := b[2*j*w:2*j*w+2*bw], b[(2*j+1)*w:(2*j+1)*w+2*bw]
		var oa, ob []float32
		if na != nil {
			oa = na[j*bw : j*bw+bw]
		}
		if nb != nil {
			ob = nb[j*bw : j*bw+bw]
		}
		for i := range bw {
			p, q, r, s := float64(a0[2*i]), float64(a0[2*i+1]), float64(a1[2*i]), float64(a1[2*i+1])
			t, u, v, x := float64(b0[2*i]), float64(b0[2*i+1]), float64(b1[2*i]), float64(b1[2*i+1])
			sa, sb := p+q+r+s, t+u+v+x
			m0[i], m1[i] = sa, sb
			m2[i] = p*p + q*q + r*r + s*s
			m3[i] = t*t + u*u + v*v + x*x
			m4[i] = p*t + q*u + r*v + s*x
			if oa != nil {
				oa[i] = float32(0.25 * sa)
			}
			if ob != nil {
				ob[i] = float32(0.25 * sb)
			}
		}
		off := (j % k) * ow
		h0, h1, h2, h3, h4 := sc.ring[0][off:off+ow], sc.ring[1][off:off+ow], sc.ring[2][off:off+ow], sc.ring[3][off:off+ow], sc.ring[4][off:off+ow]
		var t0, t1, t2, t3, t4 float64
		for i := range k {
			t0 += m0[i]
			t1 += m1[i]
			t2 += m2[i]
			t3 += m3[i]
			t4 += m4[i]
		}
		for x := range ow {
			s0[x] += t0 - h0[x]
			s1[x] += t1 - h1[x]
			s2[x] += t2 - h2[x]
			s3[x] += t3 - h3[x]
			s4[x] += t4 - h4[x]
			h0[x], h1[x], h2[x], h3[x], h4[x] = t0, t1, t2, t3, t4
			if e := x + k; e < bw {
				t0 += m0[e] - m0[x]
				t1 += m1[e] - m1[x]
				t2 += m2[e] - m2[x]
				t3 += m3[e] - m3[x]
				t4 += m4[e] - m4[x]
			}
		}
		if j < k-1 {
			continue
		}
		for x := range ow {
			ma, mb := s0[x]*inv, s1[x]*inv
			va := s2[x]*inv - ma*ma
			vb := s3[x]*inv - mb*mb
			cov := s4[x]*inv - ma*mb
			cs := (2*cov + c2) / (va + vb + c2)
			d := ma - mb
			e := 1 - (1-min(1, mk*d*d))*cs
			if e < 0 {
				e = 0
			}
			sum += e
			if e > top {
				top = e
			}
			e *= e
			sum4 += e * e
		}
	}
	n := float64(ow * oh)
	pool[PoolMean] = sum / n
	pool[PoolL4] = math.Sqrt(math.Sqrt(sum4 / n))
	pool[PoolMax] = top
	return pool
}
