package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"log"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/imagediet/imgdiet/internal/metric"
)

// tunePoint is a kept encoding with its decoded pixels and pooled errors.
type tunePoint struct {
	dataPoint
	ref  *metric.Image
	pix  []byte
	feat metric.Report
}

// tuneJob is the kept points of one image and codec, by quality.
type tuneJob struct {
	pts    []*tunePoint
	oracle []int
	codec  coder
}

// tune loads the encodings kept by -data and searches the metric's weights
// (and a few structural settings) that bring the product's picks closest
// to the oracle's bytes while staying safe on every image. It prints what
// it finds; DefaultConfig is then edited by hand.
func tune(dir string, base metric.Config) error {
	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return err
	}
	var idx []dataPoint
	if err := json.Unmarshal(b, &idx); err != nil {
		return err
	}
	refs := map[string]*metric.Image{}
	var pts []*tunePoint
	for _, d := range idx {
		ref := refs[d.Ref]
		if ref == nil {
			m, err := readRef(filepath.Join(dir, d.Ref))
			if err != nil {
				return err
			}
			ref = &m
			refs[d.Ref] = ref
		}
		buf, err := os.ReadFile(filepath.Join(dir, d.File))
		if err != nil {
			return err
		}
		pix, err := decode(buf, ref.Bands)
		if err != nil {
			return err
		}
		pts = append(pts, &tunePoint{dataPoint: d, ref: ref, pix: pix})
	}
	jobs := map[string]*tuneJob{}
	for _, p := range pts {
		k := p.Image + "|" + p.Codec
		j := jobs[k]
		if j == nil {
			j = &tuneJob{oracle: p.Oracle}
			for _, c := range codecs {
				if c.Name == p.Codec {
					j.codec = c
				}
			}
			jobs[k] = j
		}
		j.pts = append(j.pts, p)
	}
	var list []*tuneJob
	for _, j := range jobs {
		slices.SortFunc(j.pts, func(a, b *tunePoint) int { return a.Q - b.Q })
		list = append(list, j)
	}
	log.Printf("tune: %d points, %d jobs", len(pts), len(list))

	if os.Getenv("TUNE_EVAL") != "" {
		// Evaluate base as it is: thresholds (before margin) and estimated bytes.
		features(pts, base)
		fmt.Printf("cost %.4f\n", costv(list, base, true))
		return nil
	}
	vs := variants(base)
	if os.Getenv("TUNE_VERBOSE") != "" {
		vs = vs[:1]
	}
	if os.Getenv("TUNE_QUICK") != "" {
		vs = []variant{vs[0], vs[2], vs[4]}
	}
	for _, v := range vs {
		features(pts, v.cfg)
		w, score := fitWeights(list, v.cfg)
		fmt.Printf("%-28s cost %.4f  (default weights %.4f)\n  weights %s\n", v.name, score, cost(list, v.cfg), w)
		if os.Getenv("TUNE_VERBOSE") != "" {
			c := v.cfg
			w.apply(&c)
			costv(list, c, true)
		}
	}
	return nil
}

type variant struct {
	name string
	cfg  metric.Config
}

func variants(base metric.Config) []variant {
	out := []variant{{"default", base}}
	for _, c2 := range []float64{0.0001, 0.0003, 0.003} {
		c := base
		c.C2[metric.ChanY] = c2
		out = append(out, variant{fmt.Sprintf("C2y=%g", c2), c})
	}
	for _, k := range []float64{0, 1000} {
		c := base
		c.MeanK = [3]float64{k, k, k}
		out = append(out, variant{fmt.Sprintf("MeanK=%g", k), c})
	}
	return out
}

func readRef(p string) (metric.Image, error) {
	f, err := os.Open(p)
	if err != nil {
		return metric.Image{}, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return metric.Image{}, err
	}
	n := image.NewNRGBA(img.Bounds())
	draw.Draw(n, n.Rect, img, img.Bounds().Min, draw.Src)
	w, h := n.Rect.Dx(), n.Rect.Dy()
	opaque := true
	for i := 3; i < len(n.Pix); i += 4 {
		if n.Pix[i] != 255 {
			opaque = false
			break
		}
	}
	if !opaque {
		return metric.Image{Pix: n.Pix, Width: w, Height: h, Bands: 4}, nil
	}
	pix := make([]byte, w*h*3)
	for i := range w * h {
		copy(pix[i*3:], n.Pix[i*4:i*4+3])
	}
	return metric.Image{Pix: pix, Width: w, Height: h, Bands: 3}, nil
}

func features(pts []*tunePoint, c metric.Config) {
	var wg sync.WaitGroup
	ch := make(chan *tunePoint)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range ch {
				d := *p.ref
				d.Pix = p.pix
				r, err := c.Analyze(*p.ref, d)
				if err != nil {
					log.Fatal(err)
				}
				p.feat = r
			}
		}()
	}
	for _, p := range pts {
		ch <- p
	}
	close(ch)
	wg.Wait()
}

// cost estimates, for config c, the bytes of the product's picks over the
// oracle's, summed over the corpus, for the balanced and high targets with
// per-codec thresholds. Distance and log bytes are interpolated linearly
// in quality between kept points.
func cost(jobs []*tuneJob, c metric.Config) float64 {
	return costv(jobs, c, false)
}

