#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "creds.h"
#include "error.h"
#include "imds.h"
#include "validate.h"

/* a credential_process prints one small JSON object */
#define MAX_PROCESS_OUTPUT 65536

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Look up key in [section] of an INI file; 1 found, 0 not, into out. */
static int
ini_get(const char *path, const char *section, const char *key,
    struct buf *out)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int in = 0, found = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *s = trim(line), *eq;

		if (*s == '#' || *s == ';' || *s == '\0')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');

			if (end) {
				*end = '\0';
				in = strcmp(trim(s + 1), section) == 0;
			}
			continue;
		}
		if (!in || (eq = strchr(s, '=')) == NULL)
			continue;
		*eq = '\0';
		if (strcmp(trim(s), key) == 0) {
			buf_reset(out);
			found = buf_puts(out, trim(eq + 1)) == 0;
			break;
		}
	}
	explicit_bzero(line, sizeof(line));
	fclose(f);
	return found;
}

static void
home_path(struct buf *b, const char *env, const char *rel)
{
	const char *s = getenv(env), *home = getenv("HOME");

	buf_reset(b);
	if (s && *s)
		buf_puts(b, s);
	else
		buf_printf(b, "%s/%s", home ? home : "", rel);
}

/* key in the profile: credentials file first, then config. */
static int
profile_get(const char *profile, const char *key, struct buf *out)
{
	struct buf path = BUF_INIT, sect = BUF_INIT;
	int found;

	home_path(&path, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	found = ini_get(buf_str(&path), profile, key, out);
	if (!found) {
		home_path(&path, "AWS_CONFIG_FILE", ".aws/config");
		if (strcmp(profile, "default") == 0)
			buf_puts(&sect, "default");
		else
			buf_printf(&sect, "profile %s", profile);
		found = ini_get(buf_str(&path), buf_str(&sect), key, out);
	}
	buf_free(&path);
	buf_free(&sect);
	return found;
}

static int
profile_exists(const char *profile)
{
	struct buf path = BUF_INIT, sect = BUF_INIT, line = BUF_INIT;
	FILE *f;
	char l[1024];
	int found = 0, pass;

	for (pass = 0; pass < 2 && !found; pass++) {
		home_path(&path, pass ? "AWS_CONFIG_FILE" :
		    "AWS_SHARED_CREDENTIALS_FILE", pass ? ".aws/config" :
		    ".aws/credentials");
		buf_reset(&sect);
		if (pass && strcmp(profile, "default") != 0)
			buf_printf(&sect, "[profile %s]", profile);
		else
			buf_printf(&sect, "[%s]", profile);
		if ((f = fopen(buf_str(&path), "r")) == NULL)
			continue;
		while (!found && fgets(l, sizeof(l), f))
			found = strcmp(trim(l), buf_str(&sect)) == 0;
		fclose(f);
	}
	buf_free(&path);
	buf_free(&sect);
	buf_free(&line);
	return found;
}

static int
set(struct creds *c, const char *ak, const char *sk, const char *tok,
    const char *source)
{
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = tok && *tok ? strdup(tok) : NULL;
	snprintf(c->source, sizeof(c->source), "%s", source);
	if (!c->access_key || !c->secret_key || (tok && *tok &&
	    !c->session_token)) {
		creds_free(c);
		return error_set(EXIT_TEMP, "out of memory");
	}
	return 0;
}

/* {AccessKeyId, SecretAccessKey, Token|SessionToken} */
static int
from_json(struct creds *c, const char *json, const char *source)
{
	cJSON *j = cJSON_Parse(json), *ak, *sk, *tok;
	int rc;

	if (j == NULL)
		return error_set(EXIT_TEMP, "%s: credentials are not JSON",
		    source);
	ak = cJSON_GetObjectItemCaseSensitive(j, "AccessKeyId");
	sk = cJSON_GetObjectItemCaseSensitive(j, "SecretAccessKey");
	tok = cJSON_GetObjectItemCaseSensitive(j, "Token");
	if (!cJSON_IsString(tok))
		tok = cJSON_GetObjectItemCaseSensitive(j, "SessionToken");
	if (!cJSON_IsString(ak) || !cJSON_IsString(sk)) {
		cJSON_Delete(j);
		return error_set(EXIT_PERM, "%s: no AccessKeyId and "
		    "SecretAccessKey in the credentials", source);
	}
	rc = set(c, ak->valuestring, sk->valuestring,
	    cJSON_IsString(tok) ? tok->valuestring : NULL, source);
	if (cJSON_IsString(sk))
		explicit_bzero(sk->valuestring, strlen(sk->valuestring));
	if (cJSON_IsString(tok))
		explicit_bzero(tok->valuestring, strlen(tok->valuestring));
	cJSON_Delete(j);
	return rc;
}

static int
from_process(struct creds *c, const char *cmd)
{
	struct buf out = BUF_INIT;
	FILE *p;
	int st, rc, rd;

	fflush(NULL);
	if ((p = popen(cmd, "r")) == NULL)
		return error_set(EXIT_TEMP, "credential_process: cannot run");
	rd = buf_read(&out, p, MAX_PROCESS_OUTPUT);
	st = pclose(p);
	if (rd != 0) {
		buf_wipe(&out);
		if (rd == 1)
			return error_set(EXIT_PERM, "credential_process: more "
			    "than %d bytes of output", MAX_PROCESS_OUTPUT);
		return error_wrap("credential_process");
	}
	if (st != 0) {
		buf_wipe(&out);
		return error_set(EXIT_TEMP, "credential_process: exited "
		    "with status %d", WEXITSTATUS(st));
	}
	rc = from_json(c, buf_str(&out), "process");
	buf_wipe(&out);
	return rc;
}

static int
from_imds(struct creds *c, struct http *h)
{
	struct buf role = BUF_INIT, path = BUF_INIT, doc = BUF_INIT;
	char *nl;
	int rc = -1;

	if (imds_get(h, "meta-data/iam/security-credentials/", &role) == -1)
		goto out;
	if ((nl = strchr(buf_str(&role), '\n')) != NULL)
		*nl = '\0';
	if (!*buf_str(&role)) {
		error_set(EXIT_PERM, "instance metadata: no instance role");
		goto out;
	}
	buf_printf(&path, "meta-data/iam/security-credentials/%s", role.s);
	if (imds_get(h, path.s, &doc) == -1)
		goto out;
	rc = from_json(c, doc.s, "imds");
out:
	buf_free(&role);
	buf_free(&path);
	buf_wipe(&doc);
	return rc;
}

int
creds_load(struct creds *c, const char *profile, struct http *h)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
	struct buf a = BUF_INIT, s = BUF_INIT, t = BUF_INIT;
	int explicit_profile, rc;

	memset(c, 0, sizeof(*c));
	if (ak && *ak && sk && *sk)
		return set(c, ak, sk, getenv("AWS_SESSION_TOKEN"),
		    "environment");
	if (ak && *ak)
		return error_set(EXIT_PERM, "AWS_ACCESS_KEY_ID is set "
		    "without AWS_SECRET_ACCESS_KEY");
	explicit_profile = (profile && *profile) ||
	    (getenv("AWS_PROFILE") && *getenv("AWS_PROFILE"));
	if (!profile || !*profile)
		profile = getenv("AWS_PROFILE");
	if (!profile || !*profile)
		profile = "default";
	if (profile_get(profile, "aws_access_key_id", &a) &&
	    profile_get(profile, "aws_secret_access_key", &s)) {
		profile_get(profile, "aws_session_token", &t);
		rc = set(c, a.s, s.s, t.s, "profile");
		goto out;
	}
	if (profile_get(profile, "credential_process", &a)) {
		rc = from_process(c, a.s);
		goto out;
	}
	if (explicit_profile && !profile_exists(profile)) {
		rc = error_set(EXIT_PERM, "profile '%s' not found", profile);
		goto out;
	}
	if (imds_disabled()) {
		rc = error_set(EXIT_PERM, "no AWS credentials: set "
		    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile");
		goto out;
	}
	if ((rc = from_imds(c, h)) == -1)
		error_wrap("no AWS credentials in the environment or "
		    "profile '%s', and none from the instance role", profile);
out:
	buf_wipe(&a);
	buf_wipe(&s);
	buf_wipe(&t);
	return rc;
}

void
creds_free(struct creds *c)
{
	if (c->secret_key)
		explicit_bzero(c->secret_key, strlen(c->secret_key));
	if (c->session_token)
		explicit_bzero(c->session_token, strlen(c->session_token));
	free(c->access_key);
	free(c->secret_key);
	free(c->session_token);
	memset(c, 0, sizeof(*c));
}

int
creds_region(const char *arg, const char *profile, char *out, size_t outlen)
{
	struct buf r = BUF_INIT;
	const char *s = arg;
	int rc;

	if (!s || !*s)
		s = getenv("AWS_REGION");
	if (!s || !*s)
		s = getenv("AWS_DEFAULT_REGION");
	if (!s || !*s) {
		if (!profile || !*profile)
			profile = getenv("AWS_PROFILE");
		if (profile_get(profile && *profile ? profile : "default",
		    "region", &r))
			s = r.s;
	}
	if (!s || !*s) {
		buf_free(&r);
		return error_set(EXIT_PERM, "no region: use --region or set "
		    "AWS_REGION");
	}
	if ((rc = validate_region(s)) == 0)
		snprintf(out, outlen, "%s", s);
	buf_free(&r);
	return rc;
}
