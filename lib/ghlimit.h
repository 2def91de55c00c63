/*
 * ghlimit.h: GitHub's rate limits, read from a reply.  The one place that
 * reads Retry-After and x-ratelimit-* ("Rate limits for the REST API",
 * https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).
 * No allocation; the reply stays the caller's.
 */
#ifndef GHLIMIT_H
#define GHLIMIT_H

#include <time.h>

#include "http.h"

#define GHLIMIT_MAX_WAIT 60	/* seconds, the longest rate-limit wait
				 * ($GITHUB_MAX_WAIT, 0-3600, overrides) */
/*
 * A secondary rate limit without Retry-After: "wait for at least one
 * minute before retrying", longer and longer while it lasts (GitHub docs,
 * "Rate limits for the REST API", exceeding the rate limit).
 */
#define GHLIMIT_SECONDARY_WAIT 60

/*
 * Seconds to wait before retrying a rate-limited reply (status, headers
 * Retry-After / x-ratelimit-*, body), -1 when the reply is not
 * rate-limited; GHLIMIT_SECONDARY_WAIT when limited but no delay is given.
 * now: unix seconds.  No I/O (the unit tests' seam).
 */
long ghlimit_wait(long status, const char *retry_after,
    const char *remaining, const char *reset, const char *body, time_t now);
/*
 * The same for a reply: its headers read here.  A limit that gives no
 * delay waits a minute, then two, four... (*unhinted counts those replies
 * in a row; start it at 0).
 */
long ghlimit_reply(const struct http_response *, time_t now, int *unhinted);
/* $GITHUB_MAX_WAIT (0-3600), else GHLIMIT_MAX_WAIT. */
long ghlimit_max_wait(void);

#endif
