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
/* One runner; *status as in github_call(). */
cJSON *ghrunner_get(struct github *, long long id, long *status);
/* 0 deleted, 1 already gone (404), 2 refused as busy (422), -1 error. */
int ghrunner_delete(struct github *, long long id);

#endif
