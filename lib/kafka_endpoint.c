/* kafka_endpoint.c - what Kafka endpoints look like and take: the brokers
 * and topic of a kafka:// URL, its query parameters, the kafka.SETTING
 * keys of a named endpoint (passed on to librdkafka, kafka_conf.c) and
 * where credentials go instead of the URL. The registry (kinds.c) names
 * it; endpoint.c parses and checks arguments by it. */
#include <string.h>

#include "endpoint_syntax.h"
#include "kinds_impl.h"

/* kafka://HOST:PORT[,HOST:PORT]/TOPIC[?query]: the brokers and the topic. */
static int parse_kafka(sk_endpoint *ep, const char *url, const char *rest, sk_err *e)
{
	const char *slash = rest + strcspn(rest, "/?#"), *h, *q;   /* where the authority ends */
	size_t tn;

	(void)url;

	if (*slash != '/' || slash == rest)
		return sk_err_set(e, EX_USAGE, "%s: expected kafka://HOST:PORT[,HOST:PORT]/TOPIC", ep->arg);
	for (h = rest; h < slash;) {
		const char *comma = memchr(h, ',', (size_t)(slash - h)), *colon;
		const char *end = comma ? comma : slash;
		colon = NULL;
		for (const char *c = h; c < end; c++)
			if (*c == ':')
				colon = c;
		if (colon == NULL || colon == h || !sk_ep_valid_port(colon + 1, (size_t)(end - colon - 1)))
			return sk_err_set(e, EX_USAGE, "%s: bad broker '%.*s' (expected HOST:PORT)",
			                  ep->arg, (int)(end - h), h);
		h = comma ? comma + 1 : slash;
	}
	q = strchr(slash + 1, '?');
	tn = q ? (size_t)(q - slash - 1) : strlen(slash + 1);
	if (tn == 0)
		return sk_err_set(e, EX_USAGE, "%s: missing topic", ep->arg);
	ep->hosts = strndup(rest, (size_t)(slash - rest));
	ep->topic = strndup(slash + 1, tn);
	if (ep->hosts == NULL || ep->topic == NULL)
		return sk_err_oom(e);
	return q ? sk_ep_parse_query(ep, q + 1, e) : 0;
}

static const char *const kafka_params[] = { "group", "partition", "offset", NULL };

const struct sk_ep_syntax sk_kafka_syntax = {
	kafka_params, "kafka.",
	"with -F FILE, or kafka.sasl.username and kafka.sasl.password in the endpoints file",
	parse_kafka,
};
