// Command calibrate fits the thresholds of internal/metric against Debian's
// butteraugli on a corpus of real photographs and a few rendered graphics,
// and writes the evidence to docs/calibration.md. Run it through
// scripts/calibrate.sh, which fetches the corpus and the referee.
//
// For every image and codec it finds, by binary search with butteraugli,
// the oracle: the lowest quality whose butteraugli distance stays within
// each target's limit. The metric's threshold for a target is then the
// largest value below the metric's distance one quality step under every
// oracle (so a search on the metric never stops below the oracle), less a
// margin. Finally it runs the product's 6-step search with those thresholds
// and checks each pick with butteraugli, lowering a threshold if a pick
// fails.
package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/rs/zerolog"

	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/metric"
	"github.com/imagediet/imgdiet/internal/vipsrt"
)

// target is a quality target and the butteraugli limit it must keep.
type target struct {
	Name  string
	Limit float64
}

var targets = []target{
	{metric.TargetHigh, 1.0},
	{metric.TargetBalanced, 1.4},
	{metric.TargetSmall, 2.2},
}

// coder is an encoder, the engine's encoding it calibrates and the
// 64-value quality range the product searches.
type coder struct {
	Name     string
	Lo, Hi   int
	Encoding codec.Encoding
}

// codecs are encoded as the engine's fast search encodes them: JPEG with
// libvips' automatic chroma subsampling, WebP without smart subsampling,
// each at its encoding's default effort (4).
var codecs = []coder{
	{"jpeg", 36, 99, codec.JPEG},
	{"webp", 36, 99, codec.WebPPlain},
	{"avif", 36, 99, codec.AVIF},
}

type config struct {
	corpus  string
	out     string
	cache   string
	photos  int
	sizes   []int
	workers int
	margin  float64
	data    string
}

