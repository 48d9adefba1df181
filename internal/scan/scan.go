// Package scan runs a page's images through the fetcher and the engine,
// concurrently, and streams one result per image and then a summary.
package scan

import (
	"bytes"
	"context"
	"math"
	"net/url"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/logx"
	"github.com/imagediet/imgdiet/internal/optimize"
	"github.com/imagediet/imgdiet/internal/probe"
	"github.com/imagediet/imgdiet/internal/proto"
	"github.com/rs/zerolog"
)

// Fetcher downloads an image for a page.
type Fetcher interface {
	Fetch(ctx context.Context, pageURL, imageURL string) (*fetch.Response, error)
}

// Engine optimizes one image.
type Engine interface {
	Optimize(ctx context.Context, src []byte, opt optimize.Options) (optimize.Report, error)
}

// Holder keeps optimized bytes for download.
type Holder interface {
	Put(data []byte, format, name string) (string, error)
	Release(keys []string) int
}

// Config wires a Scanner.
type Config struct {
	// Workers is how many images are processed at once (default: cores).
	Workers int
	// MaxImages is the most images one scan may list (default 2000).
	MaxImages int
	// MaxImageBytes bounds images that arrive as data (default 32 MiB).
	MaxImageBytes int64
	// ImageTimeout bounds the work on one image after it is fetched
	// (default 5 minutes: a 50 MP photo takes minutes on two cores).
	ImageTimeout time.Duration
	// SourceBudget bounds the source bytes kept between a fast first
	// answer and a slow refinement; beyond it sources are fetched again.
	SourceBudget int64
	Fetcher      Fetcher
	Engine       Engine
	Held         Holder
	Log          zerolog.Logger
	// Idle, when set, is called each time the last running scan has
	// finished all its work: the host hands the C heap's freed memory
	// back to the kernel there.
	Idle func()
}

// Scanner runs scans. It implements session.Scanner and session.Validator.
type Scanner struct {
	cfg Config
	// sources counts source bytes kept for slow refinements, all scans.
	sources atomic.Int64
	// running counts scans whose work has not all finished.
	running atomic.Int64
}

// New returns a Scanner; zero fields of cfg take defaults.
func New(cfg Config) *Scanner {
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.MaxImages <= 0 {
		cfg.MaxImages = 2000
	}
	if cfg.MaxImageBytes <= 0 {
		cfg.MaxImageBytes = 32 << 20
	}
	if cfg.ImageTimeout <= 0 {
		cfg.ImageTimeout = 5 * time.Minute
	}
	if cfg.SourceBudget <= 0 {
		cfg.SourceBudget = 128 << 20
	}
	return &Scanner{cfg: cfg}
}

// Validate checks a scan request before it runs.
func (s *Scanner) Validate(req *proto.ScanRequest) *proto.Error {
	if req.Images == nil {
		return proto.Errorf(proto.CodeBadMessage, "The scan request needs an \"images\" list.")
	}
	if len(req.Images) > s.cfg.MaxImages {
		return proto.Errorf(proto.CodeTooLarge, "The scan lists %d images; the most one scan may list is %d.", len(req.Images), s.cfg.MaxImages)
	}
	if req.Page.URL == "" {
		return proto.Errorf(proto.CodeBadMessage, "The scan request needs \"page.url\".")
	}
	for i, im := range req.Images {
		if im.URL == "" && im.Data == nil {
			return proto.Errorf(proto.CodeBadMessage, "Image %d has no \"url\".", i)
		}
		if im.DisplayWidth < 0 || im.DisplayHeight < 0 || im.DPR < 0 || math.IsNaN(im.DPR) {
			return proto.Errorf(proto.CodeBadMessage, "Image %d has a negative display size or dpr.", i)
		}
	}
	_, perr := ParseSettings(req.Settings)
	return perr
}

