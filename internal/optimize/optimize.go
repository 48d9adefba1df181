// Package optimize is Image Diet's image engine: it measures an image,
// decodes it once with libvips, and re-encodes it in every allowed format,
// picking for each the smallest encoding that still looks like the source
// (or the quality the user fixed). The caller gets real files, never
// estimates, and keeps the original when nothing is smaller.
package optimize

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/proto"
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
	// Budget bounds the time this call may work (0: no bound beyond the
	// context). When it runs out the smallest candidate verified so far
	// is returned, with Report.Note saying so, rather than an error.
	Budget time.Duration
	// Progress, when set, is called on the caller's goroutine each time a
	// verified candidate smaller than any before it is found, with the
	// report as it stands (Verified set). The final report still comes
	// from Optimize.
	Progress func(Report)
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
	// verified marks an output checked at the target with the exact
	// measure, or made at a fixed quality.
	verified bool
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
}

// Engine optimizes images. It is safe for concurrent use.
type Engine struct {
	cfg Config
	mem *budget
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
	if _, ok := threshold(o.Target, ""); !ok {
		o.Target = "balanced"
	}
	o.Quality = max(0, min(o.Quality, 100))
	return o
}

func (o Options) allows(f string) bool { return slices.Contains(o.Formats, f) }

var (
	errCanceled    = proto.Errorf(proto.CodeCanceled, "The optimization was canceled.")
	errUnsupported = proto.Errorf(proto.CodeUnsupportedFormat, "The file is not an image format Image Diet can read.")
	errDecode      = proto.Errorf(proto.CodeDecodeFailed, "The image is damaged or incomplete and cannot be read.")
	errEncode      = proto.Errorf(proto.CodeEncodeFailed, "The image could not be re-encoded.")
)

// errBudget ends a call whose Options.Budget ran out: the work stops and
// what was verified so far is the answer.
var errBudget = errors.New("the image's time budget ran out")

func canceled(ctx context.Context) error {
	if ctx.Err() != nil {
		if context.Cause(ctx) == errBudget {
			return errBudget
		}
		return errCanceled
	}
	return nil
}

// Optimize measures src and returns every candidate. It checks ctx between
// encodes. Errors are *proto.Error with the codes unsupported_format,
// decode_failed, too_many_pixels, encode_failed or canceled.
func (e *Engine) Optimize(ctx context.Context, src []byte, opt Options) (Report, error) {
	opt = opt.normalized()
	var rep Report
	if err := canceled(ctx); err != nil {
		return rep, err
	}
	h, err := probeRead(src, e.cfg.MaxPixels, e.cfg.MaxFrames)
	if err != nil {
		return rep, err
	}
	rep.Source = Source{Format: h.Format, Bytes: int64(len(src)), Width: h.Width, Height: h.Height,
		Animated: h.Animated, Frames: max(h.Frames, 1)}
	if h.Orientation >= 5 && h.Orientation <= 8 {
		rep.Source.Width, rep.Source.Height = h.Height, h.Width
	}
	if why := keptAsIs(rep.Source); why != "" {
		return keep(rep, why), nil
	}
	switch h.Format {
	case SVG:
		return e.svg(src, opt, rep)
	case JPEG, PNG, GIF, WebP, AVIF, "tiff":
	default:
		return rep, errUnsupported
	}
	work := ctx
	if opt.Budget > 0 {
		var cancel context.CancelFunc
		work, cancel = context.WithTimeoutCause(ctx, opt.Budget, errBudget)
		defer cancel()
	}
	outs, skipped, err := e.raster(work, src, rep.Source, opt)
	cut := errors.Is(err, errBudget)
	if err != nil && !cut {
		return rep, err
	}
	rep.Skipped = skipped
	rep.settle(outs, !cut && (opt.Quality > 0 || !opt.SkipSlow))
	if cut {
		rep.Note = budgetNote(opt.Budget, rep.Best != nil && rep.Verified)
	}
	return rep, nil
}

// settle makes outs the report's candidates, smallest first, and picks
// the best (see pick).
func (rep *Report) settle(outs []Output, complete bool) {
	sort.SliceStable(outs, func(i, j int) bool { return len(outs[i].Data) < len(outs[j].Data) })
	for i := range outs {
		outs[i].Reasons = reasons(rep.Source, outs[i])
	}
	rep.Candidates = outs
	rep.Best, rep.Verified = pick(rep.Source, outs, complete)
}

