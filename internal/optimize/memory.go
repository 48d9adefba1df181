package optimize

// The memory bound. While they work, libvips and the codecs hold buffers
// that grow with the pixel count: mozjpeg the whole image's DCT
// coefficients for progressive or Huffman-optimised coding (6.5 bytes a
// pixel, measured), libwebp the picture in RGB, ARGB and YUV, aom a
// handful of frame buffers. On a 50-megapixel photo one AVIF encode takes
// about 1 GB and one WebP encode 750 MB. The engine estimates each step's
// peak before it starts, from costs measured on this libvips build
// (below), and runs it only within Config.MemoryBudget, which every
// Optimize call in flight shares. What does not fit is done a cheaper
// way: an image too large to hold decoded is read anew from the source by
// each encode, a JPEG is coded baseline, a WebP without smart subsampling;
// a format that does not fit even so is left out with a reason the user
// can read in Report.Skipped.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/vipsrt"
)

const mib = 1 << 20

// Skipped is an allowed format the engine did not produce, and why.
type Skipped struct {
	Format string
	// Reason is a sentence for the user.
	Reason string
}

// cost is an estimate of a step's peak memory: bytes per pixel of a
// 3-band image (a 4-band one costs a third more) plus a fixed part.
type cost struct {
	perPixel float64
	fixed    int64
}

func (c cost) bytes(px int64, bands int) int64 {
	v := c.perPixel * float64(px)
	if bands > 3 {
		v = v * float64(bands) / 3
	}
	return int64(v) + c.fixed
}

// encoding is one encoder with the settings that decide its memory.
type encoding int

const (
	encodeJPEG         encoding = iota // the engine's JPEG (progressive, optimised, trellis), 4:2:0
	encodeJPEG444                      // the same without chroma subsampling
	encodeJPEGPlain                    // baseline with standard Huffman tables, 4:2:0: streams
	encodeJPEGPlain444                 // the same without chroma subsampling
	encodeWebP                         // lossy with smart subsampling
	encodeWebPPlain                    // lossy without smart subsampling
	encodeWebPLossless                 // lossless
	encodePNG                          // lossless
	encodePNGPalette                   // libimagequant palette
	encodeAVIF                         // 4:2:0 below quality 90
	encodeAVIF444                      // full chroma, as the exact search encodes
	encodeGIF
)

// encodeCosts is the peak memory of one encode that reads a 3-band image
// from a streaming decoder (the decoder's own buffers included): VmHWM
// over the process's baseline, measured with libvips 8.18.7 (sharp's
// bundle) on one photo at 3, 12, 25 and 50 megapixels, rounded up.
var encodeCosts = map[encoding]cost{
	encodeJPEG:         {6.5, 8 * mib}, // the coefficients twice, 4:2:0
	encodeJPEG444:      {12.5, 8 * mib},
	encodeJPEGPlain:    {0.7, 8 * mib},
	encodeJPEGPlain444: {0.7, 8 * mib},
	encodeWebP:         {15.5, 8 * mib}, // RGB, ARGB and YUV copies
	encodeWebPPlain:    {5.5, 12 * mib},
	encodeWebPLossless: {27, 12 * mib},
	encodePNG:          {1.3, 12 * mib},
	encodePNGPalette:   {4.2, 64 * mib},  // libimagequant's histogram is the fixed part
	encodeAVIF:         {20.5, 50 * mib}, // effort 4; aom's buffers are the fixed part
	encodeAVIF444:      {34, 50 * mib},
	encodeGIF:          {11.5, 40 * mib},
}

// measureCosts is the peak memory of decoding one candidate of a format
// and shrinking it to the metric's size, as automatic quality does.
var measureCosts = map[string]cost{
	JPEG: {1.5, 14 * mib},
	WebP: {8, 14 * mib},
	AVIF: {15, 16 * mib},
	PNG:  {2.7, 8 * mib},
	GIF:  {6.5, 8 * mib},
}

