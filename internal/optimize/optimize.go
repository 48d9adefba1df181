// Package optimize is Image Diet's image engine: it measures an image,
// decodes it once with libvips, and re-encodes it in every allowed format,
// picking for each the smallest encoding that still looks like the source
// (or the quality the user fixed). The caller gets real files, never
// estimates, and keeps the original when nothing is smaller.
//
// An image goes down the pipeline once, one step a file, in this order:
//
//	probe.go      the headers: format, size, frames, limits (no pixel yet);
//	              a valid image the engine cannot re-encode is kept here
//	svg.go        an SVG is minified as text, and that is its answer
//	source.go     the pixels: opened strictly, shrunk to the display box,
//	              held decoded, or read anew by each encode when they do
//	              not fit in the memory budget
//	plan.go       the formats to make, in order, each with the encodings
//	              that fit the budget (or a reason it is left out)
//	search.go     each format in turn, best first, stopping those that
//	              cannot win; a reduced copy for formats too costly
//	formats.go    each format's recipe: what it searches, where it starts,
//	              what it encodes last
//	quality.go    one measured step: an encode, its measure, the quality
//	              search that strings them together (clock.go: the CPU
//	              time budget it checks before each encode)
//	reference.go  what a candidate is measured against, and the measure
//	pick.go       the candidates in order, the best, and whether it is
//	              verified
//	errors.go     failures mapped to the sentence a person reads
//
// Encoder settings live in internal/codec, the one table the engine, the
// calibration and the benchmark share.
package optimize

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"

	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/metric"
	"github.com/imagediet/imgdiet/internal/vipsrt"
	"github.com/rs/zerolog"
)

// Output format names.
const (
	JPEG = "jpeg"
	PNG  = "png"
	WebP = "webp"
	AVIF = "avif"
	GIF  = "gif"
	SVG  = "svg"
)

// Reasons an output is smaller than its source.
const (
	ReasonResize      = "resize"
	ReasonFormat      = "format"
	ReasonCompression = "compression"
)

// Config bounds what an Engine accepts and how hard it works.
type Config struct {
	// MaxPixels bounds width × height summed over frames. Default 50,000,000.
	MaxPixels int64
	// MaxFrames bounds the frames of an animation. Default 1000.
	MaxFrames int
	// AVIFEffort is the AVIF encoder effort of the final encode, 1 (fast)
	// to 9 (slow). Default 4.
	AVIFEffort int
	// WebPEffort is the WebP encoder effort of the final encode (and of
	// every encode at a fixed quality), 1 (fast) to 6 (slow). Default 6;
	// SkipSlow lowers it to 4.
	WebPEffort int
	// MetricPixels bounds the size at which quality "auto" compares a
	// candidate with its source: larger images are shrunk to about this
	// many pixels for the comparison (the encoded output keeps its size).
	// Default 2,500,000.
	MetricPixels int64
	// ExactPixels bounds the size of the images whose candidates quality
	// "auto" measures with butteraugli, the referee its targets are defined
	// by (except in SkipSlow's fast answers); larger ones, and fast
	// answers, are measured with the faster SSIM-family metric calibrated
	// against it. Default 2,500,000.
	ExactPixels int64
	// MemoryBudget bounds, in bytes, the memory that decoders and encoders
	// may hold at once, estimated before each step and summed over the
	// Optimize calls in flight: a call waits until its share is free. An
	// image too large to hold decoded within it is read anew from the
	// source by each encode; a format whose single encode still does not
	// fit is encoded with cheaper settings where it has them, or left out
	// (Report.Skipped says why). The metric's own memory (Go heap) is not
	// counted. Default 160 MiB, which keeps the host's peak near 210 MiB
	// on a 50-megapixel photo.
	MemoryBudget int64
	// Log receives debug and warning events; never image bytes or paths.
	Log zerolog.Logger
}

// Options say what the user wants for one image.
type Options struct {
	// Formats lists the allowed output formats ("jpeg", "png", "webp",
	// "avif", "gif", "svg"). Default jpeg, png, webp, avif. An SVG source
	// always yields SVG, and an animated GIF may stay a GIF.
	Formats []string
	// Quality 0 picks the quality automatically for Target; 1 to 100 is
	// passed to every encoder as is.
	Quality int
	// Target is "high", "balanced" (default) or "small".
	Target string
	// Resize shrinks images larger than the display size × DPR.
	Resize bool
	// DisplayWidth and DisplayHeight are the rendered size in CSS pixels;
	// 0 when unknown.
	DisplayWidth, DisplayHeight float64
	// DPR is the device pixel ratio. Default 1.
	DPR float64
	// KeepMetadata keeps EXIF, XMP and colour profiles; by default they are
	// removed.
	KeepMetadata bool
	// Previous holds the candidates of an earlier answer for the same
	// image and options (a scan's fast pass). When measuring exactly, a
	// format whose earlier candidate is far larger than the smallest exact
	// one keeps that candidate instead of being searched again.
	Previous []Output
	// SkipSlow leaves out the slow encoders (AVIF, palette PNG of large
	// images) for a fast first answer, and measures automatic quality with
	// the faster SSIM-family metric instead of butteraugli.
	SkipSlow bool
	// Budget bounds the CPU time this call may take (0: no bound): its
	// share of the process's CPU time while it works, checked before each
	// encode. When it runs out the smallest candidate verified so far is
	// returned, with Report.Note saying so, rather than an error.
	Budget time.Duration
	// Progress, when set, is called on the caller's goroutine each time a
	// verified candidate smaller than any before it is found, with the
	// report as it stands (Verified set). The final report still comes
	// from Optimize.
	Progress func(Report)
	// width, when set, is the exact width to shrink to (Variants).
	width int
}

