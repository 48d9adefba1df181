package butteraugli

import (
	"math"

	"github.com/imagediet/imgdiet/internal/metric"
)

// The per-image-pair pipeline after the opsin transform. Cells are the
// positions of the 3-pixel grid at which 8×8 blocks are compared: cell
// (bx, by) has its block at (min(3bx, w−8), min(3by, h−8)) and reads the
// masks at pixel (3bx+3, 3by+3).

// cells returns the number of cells along an axis of n pixels.
func cells(n int) int { return (n - 3) / 3 }

// work is the scratch of one comparison. The comparison runs as a stream
// of image rows: each stage keeps in a ring the last rows its consumers
// still need and computes more on demand, so that no stage holds a whole
// image. Only the per-cell differences are kept for the whole image.
type work struct {
	w, h int
	f    *filters
	// The comparison's inputs: the distorted image over the background
	// level bg and the reference's opsin planes.
	img metric.Image
	bg  int
	c0  *[3][]float32

	lin   *ring // linear RGB of the distorted image (3 runs of w)
	c1    *ring // its opsin XYB
	m     *ring // both images after intensity masking: m0 XYZ, m1 XYZ
	act   *ring // masking activity, 3 runs
	avg   *ring // its 3×3 average
	mn    *ring // the 4×4 minimum of that
	edge  [6]*ring
	lf    [6]*ring
	mask  [3]*ring
	dm    *ring
	rings []*ring // every ring, for reset

	opsinBlur       [3]*blurStream
	blurRow         []float32 // 3 runs of w
	minTmp          []float32
	rowDFT          [][8][8][nSig]float64
	dc, ac, edgeRow []float32 // 3 per cell of a cell row
	cell            *ring     // the cells' distances
	held            [8]int    // image row held by each slot of rowDFT
	pmSrc, pmRow    []float32
	// limit ends a comparison early: once the map's maximum so far
	// exceeds it, the distance is known to exceed it too.
	limit float64
}

// Rows kept by the rings whose consumers are furthest apart: the masked
// images (m), between the block comparison and the low-frequency and
// masking blurs 2.25σ = 32 rows ahead, the masking minimum (mn), between
// the masking blurs of different widths, and the cell map (cell), between
// the final blur and the map. Over every height from 8 to 399 they need at
// most 40, 33 and 8 rows; a shortfall panics (TestHeights).
const (
	mRows    = 48
	mnRows   = 40
	cellRows = 12
)

