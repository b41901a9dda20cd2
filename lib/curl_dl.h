/* curl_dl.h - libcurl, loaded at its first use (curl_dl.c). */
#ifndef SK_CURL_DL_H
#define SK_CURL_DL_H

#include "err.h"

/* Load libcurl if it is not yet: 0, or -1 with EX_CONFIG and why, the
 * message starting with what (the endpoint that needs it). */
int sk_curl_load(const char *what, sk_err *e);

#endif
