// Command enginebench is the Go side of scripts/bench.sh. It answers one
// JSON request per line on stdin with one JSON line on stdout, so that the
// Node harness can alternate it with sharp operation by operation:
//
//	{"op":"encode","impl":"govips"|"engine","path":P,"format":F,"q":N,"effort":E}
//	    one decode + encode of the file at P, timed; impl govips loads it
//	    with govips and encodes it with internal/codec, the engine's
//	    settings table (see opEncodings), impl engine runs optimize.Engine with that
//	    one format at fixed quality N. Both run the WebP and AVIF encoders
//	    at effort E (the engine through Config.WebPEffort and AVIFEffort),
//	    the effort the harness also gives sharp; the engine's own defaults
//	    are WebP 6 and AVIF 4. The reply gives the time, the process's CPU
//	    time and minor faults during it, and the output's size and SHA-256.
//	{"op":"faultcost"}
//	    the time of one minor page fault in µs (see faultCost).
//	{"op":"optimize","path":P,"formats":[...],"target":T,"out":DIR}
//	    the engine's automatic quality for target T, no resize; writes each
//	    candidate to DIR and lists them.
//	{"op":"inproc","paths":[...],"display":W,"workers":N,"profile":FILE}
//	    the scan's work without the host: every image through the engine
//	    (a fast pass without AVIF, then AVIF), N at once, timed, with a CPU
//	    profile written to FILE so that libvips time can be told from Go
//	    time.
//	{"op":"encodeonce","path":P,"width":W,"settings":[{format,encoding,quality,effort,sum}]}
//	    the search overhead's denominator: P decoded and shrunk to width W,
//	    held, then each setting (internal/codec's Encoding, quality,
//	    effort: a final candidate's) encoded once, CPU time around each,
//	    and whether the bytes match the candidate's SHA-256.
//	{"op":"process","argv":[...],"env":[...]}
//	    one whole process (the CLI, or sharp's script), its wall time and
//	    CPU time from wait4.
//
// Files are read once and kept in memory so that reading is never timed.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/rs/zerolog"

	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/vipsrt"
)

type request struct {
	Op      string   `json:"op"`
	Impl    string   `json:"impl"`
	Path    string   `json:"path"`
	Paths   []string `json:"paths"`
	Format  string   `json:"format"`
	Q       int      `json:"q"`
	Effort  int      `json:"effort"`
	Formats []string `json:"formats"`
	Target  string   `json:"target"`
	Out     string   `json:"out"`
	Display float64  `json:"display"`
	Workers int      `json:"workers"`
	Profile string   `json:"profile"`
	// Width and Settings: encodeonce; Argv and Env: process.
	Width    int       `json:"width"`
	Settings []setting `json:"settings"`
	Argv     []string  `json:"argv"`
	Env      []string  `json:"env"`
}

