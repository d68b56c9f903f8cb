/*
 * s3_xml_tree.h — an S3 answer's XML read by expat into a small tree of elements.
 *
 * Each element keeps its local name (the namespace, S3's
 * "http://s3.amazonaws.com/doc/2006-03-01/" or any other, dropped) and the character
 * data directly inside it, decoded (entities, character references and CDATA, line
 * ends normalised to \n) and in UTF-8.  Attributes, comments and processing
 * instructions are checked by expat and skipped.  The body is read as UTF-8 whatever
 * its declaration says, and must be well-formed XML with namespaces (whitespace
 * before the XML declaration, which a server padding a slow answer may send, is
 * skipped).
 *
 * Untrusted input stays cheap: a DOCTYPE is refused where it starts, so no entity
 * can be declared (nothing to expand, nothing external to load); elements nest at
 * most RB_XML_MAX_DEPTH deep, a document has at most RB_XML_MAX_ELEMENTS elements
 * (so the tree of a hostile body stays near 20 MB) and names at most RB_XML_MAX_NAME
 * bytes.  The size of the body itself is bounded by its reader (s3_http.c collects
 * at most RB_S3_RESPONSE_MAX bytes, 16 MiB).  The body is parsed whole: it is in
 * memory already, and the tree it gives is what the field mapping reads.
 */
#ifndef RB_S3_XML_TREE_H
#define RB_S3_XML_TREE_H

#include <stddef.h>

#include "rb_buf.h"
#include "rb_error.h"

#define RB_XML_MAX_DEPTH	32
#define RB_XML_MAX_NAME		256
#define RB_XML_MAX_ELEMENTS	200000	/* a 1000-key listing has about 7,000 */

typedef struct rb_xml_node
{
	char	   *name;			/* local name (allocated with the node) */
	rb_buf		text;			/* character data directly inside this element */
	struct rb_xml_node *parent;
	struct rb_xml_node *first_child;
	struct rb_xml_node *last_child;
	struct rb_xml_node *next;	/* next sibling */
} rb_xml_node;

/*
 * Parses body[0..len) whole.  Returns 0 with *root the root element (free it with
 * rb_xml_free), or -1 with *root NULL and err RB_ERR_REMOTE, "could not parse S3
 * response: <what> at byte <n>" (never any of the body), or RB_ERR_NOMEM when expat
 * ran out of memory.
 */
int			rb_xml_parse(const char *body, size_t len, rb_xml_node **root, rb_error *err);
void		rb_xml_free(rb_xml_node *root);

/* The first child of n named name, or the next sibling of n named name; NULL when none. */
const rb_xml_node *rb_xml_child(const rb_xml_node *n, const char *name);
const rb_xml_node *rb_xml_next(const rb_xml_node *n, const char *name);

/* Text of n's first child named name, or NULL when there is no such child. */
const char *rb_xml_child_text(const rb_xml_node *n, const char *name);

#endif							/* RB_S3_XML_TREE_H */
