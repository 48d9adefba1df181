package optimize

/*
#cgo pkg-config: vips
#include <stdlib.h>
#include <vips/vips.h>

// imgdiet_verify decodes every pixel of an encoded image with the strict
// fail_on=error loader option and returns 0 if the image is intact, -1 if
// it is truncated or corrupt. pages=1 loads every frame (GIF, WebP);
// shrink>1 lets the JPEG loader scale in the DCT domain, which still reads
// every entropy-coded byte.
static int imgdiet_verify(const void *buf, size_t len, int pages, int shrink) {
	VipsImage *im = NULL;
	double avg;
	int ret;
	const char *loader = vips_foreign_find_load_buffer(buf, len);
	if (loader == NULL) {
		vips_error_clear();
		return -1;
	}
	if (pages)
		im = vips_image_new_from_buffer(buf, len, "", "fail_on", VIPS_FAIL_ON_ERROR,
			"access", VIPS_ACCESS_SEQUENTIAL, "n", -1, NULL);
	else if (shrink > 1 && strcmp(loader, "VipsForeignLoadJpegBuffer") == 0)
		im = vips_image_new_from_buffer(buf, len, "", "fail_on", VIPS_FAIL_ON_ERROR,
			"access", VIPS_ACCESS_SEQUENTIAL, "shrink", shrink, NULL);
	else
		im = vips_image_new_from_buffer(buf, len, "", "fail_on", VIPS_FAIL_ON_ERROR,
			"access", VIPS_ACCESS_SEQUENTIAL, NULL);
	if (im == NULL) {
		vips_error_clear();
		return -1;
	}
	ret = vips_avg(im, &avg, NULL);
	g_object_unref(im);
	vips_error_clear();
	return ret ? -1 : 0;
}

static int imgdiet_blob_free(void *data, void *area) {
	g_free(data);
	return 0;
}

// imgdiet_load opens a private copy of buf as a lazy, sequential pipeline:
// auto-rotated, shrunk on load to fit w×h when it is larger, every page
// when pages is set. The loader runs with fail_on=error, so a truncated or
// corrupt file makes whatever reads the pixels fail: the one decode that
// feeds the encoders is also the integrity check. The copy belongs to
// libvips and is freed with the last image that reads it.
static VipsImage *imgdiet_load(const void *buf, size_t len, int w, int h, int pages) {
	VipsBlob *blob = vips_blob_new(imgdiet_blob_free, g_memdup2(buf, len), len);
	VipsSource *src = vips_source_new_from_blob(blob);
	VipsImage *out = NULL;
	vips_area_unref(VIPS_AREA(blob));
	if (src == NULL) {
		vips_error_clear();
		return NULL;
	}
	if (vips_thumbnail_source(src, &out, w, "height", h, "size", VIPS_SIZE_DOWN,
			"option_string", pages ? "fail_on=error,n=-1" : "fail_on=error", NULL)) {
		out = NULL;
		vips_error_clear();
	}
	g_object_unref(src);
	return out;
}

// imgdiet_materialize renders a lazy pipeline into a new memory image, so
// that the many encodes of a quality search read decoded pixels instead of
// decoding and resizing the source again each time.
static VipsImage *imgdiet_materialize(VipsImage *in) {
	VipsImage *out = vips_image_copy_memory(in);
	if (out == NULL)
		vips_error_clear();
	return out;
}

// imgdiet_pixels renders in, or when in is NULL the image encoded in buf
// (decoded sequentially, every page when pages is set), as 8-bit sRGB with
// bands bands, resized to tw×th when that is smaller, into a new buffer
// the caller frees with g_free. The pipeline streams: a large candidate
// is never held decoded at full size.
// It fails when the image is not ew×eh (unless ew is 0).
static void *imgdiet_pixels(VipsImage *in, const void *buf, size_t len, int pages,
	int bands, int ew, int eh, int tw, int th, int *w, int *h, size_t *size) {
	VipsImage *ctx = vips_image_new();
	VipsImage **t = (VipsImage **) vips_object_local_array(VIPS_OBJECT(ctx), 5);
	VipsImage *x = in;
	void *mem = NULL;
	if (x == NULL) {
		if (pages)
			t[0] = vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL, "n", -1, NULL);
		else
			t[0] = vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
		if (t[0] == NULL)
			goto done;
		x = t[0];
	}
	if (vips_image_guess_interpretation(x) != VIPS_INTERPRETATION_sRGB || x->BandFmt != VIPS_FORMAT_UCHAR) {
		if (vips_colourspace(x, &t[1], VIPS_INTERPRETATION_sRGB, NULL))
			goto done;
		x = t[1];
	}
	if (x->BandFmt != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(x, &t[2], NULL))
			goto done;
		x = t[2];
	}
	if (x->Bands > bands) {
		if (vips_extract_band(x, &t[3], 0, "n", bands, NULL))
			goto done;
		x = t[3];
	} else if (x->Bands == 3 && bands == 4) {
		if (vips_bandjoin_const1(x, &t[3], 255, NULL))
			goto done;
		x = t[3];
	}
	if (x->Bands != bands || (ew > 0 && (x->Xsize != ew || x->Ysize != eh)))
		goto done;
	if (tw < x->Xsize || th < x->Ysize) {
		if (vips_resize(x, &t[4], (double) tw / x->Xsize, "vscale", (double) th / x->Ysize, NULL))
			goto done;
		x = t[4];
	}
	*w = x->Xsize;
	*h = x->Ysize;
	mem = vips_image_write_to_memory(x, size);
done:
	g_object_unref(ctx);
	if (mem == NULL)
		vips_error_clear();
	return mem;
}

// imgdiet_alpha_min stores the smallest value of in's fourth band in out.
static int imgdiet_alpha_min(VipsImage *in, double *out) {
	VipsImage *a = NULL;
	int ret = vips_extract_band(in, &a, 3, NULL);
	if (ret == 0) {
		ret = vips_min(a, out, NULL);
		g_object_unref(a);
	}
	if (ret)
		vips_error_clear();
	return ret;
}

static int imgdiet_is_image(void *p) { return p != NULL && VIPS_IS_IMAGE(p); }

static void imgdiet_unref(VipsImage *im) { g_object_unref(im); }

// imgdiet_webpsave encodes WebP with the options govips does not expose
// (smart_subsample: sharper chroma edges at the same size).
static int imgdiet_webpsave(VipsImage *in, void **buf, size_t *len,
	int q, int effort, int lossless, int smart, int strip) {
	int ret = vips_webpsave_buffer(in, buf, len, "Q", q, "effort", effort,
		"lossless", lossless, "smart_subsample", smart, "strip", strip, NULL);
	if (ret)
		vips_error_clear();
	return ret;
}
*/
import "C"

