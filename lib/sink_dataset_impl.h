/* sink_dataset_impl.h - what the parts of the dataset: sink share:
 * sink_dataset.c (parts: staging, publication, recovery; the sink's
 * operations) and dataset_meta.c (the format record, the schema, the
 * lock). */
#ifndef SK_SINK_DATASET_IMPL_H
#define SK_SINK_DATASET_IMPL_H

#include <stdint.h>

#include "sink_impl.h"

/* A dataset's part format. SK_FORMAT_DEFAULT (no --format): the one the
 * dataset has, ndjson for a new dataset. */
enum sk_format { SK_FORMAT_DEFAULT, SK_FORMAT_NDJSON, SK_FORMAT_CSV };

/* The sink's own state (sk_sink's impl). */
struct sk_dataset {
	char *dir;              /* realpath of DIR: the dataset's name in the state store */
	char *staging;          /* DIR/.staging */
	char *schema_path;      /* DIR/schema.json */
	char *format_path;      /* DIR/dataset.json */
	enum sk_format format;  /* the dataset's: never SK_FORMAT_DEFAULT once open */
	int lock_fd;
	uint64_t next_part;
	int fd;                 /* the staged part, -1 when none is open */
	char *tmp_path, *final_path;
	sk_buf buf;
	sk_buf field;           /* a CSV field's bytes, from its row's text */
};

#define SK_DATASET_FORMAT_BIT(f) (1u << (f))

/* sink_dataset.c */
/* dir/name, malloc'd. */
char *sk_dataset_path_join(const char *dir, const char *name);
/* The highest part number in dir (0 when none), and the
 * SK_DATASET_FORMAT_BITs of the formats of its parts. */
int sk_dataset_scan_parts(const char *dir, uint64_t *max, unsigned *formats, sk_err *e);

/* dataset_meta.c */
const char *sk_dataset_format_name(enum sk_format f);
int sk_dataset_format_from_name(const char *name, enum sk_format *f);
/* The parts' format: the recorded one, checked against want (--format),
 * or want recorded now. */
int sk_dataset_settle_format(sk_sink *k, struct sk_dataset *d, enum sk_format want, sk_err *e);
/* Take DIR/.lock, waiting a little for a writer killed a moment ago. */
int sk_dataset_lock(sk_sink *k, struct sk_dataset *d, sk_err *e);
/* The schema: the stored one, checked against --schema, or --schema
 * stored now, or none yet. */
int sk_dataset_settle_schema(sk_sink *k, struct sk_dataset *d, sk_err *e);

#endif
