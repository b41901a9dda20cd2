/* simd.c - what the machine's vector unit offers, asked once (simd.h). */
#include "simd.h"

static int have_avx512, have_ssse3;   /* set before main, read only after */
static int portable;                  /* a unit test's choice */

#ifdef SK_AVX512
__attribute__((constructor)) static void ask(void)
{
	__builtin_cpu_init();     /* constructors may run before libgcc's */
	have_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	              __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
	              __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2");
	have_ssse3 = __builtin_cpu_supports("ssse3") && __builtin_cpu_supports("popcnt");
}
#endif

int sk_simd_avx512(void)
{
	return have_avx512 && portable < 1;
}

int sk_simd_ssse3(void)
{
	return have_ssse3 && portable < 2;
}

void sk_simd_portable(int level)
{
	portable = level;
}
