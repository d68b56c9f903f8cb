/*
 * rb_json.h — the small JSON writer and reader src/core needs for its documents
 * (backup metadata): strings escaped per RFC 8259 (every control character, quote
 * and backslash; UTF-8 passed through), and a strict parser into a tree.
 */
#ifndef RB_JSON_H
#define RB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_buf.h"
#include "rb_error.h"

/* Appends s as a quoted, escaped JSON string ("null" when s is NULL). */
void		rb_json_append_string(rb_buf *out, const char *s);

typedef enum rb_json_type
{
	RB_JSON_NULL,
	RB_JSON_BOOL,
	RB_JSON_NUMBER,
	RB_JSON_STRING,
	RB_JSON_ARRAY,
	RB_JSON_OBJECT
} rb_json_type;

typedef struct rb_json rb_json;

struct rb_json
{
	rb_json_type type;
	bool		boolean;
	char	   *text;			/* STRING: the decoded value (NUL-ended; may hold \u0000 as
								 * a NUL, len tells); NUMBER: the literal */
	size_t		len;
	char	   *key;			/* member name when inside an object */
	rb_json    *child;			/* first element / member */
	rb_json    *next;			/* next sibling */
};

/* Parses a whole document (max nesting 64).  RB_ERR_INTEGRITY with the offset on error. */
rb_json    *rb_json_parse(const char *text, size_t len, rb_error *err);
void		rb_json_free(rb_json *v);

/* Member of an object by name (the first one), or NULL. */
const rb_json *rb_json_get(const rb_json *obj, const char *key);
/* A number member as int64/uint64/double; returns 0 or -1 if absent, not a number or out of range. */
int			rb_json_get_int64(const rb_json *obj, const char *key, int64_t *out);
int			rb_json_get_uint64(const rb_json *obj, const char *key, uint64_t *out);
int			rb_json_get_double(const rb_json *obj, const char *key, double *out);
/* A string member, or NULL if absent or not a string. */
const char *rb_json_get_string(const rb_json *obj, const char *key);

#endif							/* RB_JSON_H */
