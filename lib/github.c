#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "buf.h"
#include "error.h"
#include "github.h"
#include "http.h"
#include "isotime.h"
#include "jwt.h"
#include "version.h"

#define API_VERSION "2022-11-28"
#define MAX_SECRET 16384	/* token and key files */
#define MAX_PAGES 1000
#define ATTEMPTS 5

struct github {
	struct http *http;
	struct github_scope scope;
	int authkind;
	char *token;		/* PAT or installation token, wiped */
	char *app_id;
	struct buf key;		/* app private key PEM, wiped */
	char api[512];		/* no trailing '/' */
	char server[512];
	char runner_url[700];
};

struct attempt {
	int n;
	int unhinted;		/* limited replies without a delay so far */
	long wait;		/* the last reply's wait, -1: not limited */
};

/* $GITHUB_MAX_WAIT (0-3600), else GITHUB_MAX_WAIT */
static long
max_wait(void)
{
	const char *s = getenv("GITHUB_MAX_WAIT");
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return GITHUB_MAX_WAIT;
	v = strtol(s, &end, 10);
	return *end == '\0' && v >= 0 && v <= 3600 ? v : GITHUB_MAX_WAIT;
}

/* ------------------------------------------------------------ scope */

static int
name_ok(const char *s, size_t len, size_t max, const char *extra)
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
github_scope_parse(const char *s, struct github_scope *sc)
{
	const char *slash;
	size_t ol;

	memset(sc, 0, sizeof(*sc));
	if (s == NULL || *s == '\0')
		return error_set(EXIT_PERM, "empty scope, expected owner/repo "
		    "or an organization");
	slash = strchr(s, '/');
	ol = slash ? (size_t)(slash - s) : strlen(s);
	if (!name_ok(s, ol, 39, "-_") ||
	    (slash && (!name_ok(slash + 1, strlen(slash + 1), 100, "._-") ||
	    strcmp(slash + 1, ".") == 0 || strcmp(slash + 1, "..") == 0)))
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
	sc->kind = slash ? GITHUB_REPO : GITHUB_ORG;
	memcpy(sc->owner, s, ol);
	if (slash)
		snprintf(sc->repo, sizeof(sc->repo), "%s", slash + 1);
	snprintf(sc->name, sizeof(sc->name), "%s", s);
	return 0;
}

/* ------------------------------------------------------------ JWT */

static int
app_id_ok(const char *s)
{
	return s && name_ok(s, strlen(s), 64, "._-");
}

int
github_jwt(const char *app_id, const char *pem, size_t pemlen, time_t now,
    struct buf *out)
{
	if (!app_id_ok(app_id))
		return error_set(EXIT_PERM, "app id '%s' is not a GitHub App "
		    "id or client id", app_id ? app_id : "");
	return jwt_rs256(app_id, pem, pemlen, now, out);
}

/* ------------------------------------------------------------ Link */

