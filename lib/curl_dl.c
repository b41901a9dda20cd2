/* curl_dl.c - libcurl, loaded when an HTTP endpoint first needs it (as
 * systemd loads its optional libraries): libcurl and the thirty libraries
 * it brings (TLS, Kerberos, LDAP, IDN, HTTP/2...) took 5.5 ms of the 11.7
 * of starting any of the tools, for files, datasets and Kafka too.
 *
 * The functions streamkit calls are defined here under libcurl's names and
 * call libcurl's own, which the first of them finds with dlopen and dlsym
 * (SK_CURL_SONAME: the file configure saw linked). The tools are not
 * linked with libcurl, so nothing else sees these names. Where it cannot
 * be loaded, sk_curl_load says why; the others then fail as libcurl does
 * when it cannot start (NULL, CURLE_FAILED_INIT...). */
#include <config.h>

#define CURL_DISABLE_TYPECHECK 1    /* curl_easy_setopt and _getinfo are functions here, not macros */

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "curl_dl.h"

/* X(returns, name, parameters, arguments, on failure) for each function;
 * V(name, parameters, arguments) for those that return nothing. */
#define SK_CURL_FUNCTIONS(X, V)                                                                                     \
	X(CURL *, curl_easy_init, (void), (), NULL)                                                                \
	V(curl_easy_cleanup, (CURL *c), (c))                                                                         \
	X(CURLcode, curl_easy_perform, (CURL *c), (c), CURLE_FAILED_INIT)                                            \
	X(CURLcode, curl_easy_pause, (CURL *c, int bits), (c, bits), CURLE_FAILED_INIT)                              \
	X(const char *, curl_easy_strerror, (CURLcode code), (code), "libcurl is not loaded")                        \
	X(CURLHcode, curl_easy_header,                                                                                 \
	  (CURL *c, const char *name, size_t index, unsigned int origin, int request, struct curl_header **out),      \
	  (c, name, index, origin, request, out), CURLHE_NOT_BUILT_IN)                                                 \
	V(curl_free, (void *p), (p))                                                                                  \
	X(CURLcode, curl_global_init, (long flags), (flags), CURLE_FAILED_INIT)                                      \
	V(curl_global_cleanup, (void), ())                                                                            \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist *l, const char *s), (l, s), NULL)                \
	V(curl_slist_free_all, (struct curl_slist *l), (l))                                                           \
	X(CURLM *, curl_multi_init, (void), (), NULL)                                                               \
	X(CURLMcode, curl_multi_cleanup, (CURLM *m), (m), CURLM_INTERNAL_ERROR)                                      \
	X(CURLMcode, curl_multi_add_handle, (CURLM *m, CURL *c), (m, c), CURLM_INTERNAL_ERROR)                       \
	X(CURLMcode, curl_multi_remove_handle, (CURLM *m, CURL *c), (m, c), CURLM_INTERNAL_ERROR)                    \
	X(CURLMcode, curl_multi_perform, (CURLM *m, int *running), (m, running), CURLM_INTERNAL_ERROR)               \
	X(CURLMsg *, curl_multi_info_read, (CURLM *m, int *left), (m, left), NULL)                                  \
	X(CURLMcode, curl_multi_poll, (CURLM *m, struct curl_waitfd fds[], unsigned int nfds, int ms, int *ret),    \
	  (m, fds, nfds, ms, ret), CURLM_INTERNAL_ERROR)                                                               \
	X(CURLMcode, curl_multi_wakeup, (CURLM *m), (m), CURLM_INTERNAL_ERROR)                                       \
	X(CURLU *, curl_url, (void), (), NULL)                                                                      \
	V(curl_url_cleanup, (CURLU *u), (u))                                                                          \
	X(CURLUcode, curl_url_get, (CURLU *u, CURLUPart what, char **part, unsigned int flags),                      \
	  (u, what, part, flags), CURLUE_OUT_OF_MEMORY)                                                               \
	X(CURLUcode, curl_url_set, (CURLU *u, CURLUPart what, const char *part, unsigned int flags),                 \
	  (u, what, part, flags), CURLUE_OUT_OF_MEMORY)                                                               \
	X(const char *, curl_url_strerror, (CURLUcode code), (code), "libcurl is not loaded")

#define FIELD(ret, name, params, args, fail) ret(*name) params;
#define VFIELD(name, params, args) void(*name) params;

static struct {
	SK_CURL_FUNCTIONS(FIELD, VFIELD)
	CURLcode (*curl_easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*curl_easy_getinfo)(CURL *, CURLINFO, ...);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;              /* every function of fn found */
static char why[512];           /* or why not */

/* One of libcurl's functions: 0 when it is not there. */
static int find(void *lib, const char *name, void *to)
{
	void *f = dlsym(lib, name);

	if (f == NULL) {
		snprintf(why, sizeof why, "%s has no %s", SK_CURL_SONAME, name);
		return 0;
	}
	memcpy(to, &f, sizeof f);   /* an object pointer to a function pointer, as POSIX has dlsym do */
	return 1;
}

#define FIND(ret, name, params, args, fail) &&find(lib, #name, &fn.name)
#define VFIND(name, params, args) &&find(lib, #name, &fn.name)

static void load(void)
{
	void *lib = dlopen(SK_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *err;

	if (lib == NULL) {
		err = dlerror();
		snprintf(why, sizeof why, "%s", err ? err : SK_CURL_SONAME);
		return;
	}
	loaded = 1 SK_CURL_FUNCTIONS(FIND, VFIND) && find(lib, "curl_easy_setopt", &fn.curl_easy_setopt) &&
	         find(lib, "curl_easy_getinfo", &fn.curl_easy_getinfo);
	/* Kept loaded when a function is missing: what was found may be in use. */
}

static int ready(void)
{
	pthread_once(&once, load);
	return loaded;
}

int sk_curl_load(const char *what, sk_err *e)
{
	if (ready())
		return 0;
	return sk_err_set(e, EX_CONFIG, "%s: HTTP endpoints need libcurl, which cannot be loaded: %s", what, why);
}

#define DEFINE(ret, name, params, args, fail)                                                                    \
	ret name params                                                                                              \
	{                                                                                                            \
		return ready() ? fn.name args : fail;                                                                    \
	}
#define VDEFINE(name, params, args)                                                                                \
	void name params                                                                                             \
	{                                                                                                            \
		if (ready())                                                                                             \
			fn.name args;                                                                                        \
	}

SK_CURL_FUNCTIONS(DEFINE, VDEFINE)

/* An option's one argument, of the type its number says (curl.h's
 * CURLOPTTYPE_ ranges), passed on as it came. */
CURLcode curl_easy_setopt(CURL *c, CURLoption option, ...)
{
	va_list ap;
	CURLcode rc;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, option);
	if (option < CURLOPTTYPE_OBJECTPOINT)
		rc = fn.curl_easy_setopt(c, option, va_arg(ap, long));
	else if (option < CURLOPTTYPE_FUNCTIONPOINT)
		rc = fn.curl_easy_setopt(c, option, va_arg(ap, void *));
	else if (option < CURLOPTTYPE_OFF_T)
		rc = fn.curl_easy_setopt(c, option, va_arg(ap, void (*)(void)));
	else if (option < CURLOPTTYPE_BLOB)
		rc = fn.curl_easy_setopt(c, option, va_arg(ap, curl_off_t));
	else
		rc = fn.curl_easy_setopt(c, option, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* Every CURLINFO takes a pointer to where its answer goes. */
CURLcode curl_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	va_list ap;
	CURLcode rc;

	if (!ready())
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	rc = fn.curl_easy_getinfo(c, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