// pick returns the output to offer, from outs sorted smallest first: the
// smallest verified one strictly smaller than the source, else the
// smallest unverified one (an estimate), else nil (keep the original).
// verified reports that this verdict holds at the target: its output was
// verified, or, when the original is kept, complete is set (every format
// was checked to the end).
func pick(s Source, outs []Output, complete bool) (best *Output, verified bool) {
	for i := range outs {
		if int64(len(outs[i].Data)) >= s.Bytes {
			break
		}
		if outs[i].verified {
			return &outs[i], true
		}
		if best == nil {
			best = &outs[i]
		}
	}
	if best != nil {
		return best, false
	}
	return nil, complete
}

// budgetNote is the sentence a report cut short by its budget carries.
func budgetNote(d time.Duration, found bool) string {
	if found {
		return fmt.Sprintf("Image Diet stopped refining this image after %s, its time budget; this is the smallest result checked before then.", d.Round(time.Second))
	}
	return fmt.Sprintf("Image Diet stopped working on this image after %s, its time budget, before any smaller result was checked.", d.Round(time.Second))
}

func reasons(s Source, o Output) []string {
	var r []string
	if o.Width*o.Height < s.Width*s.Height {
		r = append(r, ReasonResize)
	}
	if o.Format != s.Format {
		r = append(r, ReasonFormat)
	}
	if len(r) == 0 {
		r = append(r, ReasonCompression)
	}
	return r
}

func (e *Engine) svg(src []byte, opt Options, rep Report) (Report, error) {
	out, err := cleanSVG(src, opt.KeepMetadata)
	if err != nil {
		return rep, err
	}
	o := Output{Format: SVG, Data: out, Width: rep.Source.Width, Height: rep.Source.Height, Quality: 100,
		Reasons: []string{ReasonCompression}}
	rep.Candidates = []Output{o}
	rep.Verified = true
	if int64(len(out)) < rep.Source.Bytes {
		rep.Best = &rep.Candidates[0]
	}
	return rep, nil
}

// boxWidth is the width to shrink to so that the image still covers the
// display box at dpr (object-fit: cover never shows it undersized), or 0
// when no resize is wanted.
func boxWidth(s Source, opt Options) int {
	if !opt.Resize || s.Width <= 0 || s.Height <= 0 {
		return 0
	}
	scale := 0.0
	if opt.DisplayWidth > 0 {
		scale = math.Ceil(opt.DisplayWidth*opt.DPR) / float64(s.Width)
	}
	if opt.DisplayHeight > 0 {
		scale = math.Max(scale, math.Ceil(opt.DisplayHeight*opt.DPR)/float64(s.Height))
	}
	if scale <= 0 || scale >= 1 {
		return 0
	}
	return max(1, int(math.Ceil(float64(s.Width)*scale)))
}

// raster optimizes a bitmap source: decoded once and held in memory for
// the encodes when that fits in the memory budget, else as large does.
func (e *Engine) raster(ctx context.Context, src []byte, s Source, opt Options) ([]Output, []Skipped, error) {
	w, h := box(s, opt)
	j, err := e.open(src, s, w, h)
	if err != nil {
		return nil, nil, err
	}
	need := e.inMemoryCost(j, opt)
	if need > e.cfg.MemoryBudget {
		if j.frames == 1 {
			return e.large(ctx, src, s, opt, j)
		}
		// An animation is encoded whole or not at all.
		defer j.close()
		var sk []Skipped
		for _, f := range planAll(j, opt) {
			sk = append(sk, e.tooLarge(f, j.width, j.pageHeight, need))
		}
		return nil, sk, nil
	}
	defer j.close()
	release, err := e.mem.acquire(ctx, need)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	if need >= trimAbove {
		defer vipsrt.Trim()
	}
	if err := j.prepare(opt, e.cfg); err != nil {
		e.cfg.Log.Debug().Str("format", s.Format).Msg("decode failed")
		return nil, nil, errDecode
	}
	outs, err := e.encodeAll(ctx, j, opt)
	if err != nil && j.streamed && !errors.Is(err, errCanceled) && !verify(src, s.Animated, s.Format == JPEG) {
		// The encoder read the source's pixels as it went: tell a
		// damaged source from an encoder failure.
		err = errDecode
	}
	return outs, nil, err
}

