package butteraugli

// spectrum4 is spectrum on four signals at once, lane s of each vector
// holding signal s: it writes their DC coefficients into sq[0] and their
// weighted squared magnitudes into sq[4..36]; tmp is scratch and k holds
// rsqrt2, spectrumScale and −0. It needs AVX2.
//
//go:noescape
func spectrum4(cols, tmp *[8][8][4]float64, sq *[37][4]float64, k *[3]float64)
