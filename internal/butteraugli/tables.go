package butteraugli

import "math"

// Model constants of the butteraugli version this package matches. Each was
// checked against the doubles stored in the Debian binary's .rodata/.data.

// The masks are scaled by the square of 1/14.921561160295326, which puts
// the "just noticeable" level at distance 1. Rounded step by step at run
// time, as in the binary.
var (
	globalScale = 1 / goodQuality
	maskScale   = globalScale * globalScale
	goodQuality = 14.921561160295326
)

// Opsin absorbance: three cone-like mixes of linear RGB (0–255) with a bias.
var opsinMix = [3][4]float64{
	{0.348036746003, 0.577814843137, 0.0544556093735, 0.774145581713},
	{0.26922717275, 0.767247733938, 0.0366922708552, 0.920130265014},
	{0.0882062883536, 0.158581714673, 0.712857943858, 10.6524069248},
}

// Opponent mix of the first two absorbances into X (red–green) and Y.
const (
	xybA0 = 1.01611726948
	xybA1 = 0.982482243696
	xybA2 = 1.43571362627
	xybA3 = 0.896039849412
)

// The gamma response is a rational function of degree 5/5 in Chebyshev
// polynomials over [gammaMin, gammaMax].
var (
	gammaMin, gammaMax = 0.77, 274.579999999999984
	gammaNum           = [6]float64{881.979476556478289, 1496.058452015812463, 908.662212739659481, 373.566100223287378, 85.840860336314364, 6.683258861509244}
	gammaDen           = [6]float64{12.262350348616792, 20.557285797683576, 12.161463238367844, 4.711532733641639, 0.899112889751053, 0.035662329617191}
)

// Blur widths.
const (
	opsinSigma   = 1.1
	lowFreqSigma = 14.0
	diffmapSigma = 8.8510880283
)

var (
	edgeSigma = [3]float64{1.5, 0.586, 0.4}
	maskSigma = [3]float64{9.65781083553, 14.2644604355, 4.53358927369}
)

// Masking of pixels next to large intensity changes.
const (
	reduceX       = 275.19165240059317
	reduceY       = 18599.41286306991
	reduceZ       = 410.8995306951065
	chromaBalance = 106.95800948271017
)

// csf holds the contrast sensitivity weights of the 8×8 block spectrum,
// indexed kx*8+ky for the 33 coefficients used (4..36); csf[0] weighs the
// block's mean difference.
var csf = [37]float64{
	5.28270670524, 0, 0, 0,
	0.3831134973, 0.676303603859, 3.58927792424, 18.6104367002,
	18.6104367002, 3.09093131948, 1.0, 0.498250875965,
	0.36198671102, 0.308982169883, 0.1312701920435, 2.37370549629,
	3.58927792424, 1.0, 2.37370549629, 0.991205724152,
	1.05178802919, 0.627264168628, 0.4, 0.1312701920435,
	0.676303603859, 0.498250875965, 0.991205724152, 0.5,
	0.3831134973, 0.349686450518, 0.627264168628, 0.308982169883,
	0.3831134973, 0.36198671102, 1.05178802919, 0.3831134973,
	0.12,
}

// Block spectrum weights.
const (
	spectrumScale = 0.000064 // applied to every squared magnitude
	acMulX        = 64.8
	acMulY        = 1.753123908348329
	acMulY2       = 1.51983458269
	acMulZ        = 2.4
	acDeadY       = 0.04 // Y amplitudes this close to zero count as zero
)

// Low-frequency colour weights (XybLowFreqToVals).
const (
	lfMulX = 6.64482198135
	lfMulY = 0.837846224276
	lfMulZ = 7.34905756986
	lfYToZ = 0.0812519812628
)

// High-frequency colour weights (for the masking activity).
const (
	hfMulX = 0.758304045695
	hfMulY = 2.28148649801
	hfMulZ = 1.87816926918
)

// Corner edge detector.
const (
	edgeW     = 0.711100840192
	edgeScale = 0.01617112696 * 8.0
	edgeStep  = 3
)

