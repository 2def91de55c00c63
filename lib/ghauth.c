#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "ghauth.h"
#include "ghscope.h"
#include "jwt.h"

static int
app_id_ok(const char *s)
{
	return s && ghscope_name_ok(s, strlen(s), 64, "._-");
}

int
ghauth_jwt(const char *app_id, const char *pem, size_t pemlen, time_t now,
    struct buf *out)
{
	if (!app_id_ok(app_id))
		return error_set(EXIT_PERM, "app id '%s' is not a GitHub App "
		    "id or client id", app_id ? app_id : "");
	return jwt_rs256(app_id, pem, pemlen, now, out);
}

int
ghauth_token_ok(const char *s, size_t n)
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
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL)
		return error_set(errno == ENOENT || errno == EACCES ?
		    EXIT_PERM : EXIT_TEMP, "%s '%s': %s", what, path,
		    strerror(errno));
	rc = buf_read(b, f, GHAUTH_MAX_SECRET);
	fclose(f);
	if (rc == 1)
		return error_set(EXIT_PERM, "%s '%s': longer than %d bytes",
		    what, path, GHAUTH_MAX_SECRET);
	if (rc == -1)
		return error_wrap("%s '%s'", what, path);
	return 0;
}

static int
set_token(struct ghauth *a, const char *s, size_t n, const char *what)
{
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	if (n == 0)
		return error_set(EXIT_PERM, "%s: empty token", what);
	if (!ghauth_token_ok(s, n))
		return error_set(EXIT_PERM, "%s: the token has spaces or "
		    "control characters", what);
	if ((a->token = malloc(n + 1)) == NULL)
		return error_set(EXIT_TEMP, "out of memory");
	memcpy(a->token, s, n);
	a->token[n] = '\0';
	return 0;
}

static int
load_key(struct ghauth *a, const char *file)
{
	const char *env;
	size_t i;

	if (file == NULL)
		file = getenv("GITHUB_APP_PRIVATE_KEY_FILE");
	if (file && *file)
		return slurp(file, &a->key, "app private key");
	env = getenv("GITHUB_APP_PRIVATE_KEY");
	if (env == NULL || *env == '\0')
		return error_set(EXIT_PERM, "GitHub App %s: no private key "
		    "(a key file, or GITHUB_APP_PRIVATE_KEY with the PEM)",
		    a->app_id);
	if (strlen(env) > GHAUTH_MAX_SECRET)
		return error_set(EXIT_PERM, "GITHUB_APP_PRIVATE_KEY: longer "
		    "than %d bytes", GHAUTH_MAX_SECRET);
	/* a PEM passed through a one-line variable: "\n" written out */
	for (i = 0; env[i]; i++) {
		int c = env[i];

		if (c == '\\' && env[i + 1] == 'n' && !strchr(env, '\n')) {
			c = '\n';
			i++;
		}
		if (buf_putc(&a->key, c) == -1)
			return -1;
	}
	return 0;
}

int
ghauth_load(struct ghauth *a, const struct ghauth_src *src)
{
	const char *app = src ? src->app_id : NULL, *tok;
	struct buf b = BUF_INIT;
	int rc;

	memset(a, 0, sizeof(*a));
	if (app == NULL && (src == NULL || src->token_file == NULL)) {
		app = getenv("GITHUB_APP_ID");
		if (app && *app == '\0')
			app = NULL;
	}
	if (app) {
		if (!app_id_ok(app))
			return error_set(EXIT_PERM, "app id '%s' is not a "
			    "GitHub App id or client id", app);
		a->kind = GHAUTH_APP;
		if ((a->app_id = strdup(app)) == NULL)
			return error_set(EXIT_TEMP, "out of memory");
		return load_key(a, src ? src->app_key_file : NULL);
	}
	a->kind = GHAUTH_TOKEN;
	if (src && src->token_file) {
		rc = slurp(src->token_file, &b, "token file");
		if (rc == 0)
			rc = set_token(a, buf_str(&b), b.len, src->token_file);
		buf_wipe(&b);
		return rc;
	}
	if ((tok = getenv("GITHUB_TOKEN")) != NULL && *tok)
		return set_token(a, tok, strlen(tok), "GITHUB_TOKEN");
	if (src && src->anonymous)
		return 0;
	return error_set(EXIT_PERM, "no GitHub credentials: set GITHUB_TOKEN, "
	    "give a token file, or a GitHub App id and private key");
}

void
ghauth_free(struct ghauth *a)
{
	if (a->token) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	free(a->app_id);
	buf_wipe(&a->key);
	memset(a, 0, sizeof(*a));
}
