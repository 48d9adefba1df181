package optimize

// After the pipeline: responsive variants. Once an image has its answer,
// the widths a page should serve it at are made the same way, one width
// at a time: the source opened and shrunk to exactly that width (the same
// libvips thumbnail as the answer, so the reference and the file share
// one resampler and one scale), a reference built there once for every
// format of the width, and each format's file found by a short quality
// search that starts where the answer's candidate of that format landed,
// with the same encoder settings: on photos the distance moves little
// with the width, so a file usually costs one encode and one measure.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/imagediet/imgdiet/internal/codec"
	"github.com/imagediet/imgdiet/internal/metric"
)

// VariantRequest asks for an image at several widths, each in a chain of
// formats.
type VariantRequest struct {
	// Widths are the output widths, each at most the source's width.
	Widths []int
	// Formats is the chain each width is made in, in order.
	Formats []string
	// Main is the image's answer (Optimize's report): each format's
	// search starts from its candidate's quality and encoder settings,
	// and a verified candidate of a width asked for is that width's file.
	Main Report
	// Quality, Target and KeepMetadata are as in Options; Budget bounds
	// the CPU time of the whole call, every width.
	Quality      int
	Target       string
	KeepMetadata bool
	Budget       time.Duration
}

// Variant is one width of an image, its files in the chain's order.
type Variant struct {
	Width, Height int
	Files         []Output
}

// VariantReport is the outcome of Variants.
type VariantReport struct {
	// Variants lists the widths made, in the order asked, each with the
	// formats of the chain that met the target, in the chain's order.
	Variants []Variant
	// Note is a sentence for the person when a width or file was left
	// out (the budget ran out, or a format met the target at no
	// quality), else "".
	Note string
}

// variantSteps bounds the measured encodes of one file's search.
const variantSteps = 6

// variantAim is the share of the limit the lead format's search steps
// toward, and variantAimRest the other formats': starting further under
// the limit, their first encode passes more often (on 6 page photos at
// 1280 px a first encode of WebP or JPEG aimed at 0.97 failed 7 times in
// 12), for a quality or two more of the formats fewer browsers take.
const (
	variantAim     = 0.97
	variantAimRest = 0.9
)

// avifVariantEffort is the AVIF effort variants are encoded at.
var avifVariantEffort = avifExactSearch // effort 2: 14 % less variant CPU on 6 page photos, 7-37 % more AVIF bytes

// Variants makes req's widths of src. A format that meets the target at
// no quality is left out of a width (a width with no file at all is left
// out); when the budget runs out, the widths made so far are returned.
// Either way Note says so.
// Errors are as Optimize's (canceled, decode_failed, ...).
func (e *Engine) Variants(ctx context.Context, src []byte, req VariantRequest) (VariantReport, error) {
	var out VariantReport
	opt := Options{Formats: req.Formats, Quality: req.Quality, Target: req.Target, Resize: true,
		KeepMetadata: req.KeepMetadata}.normalized()
	if err := canceled(ctx); err != nil {
		return out, err
	}
	s, err := e.probe(src)
	if err != nil {
		return out, err
	}
	if keptAsIs(s) != "" || s.Format == SVG || s.Frames > 1 {
		return out, errUnsupported
	}
	clk := e.clock(req.Budget)
	defer clk.stop()
	missed := false
	var lacking []string // formats a width was made without
	var partial errPartial
	// made holds the last file made of each format: the next width's
	// search starts from it (its distance is exact where main's
	// candidate's may be an estimate's).
	made := map[string]Output{}
	for _, w := range req.Widths {
		v, err := e.variant(ctx, clk, src, s, max(1, min(w, s.Width)), opt, req.Main, made)
		if errors.As(err, &partial) {
			v, err = partial.v, nil
			for _, f := range partial.missing {
				if !slices.Contains(lacking, f) {
					lacking = append(lacking, f)
				}
			}
		}
		switch {
		case errors.Is(err, errBudget):
			out.Note = variantBudgetNote(req.Budget)
			return out, nil
		case errors.Is(err, errCanceled):
			return out, err
		case err != nil:
			// A width that fails to encode is left out, as one whose
			// formats all missed the target.
			if !errors.Is(err, errMissed) {
				e.cfg.Log.Debug().Err(err).Int("width", w).Msg("variant failed")
			}
			missed = true
			continue
		}
		out.Variants = append(out.Variants, v)
		for _, o := range v.Files {
			made[o.Format] = o
		}
	}
	switch {
	case len(lacking) > 0:
		names := make([]string, len(lacking))
		for i, f := range lacking {
			names[i] = formatName(f)
		}
		out.Note = fmt.Sprintf("Some responsive widths of this image have no %s file: no quality of that format met the target.", strings.Join(names, " or "))
	case missed:
		out.Note = "Some responsive widths of this image were left out: they could not be made at the target."
	}
	return out, nil
}