int
github_link_next(const char *link, char *out, size_t outlen)
{
	const char *p = link, *lt, *gt, *end;

	while (p && *p) {
		if ((lt = strchr(p, '<')) == NULL ||
		    (gt = strchr(lt, '>')) == NULL)
			return 0;
		/* the parameters run to the next ',' outside quotes */
		for (end = gt + 1; *end && *end != ','; end++) {
			if (*end != '"')
				continue;
			while (*++end && *end != '"')
				;
			if (*end == '\0')
				break;
		}
		for (p = gt + 1; p < end; p++) {
			const char *v, *ve;
			size_t vl;

			if (strncasecmp(p, "rel", 3) != 0)
				continue;
			for (v = p + 3; *v == ' '; v++)
				;
			if (*v != '=')
				continue;
			for (v++; *v == ' '; v++)
				;
			if (*v == '"') {
				v++;
				for (ve = v; ve < end && *ve != '"'; ve++)
					;
			} else
				for (ve = v; ve < end && *ve != ';' &&
				    *ve != ' '; ve++)
					;
			/* rel may list several space-separated types */
			while (v < ve) {
				const char *w = v;

				while (w < ve && *w != ' ')
					w++;
				if (w - v == 4 && strncasecmp(v, "next", 4) == 0) {
					vl = (size_t)(gt - lt - 1);
					if (vl >= outlen)
						return 0;
					memcpy(out, lt + 1, vl);
					out[vl] = '\0';
					return 1;
				}
				for (v = w; v < ve && *v == ' '; v++)
					;
			}
			break;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* ------------------------------------------------------------ hints */

const char *
github_hint(int kind, int authkind, long status, const char *step)
{
	int repo = kind == GITHUB_REPO;

	if (status != 401 && status != 403 && status != 404)
		return NULL;
	if (authkind == GITHUB_AUTH_APP && step) {
		if (status == 401)
			return "the app's JWT was refused: check the app id, "
			    "the private key and the clock";
		return repo ? "the GitHub App is probably not installed on "
		    "this repository: install it there (or on all of the "
		    "owner's repositories)" :
		    "the GitHub App is probably not installed on this "
		    "organization: install it there";
	}
	if (authkind == GITHUB_AUTH_APP) {
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

/* ------------------------------------------------------------ limits */

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
github_ratelimit_wait(long status, const char *retry_after,
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
	return GITHUB_SECONDARY_WAIT;
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

/* A token: printable ASCII with no spaces (it goes into a header). */
static int
token_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 127)
			return 0;
	return 1;
}

static int
slurp(const char *path, struct buf *b, const char *what)
{
	char chunk[1024];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return error_set(errno == ENOENT || errno == EACCES ?
		    EXIT_PERM : EXIT_TEMP, "%s '%s': %s", what, path,
		    strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->len + n > MAX_SECRET || buf_add(b, chunk, n) == -1) {
			explicit_bzero(chunk, sizeof(chunk));
			fclose(f);
			return error_set(EXIT_PERM, "%s '%s': longer than %d "
			    "bytes", what, path, MAX_SECRET);
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (ferror(f)) {
		fclose(f);
		return error_set(EXIT_TEMP, "%s '%s': read error", what, path);
	}
	fclose(f);
	return 0;
}

static int
set_token(struct github *gh, const char *s, size_t n, const char *what)
{
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	if (n == 0)
		return error_set(EXIT_PERM, "%s: empty token", what);
	if (!token_ok(s, n))
		return error_set(EXIT_PERM, "%s: the token has spaces or "
		    "control characters", what);
	if ((gh->token = malloc(n + 1)) == NULL)
		return error_set(EXIT_TEMP, "out of memory");
	memcpy(gh->token, s, n);
	gh->token[n] = '\0';
	return 0;
}

static int
load_key(struct github *gh, const char *file)
{
	const char *env;
	size_t i;

	if (file == NULL)
		file = getenv("GITHUB_APP_PRIVATE_KEY_FILE");
	if (file && *file)
		return slurp(file, &gh->key, "app private key");
	env = getenv("GITHUB_APP_PRIVATE_KEY");
	if (env == NULL || *env == '\0')
		return error_set(EXIT_PERM, "GitHub App %s: no private key "
		    "(a key file, or GITHUB_APP_PRIVATE_KEY with the PEM)",
		    gh->app_id);
	if (strlen(env) > MAX_SECRET)
		return error_set(EXIT_PERM, "GITHUB_APP_PRIVATE_KEY: longer "
		    "than %d bytes", MAX_SECRET);
	/* a PEM passed through a one-line variable: "\n" written out */
	for (i = 0; env[i]; i++) {
		int c = env[i];

		if (c == '\\' && env[i + 1] == 'n' && !strchr(env, '\n')) {
			c = '\n';
			i++;
		}
		if (buf_putc(&gh->key, c) == -1)
			return -1;
	}
	return 0;
}

static int
credentials(struct github *gh, const struct github_auth *a)
{
	const char *app = a ? a->app_id : NULL, *tok;
	struct buf b = BUF_INIT;
	int rc;

	if (app == NULL && (a == NULL || a->token_file == NULL)) {
		app = getenv("GITHUB_APP_ID");
		if (app && *app == '\0')
			app = NULL;
	}
	if (app) {
		if (!app_id_ok(app))
			return error_set(EXIT_PERM, "app id '%s' is not a "
			    "GitHub App id or client id", app);
		gh->authkind = GITHUB_AUTH_APP;
		if ((gh->app_id = strdup(app)) == NULL)
			return error_set(EXIT_TEMP, "out of memory");
		return load_key(gh, a ? a->app_key_file : NULL);
	}
	gh->authkind = GITHUB_AUTH_TOKEN;
	if (a && a->token_file) {
		rc = slurp(a->token_file, &b, "token file");
		if (rc == 0)
			rc = set_token(gh, buf_str(&b), b.len, a->token_file);
		buf_wipe(&b);
		return rc;
	}
	if ((tok = getenv("GITHUB_TOKEN")) != NULL && *tok)
		return set_token(gh, tok, strlen(tok), "GITHUB_TOKEN");
	if (a && a->anonymous)
		return 0;
	return error_set(EXIT_PERM, "no GitHub credentials: set GITHUB_TOKEN, "
	    "give a token file, or a GitHub App id and private key");
}

struct github *
github_new(const struct github_scope *sc, const struct github_auth *a)
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
	    credentials(gh, a) == -1 ||
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
	if (gh->token) {
		explicit_bzero(gh->token, strlen(gh->token));
		free(gh->token);
	}
	free(gh->app_id);
	buf_wipe(&gh->key);
	http_free(gh->http);
	free(gh);
}

int
github_auth_kind(const struct github *gh)
{
	return gh->authkind;
}

const struct github_scope *
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
	char ra[64] = "", rem[32] = "", reset[32] = "";
	unsigned int r = 0;
	long wait;

	at->n++;
	at->wait = -1;
	if (rs->status < 400)
		return HTTP_DONE;
	if (rs->status >= 500)
		return HTTP_RETRY;
	http_header(rs, "Retry-After", ra, sizeof(ra));
	http_header(rs, "x-ratelimit-remaining", rem, sizeof(rem));
	http_header(rs, "x-ratelimit-reset", reset, sizeof(reset));
	wait = github_ratelimit_wait(rs->status, ra, rem, reset,
	    buf_str(&rs->body), time(NULL));
	/* no delay given: a minute, then two, four... */
	if (wait == GITHUB_SECONDARY_WAIT && !*ra && !*reset)
		wait <<= (at->unhinted++ > 4 ? 4 : at->unhinted - 1);
	at->wait = wait;
	if (wait < 0 || wait > max_wait())
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
	hint = github_hint(gh->scope.kind, gh->authkind, rs->status, step);
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
	    sizeof(link)) == 0 && github_link_next(link, nexturl,
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

	if (github_jwt(gh->app_id, gh->key.s, gh->key.len, time(NULL),
	    &jwt) == -1)
		goto out;
	if (gh->scope.kind == GITHUB_REPO)
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
	if (gh->scope.kind == GITHUB_REPO) {
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
	if (!cJSON_IsString(t) || !token_ok(t->valuestring,
	    strlen(t->valuestring))) {
		error_set(EXIT_TEMP, "github: no installation token in the "
		    "reply");
		goto out;
	}
	if ((gh->token = strdup(t->valuestring)) == NULL) {
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
	if (gh->token == NULL && gh->authkind == GITHUB_AUTH_APP &&
	    app_login(gh) == -1)
		return NULL;
	return request(gh, method, path, gh->token, body, NULL, status, next);
}

static int
scope_path(const struct github *gh, struct buf *b, const char *rest)
{
	if (gh->scope.kind == GITHUB_REPO)
		return buf_printf(b, "/repos/%s/%s/actions/runners%s",
		    gh->scope.owner, gh->scope.repo, rest);
	return buf_printf(b, "/orgs/%s/actions/runners%s", gh->scope.owner,
	    rest);
}

int
github_runner_token(struct github *gh, const char *which,
    struct github_token *t)
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
	    !token_ok(tok->valuestring, strlen(tok->valuestring))) {
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
		github_token_free(t);
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
github_token_free(struct github_token *t)
{
	if (t->token) {
		explicit_bzero(t->token, strlen(t->token));
		free(t->token);
	}
	free(t->expires_at);
	memset(t, 0, sizeof(*t));
}

cJSON *
github_runners(struct github *gh)
{
	struct buf path = BUF_INIT;
	cJSON *all = cJSON_CreateArray(), *page = NULL, *rs, *r;
	char *next = NULL, *url;
	int n;

	if (all == NULL || scope_path(gh, &path, "?per_page=100") == -1) {
		error_set(EXIT_TEMP, "out of memory");
		goto fail;
	}
	url = path.s;
	for (n = 0; ; n++) {
		if (n == MAX_PAGES) {
			error_set(EXIT_TEMP, "github: more than %d pages of "
			    "runners", MAX_PAGES);
			goto fail;
		}
		if ((page = github_call(gh, "GET", url, NULL, NULL,
		    &next)) == NULL)
			goto fail;
		rs = cJSON_GetObjectItemCaseSensitive(page, "runners");
		if (!cJSON_IsArray(rs)) {
			error_set(EXIT_TEMP, "github: no runners in the reply");
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
		url = path.s;
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
github_runner_get(struct github *gh, long long id, long *status)
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
github_runner_delete(struct github *gh, long long id)
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
