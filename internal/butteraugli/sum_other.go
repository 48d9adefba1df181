//go:build !amd64

package butteraugli

import "unsafe"

// haveAVX2 reports whether the AVX2 kernels may be used: only on amd64.
var haveAVX2 = false

func sumTaps16(acc *float64, ptrs *unsafe.Pointer, taps *float32, ntaps, n int) {
	panic("butteraugli: no vector sums on this architecture")
}

func spectrum4(cols, tmp *[8][8][4]float64, sq *[37][4]float64, k *[3]float64) {
	panic("butteraugli: no vector spectra on this architecture")
}

func opsin4(lin, blur, xyb *float32, w, n int, k *[32][4]float64) {
	panic("butteraugli: no vector opsin on this architecture")
}

func maskInt4(p *[11]*float32, w, x, end int, k *[7][4]float64) {
	panic("butteraugli: no vector masking on this architecture")
}
