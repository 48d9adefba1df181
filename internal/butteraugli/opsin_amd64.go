package butteraugli

// opsin4 converts the first n pixels (a multiple of 4) of a row as
// opsinRow does, four at a time; lin, blur and xyb point at rows of three
// runs of w values, k at opsinK. It needs AVX2.
//
//go:noescape
func opsin4(lin, blur, xyb *float32, w, n int, k *[32][4]float64)