// group is one distinct image of a scan: every index that names it, and
// the largest display size among them.
type group struct {
	url     string
	data    []byte
	indexes []int
	width   float64 // display width × dpr, the largest asked for
	height  float64

	// Between the fast pass and the slow refinement.
	src      []byte
	kept     int64
	fast     optimize.Report
	fastKeys []string
}

// run is one scan in progress.
type run struct {
	s     *Scanner
	req   *proto.ScanRequest
	set   Settings
	emit  func(v any) error
	start time.Time

	mu      sync.Mutex
	closed  bool // done was sent: nothing more is emitted
	sum     proto.Summary
	settled map[int]bool

	left atomic.Int64  // jobs not yet finished
	all  chan struct{} // closed when left reaches zero
}

// jobDone counts one finished job.
func (r *run) jobDone() {
	if r.left.Add(-1) == 0 {
		close(r.all)
	}
}

// Scan runs req and streams its results through emit, then done. On
// cancellation done (canceled) is sent at once; work in flight is
// abandoned and its results dropped.
func (s *Scanner) Scan(ctx context.Context, req *proto.ScanRequest, emit func(v any) error) {
	set, perr := ParseSettings(req.Settings)
	r := &run{s: s, req: req, set: set, emit: emit, start: time.Now(), settled: map[int]bool{}, all: make(chan struct{})}
	r.sum.Images = len(req.Images)
	s.running.Add(1)
	if perr != nil { // Validate normally catches this first.
		r.finish(false)
		s.idle()
		return
	}
	groups := groupImages(req.Images)
	slow := wantsSlow(set)

	fastQ := make(chan *group, len(groups))
	slowQ := make(chan *group, len(groups))
	for _, g := range groups {
		fastQ <- g
	}
	close(fastQ)

	jobs := int64(len(groups))
	if slow {
		jobs *= 2
	}
	r.left.Store(jobs)
	if jobs == 0 {
		close(r.all)
	}
	workers := s.cfg.Workers
	if workers > len(groups) {
		workers = len(groups)
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() { r.worker(ctx, fastQ, slowQ, slow) })
	}
	select {
	case <-r.all:
		close(slowQ)
		r.finish(false)
		s.idle()
	case <-ctx.Done():
		r.finish(true)
		// done went out at once; the work in flight ends on its own.
		go func() {
			wg.Wait()
			s.idle()
		}()
	}
}

// idle counts a scan out and calls cfg.Idle when none is left.
func (s *Scanner) idle() {
	if s.running.Add(-1) == 0 && s.cfg.Idle != nil {
		s.cfg.Idle()
	}
}

// worker takes fast jobs before slow ones, so every image gets a first
// answer before any AVIF refinement starts.
func (r *run) worker(ctx context.Context, fastQ, slowQ chan *group, slow bool) {
	// fastQ holds every image and is closed before the workers start, so
	// draining it first gives every image its first answer before any
	// slow refinement begins.
	for g := range fastQ {
		if ctx.Err() != nil {
			return
		}
		r.fastPass(ctx, g, slow, slowQ)
		r.jobDone()
	}
	for {
		select {
		case g, ok := <-slowQ:
			if !ok {
				return
			}
			r.slowPass(ctx, g)
			r.jobDone()
		case <-ctx.Done():
			return
		}
	}
}

func (r *run) options(g *group, skipSlow bool, formats []string) optimize.Options {
	return optimize.Options{
		Formats:       formats,
		Quality:       r.set.Quality,
		Target:        r.set.Target,
		Resize:        r.set.Resize,
		DisplayWidth:  g.width,
		DisplayHeight: g.height,
		DPR:           1, // width and height are already in device pixels
		KeepMetadata:  r.set.KeepMetadata,
		SkipSlow:      skipSlow,
	}
}

