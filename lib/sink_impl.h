/* sink_impl.h - for modules that implement a sink. */
#ifndef SK_SINK_IMPL_H
#define SK_SINK_IMPL_H

#include "sink.h"

struct sk_sink_ops {
	const char *kind;
	const sk_option_group *options;     /* the kind's own options, or NULL */
	/* Set k->impl, and k->schema / k->keeps_schema as the module needs. */
	int (*open)(sk_sink *k, const sk_endpoint *ep, const sk_sink_opts *o, sk_err *e);
	int (*write)(sk_sink *k, json_object *row, sk_err *e);
	int (*flush)(sk_sink *k, sk_err *e);                        /* may be NULL */
	int (*checkpoint)(sk_sink *k, const sk_cursorset *cs, int64_t rows, sk_err *e);
	void (*close)(sk_sink *k);
	/* write with the row's cursor (NULL when none); may be NULL. */
	int (*write_cursor)(sk_sink *k, json_object *row, const char *cursor, sk_err *e);
	/* write a row given as its JSON text; called only when k->takes_json. */
	int (*write_json)(sk_sink *k, const char *text, size_t n, sk_err *e);
	/* write a row given as its members' spans (sk_sink_write_members);
	 * called only when k->takes_members. */
	int (*write_members)(sk_sink *k, const char *text, const sk_json_member *m, size_t n, size_t cut, sk_err *e);
	int (*finish)(sk_sink *k, sk_err *e);                       /* may be NULL */
	int (*event_fd)(const sk_sink *k);                          /* may be NULL */
	/* sk_sink_refused and sk_sink_refused_done; may be NULL (none). */
	int (*refused)(sk_sink *k, const char **text, size_t *n, const char **why);
	void (*refused_done)(sk_sink *k);
};

struct sk_sink {
	const struct sk_sink_ops *ops;
	char *label;            /* the endpoint as the user wrote it, for messages */
	const char *name;       /* recipe name, or NULL */
	sk_state *state;        /* open when name is set */
	sk_schema *schema;      /* owned; NULL: rows are written as they are */
	int keeps_schema;       /* the sink stores the schema (datasets) */
	int schema_stored;      /* ... and it is stored already */
	uint64_t dropped;       /* rows the destination held already */
	int takes_json;         /* set by open when write_json may be called */
	int takes_members;      /* set by open when write_members may be called */
	int rejects_rows;       /* set by open when EX_DATAERR from a write refuses that row alone */
	void *impl;
};

extern const struct sk_sink_ops sk_sink_stdout_ops;
extern const struct sk_sink_ops sk_sink_file_ops;
extern const struct sk_sink_ops sk_sink_dataset_ops;
extern const struct sk_sink_ops sk_sink_sqlite_ops;
extern const struct sk_sink_ops sk_sink_kafka_ops;
extern const struct sk_sink_ops sk_sink_sqs_ops;

#endif
