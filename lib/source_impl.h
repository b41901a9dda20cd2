/* source_impl.h - for modules that implement a source. */
#ifndef SK_SOURCE_IMPL_H
#define SK_SOURCE_IMPL_H

#include "source.h"

struct sk_source_ops {
	const char *kind;
	const sk_option_group *options;          /* the kind's own options, or NULL */
	int (*open)(sk_source *s, const sk_endpoint *ep, const sk_source_opts *o, sk_err *e);
	int (*next)(sk_source *s, sk_msg *m, int timeout_ms, sk_err *e);
	int (*drain)(sk_source *s, sk_err *e);   /* may be NULL: nothing to acknowledge */
	void (*close)(sk_source *s);
};

struct sk_source {
	const struct sk_source_ops *ops;
	char *id;          /* set by open: "file:/abs/path", "kafka:topic", ... */
	void *impl;        /* the module's own state */
};

/* What positions of one kind of source mean (see source.h). A NULL
 * operation means the default: decimal positions, ids as they are,
 * no lag known here. */
struct sk_position_ops {
	const char *prefix;    /* of the source ids of the kind: "file:" */
	int (*compare)(const char *a, size_t na, const char *b, size_t nb);
	int (*source)(const char *source, char **out, sk_err *e);
	int (*check)(const char *source, const char *partition, const char *position, sk_err *e);
	int (*describe)(const char *position, sk_buf *text, sk_buf *json);
	/* sk_position_lag for a position of the kind; NULL: no end is known. */
	int (*lag)(const sk_lag_query *q, const char *source, const char *partition,
	           const char *position, int *whole, sk_err *e);
	const sk_option_group *lag_options;  /* what its lag takes (-X), or NULL */
};

/* The default comparison: decimal positions as numbers of any size, other
 * positions only when equal. */
int sk_position_compare_decimal(const char *a, size_t na, const char *b, size_t nb);

extern const struct sk_source_ops sk_source_file_ops;
extern const struct sk_position_ops sk_position_file_ops;
extern const struct sk_position_ops sk_position_kafka_ops;
extern const struct sk_source_ops sk_source_kafka_ops;
extern const struct sk_source_ops sk_source_sse_ops;
extern const struct sk_position_ops sk_position_sse_ops;
extern const struct sk_source_ops sk_source_sqs_ops;
extern const struct sk_position_ops sk_position_sqs_ops;

#endif
