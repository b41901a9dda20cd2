/* simd.h - whether the wide paths may be taken: SSE2 is in every x86-64
 * and needs no asking; AVX-512 (with VBMI2, for byte expand) is asked of
 * the machine once, at start. A build with SK_NO_SIMD (a unit test's) has
 * neither, as a machine without them would. */
#ifndef SK_SIMD_H
#define SK_SIMD_H

#if defined(__SSE2__) && !defined(SK_NO_SIMD)
#include <emmintrin.h>
#define SK_SSE2 1
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(SK_NO_SIMD)
#include <immintrin.h>
#define SK_AVX512 1
/* A function that may use what sk_simd_avx512 asks for. */
#define SK_AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi2")))
#endif

/* 1 when the machine has AVX-512 F, BW, VL, VBMI and VBMI2, and BMI2 (and
 * the system keeps their registers), unless a unit test said otherwise. */
int sk_simd_avx512(void);

/* For the unit tests: 1 leaves out the AVX-512 paths where the machine has
 * them, 0 takes them again. */
void sk_simd_portable(int on);

#endif