import (
	"errors"
	"reflect"
	"runtime"
	"strings"
	"unsafe"

	"github.com/davidbyttow/govips/v2/vips"
	"github.com/imagediet/imgdiet/internal/vipsrt"
)

// verify reports whether every pixel of src decodes without truncation or
// a decoder error. libvips' loaders are lenient by default (a truncated
// file decodes with grey fill), so this pass is what tells a broken source
// from a valid one.
func verify(src []byte, animated, jpeg bool) bool {
	if len(src) == 0 {
		return false
	}
	pages, shrink := 0, 1
	if animated {
		pages = 1
	}
	if jpeg {
		shrink = 8
	}
	ret := C.imgdiet_verify(unsafe.Pointer(&src[0]), C.size_t(len(src)), C.int(pages), C.int(shrink))
	runtime.KeepAlive(src)
	return ret == 0
}

// imageOffset is the offset of govips' unexported ImageRef.image field
// (the *C.VipsImage), or -1 when this govips version lays ImageRef out
// differently; then load declines (the engine loads through govips and
// checks integrity in a separate pass), materialize is a no-op and WebP
// falls back to govips' own encoder.
var imageOffset = func() int {
	f, ok := reflect.TypeOf(vips.ImageRef{}).FieldByName("image")
	if !ok || f.Type.Kind() != reflect.Pointer || !strings.Contains(f.Type.Elem().Name(), "VipsImage") {
		return -1
	}
	return int(f.Offset)
}()

// vipsImage returns the libvips image behind ref, or nil.
func vipsImage(ref *vips.ImageRef) *C.VipsImage {
	if imageOffset < 0 || ref == nil {
		return nil
	}
	p := *(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(ref), imageOffset))
	if C.imgdiet_is_image(p) == 0 {
		return nil
	}
	return (*C.VipsImage)(p)
}

var errVips = errors.New("libvips operation failed")

