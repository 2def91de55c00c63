/*
 * gh-runner-release: resolve a release of the GitHub Actions runner (the
 * newest, or a pinned version) with the SHA-256 of its Linux packages, and
 * say when github.com would refuse that version.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "github.h"
#include "isotime.h"
#include "jsonl.h"
#include "runnerver.h"
#include "tool.h"

#define HINT "tokens are read from $GITHUB_TOKEN or --token-file"
#define MAX_ARCH 3

static const char usage[] =
"usage: gh-runner-release [--version VERSION] [--arch ARCH]...\n"
"                         [--repo OWNER/REPO] [--scope SCOPE]\n"
"                         [--token-file FILE] [--app-id ID]\n"
"                         [--app-key-file FILE]\n"
"\n"
"Resolve a release of the GitHub Actions runner: the newest one that is\n"
"neither a draft nor a prerelease (VERSION 'latest', the default) or\n"
"VERSION, with the SHA-256 of its Linux package for each ARCH as the\n"
"release notes publish it.  Prints {\"version\",\"tag\",\"published_at\",\n"
"\"latest\",\"sha256\":{ARCH:HEX,...},\"warnings\":[...]}.  A warning, also\n"
"logged, names a version github.com no longer registers (below 2.329.0)\n"
"or no longer gives jobs (a newer release was published more than 30 days\n"
"ago).\n"
"\n"
"  --version VERSION      latest (default) or N.N.N\n"
"  --arch ARCH            x64, arm64 or arm (repeatable; default x64 and\n"
"                         arm64)\n"
"  --repo OWNER/REPO      the releases' repository (default actions/runner)\n"
"  --scope SCOPE          owner/repo or org whose GitHub App installation\n"
"                         token is used (default $GITHUB_REPOSITORY)\n"
"  --token-file FILE      read the GitHub token from FILE (default\n"
"                         $GITHUB_TOKEN); without any credentials the\n"
"                         calls go unauthenticated\n"
"  --app-id ID            authenticate as this GitHub App (default\n"
"                         $GITHUB_APP_ID)\n"
"  --app-key-file FILE    the app's private key PEM (default\n"
"                         $GITHUB_APP_PRIVATE_KEY_FILE, or the PEM in\n"
"                         $GITHUB_APP_PRIVATE_KEY)\n"
"  -h, --help             this help\n"
"\n"
"Exit status: 0 resolved (with or without warnings), 100 usage or\n"
"permanent error (no such release, no checksum for an ARCH), 111\n"
"temporary failure (network, 5xx, rate limit).\n";

struct want {
	const char *repo;
	const char *version;		/* NULL: latest */
	struct runnerver v;
	const char *arch[MAX_ARCH];
	int narch;
};

/* GET path; a 404 becomes "no such release" rather than a permission hint. */
static cJSON *
get(struct github *gh, const char *path, const struct want *w)
{
	cJSON *j;
	long status;

	j = github_call(gh, "GET", path, NULL, &status, NULL);
	if (j == NULL && status == 404) {
		error_clear();
		error_set(EXIT_PERM, "no release %s of %s (GitHub answered 404 "
		    "for %s)", w->version ? w->version : "latest", w->repo,
		    path);
	}
	if (j && !cJSON_IsObject(j) && !cJSON_IsArray(j)) {
		cJSON_Delete(j);
		j = NULL;
		error_set(EXIT_TEMP, "github: %s: unexpected reply", path);
	}
	return j;
}

/* A release's version, if it is a full release with an N.N.N tag. */
static int
release_version(const cJSON *r, struct runnerver *v)
{
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "draft")) ||
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "prerelease")) ||
	    runnerver_parse(jsonl_str(r, "tag_name"), v) == -1) {
		error_clear();
		return -1;
	}
	return 0;
}

/*
 * Of a page of releases (newest first): the newest full release's version
 * into latest (if not yet set), and the earliest publication of a full
 * release newer than w->v into *since (0: none).
 */
