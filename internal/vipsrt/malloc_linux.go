//go:build linux

package vipsrt

/*
#include <malloc.h>
#include <stdlib.h>

// Bound glibc's malloc arenas before any thread exists: libvips' worker
// threads each grow an arena otherwise, and RSS climbs without limit.
// A constructor runs when the binary is loaded, before the Go runtime and
// before libvips starts a thread. IMGDIET_MALLOC_ARENA_MAX overrides it.
__attribute__((constructor)) static void imgdiet_bound_arenas(void) {
#ifdef M_ARENA_MAX
	int n = 2;
	const char *v = getenv("IMGDIET_MALLOC_ARENA_MAX");
	if (v != NULL && atoi(v) > 0) n = atoi(v);
	if (getenv("MALLOC_ARENA_MAX") == NULL) mallopt(M_ARENA_MAX, n);
#endif
}

static void imgdiet_trim(void) { malloc_trim(0); }
*/
import "C"

// Trim returns freed heap memory to the operating system.
func Trim() { C.imgdiet_trim() }
