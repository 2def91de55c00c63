#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "ghauth.h"
#include "ghlimit.h"
#include "ghlink.h"
#include "github.h"
#include "http.h"
#include "isotime.h"
#include "version.h"

#define API_VERSION "2022-11-28"
#define ATTEMPTS 5

struct github {
	struct http *http;
	struct ghscope scope;
	struct ghauth auth;
	char api[512];		/* no trailing '/' */
	char server[512];
	char runner_url[700];
};

struct attempt {
	int n;
	int unhinted;		/* limited replies without a delay so far */
	long wait;		/* the last reply's wait, -1: not limited */
};

/* ------------------------------------------------------------ hints */

const char *
github_hint(int kind, int authkind, long status, const char *step)
{
	int repo = kind == GHSCOPE_REPO;

	if (status != 401 && status != 403 && status != 404)
		return NULL;
	if (authkind == GHAUTH_APP && step) {
		if (status == 401)
			return "the app's JWT was refused: check the app id, "
			    "the private key and the clock";
		return repo ? "the GitHub App is probably not installed on "
		    "this repository: install it there (or on all of the "
		    "owner's repositories)" :
		    "the GitHub App is probably not installed on this "
		    "organization: install it there";
	}
	if (authkind == GHAUTH_APP) {
		if (status == 401)
			return "the installation token was refused (expired "
			    "or revoked)";
		return repo ? "the app installation probably lacks the "
		    "repository permission administration: write "
		    "(Administration, read and write)" :
		    "the app installation probably lacks the organization "
		    "permission organization_self_hosted_runners: write "
		    "(Self-hosted runners, read and write)";
	}
	if (status == 401)
		return "the token is invalid, expired or revoked";
	if (status == 404)
		return repo ? "no such repository, or the token cannot see "
		    "it: a fine-grained token needs this repository with "
		    "administration: write, a classic token the repo scope" :
		    "no such organization, or the token cannot see it: a "
		    "fine-grained token needs organization_self_hosted_runners:"
		    " write, a classic token the admin:org scope";
	return repo ? "the token probably lacks the repository permission "
	    "administration: write (fine-grained) or the repo scope (classic)" :
	    "the token probably lacks the organization permission "
	    "organization_self_hosted_runners: write (fine-grained) or the "
	    "admin:org scope (classic)";
}

/* ------------------------------------------------------------ setup */

static int
base_url(char *out, size_t outlen, const char *env, const char *def)
{
	const char *v = getenv(env);
	size_t n;

	if (v == NULL || *v == '\0')
		v = def;
	if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
		return error_set(EXIT_PERM, "%s '%s' is not an http(s) URL",
		    env, v);
	n = strlen(v);
	while (n > 0 && v[n - 1] == '/')
		n--;
	if (n >= outlen || strpbrk(v, " \t\r\n?#"))
		return error_set(EXIT_PERM, "%s '%s' is not a usable base URL",
		    env, v);
	memcpy(out, v, n);
	out[n] = '\0';
	return 0;
}

/*
 * The web server of an API base: https://HOST of https://HOST/api/v3
 * (GitHub Enterprise Server), else https://github.com.
 */
static const char *
server_of(const char *api)
{
	static char s[256];
	size_t n = strlen(api);

	if (n > 7 && n < sizeof(s) && strcmp(api + n - 7, "/api/v3") == 0) {
		memcpy(s, api, n - 7);
		s[n - 7] = '\0';
		return s;
	}
	return "https://github.com";
}

/* Is the API base one GitHub serves: api.github.com, or HOST/api/v3? */
static int
api_base_ok(const char *api)
{
	size_t n = strlen(api);

	return strcmp(api, "https://api.github.com") == 0 ||
	    (n > 7 && strcmp(api + n - 7, "/api/v3") == 0);
}

struct github *
github_new(const struct ghscope *sc, const struct ghauth_src *a)
{
	struct github *gh;

	if ((gh = calloc(1, sizeof(*gh))) == NULL) {
		error_set(EXIT_TEMP, "out of memory");
		return NULL;
	}
	gh->scope = *sc;
	if (base_url(gh->api, sizeof(gh->api), "GITHUB_API_URL",
	    "https://api.github.com") == -1 ||
	    base_url(gh->server, sizeof(gh->server), "GITHUB_SERVER_URL",
	    server_of(gh->api)) == -1 ||
	    ghauth_load(&gh->auth, a) == -1 ||
	    (gh->http = http_new()) == NULL) {
		github_free(gh);
		return NULL;
	}
	snprintf(gh->runner_url, sizeof(gh->runner_url), "%s/%s", gh->server,
	    sc->name);
	return gh;
}

void
github_free(struct github *gh)
{
	if (gh == NULL)
		return;
	ghauth_free(&gh->auth);
	http_free(gh->http);
	free(gh);
}

int
github_auth_kind(const struct github *gh)
{
	return gh->auth.kind;
}

