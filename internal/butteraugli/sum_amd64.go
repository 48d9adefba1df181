package butteraugli

import "unsafe"

// sumTaps16 sets acc[i], for i in [0, n) (n a multiple of 16), to the sum
// in tap order of the single-precision products ptrs[t][i]·taps[t]
// converted to double precision: each output's arithmetic is that of
// sumTapsGo, several outputs at a time. It needs AVX2.
//
//go:noescape
func sumTaps16(acc *float64, ptrs *unsafe.Pointer, taps *float32, ntaps, n int)

// hasAVX2 reports whether the processor and the OS support AVX2.
func hasAVX2() bool

// haveAVX2 reports whether the AVX2 kernels (sumTaps16, spectrum4) may be
// used.
var haveAVX2 = hasAVX2()