// errMissed is a width one of whose formats had no file within the
// target.
var errMissed = errors.New("no encode met the target")

// variantBudgetNote is the sentence of a Variants call cut short by its
// budget.
func variantBudgetNote(d time.Duration) string {
	return fmt.Sprintf("Image Diet stopped making this image's responsive widths after %d s of work, its budget; the widths made before then are listed.",
		max(1, int(d.Round(time.Second)/time.Second)))
}

// variant makes width w of the chain opt.Formats: files of main reused
// where they are that width, the rest encoded from the source shrunk to
// exactly w and checked against a reference made there.
func (e *Engine) variant(ctx context.Context, clk *clock, src []byte, s Source, w int, opt Options, main Report, made map[string]Output) (Variant, error) {
	v := Variant{Width: w, Files: make([]Output, len(opt.Formats))}
	todo := 0
	for i, f := range opt.Formats {
		if o, ok := reusable(main, f, w, opt.Quality > 0); ok {
			v.Files[i], v.Height = o, o.Height
		} else {
			todo++
		}
	}
	if todo == 0 {
		return v, nil
	}
	if clk.over() {
		return v, errBudget
	}
	opt.width = w
	im, err := e.open(ctx, src, s, opt)
	if err != nil {
		return v, err
	}
	defer im.close()
	if im.noRoom {
		return v, errNoRoom
	}
	sr := &searcher{e: e, ctx: ctx, clock: clk, im: im, opt: opt, strip: !opt.KeepMetadata, prev: map[string]Output{}}
	if opt.Quality == 0 {
		if sr.ref, err = e.reference(ctx, im, opt); err != nil {
			return v, err
		}
	}
	sr.onVerified = func(Output) {}
	drift := math.NaN()
	for i, f := range opt.Formats {
		if v.Files[i].Data != nil {
			continue
		}
		if err := sr.check(); err != nil {
			return v, err
		}
		a, err := sr.variantFile(f, main, made, &drift, i == 0)
		if err == nil && a == nil {
			a, err = sr.variantLossless(f)
		}
		if err != nil {
			return v, err
		}
		if a != nil {
			v.Files[i] = sr.output(f, a)
		}
	}
	v.Height = im.pageHeight
	// A format that met the target at no quality is left out of this
	// width; the chain's other files stand.
	var missing []string
	n := 0
	for i, o := range v.Files {
		if o.Data != nil {
			v.Files[n] = o
			n++
		} else {
			missing = append(missing, opt.Formats[i])
		}
	}
	if n < len(v.Files) {
		v.Files = v.Files[:n]
		if n == 0 {
			return v, errMissed
		}
		return v, errPartial{v, missing}
	}
	return v, nil
}

// errPartial is a width made without some formats of its chain.
type errPartial struct {
	v       Variant
	missing []string
}

func (errPartial) Error() string { return "a variant misses formats" }

// reusable returns main's candidate of format f when it is width w and
// verified at the target with its distance known (or lossless, or made
// at a fixed quality): that candidate is the width's file as it is.
func reusable(main Report, f string, w int, fixed bool) (Output, bool) {
	for _, o := range main.Candidates {
		if o.Format == f && o.Width == w && o.verified && (fixed || o.Distance > 0 || !o.Encoding.Lossy()) {
			return o, true
		}
	}
	return Output{}, false
}

// variantFile makes format f's file of a variant: at a fixed quality, or
// with no file of f to start from, f's own recipe; else a short search
// (variantSearch) from the file of f made for an earlier width, or else
// main's candidate. A candidate of
// main at this width that was not verified (an estimate kept) is
// measured first: within the target, its bytes are the file.
func (s *searcher) variantFile(f string, main Report, made map[string]Output, drift *float64, lead bool) (*attempt, error) {
	var start *Output
	for i := range main.Candidates {
		if o := &main.Candidates[i]; o.Format == f && o.Encoding != 0 && (start == nil || o.verified && !start.verified) {
			start = o
		}
	}
	if o, ok := made[f]; ok {
		start = &o
	}
	if s.opt.Quality > 0 || start == nil {
		return s.format(f)
	}
	enc, effort := start.Encoding, start.Effort
	if !enc.Lossy() {
		b, err := s.encode(enc, start.Quality, effort)
		if err != nil {
			return nil, err
		}
		return &attempt{data: b, q: start.Quality, enc: enc, effort: effort}, nil
	}
	if f == GIF {
		return s.gif()
	}
	if start.Width == s.im.width && start.Height == s.im.pageHeight {
		d, ok, err := s.measured(f, start.Data, s.limit(f), false)
		if err != nil || ok {
			return &attempt{data: start.Data, q: start.Quality, enc: enc, effort: effort, lossy: true, checked: true, dist: d}, err
		}
	}
	q := start.Quality
	// An estimate's settings give way to the exact search's own, whose
	// chroma the referee accepts (WebP's smart subsampling, AVIF at full
	// chroma; plain WebP missed the balanced target even at Q 99 on 3 of
	// 6 page photos at 1280 px).
	switch enc {
	case codec.WebPPlain:
		enc, effort = codec.WebP, webpEffort
	case codec.AVIF:
		enc = codec.AVIF444
	}
	if f == WebP && effort > webpEffort {
		// The search's effort: effort 6 took 0.67 s of CPU per 1280 px
		// encode against 0.22-0.36 s at effort 4.
		effort = webpEffort
	}
	if f == AVIF && effort > avifVariantEffort {
		// One AVIF encode of a 1280 px photo at effort 4 took 5.6-6.5 s
		// of CPU on this machine, so variants search at the exact
		// search's effort, a quality higher to make up for it.
		effort, q = avifVariantEffort, q+avifFinalShift
	}
	return s.variantSearch(f, enc, effort, q, start.Distance, drift, lead)
}

