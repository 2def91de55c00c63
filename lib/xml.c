#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "error.h"
#include "xml.h"

#define MAX_DEPTH 64

struct ctx {
	struct xml *root, *cur;
	int depth, oom;
	XML_Parser p;
};

static void
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct ctx *c = arg;
	struct xml *x = NULL;

	(void)attrs;
	if (c->oom)
		return;
	if (++c->depth > MAX_DEPTH || (x = calloc(1, sizeof(*x))) == NULL ||
	    (x->name = strdup(name)) == NULL) {
		free(x);
		c->oom = 1;
		XML_StopParser(c->p, XML_FALSE);
		return;
	}
	x->parent = c->cur;
	if (c->cur == NULL)
		c->root = x;
	else if (c->cur->last)
		c->cur->last = c->cur->last->next = x;
	else
		c->cur->child = c->cur->last = x;
	c->cur = x;
}

static void
on_end(void *arg, const XML_Char *name)
{
	struct ctx *c = arg;

	(void)name;
	if (c->oom || c->cur == NULL)
		return;
	c->depth--;
	c->cur = c->cur->parent;
}

static void
on_text(void *arg, const XML_Char *s, int len)
{
	struct ctx *c = arg;
	struct xml *x = c->cur;
	char *t;

	if (c->oom || x == NULL || len <= 0)
		return;
	if ((t = realloc(x->text, x->text_len + (size_t)len + 1)) == NULL) {
		c->oom = 1;
		XML_StopParser(c->p, XML_FALSE);
		return;
	}
	memcpy(t + x->text_len, s, (size_t)len);
	x->text_len += (size_t)len;
	t[x->text_len] = '\0';
	x->text = t;
}

struct xml *
xml_parse(const char *s, size_t len)
{
	struct ctx c;

	memset(&c, 0, sizeof(c));
	if ((c.p = XML_ParserCreate("UTF-8")) == NULL) {
		error_set(EXIT_TEMP, "out of memory");
		return NULL;
	}
	XML_SetUserData(c.p, &c);
	XML_SetElementHandler(c.p, on_start, on_end);
	XML_SetCharacterDataHandler(c.p, on_text);
	if (XML_Parse(c.p, s, (int)len, XML_TRUE) == XML_STATUS_ERROR ||
	    c.oom || c.root == NULL) {
		if (c.oom)
			error_set(EXIT_TEMP, "xml reply too deep or too large");
		else
			error_set(EXIT_TEMP, "malformed xml reply: %s at line %lu",
			    XML_ErrorString(XML_GetErrorCode(c.p)),
			    (unsigned long)XML_GetCurrentLineNumber(c.p));
		XML_ParserFree(c.p);
		xml_free(c.root);
		return NULL;
	}
	XML_ParserFree(c.p);
	return c.root;
}

void
xml_free(struct xml *x)
{
	while (x) {
		struct xml *next = x->next;

		xml_free(x->child);
		free(x->name);
		free(x->text);
		free(x);
		x = next;
	}
}

struct xml *
xml_child(const struct xml *x, const char *name)
{
	struct xml *c;

	for (c = x ? x->child : NULL; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

struct xml *
xml_next(const struct xml *x)
{
	struct xml *c;

	for (c = x->next; c; c = c->next)
		if (strcmp(c->name, x->name) == 0)
			return c;
	return NULL;
}

struct xml *
xml_path(const struct xml *x, const char *path)
{
	char step[128];
	const char *s = path;

	while (x && *s) {
		const char *slash = strchr(s, '/');
		size_t n = slash ? (size_t)(slash - s) : strlen(s);

		if (n >= sizeof(step))
			return NULL;
		memcpy(step, s, n);
		step[n] = '\0';
		x = xml_child(x, step);
		s = slash ? slash + 1 : s + n;
	}
	return (struct xml *)x;
}

const char *
xml_text(const struct xml *x, const char *path)
{
	const struct xml *e = path && *path ? xml_path(x, path) : x;

	return e && e->text ? e->text : "";
}
