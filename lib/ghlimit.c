#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "ghlimit.h"
#include "http.h"

long
ghlimit_max_wait(void)
{
	const char *s = getenv("GITHUB_MAX_WAIT");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return GHLIMIT_MAX_WAIT;
	v = strtol(s, &end, 10);
	return *end == '\0' && v >= 0 && v <= 3600 ? v : GHLIMIT_MAX_WAIT;
}

static int
number(const char *s, long long *out)
{
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return 0;
	errno = 0;
	*out = strtoll(s, &end, 10);
	while (*end == ' ')
		end++;
	return errno == 0 && *end == '\0';
}

static int
mentions(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

long
ghlimit_wait(long status, const char *retry_after,
    const char *remaining, const char *reset, const char *body, time_t now)
{
	long long ra, rem, rs;
	int limited;

	if (status == 429)
		limited = 1;
	else if (status == 403)
		limited = (retry_after && *retry_after) ||
		    mentions(body, "rate limit");
	else
		return -1;
	if (!limited)
		return -1;
	if (number(retry_after, &ra))
		return ra > 86400 * 7 ? 86400 * 7 : (long)ra;
	if (number(remaining, &rem) && rem == 0 && number(reset, &rs)) {
		if (rs <= (long long)now)
			return 1;
		return rs - now > 86400 * 7 ? 86400 * 7 : (long)(rs - now);
	}
	return GHLIMIT_SECONDARY_WAIT;
}

long
ghlimit_reply(const struct http_response *rs, time_t now, int *unhinted)
{
	char ra[64] = "", rem[32] = "", reset[32] = "";
	long wait;

	http_header(rs, "Retry-After", ra, sizeof(ra));
	http_header(rs, "x-ratelimit-remaining", rem, sizeof(rem));
	http_header(rs, "x-ratelimit-reset", reset, sizeof(reset));
	wait = ghlimit_wait(rs->status, ra, rem, reset, buf_str(&rs->body),
	    now);
	/* no delay given: a minute, then two, four... */
	if (wait == GHLIMIT_SECONDARY_WAIT && !*ra && !*reset) {
		wait <<= (*unhinted > 4 ? 4 : *unhinted);
		(*unhinted)++;
	}
	return wait;
}
