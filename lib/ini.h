/* ini.h - a pure parser for the endpoints file:
 *
 *   # comment            ; comment
 *   [name]
 *   url = kafka://127.0.0.1:9092/events
 *   json = true
 *   kafka.security.protocol = SSL
 */
#ifndef SK_INI_H
#define SK_INI_H

#include <stddef.h>
#include "err.h"

/* cb is called for every key = value with its section ("" before the first
 * header) and 1-based line number; a non-zero return stops the parse and is
 * returned. A syntax error returns -1 with EX_CONFIG and "line N: ...". */
typedef int (*sk_ini_cb)(void *arg, const char *section, const char *key,
                         const char *value, unsigned line);
int sk_ini_parse(const char *buf, size_t len, sk_ini_cb cb, void *arg, sk_err *e);

#endif