func main() {
	var cfg config
	var sizes string
	flag.StringVar(&cfg.corpus, "corpus", ".deps/corpus", "folder the corpus packages were extracted into")
	flag.StringVar(&cfg.out, "out", "docs/calibration.md", "report to write")
	flag.StringVar(&cfg.cache, "cache", ".deps/calibrate-cache.json", "butteraugli results kept between runs (empty: none)")
	flag.IntVar(&cfg.photos, "photos", 12, "photographs to use")
	flag.StringVar(&sizes, "sizes", "800,400", "widths to resize photographs to")
	flag.IntVar(&cfg.workers, "j", runtime.NumCPU(), "images processed at once")
	flag.Float64Var(&cfg.margin, "margin", 0.03, "relative margin below the fitted thresholds")
	flag.StringVar(&cfg.data, "data", "", "folder to keep every measured encoding in, for tuning the metric (empty: none)")
	tuneDir := flag.String("tune", "", "tune the metric's weights on a folder kept with -data, instead of calibrating")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 16 {
			log.Fatalf("bad -sizes %q", sizes)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	if _, err := exec.LookPath("butteraugli"); err != nil {
		log.Fatal("butteraugli not found: apt-get install butteraugli")
	}
	vipsrt.Start(vipsrt.Config{Concurrency: 1, CacheMem: 0, CacheOps: 0}, zerolog.New(os.Stderr).Level(zerolog.WarnLevel))
	if *tuneDir != "" {
		if err := tune(*tuneDir, metric.DefaultConfig()); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := run(cfg); err != nil {
		log.Fatal(err)
	}
}

// corpusImage is one reference image: its pixels and a lossless copy that
// the encoders start from.
type corpusImage struct {
	Name  string
	Kind  string
	Ref   metric.Image
	png   []byte
	paths [2]string // reference PNGs for butteraugli (over black, over white)
}

// sample is one encoding of one image.
type sample struct {
	Bytes int
	D     float64
	BA    float64 // NaN until measured
	Feat  metric.Report
	buf   []byte // the encoding, kept only with -data
}

// job is one image with one codec.
type job struct {
	img   *corpusImage
	codec coder
	mu    sync.Mutex
	pts   map[int]*sample
	// Oracle[t] is the lowest quality meeting targets[t]'s limit (Hi+1 if
	// none in range).
	Oracle []int
	// Pick[t] is the 6-step search's choice with the fitted threshold.
	Pick []int
}

type runner struct {
	cfg    config
	tmp    string
	cache  map[string]cacheEntry
	cmu    sync.Mutex
	baN    int
	baTime time.Duration
	encN   int
	encDur time.Duration
}

type cacheEntry struct {
	Bytes int     `json:"bytes"`
	BA    float64 `json:"ba"`
}

func run(cfg config) error {
	start := time.Now()
	tmp, err := os.MkdirTemp("", "calibrate-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	r := &runner{cfg: cfg, tmp: tmp, cache: map[string]cacheEntry{}}
	r.loadCache()
	imgs, err := r.corpus()
	if err != nil {
		return err
	}
	var jobs []*job
	for _, im := range imgs {
		for _, c := range codecs {
			if c.Name == "jpeg" && im.Ref.Bands == 4 {
				continue // JPEG has no alpha: the product never offers it here
			}
			jobs = append(jobs, &job{img: im, codec: c, pts: map[int]*sample{}})
		}
	}
	log.Printf("%d images, %d image×codec jobs", len(imgs), len(jobs))

	// Phase 1: oracles by butteraugli, and the metric one step below them.
	r.each(jobs, func(j *job) error {
		j.Oracle = make([]int, len(targets))
		bal := indexOf(metric.TargetBalanced)
		q, err := r.oracle(j, targets[bal].Limit, j.codec.Lo, j.codec.Hi)
		if err != nil {
			return err
		}
		j.Oracle[bal] = q
		for t, tg := range targets {
			if t == bal {
				continue
			}
			lo, hi := j.codec.Lo, j.codec.Hi
			if tg.Limit < targets[bal].Limit {
				lo = min(q, hi)
			} else {
				hi = min(q, hi)
			}
			if j.Oracle[t], err = r.oracle(j, tg.Limit, lo, hi); err != nil {
				return err
			}
		}
		for _, q := range j.Oracle {
			for _, p := range []int{q - 1, q} {
				if p >= j.codec.Lo && p <= j.codec.Hi {
					if _, err := r.point(j, p, false); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	r.saveCache()
	if r.cfg.data != "" {
		if err := r.saveData(imgs, jobs); err != nil {
			return err
		}
	}

	// Phase 2: fit thresholds, check the picks, lower a threshold that let
	// a pick fail.
	fit := r.fit(jobs)
	r.saveCache()
	if err := r.report(imgs, jobs, fit, time.Since(start)); err != nil {
		return err
	}
	fmt.Fprint(os.Stderr, goSnippet(fit))
	return nil
}

func indexOf(name string) int {
	for i, t := range targets {
		if t.Name == name {
			return i
		}
	}
	panic(name)
}

// each runs f on every job, cfg.workers at a time; it stops the program on
// the first error.
func (r *runner) each(jobs []*job, f func(*job) error) {
	ch := make(chan *job)
	var wg sync.WaitGroup
	for range max(1, r.cfg.workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				if err := f(j); err != nil {
					log.Fatalf("%s %s: %v", j.img.Name, j.codec.Name, err)
				}
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}

// oracle returns the lowest quality in [lo, hi] whose butteraugli distance
// is within limit, by binary search (butteraugli is assumed monotone in
// quality), or hi+1 if hi itself fails.
func (r *runner) oracle(j *job, limit float64, lo, hi int) (int, error) {
	l, h := lo, hi+1
	for l < h {
		m := (l + h) / 2
		s, err := r.point(j, m, true)
		if err != nil {
			return 0, err
		}
		if s.BA <= limit {
			h = m
		} else {
			l = m + 1
		}
	}
	return l, nil
}

// search is the product's search (metric.Search): the lowest quality in
// [Lo, Hi] whose metric distance is within th, in 6 encodes for the
// 64-value range; Hi is taken untested when everything below fails.
func (r *runner) search(j *job, th float64) (q, encodes int, err error) {
	q, tried, err := metric.Search(j.codec.Lo, j.codec.Hi, 6, func(q int) (bool, error) {
		s, err := r.point(j, q, false)
		if err != nil {
			return false, err
		}
		return s.D <= th, nil
	})
	return q, len(tried), err
}

// point encodes j's image at quality q (once) and returns its size and
// metric distance, and its butteraugli distance when ba is set.
func (r *runner) point(j *job, q int, ba bool) (*sample, error) {
	j.mu.Lock()
	s := j.pts[q]
	j.mu.Unlock()
	key := fmt.Sprintf("%s|%s|%d", j.img.Name, j.codec.Name, q)
	if s == nil {
		buf, dist, err := r.encodeDecoded(j, q)
		if err != nil {
			return nil, err
		}
		rep, err := metric.DefaultConfig().Analyze(j.img.Ref, dist)
		if err != nil {
			return nil, err
		}
		s = &sample{Bytes: len(buf), D: rep.Score(metric.DefaultConfig()), BA: math.NaN(), Feat: rep, buf: buf}
		r.cmu.Lock()
		if c, ok := r.cache[key]; ok && c.Bytes == len(buf) {
			s.BA = c.BA
		}
		r.cmu.Unlock()
		if ba && math.IsNaN(s.BA) {
			if s.BA, err = r.butteraugli(j.img, dist); err != nil {
				return nil, err
			}
			r.cmu.Lock()
			r.cache[key] = cacheEntry{Bytes: len(buf), BA: s.BA}
			r.cmu.Unlock()
		}
		if r.cfg.data == "" {
			s.buf = nil
		}
		j.mu.Lock()
		j.pts[q] = s
		j.mu.Unlock()
		return s, nil
	}
	if ba && math.IsNaN(s.BA) {
		buf, dist, err := r.encodeDecoded(j, q)
		if err != nil {
			return nil, err
		}
		v, err := r.butteraugli(j.img, dist)
		if err != nil {
			return nil, err
		}
		j.mu.Lock()
		s.BA = v
		j.mu.Unlock()
		r.cmu.Lock()
		r.cache[key] = cacheEntry{Bytes: len(buf), BA: v}
		r.cmu.Unlock()
	}
	return s, nil
}

// encodeDecoded encodes j's image at quality q and decodes it back into
// pixels shaped like the reference.
func (r *runner) encodeDecoded(j *job, q int) ([]byte, metric.Image, error) {
	buf, err := r.encode(j.img, j.codec, q)
	if err != nil {
		return nil, metric.Image{}, err
	}
	pix, err := decode(buf, j.img.Ref.Bands)
	if err != nil {
		return nil, metric.Image{}, err
	}
	dist := j.img.Ref
	dist.Pix = pix
	return buf, dist, nil
}

func (r *runner) encode(im *corpusImage, c coder, q int) ([]byte, error) {
	t0 := time.Now()
	img, err := vips.NewImageFromBuffer(im.png)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	buf, err := codec.Encode(img, codec.Settings{Encoding: c.Encoding.AutoSubsample(q), Quality: q, Strip: true})
	r.cmu.Lock()
	r.encN++
	r.encDur += time.Since(t0)
	r.cmu.Unlock()
	return buf, err
}

// decode returns the 8-bit sRGB pixels of an encoded image with the given
// number of bands.
func decode(buf []byte, bands int) ([]byte, error) {
	img, err := vips.NewImageFromBuffer(buf)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	if err := img.ToColorSpace(vips.InterpretationSRGB); err != nil {
		return nil, err
	}
	if img.BandFormat() != vips.BandFormatUchar {
		if err := img.Cast(vips.BandFormatUchar); err != nil {
			return nil, err
		}
	}
	if img.Bands() == 3 && bands == 4 {
		if err := img.AddAlpha(); err != nil {
			return nil, err
		}
	}
	if img.Bands() != bands {
		return nil, fmt.Errorf("decoded %d bands, want %d", img.Bands(), bands)
	}
	pix, err := img.ToBytes()
	if err != nil {
		return nil, err
	}
	if len(pix) != img.Width()*img.Height()*bands {
		return nil, fmt.Errorf("decoded %d bytes, want %d", len(pix), img.Width()*img.Height()*bands)
	}
	return pix, nil
}

// butteraugli returns the referee's distance between im and dist. Images
// with alpha are compared over black and over white, as the metric does,
// and the larger distance is kept.
func (r *runner) butteraugli(im *corpusImage, dist metric.Image) (float64, error) {
	t0 := time.Now()
	defer func() {
		r.cmu.Lock()
		r.baN++
		r.baTime += time.Since(t0)
		r.cmu.Unlock()
	}()
	bgs := []int{0}
	if dist.Bands == 4 {
		bgs = []int{0, 255}
	}
	var worst float64
	for i, bg := range bgs {
		f, err := os.CreateTemp(r.tmp, "cand-*.png")
		if err != nil {
			return 0, err
		}
		name := f.Name()
		err = writePNG(f, dist, bg)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(name)
			return 0, err
		}
		out, err := exec.Command("butteraugli", im.paths[i], name).Output()
		os.Remove(name)
		if err != nil {
			return 0, fmt.Errorf("butteraugli: %v", err)
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil {
			return 0, fmt.Errorf("butteraugli said %q", out)
		}
		worst = max(worst, v)
	}
	return worst, nil
}

// writePNG writes m as an RGB PNG, alpha composited over grey level bg in
// sRGB.
func writePNG(w io.Writer, m metric.Image, bg int) error {
	out := image.NewNRGBA(image.Rect(0, 0, m.Width, m.Height))
	for i := range m.Width * m.Height {
		p := m.Pix[i*m.Bands:]
		o := out.Pix[i*4:]
		a := 255
		if m.Bands == 4 {
			a = int(p[3])
		}
		for c := range 3 {
			o[c] = byte((int(p[c])*a + bg*(255-a) + 127) / 255)
		}
		o[3] = 255
	}
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, out)
}

// dataPoint describes one kept encoding for tuning.
type dataPoint struct {
	Image  string  `json:"image"`
	Codec  string  `json:"codec"`
	Q      int     `json:"q"`
	Bytes  int     `json:"bytes"`
	BA     float64 `json:"ba"` // -1: not measured
	File   string  `json:"file"`
	Ref    string  `json:"ref"`
	Oracle []int   `json:"oracle"`
}

// saveData keeps every reference and measured encoding in cfg.data with an
// index.json, so the metric can be tuned without re-encoding.
func (r *runner) saveData(imgs []*corpusImage, jobs []*job) error {
	if err := os.MkdirAll(r.cfg.data, 0o755); err != nil {
		return err
	}
	refs := map[*corpusImage]string{}
	for i, im := range imgs {
		name := fmt.Sprintf("ref-%02d.png", i)
		if err := os.WriteFile(filepath.Join(r.cfg.data, name), im.png, 0o644); err != nil {
			return err
		}
		refs[im] = name
	}
	var idx []dataPoint
	for k, j := range jobs {
		for q, s := range j.pts {
			if s.buf == nil {
				continue
			}
			name := fmt.Sprintf("%03d-%s-%d.%s", k, j.codec.Name, q, j.codec.Name)
			if err := os.WriteFile(filepath.Join(r.cfg.data, name), s.buf, 0o644); err != nil {
				return err
			}
			ba := s.BA
			if math.IsNaN(ba) {
				ba = -1
			}
			idx = append(idx, dataPoint{Image: j.img.Name, Codec: j.codec.Name, Q: q, Bytes: s.Bytes, BA: ba, File: name, Ref: refs[j.img], Oracle: j.Oracle})
		}
	}
	b, err := json.MarshalIndent(idx, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.cfg.data, "index.json"), b, 0o644)
}

func (r *runner) loadCache() {
	if r.cfg.cache == "" {
		return
	}
	b, err := os.ReadFile(r.cfg.cache)
	if err == nil {
		_ = json.Unmarshal(b, &r.cache)
	}
}

func (r *runner) saveCache() {
	if r.cfg.cache == "" {
		return
	}
	r.cmu.Lock()
	b, err := json.Marshal(r.cache)
	r.cmu.Unlock()
	if err == nil {
		_ = os.WriteFile(r.cfg.cache, b, 0o644)
	}
}

// ---- corpus ----

func (r *runner) corpus() ([]*corpusImage, error) {
	var files []string
	err := filepath.WalkDir(r.cfg.corpus, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".jpg") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	if len(files) < r.cfg.photos {
		return nil, fmt.Errorf("corpus has %d photographs, want %d", len(files), r.cfg.photos)
	}
	// Spread the pick over the sorted list rather than taking the first n.
	var imgs []*corpusImage
	for i := range r.cfg.photos {
		f := files[i*len(files)/r.cfg.photos]
		base := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
		for _, w := range r.cfg.sizes {
			im, err := r.loadPhoto(f, w)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", base, err)
			}
			im.Name = fmt.Sprintf("%s@%d", base, w)
			im.Kind = "photo"
			imgs = append(imgs, im)
		}
	}
	// A real graphic from the same packages, when present.
	if p := filepath.Join(r.cfg.corpus, "usr/share/backgrounds/warty-final-ubuntu.png"); exists(p) {
		im, err := r.loadPhoto(p, 800)
		if err != nil {
			return nil, err
		}
		im.Name, im.Kind = "warty-final-ubuntu@800", "graphic"
		imgs = append(imgs, im)
	}
	for _, g := range []struct {
		name string
		m    metric.Image
	}{{"rendered-ui@800", renderUI(800, 520)}, {"rendered-logo@400", renderLogo(400, 400)}} {
		im, err := r.fromPixels(g.m)
		if err != nil {
			return nil, err
		}
		im.Name, im.Kind = g.name, "graphic"
		if g.m.Bands == 4 {
			im.Kind = "logo, alpha"
		}
		imgs = append(imgs, im)
	}
	for i, im := range imgs {
		bgs := []int{0}
		if im.Ref.Bands == 4 {
			bgs = []int{0, 255}
		}
		for k, bg := range bgs {
			p := filepath.Join(r.tmp, fmt.Sprintf("ref-%d-%d.png", i, k))
			f, err := os.Create(p)
			if err != nil {
				return nil, err
			}
			err = writePNG(f, im.Ref, bg)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return nil, err
			}
			im.paths[k] = p
		}
	}
	return imgs, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// loadPhoto loads file, resizes it to width w and returns its sRGB pixels.
func (r *runner) loadPhoto(file string, w int) (*corpusImage, error) {
	img, err := vips.NewImageFromFile(file)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	if err := img.ToColorSpace(vips.InterpretationSRGB); err != nil {
		return nil, err
	}
	if img.HasAlpha() {
		if err := img.Flatten(&vips.Color{R: 255, G: 255, B: 255}); err != nil {
			return nil, err
		}
	}
	if err := img.Resize(float64(w)/float64(img.Width()), vips.KernelLanczos3); err != nil {
		return nil, err
	}
	pix, err := img.ToBytes()
	if err != nil {
		return nil, err
	}
	m := metric.Image{Pix: pix, Width: img.Width(), Height: img.Height(), Bands: img.Bands()}
	if m.Bands != 3 || len(pix) != m.Width*m.Height*3 {
		return nil, fmt.Errorf("unexpected pixel layout: %d bands", m.Bands)
	}
	return r.fromPixels(m)
}

// fromPixels makes a corpus image of reference pixels m, keeping a
// lossless PNG of them for the encoders.
func (r *runner) fromPixels(m metric.Image) (*corpusImage, error) {
	var b bytes.Buffer
	var img image.Image
	if m.Bands == 4 {
		n := image.NewNRGBA(image.Rect(0, 0, m.Width, m.Height))
		copy(n.Pix, m.Pix)
		img = n
	} else {
		n := image.NewNRGBA(image.Rect(0, 0, m.Width, m.Height))
		for i := range m.Width * m.Height {
			copy(n.Pix[i*4:], m.Pix[i*3:i*3+3])
			n.Pix[i*4+3] = 255
		}
		img = n
	}
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return &corpusImage{Ref: m, png: b.Bytes()}, nil
}

// ---- fitting ----

// fitResult holds the thresholds chosen for each target, overall and per
// codec, and how the product's search fares with them.
type fitResult struct {
	All      []float64
	PerCodec []map[string]float64
	// Overall[t] and Codec[t] hold the picks of each job under the global
	// and per-codec thresholds.
	Global, Codec [][]int
	Rounds        []int
}

func (r *runner) fit(jobs []*job) fitResult {
	res := fitResult{
		All:      make([]float64, len(targets)),
		PerCodec: make([]map[string]float64, len(targets)),
		Global:   make([][]int, len(targets)),
		Codec:    make([][]int, len(targets)),
		Rounds:   make([]int, len(targets)),
	}
	for t := range targets {
		// Largest safe threshold per codec: just below the metric's
		// distance one step under each oracle.
		per := map[string]float64{}
		for _, c := range codecs {
			per[c.Name] = math.Inf(1)
		}
		for _, j := range jobs {
			q := j.Oracle[t]
			if q <= j.codec.Lo || q > j.codec.Hi {
				continue // the lowest quality passes, or none does: no constraint
			}
			per[j.codec.Name] = min(per[j.codec.Name], j.pts[q-1].D)
		}
		all, top := math.Inf(1), 0.0
		for c, v := range per {
			if !math.IsInf(v, 1) {
				per[c] = v * (1 - r.cfg.margin)
				all = min(all, per[c])
				top = max(top, per[c])
			}
		}
		for c, v := range per {
			if math.IsInf(v, 1) {
				per[c] = top // no image constrains this codec
			}
		}
		// Check picks with butteraugli; lower a threshold whose pick fails.
		for round := 1; round <= 5; round++ {
			res.Rounds[t] = round
			failed := false
			r.each(jobs, func(j *job) error {
				for _, th := range []float64{all, per[j.codec.Name]} {
					q, _, err := r.search(j, th)
					if err != nil {
						return err
					}
					if _, err := r.point(j, q, true); err != nil {
						return err
					}
				}
				return nil
			})
			for _, j := range jobs {
				for pass, th := range []float64{all, per[j.codec.Name]} {
					q, _, _ := r.search(j, th)
					s := j.pts[q]
					// An image no quality in range brings within the limit
					// cannot be fixed by a threshold: leave it out.
					if s.BA > targets[t].Limit && q < j.codec.Hi && j.Oracle[t] <= j.codec.Hi {
						failed = true
						nt := s.D * (1 - r.cfg.margin)
						if pass == 0 {
							all = min(all, nt)
						}
						per[j.codec.Name] = min(per[j.codec.Name], nt)
						log.Printf("%s: %s %s q%d has butteraugli %.2f > %.1f at distance %.4f: lowering",
							targets[t].Name, j.img.Name, j.codec.Name, q, s.BA, targets[t].Limit, s.D)
					}
				}
			}
			if !failed {
				break
			}
		}
		res.All[t] = all
		res.PerCodec[t] = per
		for _, j := range jobs {
			g, _, _ := r.search(j, all)
			c, _, _ := r.search(j, per[j.codec.Name])
			res.Global[t] = append(res.Global[t], g)
			res.Codec[t] = append(res.Codec[t], c)
		}
	}
	return res
}

// ---- report ----

func (r *runner) report(imgs []*corpusImage, jobs []*job, fit fitResult, took time.Duration) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Calibration of the quality metric against butteraugli\n\n")
	p("Generated by `scripts/calibrate.sh` (do not edit by hand). The metric is\n")
	p("`internal/metric` (multi-scale SSIM on an XYB-like space); the referee is Debian's\n")
	p("`butteraugli` (%s). A threshold is calibrated so that a search on the metric never\n", baVersion())
	p("stops below the *oracle*: the lowest quality whose butteraugli distance meets the\n")
	p("target's limit, found by binary search with butteraugli itself.\n\n")
	p("**Where these thresholds apply.** Final answers (the CLI, a scan's final pass) measure\n")
	p("candidates with `internal/butteraugli`, an in-process port of this very referee that agrees\n")
	p("with the Debian binary to its printed decimals (its tests compare the two), against the\n")
	p("targets' butteraugli limits themselves (1.0 / 1.4 / 2.2, less 0.005). The SSIM-family metric\n")
	p("calibrated here serves a scan's fast first answers and images larger than\n")
	p("`optimize.Config.ExactPixels` (2.5 MP), where butteraugli would cost too much. There the\n")
	p("engine finds the same lowest passing quality as the search below with fewer encodes: it\n")
	p("interpolates the metric's distances (`metric.Interpolate`) instead of bisecting.\n\n")
	p("## Run\n\n")
	p("| | |\n|---|---|\n")
	p("| machine | %s, %d cores (shared) |\n", cpuModel(), runtime.NumCPU())
	p("| libvips | %s |\n", vipsrt.Version())
	p("| command | `scripts/calibrate.sh %s` |\n", strings.Join(os.Args[1:], " "))
	p("| corpus | %d photographs of Debian's `lomiri-wallpapers-20.04` / `-16.04` at widths %v, plus %d graphics |\n",
		r.cfg.photos, r.cfg.sizes, len(imgs)-r.cfg.photos*len(r.cfg.sizes))
	p("| encoders | JPEG: mozjpeg, trellis, optimised scans, progressive, quant table 3; WebP effort 4; AVIF effort 4, 8 bit |\n")
	p("| search | 6 encodes over the 64 qualities %d–%d |\n", codecs[0].Lo, codecs[0].Hi)
	p("| work | %d encodes (%.0f s), %d butteraugli runs (%.0f s), %.1f min wall |\n\n",
		r.encN, r.encDur.Seconds(), r.baN, r.baTime.Seconds(), took.Minutes())

	p("## Thresholds\n\n")
	p("| target | butteraugli limit | any codec |")
	for _, c := range codecs {
		p(" %s |", c.Name)
	}
	p("\n|---|---|---|")
	for range codecs {
		p("---|")
	}
	p("\n")
	for t, tg := range targets {
		p("| %s | %.1f | %.4f |", tg.Name, tg.Limit, fit.All[t])
		for _, c := range codecs {
			p(" %.4f |", fit.PerCodec[t][c.Name])
		}
		p("\n")
	}
	p("\nMargin %.0f %% below the largest safe value.\n\n", 100*r.cfg.margin)

	p("## Bytes against the oracle\n\n")
	p("Sum over the corpus of the bytes the 6-step search picks, against the oracle's bytes\n")
	p("(the smallest quality meeting the limit). *best* is the product's choice: per image\n")
	p("the smallest of the codecs' picks, against the smallest of the codecs' oracles.\n")
	p("Images whose oracle is out of range are left out of a codec's sums.\n\n")
	p("| target | thresholds | jpeg | webp | avif | best | picks over the limit (images no quality in range brings within it) |\n|---|---|---|---|---|---|---|\n")
	for t, tg := range targets {
		for k, picks := range [][]int{fit.Global[t], fit.Codec[t]} {
			label := []string{"any codec", "per codec"}[k]
			p("| %s | %s |", tg.Name, label)
			for _, c := range codecs {
				var pb, ob int
				for i, j := range jobs {
					if j.codec.Name != c.Name || j.Oracle[t] > j.codec.Hi {
						continue
					}
					pb += j.pts[picks[i]].Bytes
					ob += j.pts[j.Oracle[t]].Bytes
				}
				p(" %+.1f %% |", 100*(float64(pb)/float64(ob)-1))
			}
			var pb, ob int
			for _, im := range imgs {
				bp, bo := math.MaxInt, math.MaxInt
				for i, j := range jobs {
					if j.img != im || j.Oracle[t] > j.codec.Hi {
						continue
					}
					bp = min(bp, j.pts[picks[i]].Bytes)
					bo = min(bo, j.pts[j.Oracle[t]].Bytes)
				}
				if bo < math.MaxInt {
					pb += bp
					ob += bo
				}
			}
			fails, hopeless := 0, 0
			for i, j := range jobs {
				if s := j.pts[picks[i]]; s.BA > tg.Limit {
					if j.Oracle[t] > j.codec.Hi {
						hopeless++
					} else {
						fails++
					}
				}
			}
			p(" %+.1f %% | %d (%d) |\n", 100*(float64(pb)/float64(ob)-1), fails, hopeless)
		}
	}

	for t, tg := range targets {
		p("\n## %s (butteraugli ≤ %.1f), per-codec thresholds\n\n", tg.Name, tg.Limit)
		p("q = quality, D = metric distance, BA = butteraugli; *oracle* is the lowest quality meeting the limit.\n\n")
		p("| image | codec | oracle q | bytes | BA | D one q below | pick q | bytes | BA | D | Δ bytes |\n")
		p("|---|---|---|---|---|---|---|---|---|---|---|\n")
		for i, j := range jobs {
			o := j.Oracle[t]
			pk := fit.Codec[t][i]
			ps := j.pts[pk]
			if o > j.codec.Hi {
				p("| %s | %s | >%d | | | | %d | %d | %s | %.4f | |\n", j.img.Name, j.codec.Name, j.codec.Hi, pk, ps.Bytes, fmtBA(ps.BA), ps.D)
				continue
			}
			om := j.pts[o]
			below := "—"
			if s, ok := j.pts[o-1]; ok {
				below = fmt.Sprintf("%.4f", s.D)
			}
			p("| %s | %s | %d | %d | %s | %s | %d | %d | %s | %.4f | %+.1f %% |\n",
				j.img.Name, j.codec.Name, o, om.Bytes, fmtBA(om.BA), below, pk, ps.Bytes, fmtBA(ps.BA), ps.D,
				100*(float64(ps.Bytes)/float64(om.Bytes)-1))
		}
	}
	p("\n## Metric against butteraugli, every measured encoding\n\n")
	p("Spearman rank correlation of D and butteraugli over all measured points: %.3f (%d points).\n", r.spearman(jobs), r.countBA(jobs))
	p("%s", notes)
	return os.WriteFile(r.cfg.out, []byte(b.String()), 0o644)
}

// notes explains how to read the report; it is part of every report.
const notes = `
## Notes

- **Metric.** Pixels are linearised, mixed into an opsin-like LMS space and cube-rooted
  (XYB-like). Luma is compared from full size, the two chroma planes from half size (their
  finer detail is what 4:2:0 drops anyway), over 5 scales of 2×2 box averages. Each scale
  compares 8×8-pixel windows placed every 2 pixels with SSIM, whose luminance ratio is
  replaced by 1 − min(1, 100·Δμ²) since the planes are perceptually uniform. Each map of
  1 − SSIM is pooled by its mean, L4 norm and maximum; the weights (middle scales and the
  maximum weigh most, chroma little) were fitted with ` + "`go run ./scripts/calibrate -tune`" + `
  on encodings kept by ` + "`-data`" + `, so that the same thresholds suit as many images as possible.
- **Alpha.** Images with alpha are composited over black and over white (in sRGB, as
  browsers do) and the larger distance counts, for the metric and for butteraugli alike.
  JPEG is not tried for them.
- **Oracle.** Butteraugli is assumed monotone in quality for the binary search; an image
  whose oracle is out of range (no quality up to 99 meets the limit, typical of smooth
  gradients under this strict 2017 butteraugli) is reported but constrains no threshold:
  the product should keep the original, or the top quality, for it.
- **Picks.** *pick* is ` + "`metric.Search`" + ` with 6 encodes over 36–99 (99 taken untested when all
  else fails) and the per-codec threshold. A threshold is set 3 % below the smallest
  metric distance seen one quality under an oracle; a pick that butteraugli then rejects
  lowers it further (logged by the script).
- **Re-running.** Butteraugli results are cached in .deps/calibrate-cache.json (keyed by
  image, codec, quality and byte size), so a re-run after a metric change only re-encodes.
`

func fmtBA(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.2f", v)
}

func (r *runner) countBA(jobs []*job) int {
	n := 0
	for _, j := range jobs {
		for _, s := range j.pts {
			if !math.IsNaN(s.BA) {
				n++
			}
		}
	}
	return n
}

func (r *runner) spearman(jobs []*job) float64 {
	var d, a []float64
	for _, j := range jobs {
		for _, s := range j.pts {
			if !math.IsNaN(s.BA) {
				d = append(d, s.D)
				a = append(a, s.BA)
			}
		}
	}
	rd, ra := ranks(d), ranks(a)
	var md, ma float64
	for i := range rd {
		md += rd[i]
		ma += ra[i]
	}
	md /= float64(len(rd))
	ma /= float64(len(ra))
	var sxy, sxx, syy float64
	for i := range rd {
		sxy += (rd[i] - md) * (ra[i] - ma)
		sxx += (rd[i] - md) * (rd[i] - md)
		syy += (ra[i] - ma) * (ra[i] - ma)
	}
	return sxy / math.Sqrt(sxx*syy)
}

func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(v[a], v[b]) })
	r := make([]float64, len(v))
	for k, i := range idx {
		r[i] = float64(k)
	}
	return r
}

func goSnippet(fit fitResult) string {
	var b strings.Builder
	b.WriteString("\n// paste into internal/metric/threshold.go\n")
	for t, tg := range targets {
		fmt.Fprintf(&b, "%s: all %.4f", tg.Name, fit.All[t])
		for _, c := range codecs {
			fmt.Fprintf(&b, " %s %.4f", c.Name, fit.PerCodec[t][c.Name])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func baVersion() string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Version}", "butteraugli").Output()
	if err != nil {
		return "version unknown"
	}
	return "package version " + string(out)
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

// ---- rendered graphics ----

// renderUI draws a screenshot-like graphic: flat panels, thin rules, a
// gradient banner and rows of glyph-like strokes.
func renderUI(w, h int) metric.Image {
	m := metric.Image{Pix: make([]byte, w*h*3), Width: w, Height: h, Bands: 3}
	set := func(x, y int, c color.RGBA) {
		if x >= 0 && y >= 0 && x < w && y < h {
			p := m.Pix[(y*w+x)*3:]
			p[0], p[1], p[2] = c.R, c.G, c.B
		}
	}
	rect := func(x0, y0, x1, y1 int, c color.RGBA) {
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				set(x, y, c)
			}
		}
	}
	rect(0, 0, w, h, color.RGBA{250, 250, 252, 255})
	rect(0, 0, w, 48, color.RGBA{32, 56, 120, 255})
	for y := 60; y < 160; y++ {
		for x := 20; x < w-20; x++ {
			t := float64(x-20) / float64(w-40)
			set(x, y, color.RGBA{byte(230 - 120*t), byte(120 + 80*t), byte(60 + 180*t), 255})
		}
	}
	rect(20, 180, 240, h-20, color.RGBA{236, 239, 244, 255})
	rect(20, 180, 240, 181, color.RGBA{200, 204, 212, 255})
	rect(w-140, 12, w-30, 36, color.RGBA{220, 60, 40, 255})
	seed := uint32(7)
	rnd := func(n int) int {
		seed = seed*1664525 + 1013904223
		return int(seed>>16) % n
	}
	ink := color.RGBA{30, 30, 36, 255}
	// Glyph-like strokes: words of 3–8 cells of 7×11 pixels.
	for line := 0; line < 22; line++ {
		y := 196 + line*14
		if y+11 > h-24 {
			break
		}
		x := 260
		for x < w-40 {
			n := 3 + rnd(6)
			for range n {
				for s := 0; s < 3; s++ {
					if rnd(2) == 0 {
						vx := x + rnd(6)
						rect(vx, y+rnd(3), vx+1, y+8+rnd(3), ink)
					} else {
						vy := y + rnd(10)
						rect(x, vy, x+5, vy+1, ink)
					}
				}
				x += 7
			}
			x += 6
		}
	}
	// Menu labels in white on the bar.
	for i := 0; i < 6; i++ {
		for s := 0; s < 12; s++ {
			x := 24 + i*70 + rnd(50)
			rect(x, 18+rnd(4), x+1, 30, color.RGBA{255, 255, 255, 255})
		}
	}
	return m
}

// renderLogo draws an anti-aliased logo on a transparent background: a
// disc with a ring, a diagonal bar and a soft shadow.
func renderLogo(w, h int) metric.Image {
	m := metric.Image{Pix: make([]byte, w*h*4), Width: w, Height: h, Bands: 4}
	cx, cy := float64(w)/2, float64(h)/2
	R := float64(w) * 0.36
	const ss = 4
	for y := range h {
		for x := range w {
			var cr, cg, cb, ca float64
			for sy := range ss {
				for sx := range ss {
					px := float64(x) + (float64(sx)+0.5)/ss
					py := float64(y) + (float64(sy)+0.5)/ss
					d := math.Hypot(px-cx, py-cy)
					var r, g, b, a float64
					switch {
					case d < R*0.55:
						r, g, b, a = 250, 250, 250, 1
						if math.Abs((px-cx)-(py-cy)) < R*0.12 {
							r, g, b = 240, 120, 30
						}
					case d < R*0.62:
						r, g, b, a = 30, 40, 70, 1
					case d < R:
						t := (px - cx + R) / (2 * R)
						r, g, b, a = 40+60*t, 110+80*t, 200-40*t, 1
					default:
						sd := math.Hypot(px-cx-8, py-cy-8)
						if sd < R+6 {
							r, g, b, a = 0, 0, 0, 0.35*(1-math.Max(0, sd-R)/6)
						}
					}
					cr += r * a
					cg += g * a
					cb += b * a
					ca += a
				}
			}
			p := m.Pix[(y*w+x)*4:]
			if ca > 0 {
				p[0], p[1], p[2] = byte(cr/ca+0.5), byte(cg/ca+0.5), byte(cb/ca+0.5)
			}
			p[3] = byte(255*ca/(ss*ss) + 0.5)
		}
	}
	return m
}
