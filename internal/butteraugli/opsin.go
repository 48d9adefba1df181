package butteraugli

import "github.com/imagediet/imgdiet/internal/metric"

// linearizeRow writes row y of the linear RGB planes (0–255) of m into
// dst (three runs of m.Width values), with alpha composited over the grey
// level bg in sRGB with rounding, as the butteraugli command line tool does.
func linearizeRow(m metric.Image, bg, y int, dst []float32) {
	w := m.Width
	r, g, b := dst[:w], dst[w:2*w], dst[2*w:3*w]
	if m.Bands == 3 {
		p := m.Pix[3*w*y : 3*w*(y+1)]
		for i := range w {
			q := p[3*i : 3*i+3 : 3*i+3]
			r[i], g[i], b[i] = srgbToLinear[q[0]], srgbToLinear[q[1]], srgbToLinear[q[2]]
		}
		return
	}
	p := m.Pix[4*w*y : 4*w*(y+1)]
	for i := range w {
		q := p[4*i : 4*i+4 : 4*i+4]
		switch a := int(q[3]); a {
		case 255:
			r[i], g[i], b[i] = srgbToLinear[q[0]], srgbToLinear[q[1]], srgbToLinear[q[2]]
		case 0:
			r[i], g[i], b[i] = srgbToLinear[bg], srgbToLinear[bg], srgbToLinear[bg]
		default:
			k := bg*(255-a) + 127
			r[i] = srgbToLinear[(int(q[0])*a+k)/255]
			g[i] = srgbToLinear[(int(q[1])*a+k)/255]
			b[i] = srgbToLinear[(int(q[2])*a+k)/255]
		}
	}
}

// opaque reports whether m has no alpha or only fully opaque pixels.
func opaque(m metric.Image) bool {
	if m.Bands != 4 {
		return true
	}
	for i := 3; i < len(m.Pix); i += 4 {
		if m.Pix[i] != 255 {
			return false
		}
	}
	return true
}

// gamma3 returns the photoreceptor responses to three absorbances: a
// rational function of degree 5/5 in Chebyshev polynomials, each evaluated
// by Clenshaw's recurrence, with the quotient rounded to single precision as
// in the binary. The six recurrences run interleaved, which keeps the
// arithmetic of each unchanged but lets the processor overlap them.
func gamma3(v0, v1, v2 float32) (g0, g1, g2 float64) {
	span := gammaMax - gammaMin
	t0 := 2*((float64(v0)-gammaMin)/span) - 1
	t1 := 2*((float64(v1)-gammaMin)/span) - 1
	t2 := 2*((float64(v2)-gammaMin)/span) - 1
	var n0, n1, n2, d0, d1, d2 float64       // b_{k+1}
	var n0p, n1p, n2p, d0p, d1p, d2p float64 // b_{k+2}
	for k := 5; k > 0; k-- {
		cn, cd := gammaNum[k], gammaDen[k]
		a0, a1, a2 := t0*n0, t1*n1, t2*n2
		b0, b1, b2 := t0*d0, t1*d1, t2*d2
		n0, n0p = (a0+a0)-n0p+cn, n0
		n1, n1p = (a1+a1)-n1p+cn, n1
		n2, n2p = (a2+a2)-n2p+cn, n2
		d0, d0p = (b0+b0)-d0p+cd, d0
		d1, d1p = (b1+b1)-d1p+cd, d1
		d2, d2p = (b2+b2)-d2p+cd, d2
	}
	return ratio(t0*n0-n0p+gammaNum[0], t0*d0-d0p+gammaDen[0]),
		ratio(t1*n1-n1p+gammaNum[0], t1*d1-d1p+gammaDen[0]),
		ratio(t2*n2-n2p+gammaNum[0], t2*d2-d2p+gammaDen[0])
}

func ratio(n, d float64) float64 {
	if d == 0 {
		return 0
	}
	return float64(float32(n / d))
}

// absorb mixes linear RGB into the three absorbances.
func absorb(r, g, b float64) (a0, a1, a2 float64) {
	m := &opsinMix
	a0 = m[0][0]*r + m[0][1]*g + m[0][2]*b + m[0][3]
	a1 = m[1][0]*r + m[1][1]*g + m[1][2]*b + m[1][3]
	a2 = m[2][0]*r + m[2][1]*g + m[2][2]*b + m[2][3]
	return
}

// opsinRow converts a row of linear RGB (three runs of w values) to
// butteraugli's XYB in xyb (the same layout): each absorbance is scaled by
// the gamma slope at the locally blurred absorbance (blur, the row of the
// blurred planes: a sensitivity that adapts to the surround) and the first
// two are mixed into an opponent pair.
func opsinRow(lin, blur, xyb []float32, w int) {
	r, gr, b := lin[:w], lin[w:2*w], lin[2*w:3*w]
	br, bg, bb := blur[:w], blur[w:2*w], blur[2*w:3*w]
	x, y, z := xyb[:w], xyb[w:2*w], xyb[2*w:3*w]
	i := 0
	if haveAVX2 && w >= 4 {
		i = w &^ 3
		opsin4(&lin[0], &blur[0], &xyb[0], w, i, &opsinK)
	}
	for ; i < w; i++ {
		p0, p1, p2 := absorb(float64(br[i]), float64(bg[i]), float64(bb[i]))
		g0, g1, g2 := gamma3(float32(p0), float32(p1), float32(p2))
		s0, s1, s2 := g0/p0, g1/p1, g2/p2
		c0, c1, c2 := absorb(float64(r[i]), float64(gr[i]), float64(b[i]))
		c0 *= s0
		c1 *= s1
		c2 *= s2
		x[i] = float32(xybA0*c0 - xybA1*c1)
		y[i] = float32(xybA2*c0 + xybA3*c1)
		z[i] = float32(c2)
	}
}

// opsinK holds the constants of opsinRow for opsin4, each in 4 lanes: the
// absorbance mix, gammaMin, the gamma span, 2, 1, gammaNum, gammaDen and
// the opponent mix.
var opsinK = func() (k [32][4]float64) {
	v := make([]float64, 0, 32)
	for _, row := range opsinMix {
		v = append(v, row[:]...)
	}
	v = append(v, gammaMin, gammaMax-gammaMin, 2, 1)
	v = append(v, gammaNum[:]...)
	v = append(v, gammaDen[:]...)
	v = append(v, xybA0, xybA1, xybA2, xybA3)
	for i, c := range v {
		k[i] = [4]float64{c, c, c, c}
	}
	return k
}()
