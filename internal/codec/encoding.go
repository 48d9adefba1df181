package codec

/*
#include "codec.h"
*/
import "C"

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"github.com/davidbyttow/govips/v2/vips"
)

// Encoding is one encoder with all its libvips settings but the quality,
// the effort and whether metadata is stripped (see Settings). The zero
// Encoding is none.
type Encoding int

// The encodings the engine uses. JPEG means mozjpeg through libvips:
// progressive, trellis quantization, optimized Huffman coding, overshoot
// deringing and quant table 3 (the switches of mozjpeg's own defaults).
const (
	// JPEG is the engine's JPEG at 4:2:0 with optimized scans.
	JPEG Encoding = iota + 1
	// JPEG444 is JPEG without chroma subsampling.
	JPEG444
	// JPEGSearch is JPEG without scan optimization: the same pixels
	// (optimizing the scans only reorders the progressive coefficients)
	// a third faster, for the encodes a quality search measures.
	JPEGSearch
	// JPEGSearch444 is JPEGSearch without chroma subsampling.
	JPEGSearch444
	// JPEGBaseline is a plain baseline JPEG at 4:2:0 with standard
	// Huffman tables (overshoot deringing and quant table 3 kept): it
	// streams, where progressive and optimized coding hold every
	// coefficient of the image. Its pixels differ from JPEG's (trellis
	// quantization works differently on baseline).
	JPEGBaseline
	// JPEGBaseline444 is JPEGBaseline without chroma subsampling.
	JPEGBaseline444
	// WebP is lossy WebP with smart chroma subsampling (sharper colour
	// edges at the same size).
	WebP
	// WebPPlain is lossy WebP with libwebp's plain chroma subsampling.
	WebPPlain
	// WebPLossless is lossless WebP at libwebp's strongest compression
	// (Q 100 means effort to a lossless encoder): Quality is ignored.
	WebPLossless
	// PNG is lossless PNG, zlib level 9, every row filter tried.
	PNG
	// PNGPalette is PNG quantized to a palette by libimagequant at
	// Quality, dithered (1), 8 bits per index.
	PNGPalette
	// AVIF is 8-bit AVIF with libvips' automatic chroma subsampling
	// (4:2:0 below quality 90, 4:4:4 from it on).
	AVIF
	// AVIF444 is 8-bit AVIF with full-resolution chroma, as sharp encodes
	// AVIF by default.
	AVIF444
	// GIF is GIF through libvips' quantizer at effort 7, 8 bits.
	// Quality and Strip are ignored.
	GIF
	end
)

// mib is a mebibyte.
const mib = 1 << 20

// mozjpeg are the JPEG switches JPEG and its variants share.
const mozjpeg = "interlace,optimize_coding,trellis_quant,overshoot_deringing,quant_table=3"

// entry is one row of the table.
type entry struct {
	name   string
	format string // the output's format, as the engine names it
	saver  string // the libvips operation
	// options are the saver's fixed options, in libvips' option-string
	// syntax; the quality, effort and strip are added from Settings.
	options string
	quality bool // Settings.Quality is the saver's Q
	effort  int  // the default effort; 0: the saver takes none
	strip   bool // Settings.Strip is passed on
	// cost is the encode's peak memory (see Cost).
	cost Cost
	// full is the same encoding without chroma subsampling, for a 4:2:0
	// one (see AutoSubsample).
	full Encoding
	// cheaper is the same format at the same quality with less memory
	// and a larger output, when there is one.
	cheaper Encoding
}