// cheaper is the encoding used in place of e when e does not fit, or -1:
// the same format and quality, larger output.
func cheaper(e encoding) encoding {
	switch e {
	case encodeJPEG:
		return encodeJPEGPlain
	case encodeJPEG444:
		return encodeJPEGPlain444
	case encodeWebP:
		return encodeWebPPlain
	}
	return -1
}

// searchEncodings lists what an encode of format f may use: at a fixed
// quality q the one encode, in automatic quality (q 0) everything the
// search and its final encode may run.
func searchEncodings(f string, q int, j *job) []encoding {
	switch f {
	case JPEG:
		// At a fixed quality libvips drops chroma subsampling from 90 on;
		// the search tries 4:2:0 first and full chroma after.
		if q > 0 && q < 90 {
			return []encoding{encodeJPEG}
		}
		return []encoding{encodeJPEG444}
	case WebP:
		if q > 0 {
			return []encoding{encodeWebP}
		}
		if j.srcFormat == PNG || j.srcFormat == GIF || j.frames > 1 {
			return []encoding{encodeWebP, encodeWebPLossless}
		}
		return []encoding{encodeWebP}
	case PNG:
		if q > 0 {
			return []encoding{encodePNGPalette}
		}
		return []encoding{encodePNG, encodePNGPalette}
	case AVIF:
		if q > 0 {
			return []encoding{encodeAVIF}
		}
		return []encoding{encodeAVIF, encodeAVIF444}
	case GIF:
		return []encoding{encodeGIF}
	}
	return nil
}

// inMemoryCost estimates the peak of Optimize on j as it stands (not yet
// prepared): the decoded copy, when one is held, plus the costliest single
// step, an encode or, in automatic quality, the decode of a candidate.
// The two follow each other, and from trimPixels on pixelsOf hands the
// encoder's freed memory back before the decode.
func (e *Engine) inMemoryCost(j *job, opt Options) int64 {
	px := int64(j.width) * int64(j.height)
	var work int64
	for _, f := range planAll(j, opt) {
		for _, enc := range searchEncodings(f, opt.Quality, j) {
			work = max(work, encodeCosts[enc].bytes(px, j.bands))
		}
		if opt.Quality == 0 {
			work = max(work, measureCosts[f].bytes(px, j.bands))
		}
	}
	if j.single(opt) {
		return work
	}
	return px*int64(j.bands) + work
}

// planAll is plan for a job whose alpha band has not been checked yet:
// every format it could run.
func planAll(j *job, opt Options) []string {
	if j.bands != 4 {
		return plan(j, opt)
	}
	k := *j
	k.alpha = false
	fs := plan(&k, opt)
	if j.frames > 1 {
		return fs
	}
	k.alpha = true
	for _, f := range plan(&k, opt) {
		if !contains(fs, f) {
			fs = append(fs, f)
		}
	}
	return fs
}

func contains(fs []string, f string) bool {
	for _, g := range fs {
		if g == f {
			return true
		}
	}
	return false
}

// tooLarge is the reason a format is left out.
func (e *Engine) tooLarge(f string, w, h int, need int64) Skipped {
	return Skipped{Format: f, Reason: fmt.Sprintf(
		"%s was not tried: encoding this %d × %d image would take about %d MB of memory, more than the %d MB Image Diet allows itself.",
		formatName(f), w, h, (need+mib-1)/mib, e.cfg.MemoryBudget/mib)}
}

func formatName(f string) string {
	switch f {
	case JPEG:
		return "JPEG"
	case PNG:
		return "PNG"
	case WebP:
		return "WebP"
	case AVIF:
		return "AVIF"
	case GIF:
		return "GIF"
	}
	return f
}

