/* simd.c - what the machine's vector unit offers, asked once (simd.h). */
#include "simd.h"

unsigned sk_simd_paths;         /* set before main; changed only by a unit test */
static unsigned machine_paths;  /* what the machine has */

#ifdef SK_AVX512
__attribute__((constructor)) static void ask(void)
{
	__builtin_cpu_init();     /* constructors may run before libgcc's */
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
	    __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2"))
		machine_paths |= SK_SIMD_HAS_AVX512;
	if (__builtin_cpu_supports("ssse3") && __builtin_cpu_supports("popcnt")) {
		machine_paths |= SK_SIMD_HAS_SSSE3;
		if (__builtin_cpu_supports("avx2"))
			machine_paths |= SK_SIMD_HAS_AVX2;
	}
	sk_simd_paths = machine_paths;
}
#endif

void sk_simd_portable(int level)
{
	static const unsigned off[SK_SIMD_PATHS] = {
		0, SK_SIMD_HAS_AVX512, SK_SIMD_HAS_AVX512 | SK_SIMD_HAS_AVX2,
		SK_SIMD_HAS_AVX512 | SK_SIMD_HAS_AVX2 | SK_SIMD_HAS_SSSE3,
	};

	sk_simd_paths = machine_paths & ~off[level < 0 ? 0 : level >= SK_SIMD_PATHS ? SK_SIMD_PATHS - 1 : level];
}