// table is the one place the engine's encoder settings are written. The
// costs are the peak memory of one encode that reads a 3-band image from
// a streaming decoder (the decoder's own buffers included): VmHWM over the
// process's baseline, measured with libvips 8.18.7 (sharp's bundle) on one
// photo at 3, 12, 25 and 50 megapixels, rounded up. The search variants
// of JPEG hold the same coefficient buffers as JPEG (they were not
// measured apart).
var table = [end]entry{
	JPEG: {name: "jpeg", format: "jpeg", saver: "jpegsave_buffer", quality: true, strip: true,
		options: mozjpeg + ",optimize_scans,subsample_mode=on",
		cost:    Cost{6.5, 8 * mib}, // the coefficients twice, 4:2:0
		full:    JPEG444, cheaper: JPEGBaseline},
	JPEG444: {name: "jpeg-444", format: "jpeg", saver: "jpegsave_buffer", quality: true, strip: true,
		options: mozjpeg + ",optimize_scans,subsample_mode=off",
		cost:    Cost{12.5, 8 * mib}, cheaper: JPEGBaseline444},
	JPEGSearch: {name: "jpeg-search", format: "jpeg", saver: "jpegsave_buffer", quality: true, strip: true,
		options: mozjpeg + ",subsample_mode=on",
		cost:    Cost{6.5, 8 * mib}, full: JPEGSearch444, cheaper: JPEGBaseline},
	JPEGSearch444: {name: "jpeg-search-444", format: "jpeg", saver: "jpegsave_buffer", quality: true, strip: true,
		options: mozjpeg + ",subsample_mode=off",
		cost:    Cost{12.5, 8 * mib}, cheaper: JPEGBaseline444},
	JPEGBaseline: {name: "jpeg-baseline", format: "jpeg", saver: "jpegsave_buffer", quality: true, strip: true,
		options: "overshoot_deringing,quant_table=3,subsample_mode=on",
		cost:    Cost{0.7, 8 * mib}, full: JPEGBaseline444},
	JPEGBaseline444: {name: "jpeg-baseline-444", format: "jpeg", saver: "jpegsave_buffer", quality: true, strip: true,
		options: "overshoot_deringing,quant_table=3,subsample_mode=off",
		cost:    Cost{0.7, 8 * mib}},
	WebP: {name: "webp", format: "webp", saver: "webpsave_buffer", quality: true, effort: 4, strip: true,
		options: "smart_subsample",
		cost:    Cost{15.5, 8 * mib}, // RGB, ARGB and YUV copies
		cheaper: WebPPlain},
	WebPPlain: {name: "webp-plain", format: "webp", saver: "webpsave_buffer", quality: true, effort: 4, strip: true,
		cost: Cost{5.5, 12 * mib}},
	WebPLossless: {name: "webp-lossless", format: "webp", saver: "webpsave_buffer", effort: 4, strip: true,
		options: "lossless,Q=100",
		cost:    Cost{27, 12 * mib}},
	PNG: {name: "png", format: "png", saver: "pngsave_buffer", strip: true,
		options: "compression=9,filter=all",
		cost:    Cost{1.3, 12 * mib}},
	PNGPalette: {name: "png-palette", format: "png", saver: "pngsave_buffer", quality: true, strip: true,
		options: "compression=9,filter=none,palette,dither=1,bitdepth=8",
		cost:    Cost{4.2, 64 * mib}}, // libimagequant's histogram is the fixed part
	AVIF: {name: "avif", format: "avif", saver: "heifsave_buffer", quality: true, effort: 4, strip: true,
		options: "compression=av1,bitdepth=8,subsample_mode=auto",
		cost:    Cost{20.5, 50 * mib}, // effort 4; aom's buffers are the fixed part
		full:    AVIF444},
	AVIF444: {name: "avif-444", format: "avif", saver: "heifsave_buffer", quality: true, effort: 4, strip: true,
		options: "compression=av1,bitdepth=8,subsample_mode=off",
		cost:    Cost{34, 50 * mib}},
	GIF: {name: "gif", format: "gif", saver: "gifsave_buffer", effort: 7,
		options: "bitdepth=8",
		cost:    Cost{11.5, 40 * mib}},
}

// Encodings lists every Encoding.
func Encodings() []Encoding {
	out := make([]Encoding, 0, end-1)
	for e := JPEG; e < end; e++ {
		out = append(out, e)
	}
	return out
}

func (e Encoding) entry() (*entry, bool) {
	if e < JPEG || e >= end {
		return nil, false
	}
	return &table[e], true
}

// String is the encoding's name ("jpeg-444"), for logs.
func (e Encoding) String() string {
	if t, ok := e.entry(); ok {
		return t.name
	}
	return "encoding(" + strconv.Itoa(int(e)) + ")"
}

// Format is the format of the encoding's output: "jpeg", "webp", "png",
// "avif" or "gif" ("" for no encoding).
func (e Encoding) Format() string {
	if t, ok := e.entry(); ok {
		return t.format
	}
	return ""
}

