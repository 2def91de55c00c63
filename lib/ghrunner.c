#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "error.h"
#include "ghauth.h"
#include "ghrunner.h"
#include "ghscope.h"
#include "github.h"
#include "isotime.h"

#define MAX_PAGES 1000

static int
scope_path(struct github *gh, struct buf *b, const char *rest)
{
	if (github_scope(gh)->kind == GHSCOPE_REPO)
		return buf_printf(b, "/repos/%s/%s/actions/runners%s",
		    github_scope(gh)->owner, github_scope(gh)->repo, rest);
	return buf_printf(b, "/orgs/%s/actions/runners%s", github_scope(gh)->owner,
	    rest);
}

int
ghrunner_token(struct github *gh, const char *which,
    struct ghrunner_token *t)
{
	struct buf path = BUF_INIT, rest = BUF_INIT;
	cJSON *r = NULL;
	const cJSON *tok, *exp;
	int rc = -1;

	memset(t, 0, sizeof(*t));
	if (buf_printf(&rest, "/%s", which) == -1 ||
	    scope_path(gh, &path, rest.s) == -1)
		goto out;
	if ((r = github_call(gh, "POST", path.s, NULL, NULL, NULL)) == NULL)
		goto out;
	tok = cJSON_GetObjectItemCaseSensitive(r, "token");
	exp = cJSON_GetObjectItemCaseSensitive(r, "expires_at");
	if (!cJSON_IsString(tok) || !cJSON_IsString(exp) ||
	    !ghauth_token_ok(tok->valuestring, strlen(tok->valuestring))) {
		error_set(EXIT_TEMP, "github %s: no token in the reply", which);
		goto out;
	}
	if (isotime_parse(exp->valuestring, &t->expires) == -1) {
		error_wrap("github %s: expires_at", which);
		error_reclass(EXIT_TEMP);
		goto out;
	}
	if ((t->token = strdup(tok->valuestring)) == NULL ||
	    (t->expires_at = strdup(exp->valuestring)) == NULL) {
		ghrunner_token_free(t);
		error_set(EXIT_TEMP, "out of memory");
		goto out;
	}
	rc = 0;
out:
	github_json_wipe(r);
	cJSON_Delete(r);
	buf_free(&path);
	buf_free(&rest);
	return rc;
}

void
ghrunner_token_free(struct ghrunner_token *t)
{
	if (t->token) {
		explicit_bzero(t->token, strlen(t->token));
		free(t->token);
	}
	free(t->expires_at);
	memset(t, 0, sizeof(*t));
}

/*
 * Every item of the array `member` of every page of path (its first page;
 * the next ones from Link rel="next"), as one cJSON array.
 */
static cJSON *
pages(struct github *gh, const char *first, const char *member)
{
	struct buf path = BUF_INIT;
	cJSON *all = cJSON_CreateArray(), *page = NULL, *rs, *r;
	char *next = NULL;
	int n;

	if (all == NULL || buf_puts(&path, first) == -1) {
		error_set(EXIT_TEMP, "out of memory");
		goto fail;
	}
	for (n = 0; ; n++) {
		if (n == MAX_PAGES) {
			error_set(EXIT_TEMP, "github: more than %d pages of "
			    "%s", MAX_PAGES, member);
			goto fail;
		}
		if ((page = github_call(gh, "GET", path.s, NULL, NULL,
		    &next)) == NULL)
			goto fail;
		rs = cJSON_GetObjectItemCaseSensitive(page, member);
		if (!cJSON_IsArray(rs)) {
			error_set(EXIT_TEMP, "github: no %s in the reply",
			    member);
			goto fail;
		}
		while ((r = cJSON_DetachItemFromArray(rs, 0)) != NULL)
			cJSON_AddItemToArray(all, r);
		cJSON_Delete(page);
		page = NULL;
		if (next == NULL)
			break;
		buf_reset(&path);
		if (buf_puts(&path, next) == -1)
			goto fail;
		free(next);
		next = NULL;
	}
	buf_free(&path);
	return all;
fail:
	free(next);
	cJSON_Delete(page);
	cJSON_Delete(all);
	buf_free(&path);
	return NULL;
}

