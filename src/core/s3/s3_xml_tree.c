/*
 * s3_xml_tree.c — expat's callbacks building the element tree of an S3 answer (see
 * s3_xml_tree.h).
 *
 * The parser is namespace-aware, with NS_SEP between a namespace and a local name
 * in the names it reports; NS_SEP is not an XML character, so neither part can
 * contain it.  Our own refusals (DOCTYPE, entity declarations, the limits, a failed
 * allocation) stop the parser from inside a callback and leave their reason in
 * tree_builder.refusal; expat may still deliver a callback or two after the stop,
 * which are ignored.
 */
#include "s3_xml_tree.h"

#include <expat.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NS_SEP		'\x01'
#define CHUNK		((size_t) 1 << 20)	/* bytes given to XML_Parse at a time */

typedef struct tree_builder
{
	XML_Parser	parser;
	rb_xml_node *root;
	rb_xml_node *cur;			/* innermost open element, NULL outside the root */
	int			depth;
	size_t		nelements;
	const char *refusal;		/* why we stopped the parser, or NULL */
	bool		nomem;			/* we stopped it because malloc failed */
} tree_builder;

void
rb_xml_free(rb_xml_node *n)
{
	/* recursion is bounded by RB_XML_MAX_DEPTH */
	while (n != NULL)
	{
		rb_xml_node *next = n->next;

		rb_xml_free(n->first_child);
		rb_buf_free(&n->text);
		free(n);
		n = next;
	}
}

static void
refuse(tree_builder *b, const char *why)
{
	if (b->refusal == NULL)
		b->refusal = why;
	XML_StopParser(b->parser, XML_FALSE);
}

static void XMLCALL
on_start(void *arg, const XML_Char *qname, const XML_Char **attrs)
{
	tree_builder *b = arg;
	const char *local = strrchr(qname, NS_SEP);
	size_t		n;
	rb_xml_node *node;

	(void) attrs;
	if (b->refusal != NULL)
		return;
	local = local ? local + 1 : qname;
	n = strlen(local);
	if (b->depth >= RB_XML_MAX_DEPTH)
		b->refusal = "elements nested too deeply";
	else if (++b->nelements > RB_XML_MAX_ELEMENTS)
		b->refusal = "too many elements";
	else if (n == 0 || n > RB_XML_MAX_NAME)
		b->refusal = "invalid element name";
	if (b->refusal != NULL)
	{
		XML_StopParser(b->parser, XML_FALSE);
		return;
	}

	/* the node and its name in one block */
	node = calloc(1, sizeof(rb_xml_node) + n + 1);
	if (node == NULL)
	{
		b->refusal = "out of memory";
		b->nomem = true;
		XML_StopParser(b->parser, XML_FALSE);
		return;
	}
	node->name = (char *) (node + 1);
	memcpy(node->name, local, n + 1);
	rb_buf_init(&node->text);
	node->parent = b->cur;
	if (b->cur == NULL)
		b->root = node;			/* expat allows only one root element */
	else if (b->cur->last_child != NULL)
		b->cur->last_child->next = node;
	else
		b->cur->first_child = node;
	if (b->cur != NULL)
		b->cur->last_child = node;
	b->cur = node;
	b->depth++;
}

static void XMLCALL
on_end(void *arg, const XML_Char *qname)
{
	tree_builder *b = arg;

	(void) qname;				/* expat has matched it to its start tag */
	if (b->refusal != NULL || b->cur == NULL)
		return;
	b->cur = b->cur->parent;
	b->depth--;
}

static void XMLCALL
on_text(void *arg, const XML_Char *s, int len)
{
	tree_builder *b = arg;

	if (b->refusal != NULL || b->cur == NULL || len <= 0)
		return;
	rb_buf_append(&b->cur->text, s, (size_t) len);
}

