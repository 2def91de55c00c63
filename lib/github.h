/*
 * github.h: the GitHub REST client of the toolkit, over http.h: one call,
 * its headers, retries and errors.  The scope is ghscope.h, credentials
 * ghauth.h, rate limits ghlimit.h, pagination ghlink.h, and the runner API
 * (runners, tokens, runner groups) ghrunner.h, over github_call().
 *
 * The API base is $GITHUB_API_URL (default https://api.github.com; GitHub
 * Enterprise Server: https://HOST/api/v3), the web base $GITHUB_SERVER_URL
 * (default https://github.com).  Every request carries the Accept,
 * X-GitHub-Api-Version and User-Agent headers GitHub asks for, and is
 * retried on 5xx, 429 and secondary rate limits, honouring Retry-After and
 * x-ratelimit-reset up to GITHUB_MAX_WAIT seconds a wait; a limit that
 * resets later fails with EXIT_TEMP saying when.  401, 403 and 404 fail with
 * EXIT_PERM and a hint naming the permission that is probably missing.
 * A GitHub App's JWT is exchanged for an installation token of the scope
 * on first use.
 *
 * Ownership: struct github is opaque, github_new() / github_free() (NULL is
 * a no-op); github_new() copies what it needs from its arguments.  cJSON
 * trees returned are the caller's (cJSON_Delete).
 */
#ifndef GITHUB_H
#define GITHUB_H

#include <cjson/cJSON.h>

#include "ghauth.h"
#include "ghscope.h"

struct github *github_new(const struct ghscope *, const struct ghauth_src *);
void github_free(struct github *);
/* GHAUTH_TOKEN or GHAUTH_APP */
int github_auth_kind(const struct github *);
const struct ghscope *github_scope(const struct github *);
/* The URL a runner registers with: $GITHUB_SERVER_URL/owner[/repo]. */
const char *github_runner_url(const struct github *);

/*
 * One API call.  path is below the API base ("/repos/o/r/actions/runners")
 * or an absolute URL under it (a Link rel="next"); body may be NULL.
 * Returns the parsed reply (a JSON null for an empty body) of a 2xx, with
 * *next set (owned, free()) when the reply has a Link rel="next" and next
 * is not NULL, or NULL with error_set().  *status gets the HTTP status
 * (0 when none was received) if status is not NULL.  Raw reply buffers
 * are wiped; the tree is the caller's to wipe (github_json_wipe).
 */
cJSON *github_call(struct github *, const char *method, const char *path,
    const cJSON *body, long *status, char **next);
/* Zero every string of a reply that carried a secret (before deleting). */
void github_json_wipe(cJSON *);

/*
 * The hint appended to a 401/403/404 message (no I/O: the unit tests'
 * seam): which permission or installation is probably missing.  step: "installation" for the app's
 * installation lookup, NULL for the runner API.
 */
const char *github_hint(int kind, int authkind, long status,
    const char *step);

#endif
