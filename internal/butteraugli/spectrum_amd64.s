#include "textflag.h"

// The block spectra of four signals at once: each YMM register holds one
// value of the four signals (a lane each), and every lane goes through
// exactly the scalar steps of dft8 and spectrum (no fused multiply-add).

// DFT8(in, out) transforms the 8 vectors at in, 32 bytes apart, into the 8
// at out, laid out as dft8's result. Y15 holds rsqrt2, Y14 the sign bit.
#define DFT8(in, out) \
	VMOVUPD in+0(SI), Y0; \
	VMOVUPD in+128(SI), Y4; \
	VADDPD  Y4, Y0, Y8; \
	VSUBPD  Y4, Y0, Y9; \
	VMOVUPD in+64(SI), Y2; \
	VMOVUPD in+192(SI), Y6; \
	VADDPD  Y6, Y2, Y10; \
	VSUBPD  Y6, Y2, Y11; \
	VMOVUPD in+32(SI), Y1; \
	VMOVUPD in+160(SI), Y5; \
	VADDPD  Y5, Y1, Y12; \
	VSUBPD  Y5, Y1, Y13; \
	VMOVUPD in+96(SI), Y3; \
	VMOVUPD in+224(SI), Y7; \
	VADDPD  Y7, Y3, Y0; \
	VSUBPD  Y7, Y3, Y1; \
	VADDPD  Y10, Y8, Y2; \
	VADDPD  Y0, Y12, Y3; \
	VADDPD  Y3, Y2, Y4; \
	VMOVUPD Y4, out+0(DI); \
	VSUBPD  Y3, Y2, Y4; \
	VMOVUPD Y4, out+32(DI); \
	VSUBPD  Y10, Y8, Y4; \
	VMOVUPD Y4, out+128(DI); \
	VSUBPD  Y12, Y0, Y4; \
	VMOVUPD Y4, out+160(DI); \
	VSUBPD  Y1, Y13, Y4; \
	VMULPD  Y4, Y15, Y4; \
	VADDPD  Y1, Y13, Y5; \
	VMULPD  Y5, Y15, Y5; \
	VADDPD  Y4, Y9, Y6; \
	VMOVUPD Y6, out+64(DI); \
	VXORPD  Y14, Y11, Y6; \
	VSUBPD  Y5, Y6, Y6; \
	VMOVUPD Y6, out+96(DI); \
	VSUBPD  Y4, Y9, Y6; \
	VMOVUPD Y6, out+192(DI); \
	VSUBPD  Y5, Y11, Y6; \
	VMOVUPD Y6, out+224(DI)

// SQ1(a, dst): sq[dst] = (t[a]·t[a])·scale.
#define SQ1(a, dst) \
	VMOVUPD a(DI), Y0; \
	VMULPD  Y0, Y0, Y0; \
	VMULPD  Y13, Y0, Y0; \
	VMOVUPD Y0, dst(DX)

// SQ2(a, b, dst): sq[dst] = (t[a]·t[a] + t[b]·t[b])·scale.
#define SQ2(a, b, dst) \
	VMOVUPD a(DI), Y0; \
	VMOVUPD b(DI), Y1; \
	VMULPD  Y0, Y0, Y0; \
	VMULPD  Y1, Y1, Y1; \
	VADDPD  Y1, Y0, Y0; \
	VMULPD  Y13, Y0, Y0; \
	VMOVUPD Y0, dst(DX)

// CPLX(p, q, k, lo, hi): for the complex column with real part DFT at p
// and imaginary part at q (byte offsets in tmp), coefficient k: with
// pr, pi, qr, qi the k-th (re, im) pairs, sq[lo] = ((pr−qi)² + (pi+qr)²)·scale
// and sq[hi] = ((pr+qi)² + (qr−pi)²)·scale.
#define CPLX(p, q, k, lo, hi) \
	VMOVUPD p+(64*k)(DI), Y2; \
	VMOVUPD p+(64*k+32)(DI), Y3; \
	VMOVUPD q+(64*k)(DI), Y4; \
	VMOVUPD q+(64*k+32)(DI), Y5; \
	VSUBPD  Y5, Y2, Y0; \
	VADDPD  Y4, Y3, Y1; \
	VMULPD  Y0, Y0, Y0; \
	VMULPD  Y1, Y1, Y1; \
	VADDPD  Y1, Y0, Y0; \
	VMULPD  Y13, Y0, Y0; \
	VMOVUPD Y0, lo(DX); \
	VADDPD  Y5, Y2, Y0; \
	VSUBPD  Y3, Y4, Y1; \
	VMULPD  Y0, Y0, Y0; \
	VMULPD  Y1, Y1, Y1; \
	VADDPD  Y1, Y0, Y0; \
	VMULPD  Y13, Y0, Y0; \
	VMOVUPD Y0, hi(DX)

// KX(p, q, row): the row kx of the spectrum from the column DFTs at p and
// q (o = sq[8kx:], byte offset row).
#define KX(p, q, row) \
	SQ2(p+0, q+0, row+0); \
	SQ2(p+32, q+32, row+128); \
	CPLX(p, q, 1, row+32, row+224); \
	CPLX(p, q, 2, row+64, row+192); \
	CPLX(p, q, 3, row+96, row+160)

// func spectrum4(cols *[8][8][4]float64, tmp *[8][8][4]float64, sq *[37][4]float64, k *[3]float64)
//
// cols[c][slot] holds component c of the four signals' row DFTs; tmp is
// scratch; k holds rsqrt2, spectrumScale and −0. It writes sq[4..36] and
// returns the DC coefficients in sq[0].
TEXT ·spectrum4(SB), NOSPLIT, $0-32
	MOVQ         cols+0(FP), SI
	MOVQ         tmp+8(FP), DI
	MOVQ         sq+16(FP), DX
	MOVQ         k+24(FP), AX
	VBROADCASTSD 0(AX), Y15
	VBROADCASTSD 16(AX), Y14
	DFT8(0, 0)
	DFT8(256, 256)
	DFT8(512, 512)
	DFT8(768, 768)
	DFT8(1024, 1024)
	DFT8(1280, 1280)
	DFT8(1536, 1536)
	DFT8(1792, 1792)
	VBROADCASTSD 8(AX), Y13
	// tmp[c] at 256c: the DFT down the column set c (f0, f4, f1re, f1im,
	// f2re, f2im, f3re, f3im); its entry j at 32j.
	// DC.
	VMOVUPD 0(DI), Y0
	VMOVUPD Y0, 0(DX)
	// kx = 0: sq[4] = c4², sq[5] = |c3|², sq[6] = |c2|², sq[7] = |c1|².
	SQ1(32, 128)
	SQ2(192, 224, 160)
	SQ2(128, 160, 192)
	SQ2(64, 96, 224)
	// kx = 4: sq[32] = c0², sq[33] = |c1|², sq[34] = |c2|², sq[35] = |c3|², sq[36] = c4².
	SQ1(256, 1024)
	SQ2(320, 352, 1056)
	SQ2(384, 416, 1088)
	SQ2(448, 480, 1120)
	SQ1(288, 1152)
	// kx = 1, 2, 3.
	KX(512, 768, 256)
	KX(1024, 1280, 512)
	KX(1536, 1792, 768)
	VZEROUPPER
	RET
