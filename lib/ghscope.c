#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "ghscope.h"

int
ghscope_name_ok(const char *s, size_t len, size_t max, const char *extra)
{
	size_t i;

	if (len == 0 || len > max || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(isalnum(c) && c < 128) && !strchr(extra, c))
			return 0;
	}
	return 1;
}

int
ghscope_parse(const char *s, struct ghscope *sc)
{
	const char *slash;
	size_t ol;

	memset(sc, 0, sizeof(*sc));
	if (s == NULL || *s == '\0')
		return error_set(EXIT_PERM, "empty scope, expected owner/repo "
		    "or an organization");
	slash = strchr(s, '/');
	ol = slash ? (size_t)(slash - s) : strlen(s);
	if (!ghscope_name_ok(s, ol, 39, "-_") ||
	    (slash && (!ghscope_name_ok(slash + 1, strlen(slash + 1), 100,
	    "._-") || strcmp(slash + 1, ".") == 0 ||
	    strcmp(slash + 1, "..") == 0)))
		return error_set(EXIT_PERM, "scope '%s' is not owner/repo or "
		    "an organization name", s);
	/* a clone URL's name is not the repository's */
	if (slash && strlen(slash + 1) >= 4 &&
	    strcasecmp(s + strlen(s) - 4, ".git") == 0)
		return error_set(EXIT_PERM, "scope '%s': name the repository "
		    "without .git", s);
	if (strncmp(s, "enterprises/", 12) == 0)
		return error_set(EXIT_PERM, "scope '%s': enterprise runners are "
		    "not supported; give an organization or owner/repo", s);
	sc->kind = slash ? GHSCOPE_REPO : GHSCOPE_ORG;
	memcpy(sc->owner, s, ol);
	if (slash)
		snprintf(sc->repo, sizeof(sc->repo), "%s", slash + 1);
	snprintf(sc->name, sizeof(sc->name), "%s", s);
	return 0;
}