static void
scan(const cJSON *list, const struct want *w, char *latest, size_t ll,
    time_t *since)
{
	const cJSON *r;
	struct runnerver v;
	time_t t;

	cJSON_ArrayForEach(r, list) {
		if (release_version(r, &v) == -1)
			continue;
		if (*latest == '\0')
			snprintf(latest, ll, "%lu.%lu.%lu", v.major, v.minor,
			    v.patch);
		if (runnerver_cmp(&v, &w->v) > 0 &&
		    isotime_parse(jsonl_str(r, "published_at"), &t) == 0 &&
		    (*since == 0 || t < *since))
			*since = t;
		error_clear();
	}
}

static int
checksum(const cJSON *rel, const char *ver, const char *arch, char *out)
{
	const cJSON *a;
	char name[128];

	if (runnerver_body_sha256(jsonl_str(rel, "body"), arch, out, 65))
		return 0;
	/* older notes lack the markers: the asset's own digest */
	snprintf(name, sizeof(name), "actions-runner-linux-%s-%s.tar.gz", arch,
	    ver);
	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(rel, "assets")) {
		const char *n = jsonl_str(a, "name");

		if (n && strcmp(n, name) == 0 &&
		    runnerver_digest_sha256(jsonl_str(a, "digest"), out, 65))
			return 0;
	}
	return error_set(EXIT_PERM, "release v%s of the runner publishes no "
	    "SHA-256 for linux-%s", ver, arch);
}

