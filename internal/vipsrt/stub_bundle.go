//go:build !vips_system

package vipsrt

/*
#cgo pkg-config: vips
#include <vips/vips.h>

// sharp's libvips bundle has no ImageMagick loader, but govips references
// vips_magickload_buffer. This stub satisfies the linker and fails cleanly if
// it were ever reached (govips only calls it for formats the bundle lacks).
int vips_magickload_buffer(void *buf, size_t len, VipsImage **out, ...) {
	vips_error("imgdiet", "the ImageMagick loader is not available");
	return -1;
}
*/
import "C"