type candidate struct {
	Format  string `json:"format"`
	Bytes   int    `json:"bytes"`
	Quality int    `json:"quality"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	File    string `json:"file,omitempty"`
}

type reply struct {
	Ms         float64     `json:"ms,omitempty"`
	Faults     int64       `json:"faults,omitempty"`
	FaultUs    float64     `json:"faultUs,omitempty"`
	Bytes      int         `json:"bytes,omitempty"`
	Sum        string      `json:"sum,omitempty"`
	Candidates []candidate `json:"candidates,omitempty"`
	WallMs     float64     `json:"wallMs,omitempty"`
	CPUMs      float64     `json:"cpuMs,omitempty"`
	FastMs     float64     `json:"fastMs,omitempty"`
	Error      string      `json:"error,omitempty"`
	Libvips    string      `json:"libvips,omitempty"`
	Encodes    []encoded   `json:"encodes,omitempty"`
}

type bench struct {
	log zerolog.Logger
	eng *optimize.Engine
	// perop holds the engines of the per-operation comparison by encoder
	// effort: the product's settings but the effort the harness asks for.
	perop map[int]*optimize.Engine
	files map[string][]byte
}

func main() {
	log := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)
	// The same libvips set-up as the host (threads = cores, small cache).
	vipsrt.Start(vipsrt.DefaultConfig(), log)
	b := &bench{log: log, eng: optimize.New(optimize.Config{Log: log}), perop: map[int]*optimize.Engine{}, files: map[string][]byte{}}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		var req request
		var rep reply
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			rep.Error = err.Error()
		} else {
			rep = b.do(req)
		}
		if err := out.Encode(rep); err != nil {
			os.Exit(1)
		}
	}
}

func (b *bench) file(p string) ([]byte, error) {
	if d, ok := b.files[p]; ok {
		return d, nil
	}
	d, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	b.files[p] = d
	return d, nil
}

func (b *bench) do(req request) reply {
	var rep reply
	var err error
	switch req.Op {
	case "version":
		rep.Libvips = vipsrt.Version()
	case "encode":
		rep, err = b.encode(req)
	case "faultcost":
		rep.FaultUs, err = faultCost()
	case "optimize":
		rep, err = b.optimize(req)
	case "inproc":
		rep, err = b.inproc(req)
	case "encodeonce":
		rep, err = b.encodeOnce(req)
	case "process":
		rep, err = process(req)
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		rep.Error = firstLine(err.Error())
	}
	return rep
}

func (b *bench) encode(req request) (reply, error) {
	src, err := b.file(req.Path)
	if err != nil {
		return reply{}, err
	}
	if req.Effort <= 0 {
		return reply{}, errors.New("encode needs the encoder effort")
	}
	eng := b.perop[req.Effort]
	if eng == nil {
		eng = optimize.New(optimize.Config{WebPEffort: req.Effort, AVIFEffort: req.Effort, Log: b.log})
		b.perop[req.Effort] = eng
	}
	runtime.GC() // collect outside the timed region, as sharp's V8 heap is idle too
	flt, cpu0 := usage()
	start := time.Now()
	var out []byte
	switch req.Impl {
	case "govips":
		out, err = encodeGovips(src, req.Format, req.Q, req.Effort)
	case "engine":
		var r optimize.Report
		r, err = eng.Optimize(context.Background(), src, optimize.Options{Formats: []string{req.Format}, Quality: req.Q})
		for _, c := range r.Candidates {
			if c.Format == req.Format && c.Quality == req.Q {
				out = c.Data
			}
		}
	default:
		err = fmt.Errorf("unknown impl %q", req.Impl)
	}
	el := time.Since(start)
	flt1, cpu1 := usage()
	if err != nil {
		return reply{}, err
	}
	if out == nil {
		return reply{}, fmt.Errorf("no %s output at quality %d", req.Format, req.Q)
	}
	// The digest lets the harness check that every contender produced the
	// same bytes, that is, did the same work; it is taken after the clock.
	sum := sha256.Sum256(out)
	return reply{Ms: ms(el), CPUMs: ms(cpu1 - cpu0), Faults: flt1 - flt, Bytes: len(out), Sum: hex.EncodeToString(sum[:])}, nil
}

// faultCost is the time of one minor page fault in microseconds: map
// 16 MiB, touch every page, unmap, best of 50.
func faultCost() (float64, error) {
	const size = 16 << 20
	page := os.Getpagesize()
	best := time.Duration(1 << 62)
	for range 50 {
		start := time.Now()
		m, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			return 0, err
		}
		for i := 0; i < size; i += page {
			m[i] = 1
		}
		if err := syscall.Munmap(m); err != nil {
			return 0, err
		}
		best = min(best, time.Since(start))
	}
	return float64(best.Nanoseconds()) / 1000 / float64(size/page), nil
}

// usage is the process's count of minor page faults and its CPU time
// (user and system) so far, every thread included: what Node's
// process.resourceUsage and process.cpuUsage report for sharp.
func usage() (faults int64, cpu time.Duration) {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0, 0
	}
	return u.Minflt, time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// opEncodings are the encodings of the per-operation comparison: the
// engine's final encode of each format at a fixed quality, which the
// harness's sharp settings match byte for byte (JPEG 4:2:0 below quality
// 90, as libvips' automatic subsampling; PNG as a palette).
var opEncodings = map[string]codec.Encoding{
	"jpeg": codec.JPEG,
	"webp": codec.WebP,
	"avif": codec.AVIF,
	"png":  codec.PNGPalette,
}

// encodeGovips decodes src with govips and encodes it once with the
// engine's settings for format at quality q, WebP and AVIF at effort.
func encodeGovips(src []byte, format string, q, effort int) ([]byte, error) {
	enc, ok := opEncodings[format]
	if !ok {
		return nil, fmt.Errorf("unknown format %q", format)
	}
	img, err := vips.LoadImageFromBuffer(src, vips.NewImportParams())
	if err != nil {
		return nil, err
	}
	defer img.Close()
	return codec.Encode(img, codec.Settings{Encoding: enc.AutoSubsample(q), Quality: q, Effort: effort, Strip: true})
}

func (b *bench) optimize(req request) (reply, error) {
	src, err := b.file(req.Path)
	if err != nil {
		return reply{}, err
	}
	start := time.Now()
	r, err := b.eng.Optimize(context.Background(), src, optimize.Options{Formats: req.Formats, Target: req.Target})
	el := time.Since(start)
	if err != nil {
		return reply{}, err
	}
	rep := reply{Ms: float64(el.Microseconds()) / 1000}
	base := strings.TrimSuffix(filepath.Base(req.Path), filepath.Ext(req.Path))
	for _, c := range r.Candidates {
		f := filepath.Join(req.Out, base+optimize.ExtFor(c.Format))
		if err := os.WriteFile(f, c.Data, 0o644); err != nil {
			return reply{}, err
		}
		rep.Candidates = append(rep.Candidates, candidate{Format: c.Format, Bytes: len(c.Data), Quality: c.Quality,
			Width: c.Width, Height: c.Height, File: f})
	}
	return rep, nil
}

// inproc runs what a scan runs, without the host: per image a fast pass
// (every format but AVIF, fast metric) and then the final pass (every
// format, measured with butteraugli), fast jobs before slow ones, Workers
// at once, with the same options the scan passes.
func (b *bench) inproc(req request) (reply, error) {
	srcs := make([][]byte, len(req.Paths))
	for i, p := range req.Paths {
		d, err := b.file(p)
		if err != nil {
			return reply{}, err
		}
		srcs[i] = d
	}
	workers := max(req.Workers, 1)
	opt := func(formats []string, skip bool) optimize.Options {
		return optimize.Options{Formats: formats, Target: "balanced", Resize: req.Display > 0,
			DisplayWidth: req.Display, DPR: 1, SkipSlow: skip}
	}
	all := []string{"jpeg", "png", "webp", "avif"}
	runtime.GC()
	if req.Profile != "" {
		f, err := os.Create(req.Profile)
		if err != nil {
			return reply{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return reply{}, err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuTime()
	start := time.Now()
	prev := make([][]optimize.Output, len(srcs)) // each index written by one worker, read after the channel hand-off
	fast := make(chan int, len(srcs))
	slow := make(chan int, len(srcs))
	for i := range srcs {
		fast <- i
	}
	close(fast)
	var fastDone sync.WaitGroup
	fastDone.Add(len(srcs))
	var fastAt time.Duration
	var once sync.Once
	go func() { fastDone.Wait(); once.Do(func() { fastAt = time.Since(start) }); close(slow) }()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range fast {
				r, err := b.eng.Optimize(context.Background(), srcs[i], opt(all, true))
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
				prev[i] = r.Candidates
				slow <- i
				fastDone.Done()
			}
			for i := range slow {
				// As the scan does: the final pass refines the fast
				// answer's candidates.
				o := opt(all, false)
				o.Previous = prev[i]
				if _, err := b.eng.Optimize(context.Background(), srcs[i], o); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	if firstErr != nil {
		return reply{}, firstErr
	}
	return reply{WallMs: ms(wall), CPUMs: ms(cpu), FastMs: ms(fastAt)}, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