// large optimizes a still image too large to hold decoded within the
// budget, j being its unprepared full-size pipeline (closed here). Every
// encode reads the source anew from the decoder. In automatic quality
// JPEG and lossy WebP are searched at full size as for any image, each
// candidate measured against a reference built in one streaming pass
// (fullSearches). The other formats, whose encoders need the most memory,
// are searched on a copy shrunk to the metric's size and each pick is
// encoded once at full size at the quality found: a quality chosen on the
// reduced copy holds its artefacts to the target at the copy's scale, so
// the full-size image, whose details are finer, shows them less (a
// conservative choice). At a fixed quality each format is encoded once.
func (e *Engine) large(ctx context.Context, src []byte, s Source, opt Options, j *job) ([]Output, []Skipped, error) {
	box := [2]int{j.boxW, j.boxH}
	full := *j
	full.img = nil
	px := int64(j.width) * int64(j.height)
	j.close()
	if full.bands == 4 {
		// Whether the alpha band is used takes a pass over the pixels,
		// which streams.
		release, err := e.mem.acquire(ctx, sourceCost(s, px, 4))
		if err != nil {
			return nil, nil, err
		}
		full.alpha, err = e.streamedAlpha(src, s, box)
		release()
		if err != nil {
			return nil, nil, err
		}
	}
	type pick struct {
		format string
		q      int
		enc    encoding
	}
	var picks []pick
	var skipped []Skipped
	var outs []Output
	if opt.Quality > 0 {
		for _, f := range plan(&full, opt) {
			picks = append(picks, pick{f, opt.Quality, searchEncodings(f, opt.Quality, &full)[0]})
		}
	} else {
		// Formats that cannot be encoded at full size within the budget
		// are left out before the search.
		keep := opt
		keep.Formats = nil
		planned := plan(&full, opt)
		for _, f := range opt.Formats {
			if need := e.leastCost(f, &full, px); need > e.cfg.MemoryBudget && contains(planned, f) {
				skipped = append(skipped, e.tooLarge(f, full.width, full.pageHeight, need))
				continue
			}
			keep.Formats = append(keep.Formats, f)
		}
		// JPEG and WebP are searched at full size, as for any image, each
		// candidate encoded from the decoder with settings that fit.
		var err error
		outs, skipped, keep.Formats, err = e.fullSearches(ctx, src, s, keep, &full, box, skipped)
		if err != nil {
			return nil, nil, err
		}
		if len(outs) > 0 && (s.Format == JPEG || s.Format == AVIF) {
			// As encodeAll: a lossless copy of a lossy photo never wins.
			keep.Formats = slices.DeleteFunc(keep.Formats, func(f string) bool { return f == PNG })
		}
		// The others are searched on a reduced copy.
		if len(keep.Formats) > 0 {
			small, err := e.reduced(ctx, src, s, keep, &full)
			if err != nil {
				return nil, nil, err
			}
			for _, o := range small {
				picks = append(picks, pick{o.Format, o.Quality, encodingOf(o)})
			}
		}
	}
	failed := 0
	for _, p := range picks {
		if err := canceled(ctx); err != nil {
			if errors.Is(err, errBudget) {
				return outs, skipped, err
			}
			return nil, nil, err
		}
		if p.format == PNG && len(outs) > 0 && (s.Format == JPEG || s.Format == AVIF) && opt.Quality > 0 {
			// As encodeAll: a lossless copy of a lossy photo never wins.
			continue
		}
		enc := p.enc
		need := encodeCosts[enc].bytes(px, full.bands)
		for need > e.cfg.MemoryBudget && cheaper(enc) >= 0 {
			enc = cheaper(enc)
			need = encodeCosts[enc].bytes(px, full.bands)
		}
		if need > e.cfg.MemoryBudget {
			skipped = append(skipped, e.tooLarge(p.format, full.width, full.pageHeight, encodeCosts[p.enc].bytes(px, full.bands)))
			continue
		}
		if enc != p.enc {
			e.cfg.Log.Debug().Str("format", p.format).Int("pixels", int(px)).Msg("encoded with cheaper settings to fit the memory budget")
		}
		release, err := e.mem.acquire(ctx, need)
		if err != nil {
			return nil, nil, err
		}
		b, err := e.encodeFull(ctx, src, s, opt, &full, box, p.format, enc, p.q, e.finalWebPEffort(opt))
		release()
		vipsrt.Trim()
		if errors.Is(err, errCanceled) || errors.Is(err, errDecode) {
			return nil, nil, err
		}
		if err != nil {
			failed++
			e.cfg.Log.Debug().Str("format", p.format).Msg("encode failed")
			continue
		}
		outs = append(outs, Output{Format: p.format, Data: b, Width: full.width, Height: full.pageHeight, Quality: p.q,
			verified: opt.Quality > 0 || !opt.SkipSlow})
	}
	if len(outs) == 0 && failed > 0 {
		return nil, skipped, errEncode
	}
	return outs, skipped, nil
}

