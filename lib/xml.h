/*
 * xml.h: a small tree built with expat, one reply at a time.
 *
 * xml_parse() returns a tree the caller frees with xml_free() (NULL is a
 * no-op); every string in it belongs to the tree.  Element names are kept
 * as written (AWS replies use a default namespace, no prefixes).  The
 * lookups never allocate and return NULL, or "" for xml_text(), when a
 * path is missing.
 */
#ifndef XML_H
#define XML_H

#include <stddef.h>

struct xml {
	char *name;
	char *text;		/* character data, concatenated */
	size_t text_len;
	struct xml *child, *last, *next, *parent;
};

struct xml *xml_parse(const char *s, size_t len);
void xml_free(struct xml *);
/* First child element called name. */
struct xml *xml_child(const struct xml *, const char *name);
/* The next sibling called the same as x. */
struct xml *xml_next(const struct xml *x);
/* Descend by "a/b/c", one child name per step. */
struct xml *xml_path(const struct xml *, const char *path);
/* Text of the element at path ("" when missing). */
const char *xml_text(const struct xml *, const char *path);

#define XML_EACH(var, parent, name) \
	for ((var) = xml_child((parent), (name)); (var); (var) = xml_next(var))

#endif
