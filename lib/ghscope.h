/*
 * ghscope.h: the GitHub scope of a pool's runners, "owner/repo" (a
 * repository) or "org" (an organization), parsed and checked.  No I/O;
 * struct ghscope is plain data, owned by whoever declares it.
 */
#ifndef GHSCOPE_H
#define GHSCOPE_H

enum ghscope_kind { GHSCOPE_REPO, GHSCOPE_ORG };

struct ghscope {
	int kind;		/* GHSCOPE_REPO or GHSCOPE_ORG */
	char name[160];		/* "owner/repo" or "org" */
	char owner[64];		/* the owner or the organization */
	char repo[104];		/* "" for an organization */
};

/* 0 and *sc filled, or -1 with error_set(EXIT_PERM, ...). */
int ghscope_parse(const char *s, struct ghscope *sc);
/*
 * Is s[0..len) a GitHub name: at most max bytes of ASCII letters, digits
 * and the characters of extra, not starting with '-'?  1 or 0.
 */
int ghscope_name_ok(const char *s, size_t len, size_t max,
    const char *extra);

#endif