// fullSearches runs automatic quality at full size for those of opt's
// formats it can (JPEG and lossy WebP, when an encode with cheaper
// settings and the decode of a candidate fit in the budget), and returns
// their outputs and the formats left for the reduced search.
func (e *Engine) fullSearches(ctx context.Context, src []byte, s Source, opt Options, full *job, box [2]int, skipped []Skipped) ([]Output, []Skipped, []string, error) {
	px := int64(full.width) * int64(full.height)
	var here, rest []string
	for _, f := range opt.Formats {
		if (f == JPEG || f == WebP) && contains(plan(full, opt), f) && e.fullSearchCost(f, full, px) <= e.cfg.MemoryBudget {
			here = append(here, f)
		} else {
			rest = append(rest, f)
		}
	}
	if len(here) == 0 {
		return nil, skipped, rest, nil
	}
	ref, err := e.streamedReference(ctx, src, s, opt, full, box)
	if err != nil {
		return nil, nil, nil, err
	}
	defer ref.close()
	var outs []Output
	for _, f := range here {
		if err := canceled(ctx); err != nil {
			return nil, nil, nil, err
		}
		release, err := e.mem.acquire(ctx, e.fullSearchCost(f, full, px))
		if err != nil {
			return nil, nil, nil, err
		}
		a, err := e.fullSearch(ctx, src, s, opt, full, box, ref, f)
		release()
		vipsrt.Trim()
		if errors.Is(err, errCanceled) || errors.Is(err, errDecode) {
			return nil, nil, nil, err
		}
		if err != nil {
			e.cfg.Log.Debug().Str("format", f).Msg("encode failed")
			continue
		}
		if a != nil {
			outs = append(outs, Output{Format: f, Data: a.data, Width: full.width, Height: full.pageHeight, Quality: a.q,
				verified: opt.Quality > 0 || !opt.SkipSlow})
		}
	}
	return outs, skipped, rest, nil
}

// fullSearchCost is the budget a full-size search of f holds: its
// costliest encode that fits, or the decode of a candidate if larger.
func (e *Engine) fullSearchCost(f string, j *job, px int64) int64 {
	var need int64
	for _, enc := range fullSearchEncodings(f) {
		need = max(need, e.fitting(enc, j, px))
	}
	return max(need, measureCosts[f].bytes(px, j.bands))
}

// fullSearchEncodings lists the encodings a full-size search of f runs
// before cheaper ones are substituted.
func fullSearchEncodings(f string) []encoding {
	if f == JPEG {
		return []encoding{encodeJPEG, encodeJPEG444}
	}
	return []encoding{encodeWebPPlain, encodeWebP}
}

// fitting is the memory of enc or, when that is over the budget, of its
// cheapest substitute that is not; over the budget when none is.
func (e *Engine) fitting(enc encoding, j *job, px int64) int64 {
	need := encodeCosts[enc].bytes(px, j.bands)
	for need > e.cfg.MemoryBudget && cheaper(enc) >= 0 {
		enc = cheaper(enc)
		need = encodeCosts[enc].bytes(px, j.bands)
	}
	return need
}

// substitute is enc, or the cheaper settings used in its place to fit.
func (e *Engine) substitute(enc encoding, j *job, px int64) encoding {
	for encodeCosts[enc].bytes(px, j.bands) > e.cfg.MemoryBudget && cheaper(enc) >= 0 {
		enc = cheaper(enc)
	}
	return enc
}

