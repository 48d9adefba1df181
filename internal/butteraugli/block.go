package butteraugli

import "math"

// The block comparison: for each 8×8 block (on a 3-pixel grid), the mean
// XYB difference (DC) and the contrast-weighted difference of the blocks'
// spectra (AC). The spectra are 2-D DFTs computed as row transforms, which
// overlapping blocks share, then column transforms.

// The four signals transformed per block: the mean of the two images' Y and
// the half differences of X, Y and Z.
const (
	sigYAvg = iota
	sigXHalf
	sigYHalf
	sigZHalf
	nSig
)

// A real 8-point DFT is kept as 8 numbers: F0 and F4 (real), then F1, F2,
// F3 as (re, im); F5..F7 are the conjugates of F3..F1.
const (
	f0 = iota
	f4
	f1re
	f1im
	f2re
	f2im
	f3re
	f3im
)

const rsqrt2 = 0.70710678118654752440084436210484903

// dft8 returns the DFT Σ a[n]·e^(−2πi·kn/8) of 8 real values, computed by
// splitting even and odd samples.
func dft8(a *[8]float64) (f [8]float64) {
	s04, d04 := a[0]+a[4], a[0]-a[4]
	s26, d26 := a[2]+a[6], a[2]-a[6]
	s15, d15 := a[1]+a[5], a[1]-a[5]
	s37, d37 := a[3]+a[7], a[3]-a[7]
	e, o := s04+s26, s15+s37
	f[f0], f[f4] = e+o, e-o
	f[f2re], f[f2im] = s04-s26, s37-s15
	p, q := rsqrt2*(d15-d37), rsqrt2*(d15+d37)
	f[f1re], f[f1im] = d04+p, -d26-q
	f[f3re], f[f3im] = d04-p, d26-q
	return f
}

// spectrum writes into sq[4..36] the squared magnitudes, times
// spectrumScale, of the 2-D DFT coefficients (kx, ky) at index kx*8+ky of a
// block, and returns the block's sum (its DC coefficient). cols[c] holds
// component c (as dft8 lays it out) of the DFTs of the block's 8 rows, in
// any cyclic order of the rows: a cyclic shift changes only the phases.
func spectrum(cols *[8][8]float64, sq *[37]float64) float64 {
	// kx = 0 and 4: real columns.
	c := dft8(&cols[f0])
	dc := c[f0]
	sq[4] = c[f4] * c[f4] * spectrumScale
	sq[5] = (c[f3re]*c[f3re] + c[f3im]*c[f3im]) * spectrumScale
	sq[6] = (c[f2re]*c[f2re] + c[f2im]*c[f2im]) * spectrumScale
	sq[7] = (c[f1re]*c[f1re] + c[f1im]*c[f1im]) * spectrumScale
	c = dft8(&cols[f4])
	sq[32] = c[f0] * c[f0] * spectrumScale
	sq[33] = (c[f1re]*c[f1re] + c[f1im]*c[f1im]) * spectrumScale
	sq[34] = (c[f2re]*c[f2re] + c[f2im]*c[f2im]) * spectrumScale
	sq[35] = (c[f3re]*c[f3re] + c[f3im]*c[f3im]) * spectrumScale
	sq[36] = c[f4] * c[f4] * spectrumScale
	// kx = 1, 2, 3: complex columns, transformed as real and imaginary
	// parts P and Q; coefficient ky is P_ky + i·Q_ky.
	for kx := 1; kx <= 3; kx++ {
		p, q := dft8(&cols[2*kx]), dft8(&cols[2*kx+1]) // f1re, f1im for kx = 1, …
		o := (*[8]float64)(sq[kx*8:])
		o[0] = (p[f0]*p[f0] + q[f0]*q[f0]) * spectrumScale
		o[4] = (p[f4]*p[f4] + q[f4]*q[f4]) * spectrumScale
		for k := 1; k <= 3; k++ {
			pr, pi, qr, qi := p[2*k], p[2*k+1], q[2*k], q[2*k+1]
			u, v := pr-qi, pi+qr
			o[k] = (u*u + v*v) * spectrumScale
			u, v = pr+qi, qr-pi
			o[8-k] = (u*u + v*v) * spectrumScale
		}
	}
	return dc
}