// trimAbove is the estimated peak above which the C heap's freed memory is
// handed back to the system when a call ends, so that one large image
// does not leave the process large. Smaller calls skip it: the next one
// would fault the pages in again (AVIF or palette PNG of a 1.7 MP photo
// estimate 70-115 MB).
const trimAbove = 128 << 20

// box is the size src is shrunk on load to fit: the display box when a
// resize is wanted, else unbounded.
func box(s Source, opt Options) (int, int) {
	if bw := boxWidth(s, opt); bw > 0 {
		return bw, unbounded
	}
	return unbounded, unbounded
}

// job is one decoded image: the libvips image the encoders read and, in
// auto quality mode, the reference every candidate is compared with.
type job struct {
	// img is held decoded in memory, or, when streamed, a lazy pipeline
	// from the source that one encode reads once.
	img      *vips.ImageRef
	streamed bool
	// boxW and boxH are the box the source was shrunk on load to fit.
	boxW, boxH int
	// reduced marks a copy shrunk below the source's size for a search.
	reduced bool
	// ref is what candidates are measured against, at most MetricPixels
	// large; nil when the quality is fixed. exact is set when it is
	// butteraugli rather than the faster SSIM-family metric.
	ref   reference
	exact bool
	// width and height are the size of img (all frames stacked).
	width, height int
	bands         int
	pageHeight    int
	frames        int
	srcFormat     string
	srcBytes      int64
	source        Source
	// beat is the size of the smallest candidate of another format found
	// so far (0: none): a search stops once it cannot get below it.
	beat int
	// onVerified is told of each output as it is found (see
	// Options.Progress).
	onVerified func(Output)
	// alpha reports an alpha band in use, once alphaKnown.
	alpha, alphaKnown bool
}

// interim is the report of a call still in progress whose outputs so far
// are outs.
func (j *job) interim(outs []Output) Report {
	rep := Report{Source: j.source}
	rep.settle(outs, false)
	return rep
}

func (j *job) close() {
	if j.img != nil {
		j.img.Close()
		j.img = nil
	}
	j.ref = nil
}

const unbounded = 10_000_000

// decode loads src once, strictly (a truncated or corrupt source fails):
// auto-rotated, shrunk on load when a resize is wanted and converted to
// 8-bit sRGB, and prepares it (see prepare).
func (e *Engine) decode(src []byte, s Source, opt Options) (*job, error) {
	w, h := box(s, opt)
	j, err := e.open(src, s, w, h)
	if err != nil {
		return nil, err
	}
	if err := j.prepare(opt, e.cfg); err != nil {
		j.close()
		e.cfg.Log.Debug().Str("format", s.Format).Msg("decode failed")
		return nil, errDecode
	}
	return j, nil
}

// open loads src strictly, shrunk on load to fit w×h, auto-rotated and
// converted to 8-bit sRGB with 3 or 4 bands, as a lazy pipeline: nothing
// is decoded yet, but the job's size is known.
func (e *Engine) open(src []byte, s Source, w, h int) (*job, error) {
	img, ok, err := load(src, w, h, s.Animated)
	if !ok {
		// Without the strict loader: check integrity in a pass of its own.
		img, err = e.lenientLoad(src, s, w, h)
	}
	if err != nil {
		e.cfg.Log.Debug().Str("format", s.Format).Msg("decode failed")
		return nil, errDecode
	}
	j := &job{img: img, boxW: w, boxH: h, frames: s.Frames, srcFormat: s.Format, srcBytes: s.Bytes, source: s,
		onVerified: func(Output) {}}
	if err := j.convert(); err != nil {
		j.close()
		e.cfg.Log.Debug().Str("format", s.Format).Msg("decode failed")
		return nil, errDecode
	}
	return j, nil
}