// fullSearch is automatic quality for f at full size, as lossy (JPEG) and
// webpAuto (WebP) run it, but with every candidate encoded from the
// decoder and measured against ref.
func (e *Engine) fullSearch(ctx context.Context, src []byte, s Source, opt Options, full *job, box [2]int, ref *job, f string) (*attempt, error) {
	px := int64(full.width) * int64(full.height)
	thr := ref.limit(opt.Target, f)
	if thr == 0 {
		thr = ref.limit(opt.Target, "")
	}
	at := func(enc encoding, effort int) encoder {
		enc = e.substitute(enc, full, px)
		return func(q int) ([]byte, error) {
			defer vipsrt.Trim()
			return e.encodeFull(ctx, src, s, opt, full, box, f, enc, q, effort)
		}
	}
	if f == JPEG {
		// As encodeFormat: the exact measure searches 4:2:0 first and full
		// chroma when it never passes; otherwise libvips' automatic
		// subsampling (4:2:0 below quality 90, full chroma from it on).
		enc420, enc444 := at(encodeJPEG, 0), at(encodeJPEG444, 0)
		if ref.exact {
			a, err := e.search(ctx, ref, f, enc420, thr, jpegLo, jpegHi, maxSteps, true, 0)
			if a != nil || err != nil {
				return a, err
			}
			return e.search(ctx, ref, f, enc444, thr, jpegLo, jpegHi, maxSteps, true, 0)
		}
		auto := func(q int) ([]byte, error) {
			if q >= 90 {
				return enc444(q)
			}
			return enc420(q)
		}
		return e.search(ctx, ref, f, auto, thr, jpegLo, jpegHi, maxSteps, true, 0)
	}
	// As webpAuto: the exact measure sees chroma edges, so it searches
	// with the smart subsampling of the final encode.
	search := encodeWebPPlain
	if ref.exact {
		search = encodeWebP
	}
	found, err := e.search(ctx, ref, f, at(search, webpEffort), thr, webpLo, webpHi, maxSteps, true, 0)
	if err != nil || found == nil || e.substitute(encodeWebP, full, px) != encodeWebP {
		return found, err
	}
	if err := canceled(ctx); err != nil {
		return nil, err
	}
	b, err := at(encodeWebP, e.finalWebPEffort(opt))(found.q)
	if err != nil || len(b) >= len(found.data) {
		return found, nil
	}
	if ok, err := e.meets(ref, f, b, thr); err != nil || !ok {
		return found, nil
	}
	return &attempt{data: b, q: found.q, lossy: true, checked: true}, nil
}

// streamedReference builds, in one streaming pass over the source, the
// reference full-size candidates are measured against: a job with the
// source's size and the metric's planes but no pixels.
func (e *Engine) streamedReference(ctx context.Context, src []byte, s Source, opt Options, full *job, box [2]int) (*job, error) {
	px := int64(full.width) * int64(full.height)
	release, err := e.mem.acquire(ctx, sourceCost(s, px, full.bands))
	if err != nil {
		return nil, err
	}
	defer release()
	j, err := e.reopen(src, s, box, full)
	if err != nil {
		return nil, err
	}
	defer j.close()
	w, h := metricSize(j.width, j.height, e.cfg.MetricPixels)
	exact := !opt.SkipSlow && w == j.width && h == j.height // as prepare
	err = pixelsOf(j.img, nil, false, j.bands, 0, 0, w, h, func(m pixels) error {
		r, ex, err := newReference(m, exact, e.cfg.ExactPixels)
		if err != nil {
			return err
		}
		j.ref, j.exact = r, ex
		return nil
	})
	if err != nil {
		if !verify(src, false, s.Format == JPEG) {
			return nil, errDecode
		}
		return nil, errEncode
	}
	ref := *j
	ref.img = nil
	j.ref = nil
	return &ref, nil
}

