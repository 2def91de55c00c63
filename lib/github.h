/*
 * github.h: the GitHub REST client of the toolkit (self-hosted runners of
 * a repository or an organization), over http.h.
 *
 * The API base is $GITHUB_API_URL (default https://api.github.com; GitHub
 * Enterprise Server: https://HOST/api/v3), the web base $GITHUB_SERVER_URL
 * (default https://github.com).  Every request carries the Accept,
 * X-GitHub-Api-Version and User-Agent headers GitHub asks for, and is
 * retried on 5xx, 429 and secondary rate limits, honouring Retry-After and
 * x-ratelimit-reset up to GITHUB_MAX_WAIT seconds a wait; a limit that
 * resets later fails with EXIT_TEMP saying when.  401, 403 and 404 fail with
 * EXIT_PERM and a hint naming the permission that is probably missing.
 *
 * Credentials: a token (classic or fine-grained) or a GitHub App (id and
 * private key PEM: an RS256 JWT, exchanged for an installation token of the
 * scope on first use).  They come from files or the environment, never from
 * argv, are never part of a message, and are wiped when freed.
 *
 * Ownership: struct github is opaque, github_new() / github_free() (NULL is
 * a no-op); github_new() copies what it needs from its arguments.  Strings
 * in struct github_token belong to it: github_token_free() wipes and frees
 * them.  cJSON trees returned are the caller's (cJSON_Delete).
 */
#ifndef GITHUB_H
#define GITHUB_H

#include <stddef.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"

#define GITHUB_MAX_WAIT 60	/* seconds, the longest rate-limit wait
				 * ($GITHUB_MAX_WAIT, 0-3600, overrides) */
/*
 * A secondary rate limit without Retry-After: "wait for at least one
 * minute before retrying", longer and longer while it lasts (GitHub docs,
 * "Rate limits for the REST API", exceeding the rate limit).
 */
#define GITHUB_SECONDARY_WAIT 60

enum github_kind { GITHUB_REPO, GITHUB_ORG };
enum github_authkind { GITHUB_AUTH_TOKEN, GITHUB_AUTH_APP };

struct github_scope {
	int kind;		/* GITHUB_REPO or GITHUB_ORG */
	char name[160];		/* "owner/repo" or "org" */
	char owner[64];		/* the owner or the organization */
	char repo[104];		/* "" for an organization */
};

/*
 * Where the credentials come from; every member may be NULL.  The first
 * that applies wins: app_id (with app_key_file, else $GITHUB_APP_PRIVATE_KEY
 * holding the PEM, else $GITHUB_APP_PRIVATE_KEY_FILE); token_file; then the
 * environment: $GITHUB_APP_ID (key as above); $GITHUB_TOKEN.
 */
struct github_auth {
	const char *token_file;
	const char *app_id;
	const char *app_key_file;
	int anonymous;		/* no credentials found: call without them
				 * (public data, e.g. actions/runner releases) */
};

struct github_token {
	char *token;		/* the secret */
	char *expires_at;	/* as GitHub wrote it (ISO 8601) */
	time_t expires;		/* the same, unix seconds (0: unknown) */
};

/* "owner/repo" (a repository) or "org" (an organization), checked. */
int github_scope_parse(const char *s, struct github_scope *);

struct github *github_new(const struct github_scope *,
    const struct github_auth *);
void github_free(struct github *);
int github_auth_kind(const struct github *);
const struct github_scope *github_scope(const struct github *);
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

/* A registration ("registration-token") or remove ("remove-token") token. */
int github_runner_token(struct github *, const char *which,
    struct github_token *);
void github_token_free(struct github_token *);

/*
 * Every runner of the scope, all pages (per_page=100), in GitHub's order,
 * as a cJSON array the caller deletes.  NULL with error_set() on failure.
 */
cJSON *github_runners(struct github *);
/* One runner; *status as in github_call(). */
cJSON *github_runner_get(struct github *, long long id, long *status);
/* 0 deleted, 1 already gone (404), 2 refused as busy (422), -1 error. */
int github_runner_delete(struct github *, long long id);

/* --- pieces with no I/O, exported for the unit tests --- */

/*
 * An RS256 JWT for app_id signed with the PEM private key (PKCS#1 or
 * PKCS#8, unencrypted): iat = now - 60, exp = now + 540, iss = app_id
 * (a number when it is all digits).  Appended to out; 0 or -1.
 */
int github_jwt(const char *app_id, const char *pem, size_t pemlen,
    time_t now, struct buf *out);
/* The URL of rel="next" in a Link header: 1 found, 0 none. */
int github_link_next(const char *link, char *out, size_t outlen);
/*
 * The hint appended to a 401/403/404 message: which permission or
 * installation is probably missing.  step: "installation" for the app's
 * installation lookup, NULL for the runner API.
 */
const char *github_hint(int kind, int authkind, long status,
    const char *step);
/*
 * Seconds to wait before retrying a rate-limited reply (status, headers
 * Retry-After / x-ratelimit-*, body), -1 when the reply is not
 * rate-limited; GITHUB_SECONDARY_WAIT when limited but no delay is given
 * (doubled by the caller for each limited reply in a row).  now: unix
 * seconds.
 */
long github_ratelimit_wait(long status, const char *retry_after,
    const char *remaining, const char *reset, const char *body, time_t now);

#endif