static int warn(cJSON *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
warn(cJSON *warnings, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tool_log("warning: %s", msg);
	return cJSON_AddItemToArray(warnings, cJSON_CreateString(msg)) ? 0 :
	    error_set(EXIT_TEMP, "out of memory");
}

static int
resolve(struct github *gh, struct want *w)
{
	struct runnerver v, min;
	cJSON *rel = NULL, *list = NULL, *o = NULL, *sums, *warnings;
	char path[256], ver[32], latest[32] = "", hex[65], when[32], old[32];
	const char *published;
	time_t since = 0, now = time(NULL);
	int i, rc = -1;

	if (w->version)
		snprintf(path, sizeof(path), "/repos/%s/releases/tags/v%lu.%lu.%lu",
		    w->repo, w->v.major, w->v.minor, w->v.patch);
	else
		snprintf(path, sizeof(path), "/repos/%s/releases/latest",
		    w->repo);
	if ((rel = get(gh, path, w)) == NULL)
		goto out;
	if (runnerver_parse(jsonl_str(rel, "tag_name"), &v) == -1) {
		error_wrap("github: release tag_name");
		goto out;
	}
	snprintf(ver, sizeof(ver), "%lu.%lu.%lu", v.major, v.minor, v.patch);
	if (w->version == NULL) {
		snprintf(latest, sizeof(latest), "%s", ver);
	} else {
		w->v = v;
		snprintf(path, sizeof(path), "/repos/%s/releases?per_page=100",
		    w->repo);
		if ((list = get(gh, path, w)) == NULL)
			goto out;
		scan(list, w, latest, sizeof(latest), &since);
	}
	published = jsonl_str(rel, "published_at");
	if ((o = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(o, "version", ver) ||
	    !cJSON_AddStringToObject(o, "tag", jsonl_str(rel, "tag_name")) ||
	    !(published ? cJSON_AddStringToObject(o, "published_at",
	    published) : cJSON_AddNullToObject(o, "published_at")) ||
	    !(*latest ? cJSON_AddStringToObject(o, "latest", latest) :
	    cJSON_AddNullToObject(o, "latest")) ||
	    (sums = cJSON_AddObjectToObject(o, "sha256")) == NULL ||
	    (warnings = cJSON_AddArrayToObject(o, "warnings")) == NULL) {
		error_set(EXIT_TEMP, "out of memory");
		goto out;
	}
	for (i = 0; i < w->narch; i++) {
		if (checksum(rel, ver, w->arch[i], hex) == -1)
			goto out;
		if (!cJSON_AddStringToObject(sums, w->arch[i], hex)) {
			error_set(EXIT_TEMP, "out of memory");
			goto out;
		}
	}
	runnerver_parse(RUNNERVER_MIN_REGISTER, &min);
	if (runnerver_cmp(&v, &min) < 0 && warn(warnings, "runner v%s is "
	    "below %s, the oldest version github.com lets register", ver,
	    RUNNERVER_MIN_REGISTER) == -1)
		goto out;
	if (since) {
		isotime_format(since, when, sizeof(when));
		snprintf(old, sizeof(old), "%s", ver);
		if (now - since > (time_t)RUNNERVER_SUPERSEDED_DAYS * 86400) {
			if (warn(warnings, "runner v%s was superseded on %s, more "
			    "than 30 days ago: github.com gives it no jobs",
			    old, when) == -1)
				goto out;
		} else if (warn(warnings, "runner v%s was superseded on %s: "
		    "github.com gives it no jobs 30 days after that", old,
		    when) == -1)
			goto out;
	}
	rc = jsonl_write(stdout, o);
out:
	cJSON_Delete(rel);
	cJSON_Delete(list);
	cJSON_Delete(o);
	return rc;
}

static int
repo_ok(const char *s)
{
	struct ghscope sc;

	if (ghscope_parse(s, &sc) == -1 || sc.kind != GHSCOPE_REPO)
		return error_set(EXIT_PERM, "'%.100s' is not owner/repo", s);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "app-id", required_argument, NULL, 'a' },
		{ "app-key-file", required_argument, NULL, 'k' },
		{ "arch", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ "repo", required_argument, NULL, 'r' },
		{ "scope", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 't' },
		{ "version", required_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static struct want w;
	struct ghauth_src auth = { NULL, NULL, NULL, 1 };
	struct ghscope sc;
	struct github *gh = NULL;
	const char *scope = NULL;
	int c, i, rc = 0;

	tool_init(argv[0]);
	w.repo = "actions/runner";
	opterr = 0;	/* getopt would echo "--token=VALUE" */
	if ((c = tool_exact_options(argc, argv, opts, HINT)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'A':
			if (runnerver_arch_ok(optarg) == -1)
				return error_wrap("--arch"), tool_fail();
			for (i = 0; i < w.narch; i++)
				if (strcmp(w.arch[i], optarg) == 0)
					break;
			if (i == w.narch && w.narch < MAX_ARCH)
				w.arch[w.narch++] = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'r':
			if (repo_ok(optarg) == -1)
				return error_wrap("--repo"), tool_fail();
			w.repo = optarg;
			break;
		case 's':
			scope = optarg;
			break;
		case 'V':
			if (strcmp(optarg, "latest") == 0) {
				w.version = NULL;
				break;
			}
			if (runnerver_parse(optarg, &w.v) == -1)
				return error_wrap("--version"), tool_fail();
			w.version = optarg;
			break;
		default:
			if (tool_github_option(c, optarg, &auth))
				break;
			return tool_bad_option(argv[optind - 1], c == ':', HINT);
		}
	}
	if (optind < argc)
		return tool_usage("unexpected argument (tokens are read from "
		    "$GITHUB_TOKEN or --token-file, never argv)");
	if (w.narch == 0) {
		w.arch[w.narch++] = "x64";
		w.arch[w.narch++] = "arm64";
	}
	if (scope == NULL && (scope = getenv("GITHUB_REPOSITORY")) == NULL)
		scope = w.repo;
	if (ghscope_parse(scope, &sc) == -1)
		return error_wrap("--scope"), tool_fail();
	if ((c = tool_github_auth_check(&auth)) != 0)
		return c;
	if ((gh = github_new(&sc, &auth)) == NULL || resolve(gh, &w) == -1)
		rc = tool_fail();
	github_free(gh);
	return tool_exit(rc);
}
