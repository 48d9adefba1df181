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

// imgdiet_materialize renders a lazy pipeline into a new memory image, so
// that the many encodes of a quality search read decoded pixels instead of
// decoding and resizing the source again each time.
static VipsImage *imgdiet_materialize(VipsImage *in) {
	VipsImage *out = vips_image_copy_memory(in);
	if (out == NULL)
		vips_error_clear();
	return out;
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
// differently; then materialize is a no-op and WebP falls back to govips'
// own encoder.
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

// materialize decodes ref's pipeline once into memory and makes ref point
// at the result. The reference moves: ref.Close releases the new image.
func materialize(ref *vips.ImageRef) error {
	in := vipsImage(ref)
	if in == nil {
		return nil
	}
	out := C.imgdiet_materialize(in)
	if out == nil {
		return errVips
	}
	*(*unsafe.Pointer)(unsafe.Add(unsafe.Pointer(ref), imageOffset)) = unsafe.Pointer(out)
	C.imgdiet_unref(in)
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

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
