/*
 * runnerver.c: runner versions and release-note checksums (runnerver.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "runnerver.h"

static int
part(const char **s, unsigned long *out, int last)
{
	const char *p = *s;
	unsigned long v = 0;
	int n = 0;

	while (isdigit((unsigned char)*p)) {
		if (++n > 5)
			return -1;
		v = v * 10 + (unsigned long)(*p++ - '0');
	}
	if (n == 0 || (n > 1 && **s == '0'))
		return -1;
	if (last ? *p != '\0' : *p != '.')
		return -1;
	*out = v;
	*s = last ? p : p + 1;
	return 0;
}

int
runnerver_parse(const char *s, struct runnerver *v)
{
	const char *p = s;

	if (s && *p == 'v')
		p++;
	if (s == NULL || part(&p, &v->major, 0) == -1 ||
	    part(&p, &v->minor, 0) == -1 || part(&p, &v->patch, 1) == -1)
		return error_set(EXIT_PERM, "'%.40s%s' is not a runner version "
		    "(N.N.N)", s ? s : "", s && strlen(s) > 40 ? "..." : "");
	return 0;
}

int
runnerver_cmp(const struct runnerver *a, const struct runnerver *b)
{
	if (a->major != b->major)
		return a->major < b->major ? -1 : 1;
	if (a->minor != b->minor)
		return a->minor < b->minor ? -1 : 1;
	if (a->patch != b->patch)
		return a->patch < b->patch ? -1 : 1;
	return 0;
}

static int
hex64(const char *p, char *out, size_t outlen)
{
	size_t i;

	if (outlen < 65)
		return 0;
	for (i = 0; i < 64; i++) {
		if (!isxdigit((unsigned char)p[i]))
			return 0;
		out[i] = (char)tolower((unsigned char)p[i]);
	}
	if (isxdigit((unsigned char)p[64]))
		return 0;
	out[64] = '\0';
	return 1;
}

int
runnerver_body_sha256(const char *body, const char *arch, char *out,
    size_t outlen)
{
	char begin[64], end[64];
	const char *p;
	size_t bl;

	if (body == NULL || runnerver_arch_ok(arch) == -1) {
		error_clear();
		return 0;
	}
	snprintf(begin, sizeof(begin), "<!-- BEGIN SHA linux-%s -->", arch);
	snprintf(end, sizeof(end), "<!-- END SHA linux-%s -->", arch);
	bl = strlen(begin);
	if ((p = strstr(body, begin)) == NULL)
		return 0;
	p += bl;
	if (!hex64(p, out, outlen) || strncmp(p + 64, end, strlen(end)) != 0)
		return 0;
	return 1;
}

int
runnerver_digest_sha256(const char *digest, char *out, size_t outlen)
{
	if (digest == NULL || strncmp(digest, "sha256:", 7) != 0 ||
	    strlen(digest) != 7 + 64)
		return 0;
	return hex64(digest + 7, out, outlen);
}

int
runnerver_arch_ok(const char *a)
{
	if (a && (strcmp(a, "x64") == 0 || strcmp(a, "arm64") == 0 ||
	    strcmp(a, "arm") == 0))
		return 0;
	return error_set(EXIT_PERM, "'%.20s' is not a runner architecture "
	    "(x64, arm64, arm)", a ? a : "");
}
