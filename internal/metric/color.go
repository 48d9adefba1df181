package metric

import "math"

// toLinear maps an 8-bit sRGB value to linear light in [0, 1].
var toLinear = func() (t [256]float32) {
	for i := range t {
		v := float64(i) / 255
		if v <= 0.04045 {
			v /= 12.92
		} else {
			v = math.Pow((v+0.055)/1.055, 2.4)
		}
		t[i] = float32(v)
	}
	return t
}()

// The opsin-like cone mix and bias of JPEG XL's XYB space.
const (
	opsinBias = 0.0037930732552754493
	xScale    = 14 // brings X's small range near Y's, as SSIMULACRA 2 does
)

// cbrtSteps is the resolution of cbrtTable over [0, 1].
const cbrtSteps = 4096

// cbrtTable[i] is ∛(i/cbrtSteps + opsinBias) − ∛opsinBias; cbrt
// interpolates it linearly (error below 2e-5).
var cbrtTable = func() (t [2 * cbrtSteps]float32) {
	cb := math.Cbrt(opsinBias)
	for i := range t {
		t[i] = float32(math.Cbrt(float64(i)/cbrtSteps+opsinBias) - cb)
	}
	return t
}()

// linearRow writes the linear-light RGB of row y of m into out (3 floats a
// pixel), with alpha composited over the grey level bg in sRGB, as
// browsers do.
func linearRow(m Image, y, bg int, out []float32) {
	w := m.Width
	out = out[:3*w]
	if m.Bands == 3 {
		p := m.Pix[y*w*3 : (y+1)*w*3]
		for i := range out {
			out[i] = toLinear[p[i]]
		}
		return
	}
	p := m.Pix[y*w*4 : (y+1)*w*4]
	for i := range w {
		q := p[i*4 : i*4+4 : i*4+4]
		o := out[i*3 : i*3+3 : i*3+3]
		a := int(q[3])
		if a == 255 {
			o[0], o[1], o[2] = toLinear[q[0]], toLinear[q[1]], toLinear[q[2]]
			continue
		}
		k := bg*(255-a) + 127
		o[0] = toLinear[byte((int(q[0])*a+k)/255)]
		o[1] = toLinear[byte((int(q[1])*a+k)/255)]
		o[2] = toLinear[byte((int(q[2])*a+k)/255)]
	}
}

// lumaRow writes the perceptual lightness of each linear RGB pixel of in to
// out: the cube root of the mean of the L and M cone mixes (close to XYB's
// Y, at one root instead of two).
func lumaRow(in, out []float32) {
	for i := range out {
		p := in[i*3 : i*3+3 : i*3+3]
		out[i] = cbrt(0.265*p[0] + 0.657*p[1] + 0.078*p[2])
	}
}

// toPlanes converts m to perceptual planes: luma at full size (w×h), and
// the X and B−Y chroma planes at half size ((w/2)×(h/2)), computed from
// the mean linear light of each 2×2 block. Chroma detail finer than two
// pixels is hardly visible (it is what 4:2:0 subsampling drops), and
// leaving it out halves the metric's cost.
func toPlanes(m Image, bg int) (y, x, bmy []float32) {
	w, h := m.Width, m.Height
	hw, hh := w/2, h/2
	y = make([]float32, w*h)
	x = make([]float32, hw*hh)
	bmy = make([]float32, hw*hh)
	l0 := make([]float32, 3*w)
	l1 := make([]float32, 3*w)
	for j := range hh {
		linearRow(m, 2*j, bg, l0)
		linearRow(m, 2*j+1, bg, l1)
		lumaRow(l0, y[2*j*w:2*j*w+w])
		lumaRow(l1, y[(2*j+1)*w:(2*j+1)*w+w])
		ox, ob := x[j*hw:j*hw+hw], bmy[j*hw:j*hw+hw]
		for i := range ox {
			a := l0[6*i : 6*i+6 : 6*i+6]
			c := l1[6*i : 6*i+6 : 6*i+6]
			r := 0.25 * (a[0] + a[3] + c[0] + c[3])
			g := 0.25 * (a[1] + a[4] + c[1] + c[4])
			b := 0.25 * (a[2] + a[5] + c[2] + c[5])
			l := cbrt(0.30*r + 0.622*g + 0.078*b)
			mm := cbrt(0.23*r + 0.692*g + 0.078*b)
			s := cbrt(0.24342268924547819*r + 0.20476744424496821*g + 0.55180986650955360*b)
			ox[i] = xScale * 0.5 * (l - mm)
			ob[i] = s - 0.5*(l+mm)
		}
	}
	if h%2 == 1 {
		linearRow(m, h-1, bg, l0)
		lumaRow(l0, y[(h-1)*w:])
	}
	return y, x, bmy
}

// cbrt returns ∛(x + opsinBias) − ∛opsinBias for x in [0, 1] (the cone
// mixes of toPlanes have weights summing to 1, so x stays in range; a
// rounding excess lands on the table's last entry).
func cbrt(x float32) float32 {
	f := x * cbrtSteps
	i := uint(f) & (1<<13 - 1)
	lo := cbrtTable[i]
	return lo + (f-float32(i))*(cbrtTable[i+1&(1<<13-1)]-lo)
}
