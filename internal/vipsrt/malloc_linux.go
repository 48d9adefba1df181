//go:build linux

package vipsrt

/*
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

// Tune glibc's malloc before any thread exists.
//
// Arenas: libvips' worker threads each grow an arena otherwise, and RSS
// climbs without limit. IMGDIET_MALLOC_ARENA_MAX overrides the bound of 2.
//
// Retention: by default glibc serves every block from 128 KiB up with a
// fresh mmap, and hands a heap's free top back to the kernel, until the
// thresholds have grown to the largest block freed so far. Until then each
// encode faults its codec buffers in afresh: in a new process 3,300 page
// faults per 1 MP WebP encode (TestMallocRetains), at 2.3 µs each on a
// virtual machine. Fixed thresholds keep blocks up to 32 MiB in the heaps
// and up to 64 MiB of a heap's free top mapped from the first encode on
// (1,200 faults); the host trims the heaps when it goes idle (Trim), so an
// idle host does not keep them. IMGDIET_MALLOC_RETAIN=0 restores glibc's
// dynamic thresholds, and malloc settings in GLIBC_TUNABLES are left alone.
//
// A constructor runs when the binary is loaded, before the Go runtime and
// before libvips starts a thread.
__attribute__((constructor)) static void imgdiet_tune_malloc(void) {
#ifdef M_ARENA_MAX
	int n = 2;
	const char *v = getenv("IMGDIET_MALLOC_ARENA_MAX");
	if (v != NULL && atoi(v) > 0) n = atoi(v);
	if (getenv("MALLOC_ARENA_MAX") == NULL) mallopt(M_ARENA_MAX, n);
#endif
	const char *r = getenv("IMGDIET_MALLOC_RETAIN");
	const char *t = getenv("GLIBC_TUNABLES");
	if ((r != NULL && strcmp(r, "0") == 0) || (t != NULL && strstr(t, "glibc.malloc.") != NULL))
		return;
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

static void imgdiet_trim(void) { malloc_trim(0); }
*/
import "C"

// Trim returns freed heap memory to the operating system.
func Trim() { C.imgdiet_trim() }
