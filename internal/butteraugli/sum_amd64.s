#include "textflag.h"

// func sumTaps16(acc *float64, ptrs *unsafe.Pointer, taps *float32, ntaps, n int)
//
// For i in [0, n), n a multiple of 16: acc[i] = Σ_t float64(ptrs[t][i]·taps[t]),
// the products rounded to single precision and summed in double precision
// in tap order, 16 outputs at a time in four registers of 4 doubles.
TEXT ·sumTaps16(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ ptrs+8(FP), SI
	MOVQ taps+16(FP), DX
	MOVQ ntaps+24(FP), CX
	MOVQ n+32(FP), BX
	XORQ R8, R8 // byte offset of output i in the source rows: 4i

block:
	CMPQ BX, $16
	JLT  done
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ R10, R10

tap:
	MOVQ         (SI)(R10*8), R11
	VBROADCASTSS (DX)(R10*4), Y7
	VMULPS       (R11)(R8*1), Y7, Y4
	VMULPS       32(R11)(R8*1), Y7, Y8
	VCVTPS2PD    X4, Y5
	VEXTRACTF128 $1, Y4, X4
	VCVTPS2PD    X4, Y4
	VADDPD       Y5, Y0, Y0
	VADDPD       Y4, Y1, Y1
	VCVTPS2PD    X8, Y9
	VEXTRACTF128 $1, Y8, X8
	VCVTPS2PD    X8, Y8
	VADDPD       Y9, Y2, Y2
	VADDPD       Y8, Y3, Y3
	INCQ         R10
	CMPQ         R10, CX
	JLT          tap

	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	ADDQ    $128, DI
	ADDQ    $64, R8
	SUBQ    $16, BX
	JMP     block

done:
	VZEROUPPER
	RET

// func hasAVX2() bool
TEXT ·hasAVX2(SB), NOSPLIT, $0-1
	MOVB $0, ret+0(FP)
	// Leaf 1: OSXSAVE (ECX bit 27) and AVX (bit 28).
	MOVL $1, AX
	XORL CX, CX
	CPUID
	MOVL CX, R8
	ANDL $0x18000000, R8
	CMPL R8, $0x18000000
	JNE  no
	// The OS saves the XMM and YMM state (XCR0 bits 1 and 2).
	XORL CX, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE  no
	// Leaf 7: AVX2 (EBX bit 5).
	XORL AX, AX
	CPUID
	CMPL AX, $7
	JLT  no
	MOVL $7, AX
	XORL CX, CX
	CPUID
	BTL  $5, BX
	JCC  no
	MOVB $1, ret+0(FP)
no:
	RET
