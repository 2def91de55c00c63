#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strlist.h"

int
strlist_add(struct strlist *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL)
			return error_set(EXIT_TEMP, "out of memory");
		l->v = v;
		l->cap = cap;
	}
	if ((l->v[l->n] = strdup(s)) == NULL)
		return error_set(EXIT_TEMP, "out of memory");
	l->n++;
	return 0;
}

int
strlist_split(struct strlist *l, const char *s, int (*check)(const char *),
    const char *what)
{
	const char *sep = ", \t\n";
	size_t before = l->n;

	while (*s) {
		size_t n;
		char part[1024];

		s += strspn(s, sep);
		if ((n = strcspn(s, sep)) == 0)
			break;
		if (n >= sizeof(part))
			return error_set(EXIT_PERM, "%s: value too long", what);
		memcpy(part, s, n);
		part[n] = '\0';
		s += n;
		if (check && check(part) == -1)
			return error_wrap("%s", what);
		if (strlist_add(l, part) == -1)
			return -1;
	}
	if (l->n == before)
		return error_set(EXIT_PERM, "%s: empty value", what);
	return 0;
}

int
strlist_has(const struct strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void
strlist_free(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}