// Low-frequency edge detector.
const lowFreqMul = 10.0

// Masking activity weights per channel.
var maskW = [3]float64{232.206464018, 22.9455222245, 503.962310606}

// The 3×3 averaging of the masking activity: diagonal weight and norm,
// both single precision in the binary.
var (
	avgDiag  = float32(0.679144890667)
	avgScale = float32(1.0 / (5.0 + float64(4*avgDiag)))
)

// Final diffmap: the map is blurred, added to itself and renormalised.
const (
	diffmapMul    = 24.8235314874
	diffmapBorder = 0.03027655136
)

var diffmapScale = 1 / (1 + diffmapMulVar)

var diffmapMulVar float64 = diffmapMul

// ramp returns a 21-entry table that starts 0, first, then grows by inc,
// accumulated entry by entry as the binary builds it.
func ramp(first, inc float64) lut {
	t := make(lut, 21)
	t[1] = first
	for i := 2; i < len(t); i++ {
		t[i] = t[i-1] + inc
	}
	return t
}

var (
	hfDx = ramp(11.38708334481672, 14.550189611520716)
	hfDy = ramp(1.4103373714040413, 0.7084088867024)
	lfDy = ramp(5.2511644570349185, 5.2511644570349185)
)

// lut is a table read with linear interpolation between integer arguments;
// arguments at or past its last entry read that entry.
type lut []float64

// at reads t at a ≥ 0.
func (t lut) at(a float64) float64 {
	i := int(a)
	if i >= len(t)-1 {
		return t[len(t)-1]
	}
	return t[i] + (a-float64(i))*(t[i+1]-t[i])
}

// odd reads t at |v| and gives the result the sign of v (without a
// branch: the sign of image differences is unpredictable).
func (t lut) odd(v float64) float64 {
	return math.Copysign(t.at(math.Abs(v)), v)
}

// clamped reads t at v, negative v reading as 0.
func (t lut) clamped(v float64) float64 {
	if v < 0 {
		v = 0
	}
	return t.at(v)
}

// maskCurve tabulates the masking response at 512 activity levels:
// (1 + extMul·(mul/(k·i + offset) + extOff))², k = scaler/100.
func maskCurve(extMul, extOff, offset, scaler, mul float64) lut {
	t := make(lut, 512)
	k := 0.01 * scaler
	for i := range t {
		v := 1 + extMul*(mul/(k*float64(i)+offset)+extOff)
		t[i] = v * v
	}
	return t
}

// Masking responses: AC per channel, then DC per channel.
var (
	maskAC = [3]lut{
		maskCurve(0.975741017749, -4.25328244168, 0.454909521427, 0.0738288224836, 20.8029176447),
		maskCurve(0.373995618954, 1.5307267433, 0.911952641929, 1.1731667845, 16.2447033988),
		maskCurve(0.61582234137, -4.25376118646, 1.05105070921, 0.47434643535, 31.1444967089),
	}
	maskDC = [3]lut{
		maskCurve(1.79116943438, -3.86797479189, 0.670960225853, 0.486575865525, 20.4563479139),
		maskCurve(0.212223514236, -3.65647120524, 1.73396799447, 0.170392660501, 21.6566724788),
		maskCurve(0.349376011816, -0.894711072781, 0.901647926679, 0.380086095024, 18.0373825149),
	}
)

// lowFreqVals maps an XYB difference to the low-frequency "vals" space,
// where squared components measure visibility.
func lowFreqVals(x, y, z float64) (vx, vy, vz float64) {
	z += lfYToZ * y
	return x * lfMulX, lfDy.odd(y * lfMulY), z * lfMulZ
}

// srgbToLinear maps 8-bit sRGB to linear light scaled to 0–255.
var srgbToLinear = func() (t [256]float32) {
	for i := range t {
		v := float64(i) / 255
		if v <= 0.04045 {
			v /= 12.92
		} else {
			v = math.Pow((v+0.055)/1.055, 2.4)
		}
		t[i] = float32(255 * v)
	}
	return t
}()
