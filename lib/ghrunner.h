/*
 * ghrunner.h: GitHub's self-hosted runner API for the scope of a struct
 * github (a repository's or an organization's runners), over
 * github_call(): registration and remove tokens, runners, runner groups.
 *
 * Ownership: strings in struct ghrunner_token belong to it:
 * ghrunner_token_free() wipes and frees them.  cJSON trees returned are
 * the caller's (cJSON_Delete).
 */
#ifndef GHRUNNER_H
#define GHRUNNER_H

#include <time.h>

#include <cjson/cJSON.h>

#include "github.h"

struct ghrunner_token {
	char *token;		/* the secret */
	char *expires_at;	/* as GitHub wrote it (ISO 8601) */
	time_t expires;		/* the same, unix seconds (0: unknown) */
};

/* A registration ("registration-token") or remove ("remove-token") token. */
int ghrunner_token(struct github *, const char *which,
    struct ghrunner_token *);
void ghrunner_token_free(struct ghrunner_token *);

/*
 * Every runner of the scope, all pages (per_page=100), in GitHub's order,
 * as a cJSON array the caller deletes.  NULL with error_set() on failure.
 */
cJSON *ghrunner_list(struct github *);
/*
 * Runner groups (an organization's; a repository scope fails with
 * EXIT_PERM).  https://docs.github.com/en/rest/actions/self-hosted-runner-groups
 *
 * ghrunner_groups(): every runner group of the organization, all pages,
 * as a cJSON array; with repo (a repository name of the organization, not
 * NULL), only the groups that repository may use (visible_to_repository).
 */
cJSON *ghrunner_groups(struct github *, const char *repo);
/*
 * Does the runner group name (case-insensitive, as config.sh matches it)
 * exist, and may the repository repo (a name of the organization; NULL:
 * do not ask) use it?  0 yes (*group, if group is not NULL, gets the
 * group's object, the caller's); 1 no such group; 2 the group exists but
 * repo may not use it (*group set too); -1 error.
 */
int ghrunner_group_check(struct github *, const char *name,
    const char *repo, cJSON **group);
/* Every runner of the organization's runner group id, all pages. */
cJSON *ghrunner_group_runners(struct github *, long long id);
/* One runner; *status as in github_call(). */
cJSON *ghrunner_get(struct github *, long long id, long *status);
/* 0 deleted, 1 already gone (404), 2 refused as busy (422), -1 error. */
int ghrunner_delete(struct github *, long long id);

#endif