// deadZone moves v towards zero by acDeadY, values within it becoming 0.
func deadZone(v float64) float64 {
	switch {
	case v >= -acDeadY && v < acDeadY:
		return 0
	case v < 0:
		return v + acDeadY
	}
	return v - acDeadY
}

// spectrumK holds the constants spectrum4 uses.
var spectrumK = [3]float64{rsqrt2, spectrumScale, math.Copysign(0, -1)}

// spectra computes the spectra of a block's four signals: cols[c][slot][s]
// holds component c of signal s's row DFTs (see rowSpectra). It writes
// each signal's DC coefficient into sq[0] and its weighted squared
// magnitudes into sq[4..36], lane s; tmp is scratch.
func spectra(cols, tmp *[8][8][4]float64, sq *[37][4]float64) {
	if haveAVX2 {
		spectrum4(cols, tmp, sq, &spectrumK)
		return
	}
	for s := range nSig {
		var c [8][8]float64
		for i := range c {
			for j := range c[i] {
				c[i][j] = cols[i][j][s]
			}
		}
		var q [37]float64
		sq[0][s] = spectrum(&c, &q)
		for i := 4; i < len(q); i++ {
			sq[i][s] = q[i]
		}
	}
}

// blockRow compares the blocks of cell row by of two masked XYB images
// and writes the cells' DC and AC differences, 3 channels a cell, into dc
// and ac. rowDFT holds, for each block column, DFT component, image row
// (row y in slot y%8) and signal, the row DFTs (see rowSpectra): those of
// the block row's 8 image rows.
func blockRow(ncx int, rowDFT [][8][8][nSig]float64, dc, ac []float32) {
	var sq [37][nSig]float64
	var tmp [8][8][4]float64
	for bx := range ncx {
		spectra(&rowDFT[bx], &tmp, &sq)
		sum := &sq[0]
		cell := 3 * bx
		// Mean difference of each channel: twice the mean half
		// difference.
		vx, vy, vz := lowFreqVals(sum[sigXHalf]/32, sum[sigYHalf]/32, sum[sigZHalf]/32)
		dc[cell] = float32(csf[0] * vx * vx)
		dc[cell+1] = float32(csf[0] * vy * vy)
		dc[cell+2] = float32(csf[0] * vz * vz)
		var ax, ay, az float64
		for i := 4; i < len(csf); i++ {
			d := csf[i]
			q := &sq[i]
			ax += d * acMulX * q[sigXHalf]
			az += d * acMulZ * q[sigZHalf]
			avg, half := math.Sqrt(q[sigYAvg]), math.Sqrt(q[sigYHalf])
			y0, y1 := deadZone(avg-half), deadZone(avg+half)
			if y0 != y1 {
				// y1 ≥ 0.
				v := acMulY * (hfDy.odd(y0*acMulY2) - hfDy.at(y1*acMulY2))
				ay += d * v * v
			}
		}
		ac[cell], ac[cell+1], ac[cell+2] = float32(ax), float32(ay), float32(az)
	}
}

// rowSpectra stores, for image row y of the masked images (row: m0's X, Y,
// Z then m1's, w values each) and each block column bx, the row DFTs of the
// four block signals over the block's 8 columns: component c of signal s
// at out[bx][c][y%8][s].
func rowSpectra(row []float32, w, y, ncx int, out [][8][8][nSig]float64) {
	x0r, y0r, z0r := row[:w], row[w:2*w], row[2*w:3*w]
	x1r, y1r, z1r := row[3*w:4*w], row[4*w:5*w], row[5*w:6*w]
	slot := y % 8
	var in [nSig][8]float64
	for bx := range ncx {
		x0 := min(3*bx, w-8)
		for i := range 8 {
			a0, a1 := float64(y0r[x0+i]), float64(y1r[x0+i])
			in[sigYAvg][i] = (a0 + a1) / 2
			in[sigYHalf][i] = (a0 - a1) / 2
			in[sigXHalf][i] = (float64(x0r[x0+i]) - float64(x1r[x0+i])) / 2
			in[sigZHalf][i] = (float64(z0r[x0+i]) - float64(z1r[x0+i])) / 2
		}
		d := &out[bx]
		for s := range nSig {
			f := dft8(&in[s])
			for c, v := range f {
				d[c][slot][s] = v
			}
		}
	}
}