// load opens src for a strict decode (see imgdiet_load) shrunk to fit w×h
// and returns it as a govips image; nothing is decoded yet. ok is false
// when govips' layout is unknown and the caller must load through govips.
func load(src []byte, w, h int, pages bool) (ref *vips.ImageRef, ok bool, err error) {
	if imageOffset < 0 {
		return nil, false, nil
	}
	if len(src) == 0 {
		return nil, true, errVips
	}
	out := C.imgdiet_load(unsafe.Pointer(&src[0]), C.size_t(len(src)), C.int(w), C.int(h), cbool(pages))
	runtime.KeepAlive(src)
	if out == nil {
		return nil, true, errVips
	}
	// govips has no constructor from a libvips image: take a trivial
	// image and put ours in its place.
	ref, err = vips.Black(1, 1)
	if err != nil || vipsImage(ref) == nil {
		C.imgdiet_unref(out)
		if ref != nil {
			ref.Close()
		}
		return nil, true, errVips
	}
	replace(ref, out)
	return ref, true, nil
}

// replace makes ref point at out, which it now owns, and releases the
// image ref held before.
func replace(ref *vips.ImageRef, out *C.VipsImage) {
	in := vipsImage(ref)
	*(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(ref), imageOffset)) = unsafe.Pointer(out)
	if in != nil {
		C.imgdiet_unref(in)
	}
}

// materialize decodes ref's pipeline once into memory and makes ref point
// at the result. The reference moves: ref.Close releases the new image.
func materialize(ref *vips.ImageRef) error {
	in := vipsImage(ref)
	if in == nil {
		return nil
	}
	out := C.imgdiet_materialize(in)
	runtime.KeepAlive(ref)
	if out == nil {
		return errVips
	}
	replace(ref, out)
	return nil
}

// webpSave encodes ref as WebP. ok is false when the libvips image cannot
// be reached, and the caller should use govips' encoder.
func webpSave(ref *vips.ImageRef, q, effort int, lossless, smart, strip bool) (b []byte, ok bool, err error) {
	in := vipsImage(ref)
	if in == nil {
		return nil, false, nil
	}
	var buf unsafe.Pointer
	var n C.size_t
	if C.imgdiet_webpsave(in, &buf, &n, C.int(q), C.int(effort), cbool(lossless), cbool(smart), cbool(strip)) != 0 {
		return nil, true, errVips
	}
	defer C.g_free(C.gpointer(buf))
	runtime.KeepAlive(ref)
	return C.GoBytes(buf, C.int(n)), true, nil
}

// trimPixels is the candidate size from which pixelsOf trims the C heap.
// Below it the buffers are small and the trim costs more time (the next
// encode faults its pages in again: 5 % on a 1.7 MP page photo) than it
// saves memory.
const trimPixels = 2_000_000

// pixelsOf renders ref (or, when ref is nil, the image encoded in buf) as
// 8-bit sRGB with bands bands, shrunk to w×h when that is smaller, and
// calls fn with the pixels. The pixels live in C memory that is released
// when fn returns: fn must not keep them. When ew > 0 an image that is not
// ew×eh before shrinking is an error.
func pixelsOf(ref *vips.ImageRef, buf []byte, pages bool, bands, ew, eh, w, h int, fn func(pixels) error) error {
	var in *C.VipsImage
	var p unsafe.Pointer
	if ref != nil {
		if in = vipsImage(ref); in == nil {
			return errVips
		}
	} else if len(buf) == 0 {
		return errVips
	} else {
		p = unsafe.Pointer(&buf[0])
	}
	if int64(ew)*int64(eh) >= trimPixels {
		// The encoder of this large candidate has just freed its buffers:
		// hand them back before the decoder takes its own, so that the
		// two do not add up in the process's resident memory.
		vipsrt.Trim()
	}
	var ow, oh C.int
	var n C.size_t
	mem := C.imgdiet_pixels(in, p, C.size_t(len(buf)), cbool(pages), C.int(bands), C.int(ew), C.int(eh), C.int(w), C.int(h), &ow, &oh, &n)
	runtime.KeepAlive(ref)
	runtime.KeepAlive(buf)
	if mem == nil {
		return errVips
	}
	defer C.g_free(C.gpointer(mem))
	m := pixels{Pix: unsafe.Slice((*byte)(mem), int(n)), Width: int(ow), Height: int(oh), Bands: bands}
	if m.Width*m.Height*bands > int(n) {
		return errVips
	}
	return fn(m)
}

// alphaOpaque reports whether every pixel of ref's fourth band is 255.
func alphaOpaque(ref *vips.ImageRef) (bool, error) {
	in := vipsImage(ref)
	if in == nil {
		return false, errVips
	}
	var v C.double
	ret := C.imgdiet_alpha_min(in, &v)
	runtime.KeepAlive(ref)
	if ret != 0 {
		return false, errVips
	}
	return v >= 255, nil
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