// lenientLoad loads src through govips after verify has checked that it
// decodes strictly.
func (e *Engine) lenientLoad(src []byte, s Source, w, h int) (*vips.ImageRef, error) {
	if !verify(src, s.Animated, s.Format == JPEG) {
		return nil, errDecode
	}
	p := &vips.ImportParams{}
	if s.Animated {
		p.NumPages.Set(-1)
	}
	return vips.LoadThumbnailFromBuffer(src, w, h, vips.InterestingNone, vips.SizeDown, p)
}

// convert turns j's pipeline into 8-bit sRGB with 3 or 4 bands and notes
// its size.
func (j *job) convert() error {
	img := j.img
	if img.Interpretation() != vips.InterpretationSRGB || img.BandFormat() != vips.BandFormatUchar {
		if err := img.ToColorSpace(vips.InterpretationSRGB); err != nil {
			return err
		}
	}
	if img.BandFormat() != vips.BandFormatUchar {
		if err := img.Cast(vips.BandFormatUchar); err != nil {
			return err
		}
	}
	if b := img.Bands(); b > 4 {
		if err := img.ExtractBand(0, 4); err != nil {
			return err
		}
	}
	if b := img.Bands(); b != 3 && b != 4 {
		return errVips
	}
	j.width, j.height, j.bands = img.Width(), img.Height(), img.Bands()
	j.pageHeight = j.height
	if j.frames > 1 {
		if ph := img.GetPageHeight(); ph > 0 && j.height%ph == 0 {
			j.pageHeight = ph
			j.frames = j.height / ph
		}
	}
	return nil
}

// single reports whether Optimize runs exactly one encode on j: one
// format at a fixed quality, no alpha band to check.
func (j *job) single(opt Options) bool {
	return opt.Quality > 0 && j.bands == 3 && len(plan(j, opt)) == 1
}

// prepare readies j for encodeAll. The image is held decoded in memory
// for the many encodes of a quality search or of several formats; a
// single encode at a fixed quality instead reads the source as it
// decodes, as a plain libvips pipeline would. In automatic quality
// prepare also builds the reference candidates are measured against.
func (j *job) prepare(opt Options, cfg Config) error {
	img := j.img
	if j.bands == 4 {
		if !j.alphaKnown {
			// Whether the alpha band is all opaque takes a pass over the
			// pixels: decode once into memory first.
			if err := materialize(img); err != nil {
				return err
			}
			op, err := alphaOpaque(img)
			if err != nil {
				return err
			}
			j.alpha, j.alphaKnown = !op, true
		}
		if !j.alpha {
			if err := img.ExtractBand(0, 3); err != nil {
				return err
			}
			j.bands = 3
		}
	}
	auto := opt.Quality == 0
	if j.single(opt) {
		// One encode at a fixed quality reads the pixels once: let it
		// read them from the decoder.
		j.streamed = true
		return nil
	}
	if err := materialize(img); err != nil {
		return err
	}
	if !auto {
		return nil
	}
	w, h := metricSize(j.width, j.height, cfg.MetricPixels)
	// The exact measure compares at full size only, as the referee does;
	// a reduced copy of a large image is measured like a large image.
	exact := !opt.SkipSlow && !j.reduced && w == j.width && h == j.height
	return pixelsOf(img, nil, false, j.bands, 0, 0, w, h, func(m pixels) error {
		r, ex, err := newReference(m, exact, cfg.ExactPixels)
		if err != nil {
			return err
		}
		j.ref, j.exact = r, ex
		return nil
	})
}

// metricSize is the size the metric compares a w×h image at: the image's
// own size up to max pixels, else shrunk to about max pixels with its
// aspect ratio kept. The metric's thresholds were calibrated on images of
// web size; on much larger ones it compares what a viewer can see at once
// and its cost stays bounded.
func metricSize(w, h int, maxPixels int64) (int, int) {
	if maxPixels <= 0 || int64(w)*int64(h) <= maxPixels {
		return w, h
	}
	s := math.Sqrt(float64(maxPixels) / (float64(w) * float64(h)))
	mw, mh := max(1, int(float64(w)*s)), max(1, int(float64(h)*s))
	// A very thin image: the short side stays one pixel, the long one
	// takes what is left of the cap.
	if int64(mw)*int64(mh) > maxPixels {
		if mh == 1 {
			mw = max(1, int(maxPixels))
		} else {
			mh = max(1, int(maxPixels/int64(mw)))
		}
	}
	return mw, mh
}
