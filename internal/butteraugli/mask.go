package butteraugli

import "math"

// maskIntensityRow pulls both images towards their mean where Y changes
// steeply between neighbours (such changes hide colour and brightness
// differences next to them). It writes row y of the results for the
// reference c0 (w×h planes) and the distorted image into dst: m0's X, Y, Z
// then m1's, w values each. c1 returns a row of the distorted image (X, Y,
// Z runs); it is asked for rows y+1, y and y−1, in that order.
func maskIntensityRow(c0 *[3][]float32, c1 func(y int) []float32, y, w, h int, dst []float32) {
	// ay returns the row yy of Y0 + Y1.
	var above, below []float32
	var aboveD, belowD []float32
	if y+1 < h {
		belowD = c1(y + 1)[w : 2*w]
		below = c0[1][(y+1)*w : (y+2)*w]
	}
	cur := c1(y)
	if y > 0 {
		aboveD = c1(y - 1)[w : 2*w]
		above = c0[1][(y-1)*w : y*w]
	}
	o := y * w
	r0 := [3][]float32{c0[0][o : o+w], c0[1][o : o+w], c0[2][o : o+w]}
	r1 := [3][]float32{cur[:w], cur[w : 2*w], cur[2*w : 3*w]}
	// The vector kernel takes the pixels with four neighbours, four at a
	// time.
	lo, hi := 0, 0
	if haveAVX2 && y > 0 && y+1 < h && w >= 6 {
		lo, hi = 1, 1+(w-2)&^3
		p := [11]*float32{&r0[0][0], &r0[1][0], &r0[2][0], &r1[0][0], &r1[1][0], &r1[2][0],
			&above[0], &aboveD[0], &below[0], &belowD[0], &dst[0]}
		maskInt4(&p, w, lo, hi, &maskK)
	}
	for x := 0; x < w; x++ {
		if x == lo && hi > lo {
			if x = hi; x >= w {
				break
			}
		}
		mid := 0.5 * float64(r0[1][x]+r1[1][x])
		worst := -1.0
		if x > 0 {
			worst = max(worst, sq(0.5*float64(r0[1][x-1]+r1[1][x-1])-mid))
		}
		if x+1 < w {
			worst = max(worst, sq(0.5*float64(r0[1][x+1]+r1[1][x+1])-mid))
		}
		if y > 0 {
			worst = max(worst, sq(0.5*float64(above[x]+aboveD[x])-mid))
		}
		if y+1 < h {
			worst = max(worst, sq(0.5*float64(below[x]+belowD[x])-mid))
		}
		chroma := chromaBalance / (mid + chromaBalance)
		mix := [3]float64{
			chroma * reduceX / (worst + reduceX),
			reduceY / (worst + reduceY),
			chroma * reduceZ / (worst + reduceZ),
		}
		for c := range 3 {
			a, b := r0[c][x], r1[c][x]
			m := 0.5 * float64(a+b)
			dst[c*w+x] = float32(mix[c]*float64(a) + (1-mix[c])*m)
			dst[(3+c)*w+x] = float32(mix[c]*float64(b) + (1-mix[c])*m)
		}
	}
}

func sq(v float64) float64 { return v * v }

// maskK holds the constants of maskIntensityRow for maskInt4, each in 4
// lanes.
var maskK = func() (k [7][4]float64) {
	for i, c := range []float64{0.5, -1, chromaBalance, reduceX, reduceY, reduceZ, 1} {
		k[i] = [4]float64{c, c, c, c}
	}
	return k
}()

// activityRow writes into dst (X, Y, Z runs of w values), per channel, the
// local contrast that masks differences at row y: the smaller over the two
// images of the summed absolute horizontal and vertical high-frequency
// differences at each pixel (the last column and row take their
// differences backwards). row is the row y of the masked images (m0's X,
// Y, Z then m1's) and next the row below it (above it for the last row).
func activityRow(row, next []float32, w int, dst []float32) {
	var r0, r1, b0, b1 [3][]float32
	for c := range 3 {
		r0[c], r1[c] = row[c*w:(c+1)*w], row[(3+c)*w:(4+c)*w]
		b0[c], b1[c] = next[c*w:(c+1)*w], next[(3+c)*w:(4+c)*w]
	}
	ax, ay, az := dst[:w], dst[w:2*w], dst[2*w:3*w]
	for x := range w {
		n := x + 1
		if n >= w {
			n = x - 1
		}
		s0 := support(r0[0][x]-r0[0][n], r0[1][x]-r0[1][n], r0[2][x]-r0[2][n],
			r0[0][x]-b0[0][x], r0[1][x]-b0[1][x], r0[2][x]-b0[2][x])
		s1 := support(r1[0][x]-r1[0][n], r1[1][x]-r1[1][n], r1[2][x]-r1[2][n],
			r1[0][x]-b1[0][x], r1[1][x]-b1[1][x], r1[2][x]-b1[2][x])
		ax[x] = float32(min(s0[0], s1[0]))
		ay[x] = float32(min(s0[1], s1[1]))
		az[x] = float32(min(s0[2], s1[2]))
	}
}

// support maps one image's horizontal and vertical differences at a pixel
// to the high-frequency "vals" space (X and Y through tables, Z linearly)
// and returns per channel the sum of their magnitudes.
func support(hx, hy, hz, vx, vy, vz float32) [3]float64 {
	return [3]float64{
		hfDx.at(math.Abs(float64(hx)*hfMulX)) + hfDx.at(math.Abs(float64(vx)*hfMulX)),
		hfDy.at(math.Abs(float64(hy)*hfMulY)) + hfDy.at(math.Abs(float64(vy)*hfMulY)),
		math.Abs(hfMulZ*float64(hz)) + math.Abs(hfMulZ*float64(vz)),
	}
}

// average3x3Row writes into dst the weighted 3×3 average of a row src of
// w values (w at least 4) with the rows above and below it (nil at the
// image's border): weight 1 for the centre and the 4 nearest, avgDiag for
// the diagonals, normalised by the full kernel's sum even at the border.
// The terms are summed in single precision in the binary's order: the row
// above left to right, the left and right neighbours, the row below.
func average3x3Row(above, src, below, dst []float32, w int) {
	for x := range w {
		s := src[x]
		if above != nil {
			s = addNeighbours(s, above, x, w)
		}
		if x > 0 {
			s += src[x-1]
		}
		if x+1 < w {
			s += src[x+1]
		}
		if below != nil {
			s = addNeighbours(s, below, x, w)
		}
		dst[x] = s * avgScale
	}
}

// addNeighbours adds to s, in this order, the diagonal-weighted left
// neighbour, the pixel and the diagonal-weighted right neighbour of x in
// the row r (w wide), as average3x3Row sums the rows above and below.
func addNeighbours(s float32, r []float32, x, w int) float32 {
	if x > 0 {
		s += r[x-1] * avgDiag
	}
	s += r[x]
	if x+1 < w {
		s += r[x+1] * avgDiag
	}
	return s
}

// min4x4Row writes into dst the minimum over the 4×4 squares whose top
// left is each pixel of a row, given the rows from it downwards (up to
// four, clipped to the image); tmp is scratch of w values.
func min4x4Row(rows [][]float32, tmp, dst []float32, w int) {
	copy(tmp[:w], rows[0][:w])
	for _, r := range rows[1:] {
		for x, v := range r[:w] {
			tmp[x] = min(tmp[x], v)
		}
	}
	for x := range w {
		hi := min(w, x+4)
		m := tmp[x]
		for j := x + 1; j < hi; j++ {
			m = min(m, tmp[j])
		}
		dst[x] = m
	}
}
