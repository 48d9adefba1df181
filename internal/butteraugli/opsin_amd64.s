#include "textflag.h"

// The opsin transform of four pixels at once, one pixel a lane, each lane
// going through exactly the scalar steps of opsinRow (no fused
// multiply-add). K(i) is the i-th constant of opsinK, repeated in 4 lanes.
#define K(i) ((i)*32)(R9)

// ABSORB(c, r, g, b, dst): dst = ((m[c][0]·r + m[c][1]·g) + m[c][2]·b) + m[c][3].
#define ABSORB(c, r, g, b, dst) \
	VMULPD K(4*c), r, dst; \
	VMULPD K(4*c+1), g, Y10; \
	VADDPD Y10, dst, dst; \
	VMULPD K(4*c+2), b, Y10; \
	VADDPD Y10, dst, dst; \
	VADDPD K(4*c+3), dst, dst

// STEP(k): one step of both Clenshaw recurrences (t in Y4; n, n' in Y5,
// Y6; d, d' in Y7, Y8).
#define STEP(k) \
	VMULPD Y5, Y4, Y9; \
	VADDPD Y9, Y9, Y9; \
	VSUBPD Y6, Y9, Y9; \
	VADDPD K(16+k), Y9, Y9; \
	VMOVAPD Y5, Y6; \
	VMOVAPD Y9, Y5; \
	VMULPD Y7, Y4, Y9; \
	VADDPD Y9, Y9, Y9; \
	VSUBPD Y8, Y9, Y9; \
	VADDPD K(22+k), Y9, Y9; \
	VMOVAPD Y7, Y8; \
	VMOVAPD Y9, Y7

// CHANNEL(c, dst): dst = the absorbance c of the pixels (linear RGB at
// R11, R12, R13) times the gamma slope at the absorbance c of the blurred
// pixels (Y0, Y1, Y2).
#define CHANNEL(c, dst) \
	ABSORB(c, Y0, Y1, Y2, Y3); \
	VCVTPD2PSY Y3, X4; \
	VCVTPS2PD X4, Y4; \
	VSUBPD K(12), Y4, Y4; \
	VDIVPD K(13), Y4, Y4; \
	VMULPD K(14), Y4, Y4; \
	VSUBPD K(15), Y4, Y4; \
	VXORPD Y5, Y5, Y5; \
	VXORPD Y6, Y6, Y6; \
	VXORPD Y7, Y7, Y7; \
	VXORPD Y8, Y8, Y8; \
	STEP(5); \
	STEP(4); \
	STEP(3); \
	STEP(2); \
	STEP(1); \
	VMULPD Y5, Y4, Y9; \
	VSUBPD Y6, Y9, Y9; \
	VADDPD K(16), Y9, Y9; \
	VMULPD Y7, Y4, Y10; \
	VSUBPD Y8, Y10, Y10; \
	VADDPD K(22), Y10, Y10; \
	VDIVPD Y10, Y9, Y9; \
	VCVTPD2PSY Y9, X9; \
	VCVTPS2PD X9, Y9; \
	VXORPD Y11, Y11, Y11; \
	VCMPPD $0, Y11, Y10, Y11; \
	VANDNPD Y9, Y11, Y9; \
	VDIVPD Y3, Y9, Y9; \
	VCVTPS2PD (R11)(BX*4), Y4; \
	VCVTPS2PD (R12)(BX*4), Y5; \
	VCVTPS2PD (R13)(BX*4), Y6; \
	ABSORB(c, Y4, Y5, Y6, dst); \
	VMULPD Y9, dst, dst

// func opsin4(lin, blur, xyb *float32, w, n int, k *[32][4]float64)
//
// Converts the first n pixels (a multiple of 4) of a row as opsinRow does:
// lin, blur and xyb each hold three runs of w values.
TEXT ·opsin4(SB), NOSPLIT, $0-48
	MOVQ lin+0(FP), R11
	MOVQ blur+8(FP), SI
	MOVQ xyb+16(FP), DI
	MOVQ w+24(FP), AX
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), R9
	SHLQ $2, AX            // bytes a run
	LEAQ (R11)(AX*1), R12
	LEAQ (R12)(AX*1), R13
	LEAQ (SI)(AX*1), R14
	LEAQ (R14)(AX*1), R10
	LEAQ (DI)(AX*1), R8
	LEAQ (R8)(AX*1), DX
	XORQ BX, BX

loop:
	CMPQ BX, CX
	JGE  done
	VCVTPS2PD (SI)(BX*4), Y0
	VCVTPS2PD (R14)(BX*4), Y1
	VCVTPS2PD (R10)(BX*4), Y2
	CHANNEL(0, Y13)
	CHANNEL(1, Y14)
	CHANNEL(2, Y15)
	// x = A0·c0 − A1·c1, y = A2·c0 + A3·c1, z = c2.
	VMULPD     K(28), Y13, Y3
	VMULPD     K(29), Y14, Y4
	VSUBPD     Y4, Y3, Y3
	VCVTPD2PSY Y3, X3
	VMOVUPS    X3, (DI)(BX*4)
	VMULPD     K(30), Y13, Y3
	VMULPD     K(31), Y14, Y4
	VADDPD     Y4, Y3, Y3
	VCVTPD2PSY Y3, X3
	VMOVUPS    X3, (R8)(BX*4)
	VCVTPD2PSY Y15, X3
	VMOVUPS    X3, (DX)(BX*4)
	ADDQ       $4, BX
	JMP        loop

done:
	VZEROUPPER
	RET
