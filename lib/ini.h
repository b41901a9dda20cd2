/* ini.h - a pure parser for the endpoints file:
 *
 *   # comment
 *   ; comment
 *   [name]
 *   url = kafka://127.0.0.1:9092/events
 *   json = true
 *   kafka.sasl.password = pa#ss;word
 *
 * A line is a comment when its first character that is not a blank is '#'
 * or ';'. Anywhere else those characters are part of the text: a value is
 * the rest of its line (blanks around it removed), as passwords may hold
 * them.
 *
 * Strict: a key before the first section, a section that appears twice and
 * a key that appears twice in one section are errors, as is any line that
 * is none of the forms above. */
#ifndef SK_INI_H
#define SK_INI_H

#include <stddef.h>
#include "err.h"

/* cb is called for each section header (key and value NULL) and for every
 * key = value of it, with the 1-based line number; a non-zero return stops
 * the parse and is returned. A syntax error returns -1 with EX_CONFIG and
 * "NAME:LINE: what is wrong" (NAME: the file's name for messages). */
typedef int (*sk_ini_cb)(void *arg, const char *section, const char *key,
                         const char *value, unsigned line);
int sk_ini_parse(const char *buf, size_t len, const char *name, sk_ini_cb cb, void *arg, sk_err *e);

#endif
