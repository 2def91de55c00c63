/*
 * strlist.h: a growable list of owned strings (option values, ids).
 * strlist_free() frees every string and the array; a zeroed list is empty.
 */
#ifndef STRLIST_H
#define STRLIST_H

#include <stddef.h>

struct strlist {
	char **v;
	size_t n, cap;
};
#define STRLIST_INIT { NULL, 0, 0 }

int strlist_add(struct strlist *, const char *);
/* Split s on commas and white space; each part checked (check may be NULL);
 * messages are prefixed with what ("--subnet"); a value with no part at
 * all is an error ("--subnet: empty value"). */
int strlist_split(struct strlist *, const char *s,
    int (*check)(const char *), const char *what);
int strlist_has(const struct strlist *, const char *);
void strlist_free(struct strlist *);

#endif