const struct ghscope *
github_scope(const struct github *gh)
{
	return &gh->scope;
}

const char *
github_runner_url(const struct github *gh)
{
	return gh->runner_url;
}

/* ------------------------------------------------------------ calls */

static int
classify(void *arg, const struct http_response *rs, long *delay)
{
	struct attempt *at = arg;
	unsigned int r = 0;
	long wait;

	at->n++;
	at->wait = -1;
	if (rs->status < 400)
		return HTTP_DONE;
	if (rs->status >= 500)
		return HTTP_RETRY;
	wait = ghlimit_reply(rs, time(NULL), &at->unhinted);
	at->wait = wait;
	if (wait < 0 || wait > ghlimit_max_wait())
		return HTTP_DONE;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = 0;
	*delay = wait * 1000 + (long)(r % 250);
	return HTTP_RETRY;
}

/* The reply's "message", sanitised for a one-line log. */
static void
reply_message(const struct http_response *rs, char *out, size_t outlen)
{
	cJSON *j = cJSON_ParseWithLength(buf_str(&rs->body), rs->body.len);
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
	size_t i;

	snprintf(out, outlen, "%s", cJSON_IsString(m) ? m->valuestring :
	    "HTTP error");
	for (i = 0; out[i]; i++)
		if ((unsigned char)out[i] < ' ' || out[i] == 127)
			out[i] = ' ';
	cJSON_Delete(j);
}

static int
fail(const struct github *gh, const struct http_response *rs,
    const char *what, const char *step, const struct attempt *at)
{
	char msg[256], when[32];
	const char *hint;

	reply_message(rs, msg, sizeof(msg));
	if (rs->status >= 500)
		return error_set(EXIT_TEMP, "%s: %ld %s (after %d attempts)",
		    what, rs->status, msg, at->n);
	if (at->wait >= 0) {
		isotime_format(time(NULL) + at->wait, when, sizeof(when));
		return error_set(EXIT_TEMP, "%s: %ld rate limited: %s; try "
		    "again after %s", what, rs->status, msg, when);
	}
	/* not GitHub's API at all: say where it is expected */
	if (rs->status >= 400 && rs->status != 401 && rs->status != 403 &&
	    !api_base_ok(gh->api))
		return error_set(EXIT_PERM, "%s: %ld %s: GITHUB_API_URL %s: "
		    "GitHub Enterprise Server's API is https://HOST/api/v3",
		    what, rs->status, msg, gh->api);
	hint = github_hint(gh->scope.kind, gh->auth.kind, rs->status, step);
	if (hint)
		return error_set(EXIT_PERM, "%s: %ld %s: %s", what, rs->status,
		    msg, hint);
	return error_set(EXIT_PERM, "%s: %ld %s", what, rs->status, msg);
}

/* method url [bearer] [body]: the parsed 2xx reply, or NULL. */
static cJSON *
request(struct github *gh, const char *method, const char *path,
    const char *bearer, const cJSON *body, const char *step, long *status,
    char **next)
{
	struct http_hdrs hs = { NULL, 0, 0 };
	struct http_request rq;
	struct http_policy pol;
	struct http_response rs;
	struct attempt at = { 0 };
	struct buf url = BUF_INIT;
	char what[300], link[4096], nexturl[2048];
	const char *rel;
	char *payload = NULL;
	size_t rl;
	cJSON *reply = NULL;

	memset(&rs, 0, sizeof(rs));
	if (status)
		*status = 0;
	if (next)
		*next = NULL;
	if (strncasecmp(path, "http://", 7) == 0 ||
	    strncasecmp(path, "https://", 8) == 0) {
		/* a Link from GitHub: the token only goes to the API, judged
		 * on the URL as libcurl sends it (dot-segments removed) */
		int under = http_url_under(path, gh->api, &url);

		if (under != 1) {
			if (under == 0)
				error_set(EXIT_PERM, "github: link '%.200s' is "
				    "not under GITHUB_API_URL %s", path,
				    gh->api);
			buf_free(&url);
			return NULL;
		}
		rel = strstr(url.s, "://") + 3;
		rel += strcspn(rel, "/");
	} else {
		rel = path;
		if (buf_printf(&url, "%s%s", gh->api, path) == -1)
			return NULL;
	}
	rl = strcspn(rel, "?");
	snprintf(what, sizeof(what), "github %s %.*s", method,
	    rl > 200 ? 200 : (int)rl, rel);
	if (http_hdrs_add(&hs, "Accept: application/vnd.github+json") ||
	    http_hdrs_add(&hs, "X-GitHub-Api-Version: %s", API_VERSION) ||
	    http_hdrs_add(&hs, "User-Agent: ec2-runner-pool/%s", VERSION) ||
	    (bearer && http_hdrs_add(&hs, "Authorization: Bearer %s",
	    bearer)))
		goto out;
	if (body) {
		if ((payload = cJSON_PrintUnformatted(body)) == NULL) {
			error_set(EXIT_TEMP, "out of memory");
			goto out;
		}
		if (http_hdrs_add(&hs, "Content-Type: application/json"))
			goto out;
	}
	memset(&rq, 0, sizeof(rq));
	memset(&pol, 0, sizeof(pol));
	rq.method = method;
	rq.url = url.s;
	rq.body = payload;
	rq.body_len = payload ? strlen(payload) : 0;
	rq.headers = &hs;
	pol.attempts = ATTEMPTS;
	pol.classify = classify;
	pol.arg = &at;
	pol.what = what;
	if (http_do(gh->http, &rq, &pol, &rs) == -1)
		goto out;
	if (status)
		*status = rs.status;
	if (rs.status < 200 || rs.status > 299) {
		fail(gh, &rs, what, step, &at);
		goto out;
	}
	if (rs.body.len == 0)
		reply = cJSON_CreateNull();
	else if ((reply = cJSON_ParseWithLength(rs.body.s,
	    rs.body.len)) == NULL)
		error_set(EXIT_TEMP, "%s: the reply is not JSON", what);
	if (reply && next && http_header(&rs, "Link", link,
	    sizeof(link)) == 0 && ghlink_next(link, nexturl,
	    sizeof(nexturl)) && (*next = strdup(nexturl)) == NULL) {
		cJSON_Delete(reply);
		reply = NULL;
		error_set(EXIT_TEMP, "out of memory");
	}
out:
	http_hdrs_free(&hs);
	http_response_free(&rs);
	buf_free(&url);
	free(payload);
	return reply;
}