static void XMLCALL
on_doctype(void *arg, const XML_Char *name, const XML_Char *sysid,
		   const XML_Char *pubid, int has_internal_subset)
{
	(void) name;
	(void) sysid;
	(void) pubid;
	(void) has_internal_subset;
	refuse(arg, "DOCTYPE and declarations are not accepted");
}

static void XMLCALL
on_entity_decl(void *arg, const XML_Char *name, int is_parameter_entity,
			   const XML_Char *value, int value_length, const XML_Char *base,
			   const XML_Char *sysid, const XML_Char *pubid, const XML_Char *notation)
{
	(void) name;
	(void) is_parameter_entity;
	(void) value;
	(void) value_length;
	(void) base;
	(void) sysid;
	(void) pubid;
	(void) notation;
	refuse(arg, "DOCTYPE and declarations are not accepted");
}

int
rb_xml_parse(const char *body, size_t len, rb_xml_node **root, rb_error *err)
{
	tree_builder b = {0};
	size_t		start = 0;
	size_t		off;
	bool		ok = true;

	*root = NULL;
	if (body == NULL || len == 0)
		return rb_error_set(err, RB_ERR_REMOTE, "could not parse S3 response: empty body");

	/*
	 * Whitespace before the XML declaration is not XML, but a server that pads its
	 * answer while it works may send it; skipping it costs nothing.
	 */
	while (start < len && (body[start] == ' ' || body[start] == '\t' ||
						   body[start] == '\r' || body[start] == '\n'))
		start++;
	if (start == len)
		return rb_error_set(err, RB_ERR_REMOTE,
							"could not parse S3 response: no element found");
	off = start;

	/* "UTF-8" overrides the document's encoding declaration */
	b.parser = XML_ParserCreateNS("UTF-8", NS_SEP);
	if (b.parser == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory for an XML parser");
	XML_SetUserData(b.parser, &b);
	XML_SetElementHandler(b.parser, on_start, on_end);
	XML_SetCharacterDataHandler(b.parser, on_text);
	XML_SetStartDoctypeDeclHandler(b.parser, on_doctype);
	XML_SetEntityDeclHandler(b.parser, on_entity_decl);
	XML_SetParamEntityParsing(b.parser, XML_PARAM_ENTITY_PARSING_NEVER);

	do
	{
		size_t		n = len - off < CHUNK ? len - off : CHUNK;

		if (XML_Parse(b.parser, body + off, (int) n, off + n == len) != XML_STATUS_OK)
			ok = false;
		off += n;
	} while (ok && off < len);

	if (!ok)
	{
		enum XML_Error code = XML_GetErrorCode(b.parser);
		long long	at = (long long) XML_GetCurrentByteIndex(b.parser);
		const char *what = XML_ErrorString(code);

		if (b.refusal != NULL)
			what = b.refusal;
		else if (code == XML_ERROR_NO_ELEMENTS && b.root != NULL)
			what = "unexpected end of document";
		if (what == NULL)
			what = "not well-formed";
		if (code == XML_ERROR_NO_MEMORY || b.nomem)
			rb_error_set(err, RB_ERR_NOMEM, "out of memory while parsing an S3 response");
		else if (at >= 0)
			rb_error_set(err, RB_ERR_REMOTE, "could not parse S3 response: %s at byte %lld",
						 what, at + (long long) start);
		else
			rb_error_set(err, RB_ERR_REMOTE, "could not parse S3 response: %s", what);
		XML_ParserFree(b.parser);
		rb_xml_free(b.root);
		return -1;
	}
	XML_ParserFree(b.parser);
	*root = b.root;
	return 0;
}

const rb_xml_node *
rb_xml_child(const rb_xml_node *n, const char *name)
{
	for (const rb_xml_node *c = n->first_child; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const rb_xml_node *
rb_xml_next(const rb_xml_node *n, const char *name)
{
	for (const rb_xml_node *c = n->next; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const char *
rb_xml_child_text(const rb_xml_node *n, const char *name)
{
	const rb_xml_node *c = rb_xml_child(n, name);

	return c ? rb_buf_str(&c->text) : NULL;
}
