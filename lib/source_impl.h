/* source_impl.h - for modules that implement a source. */
#ifndef SK_SOURCE_IMPL_H
#define SK_SOURCE_IMPL_H

#include "source.h"

struct sk_source_ops {
	const char *kind;
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

extern const struct sk_source_ops sk_source_file_ops;
extern const struct sk_source_ops sk_source_kafka_ops;

#endif