// Source describes the original image.
type Source struct {
	Format string
	Bytes  int64
	// Width and Height are as displayed, after EXIF orientation.
	Width, Height int
	Animated      bool
	Frames        int
}

// Output is one encoded candidate.
type Output struct {
	Format        string
	Data          []byte
	Width, Height int
	// Quality is the encoder quality used (100 for lossless outputs).
	Quality int
	// Reasons is a subset of "resize", "format" and "compression".
	Reasons []string
	// Distance is the butteraugli distance measured for this output, or
	// its equivalent calibrated from the SSIM-family metric where that
	// measured it (reference.butteraugli); 0 when it was not measured
	// (lossless outputs, a fixed quality).
	Distance float64
	// verified marks an output checked at the target by the final pass's
	// measure, made at a fixed quality, or lossless.
	verified bool
	// Encoding and Effort are the settings that made Data (internal/codec's
	// table; Effort 0 is the encoding's default): encoding them again at
	// Quality gives the same bytes.
	Encoding codec.Encoding
	Effort   int
}

// Skipped is an allowed format the engine did not produce, and why.
type Skipped struct {
	Format string
	// Reason is a sentence for the user.
	Reason string
}

// Report is the outcome of Optimize.
type Report struct {
	Source Source
	// Candidates holds the best output of each format, smallest first.
	Candidates []Output
	// Best is the smallest candidate strictly smaller than the source, or
	// nil when the original should be kept.
	Best *Output
	// Skipped lists the allowed formats left out because their encode
	// would not fit in Config.MemoryBudget, with the reason.
	Skipped []Skipped
	// Verified reports that Best (or the verdict that the original should
	// be kept) was checked against the target with the exact measure
	// (butteraugli), or that the quality was fixed: nothing is estimated.
	Verified bool
	// Note is a sentence for the person when the answer was reached in an
	// unusual way (the budget ran out), else "".
	Note string
	// Alpha reports that the image's transparency is in use (an image
	// whose alpha band is all opaque has none).
	Alpha bool
}

// Engine optimizes images. It is safe for concurrent use.
type Engine struct {
	cfg Config
	mem *budget
	// working counts the Optimize calls in flight, among which the
	// process's CPU time is shared (see clock).
	working atomic.Int64
}

// New returns an Engine with cfg, zero fields taking their defaults.
// libvips must have been started (vipsrt.Start).
func New(cfg Config) *Engine {
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = 50_000_000
	}
	if cfg.MaxFrames <= 0 {
		cfg.MaxFrames = 1000
	}
	if cfg.AVIFEffort <= 0 {
		cfg.AVIFEffort = 4
	}
	cfg.AVIFEffort = min(cfg.AVIFEffort, 9)
	if cfg.WebPEffort <= 0 {
		cfg.WebPEffort = webpFinalEffort
	}
	cfg.WebPEffort = min(cfg.WebPEffort, 6)
	if cfg.MetricPixels <= 0 {
		cfg.MetricPixels = 2_500_000
	}
	if cfg.ExactPixels <= 0 {
		cfg.ExactPixels = 2_500_000
	}
	if cfg.MemoryBudget <= 0 {
		cfg.MemoryBudget = 160 << 20
	}
	return &Engine{cfg: cfg, mem: newBudget(cfg.MemoryBudget)}
}

// ExtFor returns the file extension of format, with its dot.
func ExtFor(format string) string {
	switch format {
	case JPEG:
		return ".jpg"
	case PNG, WebP, AVIF, GIF, SVG:
		return "." + format
	}
	return ""
}

// Formats lists the output formats this build can produce.
func Formats() []string {
	return append(vipsrt.Encoders(), SVG)
}

var defaultFormats = []string{JPEG, PNG, WebP, AVIF}

func (o Options) normalized() Options {
	if len(o.Formats) == 0 {
		o.Formats = defaultFormats
	}
	if o.DPR <= 0 {
		o.DPR = 1
	}
	if _, ok := metric.Threshold(o.Target); !ok {
		o.Target = "balanced"
	}
	o.Quality = max(0, min(o.Quality, 100))
	return o
}

func (o Options) allows(f string) bool { return slices.Contains(o.Formats, f) }

// Optimize measures src and returns every candidate. It checks ctx between
// encodes. Errors are *proto.Error with the codes unsupported_format,
// decode_failed, too_many_pixels, encode_failed or canceled; a call whose
// Options.Budget runs out is not an error (see Report.Note).
func (e *Engine) Optimize(ctx context.Context, src []byte, opt Options) (Report, error) {
	opt = opt.normalized()
	if err := canceled(ctx); err != nil {
		return Report{}, err
	}
	s, err := e.probe(src)
	rep := Report{Source: s}
	if err != nil {
		return rep, err
	}
	if why := keptAsIs(s); why != "" {
		return keep(rep, why), nil
	}
	if s.Format == SVG {
		return e.svg(src, opt, rep)
	}
	clk := e.clock(opt.Budget)
	defer clk.stop()
	im, err := e.open(ctx, src, s, opt)
	if err != nil {
		return rep, e.public(err, im)
	}
	defer im.close()
	rep.Alpha = im.alpha
	p := e.plan(im, opt)
	outs, err := e.search(ctx, clk, im, &p, opt)
	rep.Skipped = p.skipped
	cut := errors.Is(err, errBudget)
	if err != nil && !cut {
		return rep, e.public(err, im)
	}
	rep.settle(outs, !cut && (opt.Quality > 0 || !opt.SkipSlow))
	if cut {
		rep.Note = budgetNote(opt.Budget, rep.Best != nil && rep.Verified)
	}
	return rep, nil
}
