/* simd.c - what the machine's vector unit offers, asked once (simd.h). */
#include "simd.h"

static int have_avx512;   /* set before main, read only after */
static int portable;      /* a unit test's choice */

#ifdef SK_AVX512
__attribute__((constructor)) static void ask(void)
{
	__builtin_cpu_init();     /* constructors may run before libgcc's */
	have_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	              __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
	              __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2");
}
#endif

int sk_simd_avx512(void)
{
	return have_avx512 && !portable;
}

void sk_simd_portable(int on)
{
	portable = on;
}
