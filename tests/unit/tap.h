/* tap.h - a tiny TAP producer for the unit tests of lib/. */
#ifndef SK_TAP_H
#define SK_TAP_H

#include <stdio.h>
#include <stdarg.h>
#include <string.h>

#define TAP_FN static __attribute__((unused))
static int tap_n, tap_failed;

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, ...) tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, __VA_ARGS__)

__attribute__((format(printf, 4, 5)))
TAP_FN int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	tap_n++;
	printf("%s %d - ", pass ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	return pass;
}

#define TAP_VMSG(buf, fmt) do { va_list ap; va_start(ap, fmt); \
	vsnprintf(buf, sizeof buf, fmt, ap); va_end(ap); } while (0)

__attribute__((format(printf, 5, 6)))
TAP_FN int tap_is_str(const char *got, const char *want, const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	int pass = (got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0);
	TAP_VMSG(msg, fmt);
	tap_ok(pass, file, line, "%s", msg);
	if (!pass)
		printf("#   got: '%s'\n#   expected: '%s'\n", got ? got : "(null)", want ? want : "(null)");
	return pass;
}

__attribute__((format(printf, 5, 6)))
TAP_FN int tap_is_int(long long got, long long want, const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	TAP_VMSG(msg, fmt);
	tap_ok(got == want, file, line, "%s", msg);
	if (got != want)
		printf("#   got: %lld\n#   expected: %lld\n", got, want);
	return got == want;
}

TAP_FN int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