func costv(jobs []*tuneJob, c metric.Config, verbose bool) float64 {
	var total float64
	tns := []string{metric.TargetBalanced, metric.TargetHigh}
	if verbose {
		tns = append(tns, metric.TargetSmall)
	}
	for _, tn := range tns {
		t := indexOf(tn)
		th := map[string]float64{}
		for _, j := range jobs {
			q := j.oracle[t]
			if q <= j.codec.Lo || q > j.codec.Hi {
				continue
			}
			d, ok := j.at(q-1, c)
			if !ok {
				continue
			}
			if v, seen := th[j.codec.Name]; !seen || d < v {
				th[j.codec.Name] = d
				if verbose {
					fmt.Printf("  %s %s: threshold %.4f from %s q%d\n", tn, j.codec.Name, d, j.pts[0].Image, q)
				}
			}
		}
		var pb, ob float64
		cb := map[string][2]float64{}
		for _, j := range jobs {
			q := j.oracle[t]
			if q <= j.codec.Lo || q > j.codec.Hi {
				continue
			}
			ob += float64(j.bytes(q))
			pick := j.codec.Hi
			for p := q; p <= j.codec.Hi; p++ {
				if d, ok := j.at(p, c); ok && d <= th[j.codec.Name] {
					pick = p
					break
				}
			}
			pb += float64(j.bytes(pick))
			v := cb[j.codec.Name]
			cb[j.codec.Name] = [2]float64{v[0] + j.bytes(pick), v[1] + j.bytes(q)}
			if verbose && pick > q+3 {
				fmt.Printf("    %s %s oracle q%d pick q%d (+%.0f %%)\n", j.pts[0].Image, j.codec.Name, q, pick, 100*(j.bytes(pick)/j.bytes(q)-1))
			}
		}
		if verbose {
			for k, v := range cb {
				fmt.Printf("  %s %s: %+.1f %%\n", tn, k, 100*(v[0]/v[1]-1))
			}
		}
		total += pb / ob
	}
	return total / float64(len(tns))
}

// at interpolates the distance at quality q.
func (j *tuneJob) at(q int, c metric.Config) (float64, bool) {
	return j.interp(q, func(p *tunePoint) float64 { return p.feat.Score(c) })
}

func (j *tuneJob) bytes(q int) float64 {
	v, _ := j.interp(q, func(p *tunePoint) float64 { return math.Log(float64(p.Bytes)) })
	return math.Exp(v)
}

func (j *tuneJob) interp(q int, f func(*tunePoint) float64) (float64, bool) {
	pts := j.pts
	i, found := slices.BinarySearchFunc(pts, q, func(p *tunePoint, q int) int { return p.Q - q })
	if found {
		return f(pts[i]), true
	}
	if i == 0 {
		return f(pts[0]), false
	}
	if i == len(pts) {
		return f(pts[len(pts)-1]), false
	}
	a, b := pts[i-1], pts[i]
	t := float64(q-a.Q) / float64(b.Q-a.Q)
	return f(a)*(1-t) + f(b)*t, true
}

// weightSet is the factored form the tuner searches: a weight per scale,
// per chroma channel (luma is 1) and for the L4 pool (the mean is 1).
type weightSet struct {
	Scale  [metric.MaxScales]float64
	Chroma [2]float64
	L4     float64
	Max    float64
}

func (w weightSet) String() string {
	return fmt.Sprintf("scale %.3g chroma %.3g L4 %.3g max %.3g", w.Scale[:5], w.Chroma, w.L4, w.Max)
}

func (w weightSet) apply(c *metric.Config) {
	for s := range metric.MaxScales {
		for ch := range 3 {
			cw := 1.0
			if ch > 0 {
				cw = w.Chroma[ch-1]
			}
			c.Weights[s][ch][metric.PoolMean] = 10 * w.Scale[s] * cw
			c.Weights[s][ch][metric.PoolL4] = 10 * w.Scale[s] * cw * w.L4
			c.Weights[s][ch][metric.PoolMax] = 10 * w.Scale[s] * cw * w.Max
		}
	}
}

// sane keeps the search away from metrics that rest on one scale or drop
// chroma: every scale keeps at least a fifth of the largest scale weight,
// chroma at least 0.05 of luma, so no kind of artefact goes unseen just
// because the corpus never showed it.
func (w weightSet) sane() bool {
	top := 0.0
	for _, v := range w.Scale[:5] {
		top = max(top, v)
	}
	for _, v := range w.Scale[:5] {
		if v < 0.2*top {
			return false
		}
	}
	return w.Chroma[0] >= 0.05 && w.Chroma[1] >= 0.05
}

// fitWeights searches weightSet by coordinate descent on cost.
func fitWeights(jobs []*tuneJob, base metric.Config) (weightSet, float64) {
	w := weightSet{Scale: [metric.MaxScales]float64{1, 1, 1, 1, 1, 0}, Chroma: [2]float64{0.5, 0.2}, L4: 1}
	eval := func(w weightSet) float64 {
		c := base
		w.apply(&c)
		return cost(jobs, c)
	}
	best := eval(w)
	params := func(w *weightSet) []*float64 {
		ps := []*float64{&w.Chroma[0], &w.Chroma[1], &w.L4, &w.Max}
		for s := range 5 {
			ps = append(ps, &w.Scale[s])
		}
		return ps
	}
	for round := 0; round < 6; round++ {
		improved := false
		for i := range params(&w) {
			for _, f := range []float64{0, 0.25, 0.5, 0.8, 1.25, 2, 4} {
				cand := w
				p := params(&cand)[i]
				if *p == 0 && f != 0 {
					*p = 0.1 * f
				} else {
					*p *= f
				}
				if !cand.sane() {
					continue
				}
				if v := eval(cand); v < best-1e-6 {
					best, w, improved = v, cand, true
				}
			}
		}
		if !improved {
			break
		}
	}
	return w, best
}
