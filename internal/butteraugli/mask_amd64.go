package butteraugli

// maskInt4 masks the pixels x … end−1 of a row as maskIntensityRow does,
// four at a time (see mask_amd64.s for p). It needs AVX2.
//
//go:noescape
func maskInt4(p *[11]*float32, w, x, end int, k *[7][4]float64)
