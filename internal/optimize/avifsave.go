package optimize

/*
#cgo pkg-config: vips
#include <vips/vips.h>

// imgdiet_avifsave encodes AVIF with the chroma subsampling govips does not
// expose. full=1 keeps full-resolution chroma (4:4:4); full=0 leaves the
// choice to libvips (4:2:0 below Q 90, 4:4:4 from it on).
static int imgdiet_avifsave(VipsImage *in, void **buf, size_t *len,
	int q, int effort, int full, int strip) {
	int ret = vips_heifsave_buffer(in, buf, len, "Q", q, "effort", effort,
		"bitdepth", 8, "compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
		"subsample_mode", full ? VIPS_FOREIGN_SUBSAMPLE_OFF : VIPS_FOREIGN_SUBSAMPLE_AUTO,
		"strip", strip, NULL);
	if (ret)
		vips_error_clear();
	return ret;
}
*/
import "C"

import (
	"runtime"
	"unsafe"

	"github.com/davidbyttow/govips/v2/vips"
)

// avifSave encodes ref as 8-bit AVIF at quality q and effort, with full
// chroma when full is set. ok is false when the libvips image behind ref
// is not reachable (the caller then uses govips' encoder).
func avifSave(ref *vips.ImageRef, q, effort int, full, strip bool) (b []byte, ok bool, err error) {
	in := vipsImage(ref)
	if in == nil {
		return nil, false, nil
	}
	var buf unsafe.Pointer
	var n C.size_t
	if C.imgdiet_avifsave(in, &buf, &n, C.int(q), C.int(effort), cbool(full), cbool(strip)) != 0 {
		return nil, true, errVips
	}
	defer C.g_free(C.gpointer(buf))
	runtime.KeepAlive(ref)
	return C.GoBytes(buf, C.int(n)), true, nil
}
