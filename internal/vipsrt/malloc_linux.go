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
// fresh mmap until one is freed, and hands a heap's free top back to the
// kernel once it passes a threshold that follows the largest block freed.
// An encode allocates and frees tens of megabytes of codec buffers, so
// every encode faulted them in again: 4,000 page faults per 1.7 MP WebP
// encode and 8,000 per AVIF encode, at 2.3 µs each on a virtual machine.
// Fixed thresholds keep blocks up to 32 MiB in the heaps and up to
// 64 MiB of a heap's free top mapped for the next encode (1,200 and 2,600
// faults); the host trims the heaps when it goes idle (Trim), so an idle
// host does not keep them. IMGDIET_MALLOC_RETAIN=0 restores glibc's
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
