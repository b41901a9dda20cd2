/* simd.h - whether the wide paths may be taken: SSE2 is in every x86-64
 * and needs no asking; SSSE3 (byte shuffles), AVX2 (32-byte compares) and
 * AVX-512 (with VBMI2, for byte expand) are asked of the machine once, at
 * start. A build with SK_NO_SIMD (a unit test's) has none of them, as a
 * machine without them would. */
#ifndef SK_SIMD_H
#define SK_SIMD_H

#if defined(__SSE2__) && !defined(SK_NO_SIMD)
#include <emmintrin.h>
#define SK_SSE2 1
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(SK_NO_SIMD)
#include <immintrin.h>
#define SK_AVX512 1
#define SK_AVX2 1
#define SK_SSSE3 1
/* A function that may use what sk_simd_avx512 asks for. */
#define SK_AVX512_FN __attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi,avx512vbmi2,bmi2")))
/* A function that may use what sk_simd_avx2 asks for (SSSE3's too). */
#define SK_AVX2_FN __attribute__((target("avx2,popcnt")))
/* A function that may use what sk_simd_ssse3 asks for. */
#define SK_SSSE3_FN __attribute__((target("ssse3,popcnt")))
#endif

/* The paths the machine has, less those a unit test turned off: read on
 * every call, so asking costs a load. */
#define SK_SIMD_HAS_AVX512 1u
#define SK_SIMD_HAS_AVX2 2u
#define SK_SIMD_HAS_SSSE3 4u
extern unsigned sk_simd_paths;

/* 1 when the machine has AVX-512 F, BW, VL, VBMI and VBMI2, and BMI2 (and
 * the system keeps their registers). */
static inline int sk_simd_avx512(void)
{
	return (sk_simd_paths & SK_SIMD_HAS_AVX512) != 0;
}

/* 1 when the machine has AVX2, SSSE3 and POPCNT. */
static inline int sk_simd_avx2(void)
{
	return (sk_simd_paths & SK_SIMD_HAS_AVX2) != 0;
}

/* 1 when the machine has SSSE3 and POPCNT. */
static inline int sk_simd_ssse3(void)
{
	return (sk_simd_paths & SK_SIMD_HAS_SSSE3) != 0;
}

/* For the unit tests, the paths taken where the machine has them: 0 all,
 * 1 all but AVX-512's, 2 neither AVX-512's nor AVX2's (SSSE3's), 3 only
 * SSE2's (the 16-byte paths). */
#define SK_SIMD_PATHS 4
void sk_simd_portable(int level);

#endif