func newWork(w, h int, f *filters) *work {
	k := &work{w: w, h: h, f: f}
	mk := func(size, n, max int, fill func(int, []float32)) *ring {
		r := newRing(size, n, max, fill)
		k.rings = append(k.rings, r)
		return r
	}
	// Streams with the same blur and axis share their normalisations.
	type scaleKey struct {
		g *gauss
		a axis
		n int
	}
	norms := map[scaleKey][]float64{}
	scales := func(g *gauss, a axis, n int) []float64 {
		key := scaleKey{g, a, n}
		if s, ok := norms[key]; ok {
			return s
		}
		s := g.scales(a, n, nil)
		norms[key] = s
		return s
	}
	stream := func(g *gauss, w, h int, xs, ys axis, src func(int) []float32) *blurStream {
		b := newBlurStream(g, w, h, xs, ys, src, scales)
		k.rings = append(k.rings, b.hor)
		return b
	}
	// blurred returns a ring of the rows of b's output.
	blurred := func(b *blurStream, n int) *ring {
		return mk(b.xs.n, n, b.ys.n, b.row)
	}
	run := func(r **ring, c int) func(int) []float32 {
		return func(y int) []float32 { return (*r).row(y)[c*w : (c+1)*w] }
	}

	k.lin = mk(3*w, 4, h, func(y int, dst []float32) { linearizeRow(k.img, k.bg, y, dst) })
	for c := range 3 {
		k.opsinBlur[c] = stream(f.opsin, w, h, f.allXs, f.allYs, run(&k.lin, c))
	}
	k.blurRow = make([]float32, 3*w)
	k.c1 = mk(3*w, 4, h, k.opsinRow)
	k.m = mk(6*w, mRows, h, func(y int, dst []float32) {
		maskIntensityRow(k.c0, k.c1.row, y, w, h, dst)
	})
	k.act = mk(3*w, 4, h, func(y int, dst []float32) {
		var row, next []float32
		if y+1 < h {
			next = k.m.row(y + 1)
			row = k.m.row(y)
		} else {
			row = k.m.row(y)
			next = k.m.row(y - 1)
		}
		activityRow(row, next, w, dst)
	})
	k.avg = mk(3*w, 5, h, func(y int, dst []float32) {
		var above, below []float32
		if y+1 < h {
			below = k.act.row(y + 1)
		}
		cur := k.act.row(y)
		if y > 0 {
			above = k.act.row(y - 1)
		}
		for c := range 3 {
			average3x3Row(run3(above, c, w), cur[c*w:(c+1)*w], run3(below, c, w), dst[c*w:(c+1)*w], w)
		}
	})
	k.minTmp = make([]float32, w)
	var rows [4][]float32
	k.mn = mk(3*w, mnRows, h, func(y int, dst []float32) {
		hi := min(h, y+4)
		k.avg.row(hi - 1)
		for c := range 3 {
			for j := y; j < hi; j++ {
				rows[j-y] = k.avg.row(j)[c*w : (c+1)*w]
			}
			min4x4Row(rows[:hi-y], k.minTmp, dst[c*w:(c+1)*w], w)
		}
	})
	for c := range 3 {
		k.mask[c] = blurred(stream(f.mask[c], w, h, f.maskXs[c], f.maskYs[c], run(&k.mn, c)), 2)
	}
	for c := range 6 {
		k.edge[c] = blurred(stream(f.edge[c%3], w, h, f.allXs, f.allYs, run(&k.m, c)), 16)
		k.lf[c] = blurred(stream(f.lowFreq, w, h, f.lfXs, f.lfYs, run(&k.m, c)), 4)
	}
	ncx, ncy := cells(w), cells(h)
	k.rowDFT = make([][8][8][nSig]float64, ncx)
	k.dc = make([]float32, 3*ncx)
	k.ac = make([]float32, 3*ncx)
	k.edgeRow = make([]float32, 3*ncx)
	k.cell = mk(ncx, cellRows, ncy, k.cellRow)
	// The final map over pixels (2…w−4, 2…h−4).
	mw, mh := w-5, h-5
	k.pmSrc = make([]float32, mw)
	k.pmRow = make([]float32, mw)
	dm := stream(f.diffmap, mw, mh, f.dmXs, f.dmYs, func(y int) []float32 {
		k.mapRow(y, k.pmSrc)
		return k.pmSrc
	})
	k.dm = blurred(dm, 2)
	return k
}

// run3 returns the run c (of w values) of a 3-run row, nil for nil.
func run3(row []float32, c, w int) []float32 {
	if row == nil {
		return nil
	}
	return row[c*w : (c+1)*w]
}

// start prepares k for comparing img over the background level bg with
// the reference planes c0 (nil when computing a reference).
func (k *work) start(img metric.Image, bg int, c0 *[3][]float32) {
	k.img, k.bg, k.c0 = img, bg, c0
	for _, r := range k.rings {
		r.next = 0
	}
	for i := range k.held {
		k.held[i] = -1
	}
}

// opsinRow computes row y of the distorted image's opsin planes into dst.
func (k *work) opsinRow(y int, dst []float32) {
	w := k.w
	for c := range 3 {
		k.opsinBlur[c].row(y, k.blurRow[c*w:(c+1)*w])
	}
	opsinRow(k.lin.row(y), k.blurRow, dst, w)
}

// filters are the blurs a comparison uses, with their evaluation grids.
type filters struct {
	opsin   *gauss
	edge    [3]*gauss
	lowFreq *gauss
	mask    [3]*gauss
	diffmap *gauss
	// Columns and rows at which each mask blur is evaluated, and for each
	// cell the index of its centre's column and row among them.
	maskXs, maskYs     [3]axis
	maskXIdx, maskYIdx [3][]int
	lfXs, lfYs         axis
	dmXs, dmYs         axis
	// Every column and row, for the blurs evaluated at each pixel.
	allXs, allYs axis
}