// variantLossless is the file of format f when no lossy quality met the
// target: lossless PNG, or lossless WebP for the graphics and animations
// the main search also tries it on; nil for the others.
func (s *searcher) variantLossless(f string) (*attempt, error) {
	enc := codec.PNG
	switch {
	case f == WebP && lossless(s.im):
		enc = codec.WebPLossless
	case f != PNG:
		return nil, nil
	}
	if err := s.check(); err != nil {
		return nil, err
	}
	effort := s.e.finalEffort(enc, s.opt)
	b, err := s.encode(enc, 100, effort)
	if err != nil {
		return nil, err
	}
	return &attempt{data: b, q: 100, enc: enc, effort: effort}, nil
}

// errEnough stops a variant's search once it has its file.
var errEnough = errors.New("the variant has its file")

// variantSearch finds a quality for format f encoded with enc at effort,
// from q0, the quality main's candidate needed at its own width, whose
// distance there was d0. drift carries, from one format of a width to
// the next, how far the log distance at the main answer's quality moved
// with the width (NaN until measured): the search starts where that
// predicts the target. From there it interpolates the measured distances
// (metric.Interpolate) and stops at the first passing encode, or, for the
// chain's lead format (lead, the file most browsers take), when the first
// encode passes with room for at least two qualities, after one encode
// that much lower: usually one or two encodes and measures.
func (s *searcher) variantSearch(f string, enc codec.Encoding, effort, q0 int, d0 float64, drift *float64, lead bool) (*attempt, error) {
	lo, hi := qualityRange(f)
	thr := s.limit(f)
	slope := metric.InterpolateSlope
	if d, ok := exactSlopes[f]; ok && s.ref.exact {
		slope = d
	}
	aim := variantAimRest
	if lead {
		aim = variantAim
	}
	guess := q0
	if d0 > 0 && !math.IsNaN(*drift) {
		guess = q0 + int(math.Round((math.Log(d0)+*drift-math.Log(thr*aim))/slope))
	}
	guess = min(max(guess, lo), hi)
	// first is a passing first encode while one lower is tried.
	var best, first *attempt
	tries := 0
	measure := func(q int) (float64, error) {
		if best != nil {
			return 0, errEnough
		}
		if err := s.check(); err != nil {
			return 0, err
		}
		b, err := s.encode(enc, q, effort)
		if err != nil {
			return 0, err
		}
		d, ok, err := s.measured(f, b, thr, true)
		if err != nil {
			return 0, err
		}
		tries++
		if tries == 1 && q == q0 && d0 > 0 && math.IsNaN(*drift) {
			*drift = math.Log(d) - math.Log(d0)
		}
		switch {
		case ok && lead && tries == 1 && (math.Log(thr)-math.Log(max(d, 1e-9)))/slope >= 3:
			// Room for two qualities or more: one encode lower.
			first = &attempt{data: b, q: q, enc: enc, effort: effort, lossy: true, checked: true, dist: d}
		case ok:
			best = &attempt{data: b, q: q, enc: enc, effort: effort, lossy: true, checked: true, dist: d}
		case first != nil:
			return d, errEnough
		}
		return d, nil
	}
	// Interpolate aims under the limit, so that a step up from a failing
	// encode lands on a passing one more often than on the limit's wrong
	// side; measure still accepts anything within the limit, and the
	// search stops there.
	_, _, err := metric.Interpolate(lo, hi, variantSteps, guess, slope, thr*aim, measure)
	if first != nil && (best == nil || len(first.data) <= len(best.data)) {
		best = first
	}
	if err != nil && !errors.Is(err, errEnough) {
		return best, err
	}
	return best, nil
}

// qualityRange is the quality range format f's searches cover.
func qualityRange(f string) (lo, hi int) {
	switch f {
	case AVIF:
		return avifLo, avifHi
	case PNG:
		return paletteLo, 99
	case WebP:
		return webpLo, webpHi
	}
	return jpegLo, jpegHi
}