// sourceCost is the memory of one streaming pass over the source, shrunk
// or not: its decoder's, as when a candidate of its format is measured.
func sourceCost(s Source, px int64, bands int) int64 {
	c, ok := measureCosts[s.Format]
	if !ok {
		c = measureCosts[PNG]
	}
	return c.bytes(px, bands)
}

// leastCost is the smallest memory an encode of f at full size (px
// pixels) needs: its cheapest settings.
func (e *Engine) leastCost(f string, j *job, px int64) int64 {
	need := int64(-1)
	for _, enc := range searchEncodings(f, 0, j) {
		for enc >= 0 {
			if n := encodeCosts[enc].bytes(px, j.bands); need < 0 || n < need {
				need = n
			}
			enc = cheaper(enc)
		}
	}
	return need
}

// reduced runs automatic quality on a copy of the source shrunk to the
// metric's size and returns its picks (sizes and bytes are the copy's).
func (e *Engine) reduced(ctx context.Context, src []byte, s Source, opt Options, full *job) ([]Output, error) {
	w, h := metricSize(full.width, full.height, e.cfg.MetricPixels)
	j, err := e.open(src, s, w, h)
	if err != nil {
		return nil, err
	}
	defer j.close()
	j.reduced = j.width < full.width || j.height < full.height
	j.alpha, j.alphaKnown = full.alpha, true
	need := min(e.inMemoryCost(j, opt), e.cfg.MemoryBudget)
	release, err := e.mem.acquire(ctx, need)
	if err != nil {
		return nil, err
	}
	defer vipsrt.Trim()
	defer release()
	if err := j.prepare(opt, e.cfg); err != nil {
		e.cfg.Log.Debug().Str("format", s.Format).Msg("decode failed")
		return nil, errDecode
	}
	return e.encodeAll(ctx, j, opt)
}

// encodingOf tells which encoding produced an output of the reduced
// search, so that the full-size encode uses the same one.
func encodingOf(o Output) encoding {
	switch o.Format {
	case JPEG:
		if jpeg444(o.Data) {
			return encodeJPEG444
		}
		return encodeJPEG
	case WebP:
		if webpLossless(o.Data) {
			return encodeWebPLossless
		}
		return encodeWebP
	case PNG:
		// IHDR's colour type 3 is a palette.
		if len(o.Data) > 25 && o.Data[25] == 3 {
			return encodePNGPalette
		}
		return encodePNG
	case AVIF:
		return encodeAVIF
	}
	return encodeGIF
}

// jpeg444 reports whether a JPEG file's first component is sampled like
// the others (no chroma subsampling), from its start-of-frame segment.
func jpeg444(b []byte) bool {
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		m := b[i+1]
		n := int(b[i+2])<<8 | int(b[i+3])
		if m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC {
			// SOFn: precision, height, width, components, then per
			// component an id and its sampling factors.
			if i+12 <= len(b) && b[i+9] >= 3 {
				return b[i+11] == 0x11
			}
			return false
		}
		i += 2 + n
	}
	return false
}

// webpLossless reports whether a WebP file holds a lossless (VP8L) image.
func webpLossless(b []byte) bool {
	for i := 12; i+8 <= len(b); {
		id := string(b[i : i+4])
		switch id {
		case "VP8L":
			return true
		case "VP8 ":
			return false
		}
		n := int(b[i+4]) | int(b[i+5])<<8 | int(b[i+6])<<16 | int(b[i+7])<<24
		i += 8 + n + n&1
	}
	return false
}

// reopen opens the source again at full size (box), shaped like full: an
// alpha band full found all opaque is dropped.
func (e *Engine) reopen(src []byte, s Source, box [2]int, full *job) (*job, error) {
	j, err := e.open(src, s, box[0], box[1])
	if err != nil {
		return nil, err
	}
	if j.bands == 4 && !full.alpha {
		if err := j.img.ExtractBand(0, 3); err != nil {
			j.close()
			return nil, errDecode
		}
		j.bands = 3
	}
	j.alpha, j.alphaKnown = full.alpha, true
	return j, nil
}