func newFilters(w, h int) *filters {
	f := &filters{
		opsin:   newGauss(opsinSigma, 0),
		lowFreq: newGauss(lowFreqSigma, 0),
		diffmap: newGauss(diffmapSigma, diffmapBorder),
	}
	for c := range 3 {
		f.edge[c] = newGauss(edgeSigma[c], 0)
		f.mask[c] = newGauss(maskSigma[c], 0)
		f.maskXs[c], f.maskXIdx[c] = centres(f.mask[c].step, cells(w))
		f.maskYs[c], f.maskYIdx[c] = centres(f.mask[c].step, cells(h))
	}
	f.lfXs, f.lfYs = f.lowFreq.grid(w), f.lowFreq.grid(h)
	f.allXs, f.allYs = f.opsin.grid(w), f.opsin.grid(h)
	f.dmXs, f.dmYs = f.diffmap.grid(w-5), f.diffmap.grid(h-5)
	return f
}

// centres returns the positions at which a blur of the given step must be
// evaluated to give its value at the n cell centres 3, 6, …, 3n (the binary
// repeats the value at each multiple of step over the next step−1 pixels),
// and for each centre the index of its position.
func centres(step, n int) (a axis, idx []int) {
	idx = make([]int, n)
	if step == 1 {
		for i := range idx {
			idx[i] = i
		}
		return axis{3, 3, n}, idx
	}
	lo := 3 / step
	for i := range idx {
		idx[i] = 3*(i+1)/step - lo
	}
	return axis{lo * step, step, 3*n/step - lo + 1}, idx
}

// compare returns the butteraugli distance between the reference's opsin
// planes and those of the image k was started on (w×h, at least 8×8).
func (k *work) compare() float64 { return k.score() }

// cellRow computes the distances of cell row by into cell.
func (k *work) cellRow(by int, cell []float32) {
	w, h, f := k.w, k.h, k.f
	ncx := len(cell)
	y0 := min(3*by, h-8)
	for y := y0; y < y0+8; y++ {
		if k.held[y%8] != y {
			k.held[y%8] = y
			rowSpectra(k.m.row(y), w, y, ncx, k.rowDFT)
		}
	}
	blockRow(ncx, k.rowDFT, k.dc, k.ac)
	if 3*by+8 < h {
		k.lowFreqRow(by, ncx)
	}
	k.edgeDiff(by, ncx)
	var mr [3][]float32
	for c := range 3 {
		mr[c] = k.mask[c].row(f.maskYIdx[c][by])
	}
	for bx := range cell {
		var acM, dcM [3]float32
		for c := range 3 {
			p := maskW[c] * float64(mr[c][f.maskXIdx[c][bx]])
			acM[c] = float32(float64(float32(maskAC[c].clamped(p))) * maskScale)
			dcM[c] = float32(float64(float32(maskDC[c].clamped(p))) * maskScale)
		}
		j := 3 * bx
		var a, b, e float64
		for c := range 3 {
			a += float64(k.dc[j+c]) * float64(dcM[c])
		}
		for c := range 3 {
			b += float64(k.ac[j+c]) * float64(acM[c])
		}
		for c := range 3 {
			e += float64(k.edgeRow[j+c]) * float64(acM[c])
		}
		// The cell's distance.
		if v := float32(a + b + e); float64(v) < 1.0/(100*100) {
			cell[bx] = 100 * v
		} else {
			cell[bx] = float32(math.Sqrt(float64(v)))
		}
	}
}