func (r *run) fastPass(ctx context.Context, g *group, slow bool, slowQ chan *group) {
	src, err := r.source(ctx, g)
	if err != nil {
		r.fail(g, nil, err)
		if slow {
			r.jobDone()
		}
		return
	}
	ictx, cancel := context.WithTimeout(ctx, r.s.cfg.ImageTimeout)
	rep, err := r.s.cfg.Engine.Optimize(ictx, src, r.options(g, slow, r.set.Formats))
	cancel()
	if err != nil {
		r.fail(g, src, timeoutAware(ictx, err))
		if slow {
			r.jobDone()
		}
		return
	}
	// Animations and SVG have nothing to refine: one encoder, no AVIF.
	refine := slow && !rep.Source.Animated && rep.Source.Format != "svg"
	g.fast = rep
	g.fastKeys = r.report(g, rep, !refine)
	if !refine {
		if slow {
			r.jobDone()
		}
		return
	}
	if n := int64(len(src)); r.s.sources.Add(n) <= r.s.cfg.SourceBudget {
		g.src, g.kept = src, n
	} else {
		r.s.sources.Add(-n)
	}
	slowQ <- g
}

func (r *run) slowPass(ctx context.Context, g *group) {
	src := g.src
	defer func() {
		r.s.sources.Add(-g.kept)
		g.src, g.kept = nil, 0
	}()
	if src == nil {
		var err error
		if src, err = r.source(ctx, g); err != nil {
			// The fast answer stands; make it final.
			r.finalize(g, g.fast)
			return
		}
	}
	ictx, cancel := context.WithTimeout(ctx, r.s.cfg.ImageTimeout)
	opt := r.options(g, false, finalFormats(r.set))
	if r.set.Quality == 0 {
		opt.Previous = g.fast.Candidates
	}
	rep, err := r.s.cfg.Engine.Optimize(ictx, src, opt)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		r.s.cfg.Log.Debug().Str("host", logx.Host(g.url)).Msg("slow refinement failed; keeping the fast answer")
		r.finalize(g, g.fast)
		return
	}
	if r.set.Quality == 0 {
		// Every format was measured again: the final pass's candidates
		// replace the fast ones.
		r.finalize(g, rep)
		return
	}
	r.finalize(g, merge(g.fast, rep))
}

// finalize sends the final result; keys of the fast answer that the final
// one no longer names are released.
func (r *run) finalize(g *group, rep optimize.Report) {
	old := g.fastKeys
	g.fastKeys = nil
	if rep.Best != nil && g.fast.Best != nil && rep.Best.Format == g.fast.Best.Format && bytes.Equal(rep.Best.Data, g.fast.Best.Data) {
		// Same bytes as the fast answer: resend them under the same key.
		r.reportWithKeys(g, rep, true, old)
		return
	}
	r.s.cfg.Held.Release(old)
	r.report(g, rep, true)
}