cJSON *
ghrunner_list(struct github *gh)
{
	struct buf path = BUF_INIT;
	cJSON *all = NULL;

	if (scope_path(gh, &path, "?per_page=100") == 0)
		all = pages(gh, path.s, "runners");
	buf_free(&path);
	return all;
}

static int
org_only(struct github *gh)
{
	if (github_scope(gh)->kind != GHSCOPE_ORG)
		return error_set(EXIT_PERM, "runner groups are an "
		    "organization's: the scope %s is a repository",
		    github_scope(gh)->name);
	return 0;
}

cJSON *
ghrunner_groups(struct github *gh, const char *repo)
{
	struct buf path = BUF_INIT;
	cJSON *all = NULL;
	int rc;

	if (org_only(gh) == -1)
		return NULL;
	rc = buf_printf(&path, "/orgs/%s/actions/runner-groups?per_page=100",
	    github_scope(gh)->owner);
	if (rc == 0 && repo) {
		rc = buf_puts(&path, "&visible_to_repository=");
		if (rc == 0)
			rc = buf_urlencode(&path, repo, strlen(repo), 0);
	}
	if (rc == 0)
		all = pages(gh, path.s, "runner_groups");
	buf_free(&path);
	return all;
}

/* The group of groups named name (GitHub's names are case-insensitive). */
static cJSON *
named(cJSON *groups, const char *name)
{
	cJSON *g;

	cJSON_ArrayForEach(g, groups) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(g, "name");

		if (cJSON_IsString(n) && strcasecmp(n->valuestring, name) == 0)
			return g;
	}
	return NULL;
}

int
ghrunner_group_check(struct github *gh, const char *name, const char *repo,
    cJSON **group)
{
	cJSON *all, *visible = NULL, *g;
	int rc = -1;

	if (group)
		*group = NULL;
	if ((all = ghrunner_groups(gh, NULL)) == NULL)
		return -1;
	if ((g = named(all, name)) == NULL) {
		rc = 1;
		goto out;
	}
	if (repo && ((visible = ghrunner_groups(gh, repo)) == NULL))
		goto out;
	rc = repo && named(visible, name) == NULL ? 2 : 0;
	if (group)
		*group = cJSON_DetachItemViaPointer(all, g);
out:
	cJSON_Delete(visible);
	cJSON_Delete(all);
	return rc;
}

cJSON *
ghrunner_group_runners(struct github *gh, long long id)
{
	struct buf path = BUF_INIT;
	cJSON *all = NULL;

	if (org_only(gh) == -1)
		return NULL;
	if (buf_printf(&path, "/orgs/%s/actions/runner-groups/%lld/runners"
	    "?per_page=100", github_scope(gh)->owner, id) == 0)
		all = pages(gh, path.s, "runners");
	buf_free(&path);
	return all;
}

cJSON *
ghrunner_get(struct github *gh, long long id, long *status)
{
	struct buf path = BUF_INIT, rest = BUF_INIT;
	cJSON *r = NULL;

	if (buf_printf(&rest, "/%lld", id) == 0 &&
	    scope_path(gh, &path, rest.s) == 0)
		r = github_call(gh, "GET", path.s, NULL, status, NULL);
	buf_free(&path);
	buf_free(&rest);
	return r;
}

int
ghrunner_delete(struct github *gh, long long id)
{
	struct buf path = BUF_INIT, rest = BUF_INIT;
	cJSON *r = NULL;
	long status = 0;
	int rc = -1;

	if (buf_printf(&rest, "/%lld", id) == 0 &&
	    scope_path(gh, &path, rest.s) == 0)
		r = github_call(gh, "DELETE", path.s, NULL, &status, NULL);
	if (r)
		rc = 0;
	else if (status == 404) {
		error_clear();
		rc = 1;
	} else if (status == 422) {
		error_clear();
		rc = 2;
	}
	cJSON_Delete(r);
	buf_free(&path);
	buf_free(&rest);
	return rc;
}