// edgeDiff compares, at the four corners of the blocks of cell row by, the
// horizontal and vertical differences across ±3 pixels of the two images
// after a light per-channel blur, into k.edgeRow.
func (k *work) edgeDiff(by, ncx int) {
	w, h := k.w, k.h
	const s = edgeStep
	py := min(3*by, h-8)
	// The blurred rows py−s … py+7+s that exist.
	lo, hi := max(0, py-s), min(h, py+8+s)
	var rows [8 + 2*s][6][]float32
	for c := range 6 {
		k.edge[c].row(hi - 1)
		for y := lo; y < hi; y++ {
			rows[y-lo][c] = k.edge[c].row(y)
		}
	}
	// add accumulates the squared low-frequency difference of the steps
	// from pixel (xi, yi) to pixel (xj, yj) in the two images.
	add := func(xi, yi, xj, yj int, acc *[3]float64) {
		a, b := &rows[yi-lo], &rows[yj-lo]
		v0x, v0y, v0z := lowFreqVals(edgeW*float64(a[0][xi]-b[0][xj]), edgeW*float64(a[1][xi]-b[1][xj]), edgeW*float64(a[2][xi]-b[2][xj]))
		v1x, v1y, v1z := lowFreqVals(edgeW*float64(a[3][xi]-b[3][xj]), edgeW*float64(a[4][xi]-b[4][xj]), edgeW*float64(a[5][xi]-b[5][xj]))
		acc[0] += sq(v0x - v1x)
		acc[1] += sq(v0y - v1y)
		acc[2] += sq(v0z - v1z)
	}
	for bx := range ncx {
		px := min(3*bx, w-8)
		var acc [3]float64
		n := 0
		for _, o := range [4][2]int{{0, 0}, {0, 7}, {7, 0}, {7, 7}} {
			x, y := px+o[0], py+o[1]
			if x >= s && x+s < w {
				add(x-s, y, x+s, y, &acc)
				n++
			}
			if y >= s && y+s < h {
				add(x, y-s, x, y+s, &acc)
				n++
			}
		}
		mul := edgeScale / float64(n)
		for c := range 3 {
			k.edgeRow[3*bx+c] = float32(mul * acc[c])
		}
	}
}

// lowFreqRow adds to the AC differences of cell row by the largest of four
// differences between the two images' strongly blurred (σ 14) changes
// across 8 pixels. As in the binary, the result of the block at (x, y)
// goes to the cell two to its right.
func (k *work) lowFreqRow(by, ncx int) {
	w := k.w
	st := k.f.lowFreq.step
	y := 3 * by
	// The blurred rows y/st … (y+8)/st.
	lo, hi := y/st, (y+8)/st+1
	var rows [4][6][]float32
	for c := range 6 {
		k.lf[c].row(hi - 1)
		for j := lo; j < hi; j++ {
			rows[j-lo][c] = k.lf[c].row(j)
		}
	}
	for x, cx := 0, 2; x+8 < w && cx < ncx; x, cx = x+3, cx+1 {
		p := [2]int{x / st, y/st - lo}
		q := [4][2]int{{(x + 8) / st, y/st - lo}, {x / st, (y+8)/st - lo}, {(x + 6) / st, (y+6)/st - lo}, {-1, 0}}
		if x >= 8 {
			q[3] = [2]int{(x - 6) / st, (y+6)/st - lo}
		}
		r := &rows[p[1]]
		var worst [3]float64
		for _, j := range q {
			var d [3]float64
			if j[0] >= 0 {
				s := &rows[j[1]]
				for c := range 3 {
					d[c] = float64((r[3+c][p[0]] - r[c][p[0]]) + (s[c][j[0]] - s[3+c][j[0]]))
				}
			}
			vx, vy, vz := lowFreqVals(d[0], d[1], d[2])
			worst[0] = max(worst[0], vx*vx)
			worst[1] = max(worst[1], vy*vy)
			worst[2] = max(worst[2], vz*vz)
		}
		cell := 3 * cx
		for c := range 3 {
			k.ac[cell+c] = float32(float64(k.ac[cell+c]) + lowFreqMul*worst[c])
		}
	}
}

// mapRow writes row y of the final map over pixels (2…w−4, 2…h−4): cell
// (x/3, y/3) at (x+2, y+2).
func (k *work) mapRow(y int, dst []float32) {
	cr := k.cell.row(y / 3)
	for x := range dst {
		dst[x] = cr[x/3]
	}
}

// score spreads each cell's distance over its 3×3 pixels, adds a blur of
// that map to it and returns the largest value.
func (k *work) score() float64 {
	st := k.f.diffmap.step
	var best float32
	for y := range k.h - 5 {
		cr := k.dm.row(y / st)
		k.mapRow(y, k.pmRow)
		for x, v := range k.pmRow {
			t := float32(float64(v) + diffmapMul*float64(cr[x/st]))
			best = max(best, t)
		}
		if d := float64(float32(float64(best) * diffmapScale)); d > k.limit {
			return d
		}
	}
	return float64(float32(float64(best) * diffmapScale))
}
