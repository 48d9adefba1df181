// Package codec is the one bridge between Image Diet and libvips below
// govips: the encoders with the settings the engine, scripts/calibrate and
// bench/enginebench share (one table, Encode), and the few libvips calls
// govips does not offer (a strict decode that checks integrity, a lazy
// load shrunk on load, rendering to memory, streaming pixels into Go, the
// alpha band's minimum).
//
// Every failure inside libvips comes back as an *Error that keeps
// libvips' own text for logs and wrapped errors; callers map it to a
// sentence for the user at their edge. The text never carries image bytes
// or paths: the bridge reads images from memory only.
//
// The C half lives in codec.c and codec.h.
package codec

/*
#cgo pkg-config: vips
#include "codec.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"unsafe"

	"github.com/davidbyttow/govips/v2/vips"
)

// Error is a libvips operation that failed inside the bridge.
type Error struct {
	// Op names the bridge's operation ("verify", "load", "pixels",
	// "encode jpeg", ...).
	Op string
	// Detail is libvips' own error text, taken from its error buffer
	// when the operation failed (possibly empty). libvips keeps one
	// buffer per process: under concurrent failures it can hold lines
	// of another operation's error too. It is for logs, not for users.
	Detail string
}

// Error names the operation and quotes libvips.
func (e *Error) Error() string {
	if e.Detail == "" {
		return "libvips " + e.Op + " failed"
	}
	return "libvips " + e.Op + ": " + e.Detail
}

// maxDetail bounds the libvips text kept in an Error: the buffer can
// collect many lines from earlier failures.
const maxDetail = 512

// fail builds the Error of op from the C string err (freed here).
func fail(op string, err *C.char) *Error {
	e := &Error{Op: op}
	if err != nil {
		e.Detail = strings.TrimSpace(C.GoString(err))
		C.g_free(C.gpointer(err))
		if len(e.Detail) > maxDetail {
			e.Detail = strings.ToValidUTF8(e.Detail[:maxDetail], "")
		}
	}
	return e
}

// errLayout is returned when govips' ImageRef does not hold its libvips
// image where this package expects it (see imageOffset).
var errLayout = &Error{Op: "govips", Detail: "ImageRef layout not recognised"}

// ErrNoImage is returned for an empty source or a nil or closed image.
var ErrNoImage = errors.New("codec: no image")

// imageOffset is the offset of govips' unexported ImageRef.image field
// (the *C.VipsImage), or -1 when this govips version lays ImageRef out
// differently. govips has no accessor for it, nor a constructor from a
// libvips image; this field, read by vipsImage and written by replace, is
// the package's only reach into govips' internals.
var imageOffset = func() int {
	f, ok := reflect.TypeOf(vips.ImageRef{}).FieldByName("image")
	if !ok || f.Type.Kind() != reflect.Pointer || !strings.Contains(f.Type.Elem().Name(), "VipsImage") {
		return -1
	}
	return int(f.Offset)
}()

// vipsImage returns the libvips image behind ref.
func vipsImage(ref *vips.ImageRef) (*C.VipsImage, error) {
	if imageOffset < 0 {
		return nil, errLayout
	}
	if ref == nil {
		return nil, ErrNoImage
	}
	p := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(ref), imageOffset))
	if C.codec_is_image(p) == 0 {
		return nil, ErrNoImage
	}
	return (*C.VipsImage)(p), nil
}

// replace makes ref point at out, which it now owns, and releases the
// image ref held before.
func replace(ref *vips.ImageRef, out *C.VipsImage) {
	in, _ := vipsImage(ref)
	*(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(ref), imageOffset)) = unsafe.Pointer(out)
	if in != nil {
		C.codec_unref(in)
	}
}

// Reachable reports whether this govips build lays out ImageRef as the
// bridge expects. When it does not, every function that takes or returns
// a *vips.ImageRef fails with an *Error.
func Reachable() bool { return imageOffset >= 0 }

// Verify decodes every pixel of the encoded image src with libvips'
// strict fail_on=error option, every page when pages is set, and returns
// nil when the image is intact. libvips' loaders are lenient by default
// (a truncated file decodes with grey fill): this pass tells a broken
// source from a valid one. A JPEG is shrunk by 8 in the DCT domain, which
// still reads every entropy-coded byte.
func Verify(src []byte, pages bool) error {
	if len(src) == 0 {
		return ErrNoImage
	}
	var msg *C.char
	ret := C.codec_verify(unsafe.Pointer(&src[0]), C.size_t(len(src)), cbool(pages), &msg)
	runtime.KeepAlive(src)
	if ret != 0 {
		return fail("verify", msg)
	}
	return nil
}

// Load opens a private copy of src for a strict, lazy, sequential decode:
// auto-rotated, shrunk on load to fit w×h when it is larger (libvips'
// thumbnail), every page when pages is set, with fail_on=error, so that
// whatever reads the pixels first fails on a truncated or corrupt file.
// Nothing is decoded yet. The caller closes the image.
func Load(src []byte, w, h int, pages bool) (*vips.ImageRef, error) {
	if imageOffset < 0 {
		return nil, errLayout
	}
	if len(src) == 0 {
		return nil, ErrNoImage
	}
	var msg *C.char
	out := C.codec_load(unsafe.Pointer(&src[0]), C.size_t(len(src)), C.int(w), C.int(h), cbool(pages), &msg)
	runtime.KeepAlive(src)
	if out == nil {
		return nil, fail("load", msg)
	}
	// govips has no constructor from a libvips image: take a trivial
	// image and put ours in its place.
	ref, err := vips.Black(1, 1)
	if err != nil {
		C.codec_unref(out)
		return nil, &Error{Op: "load", Detail: firstLine(err.Error())}
	}
	if _, err := vipsImage(ref); err != nil {
		C.codec_unref(out)
		ref.Close()
		return nil, err
	}
	replace(ref, out)
	return ref, nil
}

// Materialize decodes ref's pipeline once into memory and makes ref point
// at the result, so that many encodes read decoded pixels instead of
// decoding (and resizing) the source again each time. ref.Close releases
// the new image.
func Materialize(ref *vips.ImageRef) error {
	in, err := vipsImage(ref)
	if err != nil {
		return err
	}
	var msg *C.char
	out := C.codec_materialize(in, &msg)
	runtime.KeepAlive(ref)
	if out == nil {
		return fail("materialize", msg)
	}
	replace(ref, out)
	return nil
}

// AlphaMin returns the smallest value of ref's fourth band (255 or more:
// every pixel of an 8-bit image is opaque).
func AlphaMin(ref *vips.ImageRef) (float64, error) {
	in, err := vipsImage(ref)
	if err != nil {
		return 0, err
	}
	var v C.double
	var msg *C.char
	ret := C.codec_alpha_min(in, &v, &msg)
	runtime.KeepAlive(ref)
	if ret != 0 {
		return 0, fail("alpha", msg)
	}
	return float64(v), nil
}

// Pixels is a rendered image: 8-bit sRGB, interleaved, Bands bands. Pix
// has Width×Height×Bands bytes.
type Pixels struct {
	Pix                  []byte
	Width, Height, Bands int
}

// Render says how Pixels and DecodePixels render an image.
type Render struct {
	// Bands is the number of bands rendered: extra bands are dropped, a
	// missing alpha band (3 of 4) is added opaque.
	Bands int
	// Width×Height, when Width is not 0, is the size the image is resized
	// to when it is larger in either dimension (each axis scaled on its
	// own, with libvips' resize).
	Width, Height int
	// SourceWidth×SourceHeight, when SourceWidth is not 0, is the size the
	// image must have before the resize: another size is an error.
	SourceWidth, SourceHeight int
	// Pages renders every page of an encoded image (DecodePixels only).
	Pages bool
}

// Pixels renders ref as r says and calls fn with the pixels. The pipeline
// streams: the pixels are rendered into one C buffer, released when fn
// returns, so fn must not keep Pix.
func (r Render) Pixels(ref *vips.ImageRef, fn func(Pixels) error) error {
	in, err := vipsImage(ref)
	if err != nil {
		return err
	}
	err = r.pixels(in, nil, fn)
	runtime.KeepAlive(ref)
	return err
}

// DecodePixels decodes the encoded image buf (sequentially, not strict),
// renders it as r says and calls fn with the pixels, as Pixels does. A
// large image is never held decoded at full size.
func (r Render) DecodePixels(buf []byte, fn func(Pixels) error) error {
	if len(buf) == 0 {
		return ErrNoImage
	}
	err := r.pixels(nil, buf, fn)
	runtime.KeepAlive(buf)
	return err
}

func (r Render) pixels(in *C.VipsImage, buf []byte, fn func(Pixels) error) error {
	var p unsafe.Pointer
	if in == nil {
		p = unsafe.Pointer(&buf[0])
	}
	var w, h C.int
	var n C.size_t
	var msg *C.char
	mem := C.codec_pixels(in, p, C.size_t(len(buf)), cbool(r.Pages), C.int(r.Bands),
		C.int(r.SourceWidth), C.int(r.SourceHeight), C.int(r.Width), C.int(r.Height), &w, &h, &n, &msg)
	if mem == nil {
		return fail("pixels", msg)
	}
	defer C.g_free(C.gpointer(mem))
	m := Pixels{Pix: unsafe.Slice((*byte)(mem), int(n)), Width: int(w), Height: int(h), Bands: r.Bands}
	if m.Width*m.Height*m.Bands != len(m.Pix) {
		return &Error{Op: "pixels", Detail: fmt.Sprintf("%d bytes for %d × %d × %d", len(m.Pix), m.Width, m.Height, m.Bands)}
	}
	return fn(m)
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