// encodeFull encodes the source at full size once with enc at quality q
// (WebP at effort), reading it from the decoder.
func (e *Engine) encodeFull(ctx context.Context, src []byte, s Source, opt Options, full *job, box [2]int, f string, enc encoding, q, effort int) ([]byte, error) {
	j, err := e.reopen(src, s, box, full)
	if err != nil {
		return nil, err
	}
	defer j.close()
	j.streamed = true
	strip := !opt.KeepMetadata
	var b []byte
	switch enc {
	case encodeJPEG, encodeJPEG444:
		// encode.go's JPEG settings, with the chroma subsampling chosen.
		b, _, err = j.img.ExportJpeg(&vips.JpegExportParams{StripMetadata: strip, Quality: q,
			Interlace: true, OptimizeCoding: true, TrellisQuant: true, OvershootDeringing: true,
			OptimizeScans: true, QuantTable: 3, SubsampleMode: subsampling(enc)})
	case encodeJPEGPlain, encodeJPEGPlain444:
		b, _, err = j.img.ExportJpeg(&vips.JpegExportParams{StripMetadata: strip, Quality: q,
			OvershootDeringing: true, QuantTable: 3, SubsampleMode: subsampling(enc)})
	case encodeWebP, encodeWebPPlain:
		b, err = j.webp(q, effort, false, enc == encodeWebP, strip)
	case encodeWebPLossless:
		b, err = j.webp(100, webpEffort, true, false, strip)
	case encodePNG:
		b, _, err = j.img.ExportPng(&vips.PngExportParams{StripMetadata: strip, Compression: 9,
			Filter: vips.PngFilterAll})
	default:
		// The engine's own settings: its fixed-quality encode.
		one := opt
		one.Quality, one.Formats = q, []string{f}
		var outs []Output
		outs, err = e.encodeAll(ctx, j, one)
		if err == nil && len(outs) == 1 {
			b = outs[0].Data
		} else if err == nil {
			err = errEncode
		}
	}
	if err != nil && !errors.Is(err, errCanceled) && !verify(src, false, s.Format == JPEG) {
		return nil, errDecode
	}
	return b, err
}

// finalWebPEffort is the effort of the WebP encode whose bytes are kept,
// as webpAuto chooses it.
func (e *Engine) finalWebPEffort(opt Options) int {
	if opt.SkipSlow {
		return min(e.cfg.WebPEffort, webpEffort)
	}
	return e.cfg.WebPEffort
}

func subsampling(enc encoding) vips.SubsampleMode {
	if enc == encodeJPEG444 || enc == encodeJPEGPlain444 {
		return vips.VipsForeignSubsampleOff
	}
	return vips.VipsForeignSubsampleOn
}

// streamedAlpha reports whether the source's alpha band holds any pixel
// that is not opaque, in one streaming pass.
func (e *Engine) streamedAlpha(src []byte, s Source, box [2]int) (bool, error) {
	j, err := e.open(src, s, box[0], box[1])
	if err != nil {
		return false, err
	}
	defer j.close()
	if j.bands != 4 {
		return false, nil
	}
	op, err := alphaOpaque(j.img)
	if err != nil {
		return false, errDecode
	}
	return !op, nil
}

// budget is a counting semaphore over bytes: steps take what they
// estimate before they start and give it back when done.
type budget struct {
	mu    sync.Mutex
	total int64
	used  int64
	// freed is closed and replaced whenever bytes are given back.
	freed chan struct{}
}

func newBudget(total int64) *budget {
	return &budget{total: total, freed: make(chan struct{})}
}

// acquire waits until n bytes (at most the whole budget) are free, takes
// them and returns the function that gives them back.
func (b *budget) acquire(ctx context.Context, n int64) (func(), error) {
	n = max(0, min(n, b.total))
	for {
		b.mu.Lock()
		if b.used+n <= b.total {
			b.used += n
			b.mu.Unlock()
			var once sync.Once
			return func() { once.Do(func() { b.give(n) }) }, nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return nil, errCanceled
		}
	}
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}