// Lossy reports whether the encoding takes Settings.Quality.
func (e Encoding) Lossy() bool {
	t, ok := e.entry()
	return ok && t.quality
}

// DefaultEffort is the effort an encode runs at when Settings.Effort is
// 0; 0 for an encoding that takes no effort (JPEG, PNG).
func (e Encoding) DefaultEffort() int {
	if t, ok := e.entry(); ok {
		return t.effort
	}
	return 0
}

// Cost is the encoding's peak memory.
func (e Encoding) Cost() Cost {
	if t, ok := e.entry(); ok {
		return t.cost
	}
	return Cost{}
}

// Cheaper is the encoding to use in place of e when e does not fit in
// memory: the same format and quality, a larger output. ok is false when
// there is none.
func (e Encoding) Cheaper() (c Encoding, ok bool) {
	if t, ok := e.entry(); ok && t.cheaper != 0 {
		return t.cheaper, true
	}
	return 0, false
}

// AutoSubsample returns what libvips' automatic chroma subsampling would
// encode at quality q: for a 4:2:0 encoding, its 4:4:4 twin from quality
// 90 on; e itself otherwise.
func (e Encoding) AutoSubsample(q int) Encoding {
	if t, ok := e.entry(); ok && t.full != 0 && q >= 90 {
		return t.full
	}
	return e
}

// Cost is an estimate of a step's peak memory: bytes per pixel of a
// 3-band image (a 4-band one costs a third more) plus a fixed part.
type Cost struct {
	PerPixel float64
	Fixed    int64
}

// Bytes is the cost for px pixels of bands bands.
func (c Cost) Bytes(px int64, bands int) int64 {
	v := c.PerPixel * float64(px)
	if bands > 3 {
		v = v * float64(bands) / 3
	}
	return int64(v) + c.Fixed
}

// Settings is one encode: an Encoding and the settings that vary per
// call.
type Settings struct {
	Encoding Encoding
	// Quality is libvips' Q, 1–100, for a lossy encoding; ignored by the
	// others.
	Quality int
	// Effort is the encoder's effort (WebP 0–6, AVIF 0–9, GIF 1–10); 0
	// means the encoding's DefaultEffort. Ignored by JPEG and PNG.
	Effort int
	// Strip removes metadata (EXIF, XMP, ICC, ...). GIF ignores it.
	Strip bool
}

// options is the saver and its full option string for s.
func (s Settings) options() (*entry, string, error) {
	t, ok := s.Encoding.entry()
	if !ok {
		return nil, "", fmt.Errorf("codec: no encoding %d", int(s.Encoding))
	}
	o := []string{}
	if t.options != "" {
		o = append(o, t.options)
	}
	if t.quality {
		if s.Quality < 1 || s.Quality > 100 {
			return nil, "", fmt.Errorf("codec: %s quality %d is not in 1–100", t.name, s.Quality)
		}
		o = append(o, "Q="+strconv.Itoa(s.Quality))
	}
	if t.effort > 0 {
		effort := s.Effort
		if effort == 0 {
			effort = t.effort
		}
		o = append(o, "effort="+strconv.Itoa(effort))
	}
	if t.strip {
		o = append(o, "strip="+strconv.FormatBool(s.Strip))
	}
	return t, strings.Join(o, ","), nil
}

// Encode encodes img with s. An encoder's failure is an *Error.
func Encode(img *vips.ImageRef, s Settings) ([]byte, error) {
	t, opts, err := s.options()
	if err != nil {
		return nil, err
	}
	in, err := vipsImage(img)
	if err != nil {
		return nil, err
	}
	saver, copts := C.CString(t.saver), C.CString(opts)
	defer C.free(unsafe.Pointer(saver))
	defer C.free(unsafe.Pointer(copts))
	var msg *C.char
	blob := C.codec_save(in, saver, copts, &msg)
	runtime.KeepAlive(img)
	if blob == nil {
		return nil, fail("encode "+t.name, msg)
	}
	defer C.codec_blob_unref(blob)
	var n C.size_t
	p := C.codec_blob_data(blob, &n)
	if p == nil || n == 0 {
		return nil, &Error{Op: "encode " + t.name, Detail: "empty output"}
	}
	return bytes.Clone(unsafe.Slice((*byte)(p), int(n))), nil
}
