/* endpoint_label.c - what of an endpoint may be printed and stored: the
 * names of settings and parameters that may hold secrets, and the
 * argument's label, a URL without its user information and with the
 * values of hidden query parameters replaced. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "endpoint_impl.h"
#include "kinds.h"
#include "util.h"

/* s contains word, case aside. */
static int contains_word(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s; s++)
		if (strncasecmp(s, word, n) == 0)
			return 1;
	return 0;
}

int sk_secret_name(const char *name)
{
	static const char *const parts[] = {
		"password", "passwd", "secret", "token", "key", "credential", "signature", "auth",
	};
	/* sasl.* settings that say how to authenticate, not with what. */
	static const char *const plain[] = {
		"sasl.mechanism", "sasl.mechanisms", "sasl.kerberos.service.name",
		"sasl.kerberos.min.time.before.relogin", "sasl.oauthbearer.method",
	};
	size_t i;

	name += sk_kind_passthrough_len(name);
	for (i = 0; i < sizeof plain / sizeof *plain; i++)
		if (strcasecmp(name, plain[i]) == 0)
			return 0;
	if (strncasecmp(name, "sasl.", 5) == 0 || strncasecmp(name, "x-amz-", 6) == 0)
		return 1;
	for (i = 0; i < sizeof parts / sizeof *parts; i++)
		if (contains_word(name, parts[i]))
			return 1;
	return 0;
}

/* 1 when the value of query parameter key is not shown: it may be a
 * secret, or it is one kind k (NULL: unknown) does not take, whose
 * meaning is not known. */
static int hidden_param(const struct sk_ep_syntax *k, const char *key)
{
	if (sk_secret_name(key) || k == NULL)
		return 1;
	if (k->params == NULL)
		return 0;   /* the server's parameters: only secret-looking ones */
	return !sk_ep_is_bool_key(key) && !sk_ep_in_list(k->params, key);
}

/* The query q (up to its end or '#') with hidden values replaced. */
static int label_query(sk_buf *b, const struct sk_ep_syntax *k, const char *q)
{
	size_t qn = strcspn(q, "#");

	while (qn > 0) {
		const char *amp = memchr(q, '&', qn), *eq;
		size_t n = amp ? (size_t)(amp - q) : qn;
		char *key;
		long kn;

		eq = memchr(q, '=', n);
		if (eq == NULL) {
			if (sk_buf_add(b, q, n) < 0)
				return -1;
		} else {
			if ((key = strndup(q, (size_t)(eq - q))) == NULL)
				return -1;
			if ((kn = sk_ep_url_decode(key, strlen(key))) >= 0)
				key[kn] = '\0';
			if (sk_buf_add(b, q, hidden_param(k, key) ? (size_t)(eq - q + 1) : n) < 0 ||
			    (hidden_param(k, key) && sk_buf_adds(b, "[redacted]") < 0)) {
				free(key);
				return -1;
			}
			free(key);
		}
		if (amp == NULL)
			break;
		if (sk_buf_addc(b, '&') < 0)
			return -1;
		qn -= n + 1;
		q += n + 1;
	}
	return 0;
}

/* The argument as it may be printed and stored: a URL without its user
 * information and with hidden query values (hidden_param) replaced; a
 * path or a name as it is. */
char *sk_ep_safe_label(const char *arg)
{
	struct sk_ep_scheme found;
	const struct sk_ep_scheme *sc = sk_ep_find_scheme(arg, &found) ? &found : NULL;
	size_t sn = sc ? strlen(sc->prefix) : sk_ep_url_scheme(arg);
	const struct sk_ep_syntax *k = sc ? sk_kind_syntax(sc->kind) : NULL;
	const char *rest, *q;
	sk_buf b = { 0 };

	if (sn == 0)
		return strdup(arg);
	if (sc == NULL)
		sn += 3;    /* "://" */
	rest = arg + sn;
	if (sk_buf_add(&b, arg, sn) < 0)
		goto fail;
	if (sn >= 2 && arg[sn - 1] == '/' && arg[sn - 2] == '/')
		rest += sk_ep_userinfo(rest);
	q = strchr(rest, '?');
	if (sk_buf_add(&b, rest, q ? (size_t)(q - rest + 1) : strlen(rest)) < 0 ||
	    (q && (label_query(&b, k, q + 1) < 0 || sk_buf_adds(&b, q + 1 + strcspn(q + 1, "#")) < 0)))
		goto fail;
	return b.p;
fail:
	sk_buf_free(&b);
	return NULL;
}
