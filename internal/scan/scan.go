// Package scan runs a page's images through the fetcher and the engine,
// concurrently, and streams results per image and then a summary.
//
// A scan works in two passes. Every distinct URL is fetched and its bytes
// hashed; identical bytes behind different URLs are one content, optimized
// once for the largest display box any of its rows needs (content.go).
// Each content gets a fast estimate first, in page order; the final,
// verified pass then takes contents in order of the savings their
// estimates promise, largest first (queue.go). Results, and the keys that
// hold their bytes, are sent and retired in emit.go.
package scan

import (
	"context"
	"crypto/sha256"
	"math"
	"net/url"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imagediet/imgdiet/internal/fetch"
	"github.com/imagediet/imgdiet/internal/optimize"
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
	// Variants makes an image's responsive widths (settings.variants).
	Variants(ctx context.Context, src []byte, req optimize.VariantRequest) (optimize.VariantReport, error)
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
	// Fetchers is how many images a scan fetches at once (default 4). They
	// run ahead of the workers, so network latency overlaps the CPU work;
	// the bytes of up to Fetchers new images wait for a worker.
	Fetchers int
	// MaxImages is the most images one scan may list (default 2000).
	MaxImages int
	// MaxImageBytes bounds images that arrive as data (default 32 MiB).
	MaxImageBytes int64
	// ImageTimeout bounds one engine call on an image after it is fetched
	// (default 5 minutes: a 50 MP photo takes minutes on two cores). It
	// is a safety net above the scan's per-image budget, which the engine
	// keeps by itself: the bound used is the larger of ImageTimeout and
	// twice the budget.
	ImageTimeout time.Duration
	// ReleaseGrace is how long a key that a newer result superseded stays
	// held before the host releases it (default 10 s), so a download the
	// extension asked for just before the newer result arrived completes.
	ReleaseGrace time.Duration
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
	if cfg.Fetchers <= 0 {
		cfg.Fetchers = 4
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
	if cfg.ReleaseGrace <= 0 {
		cfg.ReleaseGrace = 10 * time.Second
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
		if perr := checkSrcset(i, im.SrcsetWidths); perr != nil {
			return perr
		}
	}
	_, perr := ParseSettings(req.Settings)
	return perr
}

// run is one scan in progress.
type run struct {
	s     *Scanner
	req   *proto.ScanRequest
	set   Settings
	emit  func(v any) error
	start time.Time
	// slow: images get a final pass after their estimate (wantsSlow).
	slow bool

	mu       sync.Mutex
	closed   bool // done was sent: nothing more is emitted
	sum      proto.Summary
	settled  map[int]bool
	contents map[[sha256.Size]byte]*content // by hash: the generation new rows join
	every    []*content                     // every content, all generations
	queue    queue                          // contents waiting for their final pass
	vqueue   []*content                     // contents waiting for variants, in order
	vsent    map[int]bool                   // rows whose variants message went out
	wake     chan struct{}                  // a token per push to queue or vqueue

	fetchers sync.WaitGroup
	left     atomic.Int64  // jobs not yet finished: fetches, estimates, final passes
	all      chan struct{} // closed when left reaches zero
}

// jobDone counts one finished job.
func (r *run) jobDone() {
	if r.left.Add(-1) == 0 {
		close(r.all)
	}
}

// Scan runs req and streams its results through emit, then done. On
// cancellation done (canceled) is sent at once; work in flight is
// abandoned and its results dropped. Keys that results already named
// stay held (emit.go says which are released, and when).
func (s *Scanner) Scan(ctx context.Context, req *proto.ScanRequest, emit func(v any) error) {
	set, perr := ParseSettings(req.Settings)
	r := &run{s: s, req: req, set: set, emit: emit, start: time.Now(), settled: map[int]bool{}, vsent: map[int]bool{},
		contents: map[[sha256.Size]byte]*content{}, all: make(chan struct{}), slow: wantsSlow(set)}
	r.sum.Images = len(req.Images)
	s.running.Add(1)
	if perr != nil { // Validate normally catches this first.
		r.finish(false)
		s.idle()
		return
	}
	units := groupUnits(req.Images)
	workers := min(s.cfg.Workers, len(units))
	r.wake = make(chan struct{}, max(workers, 1))
	r.left.Store(int64(len(units)))
	if len(units) == 0 {
		close(r.all)
	}
	estimates := r.fetchAll(ctx, units)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Go(func() { r.worker(ctx, estimates) })
	}
	select {
	case <-r.all:
		r.finish(false)
		s.idle()
	case <-ctx.Done():
		r.finish(true)
		// done went out at once; the work in flight ends on its own.
		go func() {
			wg.Wait()
			r.fetchers.Wait()
			r.dropSources() // of the contents whose final pass never ran
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

// fetchAll fetches the units, Config.Fetchers at a time, in page order,
// and returns the estimate jobs they make; it is closed once every unit
// has been fetched. Fetches wait for the network, not the CPU, so they run
// ahead of the workers; a fetcher holding new bytes waits for a worker to
// take them (duplicates are dropped once hashed).
func (r *run) fetchAll(ctx context.Context, units []*unit) <-chan estimateJob {
	todo := make(chan *unit, len(units))
	for _, u := range units {
		todo <- u
	}
	close(todo)
	jobs := make(chan estimateJob)
	for f := 0; f < min(r.s.cfg.Fetchers, len(units)); f++ {
		r.fetchers.Go(func() {
			for u := range todo {
				if ctx.Err() != nil {
					return
				}
				job, ok := r.fetchUnit(ctx, u)
				if ok {
					r.left.Add(1) // the estimate, before the fetch counts done
				}
				r.jobDone()
				if !ok {
					continue
				}
				select {
				case jobs <- job:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	go func() {
		r.fetchers.Wait()
		close(jobs)
	}()
	return jobs
}

// worker makes estimates until every unit is fetched and estimated, then
// takes final passes and variants: a page's first answers all come before
// the slow, verified work, and every final pass waiting comes before
// variants.
func (r *run) worker(ctx context.Context, estimates <-chan estimateJob) {
	for j := range estimates {
		if ctx.Err() == nil {
			r.estimate(ctx, j.c, j.src)
		}
		r.jobDone()
	}
	for {
		c, variants := r.next(ctx)
		if c == nil {
			return
		}
		if variants {
			r.variantPass(ctx, c)
		} else {
			r.finalPass(ctx, c)
		}
		r.jobDone()
	}
}

// options are the engine options for box b.
func (r *run) options(b box, skipSlow bool, formats []string) optimize.Options {
	return optimize.Options{
		Formats:       formats,
		Quality:       r.set.Quality,
		Target:        r.set.Target,
		Resize:        r.set.Resize,
		DisplayWidth:  b.w,
		DisplayHeight: b.h,
		DPR:           1, // the box is already in device pixels
		KeepMetadata:  r.set.KeepMetadata,
		SkipSlow:      skipSlow,
	}
}

// hardTimeout bounds one engine call: a safety net above the budget the
// engine keeps itself.
func (r *run) hardTimeout() time.Duration {
	return max(r.s.cfg.ImageTimeout, 2*r.set.ImageBudget)
}

// source returns an image's bytes: data from the request, or fetched.
func (r *run) source(ctx context.Context, rawURL string, data []byte) ([]byte, error) {
	if data != nil {
		if int64(len(data)) > r.s.cfg.MaxImageBytes {
			return nil, proto.Errorf(proto.CodeTooLarge, "The image is larger than %d MB.", r.s.cfg.MaxImageBytes>>20)
		}
		return data, nil
	}
	if strings.HasPrefix(rawURL, "data:") || strings.HasPrefix(rawURL, "blob:") {
		return nil, proto.Errorf(proto.CodeBadURL, "The extension did not send this image's bytes.")
	}
	resp, err := r.s.cfg.Fetcher.Fetch(ctx, r.req.Page.URL, rawURL)
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
