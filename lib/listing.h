/* listing.h - the listings of the state store (stream-checkpoint show,
 * list, history and lag, and the attempts of stream-run --status): the
 * columns are declared once, and the aligned text table and the JSON lines
 * of --json are both written from that declaration, so that they cannot
 * drift apart. A row alone can also be written as a line of labelled
 * values or one JSON object (the attempts of stream-run --status). */
#ifndef SK_LISTING_H
#define SK_LISTING_H

#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "json.h"
#include "output.h"
#include "util.h"

enum sk_col_type {
	SK_COL_TEXT,    /* a string; NULL: "-" in the table, null in JSON */
	SK_COL_INT,     /* a decimal */
	SK_COL_TIME,    /* ms since the epoch: local time in the table, the number in JSON */
	SK_COL_JSON,    /* JSON text: as it is in the table, embedded in JSON */
};

typedef struct sk_column {
	const char *heading;    /* in the table (a line's label); NULL: JSON only */
	const char *key;        /* the JSON member; NULL: table only */
	enum sk_col_type type;
} sk_column;

/* One value of a row, for the column of the same index. */
typedef struct sk_cell {
	const char *s;          /* SK_COL_TEXT, SK_COL_JSON */
	int64_t n;              /* SK_COL_INT, SK_COL_TIME */
	int null;               /* SK_COL_INT, SK_COL_TIME: no value ("-", null) */
	const char *text;       /* the table shows this instead, when not NULL */
	const char *more;       /* JSON members written after this one: ",\"file\":{...}" */
} sk_cell;

typedef struct sk_listing {
	const sk_column *cols;
	size_t ncols;
	int json;               /* JSON lines; else a table */
	sk_output *out;
	int64_t rows;           /* rows given so far */
	char **cells;           /* the table's rows, ncols a row, heading first */
	size_t ncells, cap;
	sk_buf line;
	sk_json *parser;        /* to embed SK_COL_JSON values; made when first needed */
} sk_listing;

/* Start a listing of the ncols columns cols (kept, not copied) to out. */
void sk_listing_init(sk_listing *l, const sk_column *cols, size_t ncols, int json, sk_output *out);
/* One row: a JSON line is written at once, a table row is kept until
 * sk_listing_end (its widths depend on every row). 0, SK_EOF when out
 * was closed (EPIPE), -1 on error. */
int sk_listing_row(sk_listing *l, const sk_cell *cells, sk_err *e);
/* Write the table (nothing when it has no row); 0, SK_EOF or -1. */
int sk_listing_end(sk_listing *l, sk_err *e);
void sk_listing_free(sk_listing *l);

/* One row, appended to b without a newline: a JSON object, or a line of
 * its values each after its heading, "  attempt 2  pid 42  running" (an
 * empty heading: the value alone; a value that is not known is left out).
 * -1 when out of memory. */
int sk_listing_format(const sk_column *cols, size_t ncols, const sk_cell *cells, int json, sk_buf *b);

/* ms as local time, "2024-05-01 12:00:00", or "-" when ms is not after 1970. */
void sk_listing_time(int64_t ms, char *buf, size_t size);

#endif
