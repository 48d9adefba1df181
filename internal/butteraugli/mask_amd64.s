#include "textflag.h"

// Intensity masking of four pixels at once, one pixel a lane, each lane
// going through exactly the scalar steps of maskIntensityRow (no fused
// multiply-add). C(i) is the i-th constant of maskK in 4 lanes; P(i)
// loads the i-th row pointer into R10.
#define C(i) ((i)*32)(R8)
#define P(i) MOVQ ((i)*8)(R9), R10

// PAIRAVG(i, j, off, dst): dst = 0.5·float64(row i[x+off] + row j[x+off]),
// the sum in single precision (off in bytes).
#define PAIRAVG(i, j, off, dst) \
	P(i); \
	VMOVUPS off(R10)(BX*4), X8; \
	P(j); \
	VADDPS off(R10)(BX*4), X8, X8; \
	VCVTPS2PD X8, dst; \
	VMULPD C(0), dst, dst

// NEIGHBOUR(i, j, off): Y2 = max(Y2, (PAIRAVG − mid)²).
#define NEIGHBOUR(i, j, off) \
	PAIRAVG(i, j, off, Y9); \
	VSUBPD Y0, Y9, Y9; \
	VMULPD Y9, Y9, Y9; \
	VMAXPD Y9, Y2, Y2

// MIX(c, mix, d0, d1): the masked values of channel c (rows c and 3+c of
// the pointers) into the runs at d0 and d1.
#define MIX(c, mix, d0, d1) \
	P(c); \
	VMOVUPS (R10)(BX*4), X8; \
	P(3+c); \
	VMOVUPS (R10)(BX*4), X9; \
	VADDPS X9, X8, X10; \
	VCVTPS2PD X10, Y10; \
	VMULPD C(0), Y10, Y10; \
	VCVTPS2PD X8, Y8; \
	VCVTPS2PD X9, Y9; \
	VMOVUPD C(6), Y11; \
	VSUBPD mix, Y11, Y11; \
	VMULPD Y11, Y10, Y10; \
	VMULPD mix, Y8, Y8; \
	VADDPD Y10, Y8, Y8; \
	VCVTPD2PSY Y8, X8; \
	VMOVUPS X8, (d0)(BX*4); \
	VMULPD mix, Y9, Y9; \
	VADDPD Y10, Y9, Y9; \
	VCVTPD2PSY Y9, X9; \
	VMOVUPS X9, (d1)(BX*4)

// func maskInt4(p *[11]*float32, w, x, end int, k *[7][4]float64)
//
// Masks the pixels x … end−1 of a row (end − x a multiple of 4, x ≥ 1,
// end < w, a row with rows above and below it). p holds the rows of the
// reference's X, Y, Z, the distorted image's X, Y, Z, the sums' rows
// above (reference, distorted) and below, and dst (six runs of w).
TEXT ·maskInt4(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), R9
	MOVQ w+8(FP), AX
	MOVQ x+16(FP), BX
	MOVQ end+24(FP), CX
	MOVQ k+32(FP), R8
	SHLQ $2, AX
	MOVQ 80(R9), DI
	LEAQ (DI)(AX*1), SI
	LEAQ (SI)(AX*1), DX
	LEAQ (DX)(AX*1), R11
	LEAQ (R11)(AX*1), R12
	LEAQ (R12)(AX*1), R13

loop:
	CMPQ BX, CX
	JGE  done
	PAIRAVG(1, 4, 0, Y0)
	VMOVUPD C(1), Y2
	NEIGHBOUR(1, 4, -4)
	NEIGHBOUR(1, 4, 4)
	NEIGHBOUR(6, 7, 0)
	NEIGHBOUR(8, 9, 0)
	// chroma = cb / (mid + cb).
	VADDPD C(2), Y0, Y3
	VMOVUPD C(2), Y4
	VDIVPD Y3, Y4, Y3
	// mix X = chroma·rX / (worst + rX), Y = rY / (worst + rY), Z likewise.
	VMULPD C(3), Y3, Y4
	VADDPD C(3), Y2, Y5
	VDIVPD Y5, Y4, Y4
	VADDPD C(4), Y2, Y5
	VMOVUPD C(4), Y6
	VDIVPD Y5, Y6, Y5
	VMULPD C(5), Y3, Y6
	VADDPD C(5), Y2, Y7
	VDIVPD Y7, Y6, Y6
	MIX(0, Y4, DI, R11)
	MIX(1, Y5, SI, R12)
	MIX(2, Y6, DX, R13)
	ADDQ $4, BX
	JMP  loop

done:
	VZEROUPPER
	RET