// source returns the image's bytes: from the request or fetched.
func (r *run) source(ctx context.Context, g *group) ([]byte, error) {
	if g.data != nil {
		if int64(len(g.data)) > r.s.cfg.MaxImageBytes {
			return nil, proto.Errorf(proto.CodeTooLarge, "The image is larger than %d MB.", r.s.cfg.MaxImageBytes>>20)
		}
		return g.data, nil
	}
	if strings.HasPrefix(g.url, "data:") || strings.HasPrefix(g.url, "blob:") {
		return nil, proto.Errorf(proto.CodeBadURL, "The extension did not send this image's bytes.")
	}
	resp, err := r.s.cfg.Fetcher.Fetch(ctx, r.req.Page.URL, g.url)
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

func timeoutAware(ctx context.Context, err error) error {
	if ctx.Err() == context.DeadlineExceeded {
		return proto.Errorf(proto.CodeTimeout, "Optimizing the image took too long.")
	}
	return err
}

// report sends a result for every index of g and returns the key under
// which the best bytes are held.
func (r *run) report(g *group, rep optimize.Report, final bool) []string {
	return r.reportWithKeys(g, rep, final, nil)
}

func (r *run) reportWithKeys(g *group, rep optimize.Report, final bool, keys []string) []string {
	base := proto.Result{
		Type:  proto.TypeResult,
		ID:    r.req.ID,
		Final: final,
		Original: &proto.Original{
			Bytes:    rep.Source.Bytes,
			Format:   rep.Source.Format,
			Width:    rep.Source.Width,
			Height:   rep.Source.Height,
			Animated: rep.Source.Animated,
		},
		Status: proto.StatusOptimal,
	}
	for _, sk := range rep.Skipped {
		base.Skipped = append(base.Skipped, proto.Skip{Format: sk.Format, Reason: sk.Reason})
	}
	for _, c := range rep.Candidates {
		base.Candidates = append(base.Candidates, proto.Candidate{
			Format: c.Format, Bytes: int64(len(c.Data)), Width: c.Width, Height: c.Height, Quality: c.Quality,
		})
	}
	best := rep.Best
	if best != nil && rep.Source.Bytes-int64(len(best.Data)) >= r.set.MinSavingsBytes && rep.Source.Bytes-int64(len(best.Data)) > 0 {
		key := ""
		if len(keys) > 0 {
			key = keys[0]
		} else {
			var err error
			key, err = r.s.cfg.Held.Put(best.Data, best.Format, fileName(g.url, best.Format))
			if err != nil {
				r.s.cfg.Log.Warn().Err(err).Msg("could not hold an optimized image")
			}
		}
		if key != "" {
			keys = []string{key}
			base.Status = proto.StatusOptimized
			base.Best = &proto.Candidate{
				Key: key, Format: best.Format, Bytes: int64(len(best.Data)),
				Width: best.Width, Height: best.Height, Quality: best.Quality,
			}
			base.SavedBytes = rep.Source.Bytes - base.Best.Bytes
			base.SavedPercent = math.Round(float64(base.SavedBytes)*1000/float64(rep.Source.Bytes)) / 10
			base.Reasons = best.Reasons
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return keys
	}
	for _, i := range g.indexes {
		res := base
		res.Index = i
		res.URL = echoURL(r.req.Images[i].URL)
		if err := r.emit(res); err != nil {
			r.s.cfg.Log.Error().Err(err).Msg("could not send a result")
		}
		if final && !r.settled[i] {
			r.settled[i] = true
			r.sum.OriginalBytes += rep.Source.Bytes
			if base.Best != nil {
				r.sum.Optimized++
				r.sum.OptimizedBytes += base.Best.Bytes
			} else {
				r.sum.Optimal++
				r.sum.OptimizedBytes += rep.Source.Bytes
			}
		}
	}
	return keys
}

// fail sends an error result for every index of g. src, when the bytes
// were read, is counted as original bytes.
func (r *run) fail(g *group, src []byte, err error) {
	perr := proto.Public(err)
	if perr.Code == proto.CodeInternal {
		r.s.cfg.Log.Error().Err(err).Str("host", logx.Host(g.url)).Msg("unexpected failure")
	}
	var orig *proto.Original
	if src != nil {
		orig = &proto.Original{Bytes: int64(len(src)), Format: probe.Sniff(src)}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	for _, i := range g.indexes {
		res := proto.Result{
			Type: proto.TypeResult, ID: r.req.ID, Index: i, Final: true,
			URL: echoURL(r.req.Images[i].URL), Status: proto.StatusError,
			Original: orig,
			Error:    &proto.Error{Code: perr.Code, Message: perr.Message, HTTPStatus: perr.HTTPStatus},
		}
		if err := r.emit(res); err != nil {
			r.s.cfg.Log.Error().Err(err).Msg("could not send a result")
		}
		if !r.settled[i] {
			r.settled[i] = true
			r.sum.Failed++
			if orig != nil {
				r.sum.OriginalBytes += orig.Bytes
				r.sum.OptimizedBytes += orig.Bytes
			}
		}
	}
}

// finish sends done once; after it nothing more is emitted.
func (r *run) finish(canceled bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	r.sum.SavedBytes = r.sum.OriginalBytes - r.sum.OptimizedBytes
	r.sum.ElapsedMs = time.Since(r.start).Milliseconds()
	if err := r.emit(proto.Done{Type: proto.TypeDone, ID: r.req.ID, Canceled: canceled, Summary: r.sum}); err != nil {
		r.s.cfg.Log.Error().Err(err).Msg("could not send done")
	}
}

// groupImages merges images with the same URL (or the same bytes for
// images sent as data), keeping the largest display size.
func groupImages(images []proto.Image) []*group {
	byKey := map[string]*group{}
	var out []*group
	for i, im := range images {
		key := "u:" + im.URL
		if im.Data != nil && (im.URL == "" || strings.HasPrefix(im.URL, "blob:")) {
			key = "d:" + string(im.Data)
		}
		dpr := im.DPR
		if dpr <= 0 {
			dpr = 1
		}
		w, h := im.DisplayWidth*dpr, im.DisplayHeight*dpr
		g, ok := byKey[key]
		if !ok {
			g = &group{url: im.URL, data: im.Data, width: w, height: h}
			byKey[key] = g
			out = append(out, g)
		} else if w*h > g.width*g.height || w == 0 || g.width == 0 {
			// Unknown size anywhere means the image may be shown at full
			// size: never resize below what some instance needs.
			if w == 0 || g.width == 0 {
				g.width, g.height = 0, 0
			} else {
				g.width, g.height = w, h
			}
		}
		g.indexes = append(g.indexes, i)
	}
	return out
}

// wantsSlow reports whether images get a second, final pass after the
// fast answer: with automatic quality every still image does (the final
// pass measures candidates with the exact referee metric), otherwise only
// when a slow format (AVIF) is allowed.
func wantsSlow(set Settings) bool {
	return set.Quality == 0 || len(slowFormats(set.Formats)) > 0
}

// finalFormats lists the formats the final pass encodes: all of them with
// automatic quality (the final pass re-measures every format), else only
// the slow ones the fast pass left out.
func finalFormats(set Settings) []string {
	if set.Quality == 0 {
		return set.Formats
	}
	return slowFormats(set.Formats)
}

func slowFormats(formats []string) []string {
	var out []string
	for _, f := range formats {
		if f == "avif" {
			out = append(out, f)
		}
	}
	return out
}

// merge combines the fast pass's candidates with the slow pass's.
func merge(fast, slow optimize.Report) optimize.Report {
	out := fast
	out.Candidates = append(append([]optimize.Output(nil), fast.Candidates...), slow.Candidates...)
	out.Skipped = append(append([]optimize.Skipped(nil), fast.Skipped...), slow.Skipped...)
	sortBySize(out.Candidates)
	out.Best = nil
	for i := range out.Candidates {
		if int64(len(out.Candidates[i].Data)) < out.Source.Bytes {
			out.Best = &out.Candidates[i]
			break
		}
	}
	if out.Best != nil && fast.Best != nil && len(out.Best.Data) == len(fast.Best.Data) && out.Best.Format == fast.Best.Format {
		out.Best = fast.Best
	}
	return out
}

func sortBySize(c []optimize.Output) {
	slices.SortStableFunc(c, func(a, b optimize.Output) int { return len(a.Data) - len(b.Data) })
}

// echoURL bounds the URL echoed in a result, so a long data: URL cannot
// push a message over the 1 MiB native-messaging cap.
func echoURL(u string) string {
	const max = 2048
	if len(u) <= max {
		return u
	}
	return u[:max] + "…"
}

// fileName suggests a download name: the URL's base name with the new
// format's extension.
func fileName(rawURL, format string) string {
	base := "image"
	if u, err := url.Parse(rawURL); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if b := path.Base(u.Path); b != "" && b != "." && b != "/" {
			if b = strings.TrimSuffix(b, path.Ext(b)); b != "" {
				base = b
			}
		}
	}
	return base + optimize.ExtFor(format)
}