void
github_json_wipe(cJSON *j)
{
	for (; j; j = j->next) {
		if (cJSON_IsString(j) && j->valuestring)
			explicit_bzero(j->valuestring, strlen(j->valuestring));
		github_json_wipe(j->child);
	}
}

/* A GitHub App: JWT -> installation of the scope -> installation token. */
static int
app_login(struct github *gh)
{
	struct buf jwt = BUF_INIT, path = BUF_INIT;
	cJSON *inst = NULL, *tok = NULL, *body = NULL, *repos;
	const cJSON *id, *t;
	int rc = -1;

	if (ghauth_jwt(gh->auth.app_id, gh->auth.key.s, gh->auth.key.len, time(NULL),
	    &jwt) == -1)
		goto out;
	if (gh->scope.kind == GHSCOPE_REPO)
		rc = buf_printf(&path, "/repos/%s/%s/installation",
		    gh->scope.owner, gh->scope.repo);
	else
		rc = buf_printf(&path, "/orgs/%s/installation",
		    gh->scope.owner);
	if (rc == -1)
		goto out;
	rc = -1;
	if ((inst = request(gh, "GET", path.s, jwt.s, NULL, "installation",
	    NULL, NULL)) == NULL)
		goto out;
	id = cJSON_GetObjectItemCaseSensitive(inst, "id");
	if (!cJSON_IsNumber(id) || id->valuedouble < 1) {
		error_set(EXIT_TEMP, "github: the installation of %s has no id",
		    gh->scope.name);
		goto out;
	}
	buf_reset(&path);
	if (buf_printf(&path, "/app/installations/%.0f/access_tokens",
	    id->valuedouble) == -1)
		goto out;
	/* a repository's token: that repository only */
	if (gh->scope.kind == GHSCOPE_REPO) {
		if ((body = cJSON_CreateObject()) == NULL ||
		    (repos = cJSON_AddArrayToObject(body, "repositories")) ==
		    NULL || !cJSON_AddItemToArray(repos,
		    cJSON_CreateString(gh->scope.repo))) {
			error_set(EXIT_TEMP, "out of memory");
			goto out;
		}
	}
	if ((tok = request(gh, "POST", path.s, jwt.s, body, "installation",
	    NULL, NULL)) == NULL)
		goto out;
	t = cJSON_GetObjectItemCaseSensitive(tok, "token");
	if (!cJSON_IsString(t) || !ghauth_token_ok(t->valuestring,
	    strlen(t->valuestring))) {
		error_set(EXIT_TEMP, "github: no installation token in the "
		    "reply");
		goto out;
	}
	if ((gh->auth.token = strdup(t->valuestring)) == NULL) {
		error_set(EXIT_TEMP, "out of memory");
		goto out;
	}
	rc = 0;
out:
	github_json_wipe(tok);
	cJSON_Delete(tok);
	cJSON_Delete(inst);
	cJSON_Delete(body);
	buf_wipe(&jwt);
	buf_free(&path);
	return rc;
}

cJSON *
github_call(struct github *gh, const char *method, const char *path,
    const cJSON *body, long *status, char **next)
{
	if (gh->auth.token == NULL && gh->auth.kind == GHAUTH_APP &&
	    app_login(gh) == -1)
		return NULL;
	return request(gh, method, path, gh->auth.token, body, NULL, status, next);
}

