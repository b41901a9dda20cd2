/* schema_impl.h - a schema's columns, shared by schema.c (parsing,
 * saving, inference) and schema_coerce.c (coercion). */
#ifndef SK_SCHEMA_IMPL_H
#define SK_SCHEMA_IMPL_H

#include <stddef.h>
#include <json-c/json.h>
#include "schema.h"

struct sk_column {
	char *name;
	enum sk_type type;
};

struct sk_schema {
	struct sk_column *cols;
	size_t n;
	json_object *entries;   /* the entries as read or made, written by save */
};

#endif
