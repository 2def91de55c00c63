/*
 * gh-runners: list the pool's self-hosted runners of a repository or an
 * organization, and delete the offline ones no live pool instance backs.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "ghrunner.h"
#include "github.h"
#include "jsonl.h"
#include "strlist.h"
#include "tool.h"
#include "validate.h"

#define HINT "tokens are read from $GITHUB_TOKEN or --token-file"

static const char usage[] =
"usage: gh-runners [--list] [--scope SCOPE] [--prefix PREFIX]\n"
"                  [--label LABEL]... [--group GROUP] [--live FILE]\n"
"                  [--dry-run] [--foreign]\n"
"                  [--token-file FILE] [--app-id ID] [--app-key-file FILE]\n"
"       gh-runners --groups [--scope ORG] [--group GROUP]\n"
"                  [--repository REPO]\n"
"                  [--token-file FILE] [--app-id ID] [--app-key-file FILE]\n"
"\n"
"Clean up the pool's self-hosted runners of a repository (owner/repo) or an\n"
"organization (org): every runner (all pages) whose name starts with PREFIX\n"
"or that carries one of the LABELs is considered, and deleted when it is\n"
"offline, not busy, and the instance in its name (rp-<instance-id>-<run-id>)\n"
"is not in the live set; a runner with no instance id in its name is not\n"
"the pool's and is kept, unless --foreign.  One JSON object per runner\n"
"considered:\n"
"{\"id\",\"name\",\"status\",\"busy\",\"labels\",\"instance_id\",\"action\",\n"
"\"reason\"}, action \"deleted\", \"kept\", \"would delete\" or \"failed\".\n"
"\n"
"With --groups, list the organization's runner groups instead, one\n"
"{\"id\",\"name\",\"visibility\",\"default\"} each (and \"repository\",\n"
"\"usable\" with --repository): does GROUP exist, and may REPO use it?\n"
"\n"
"  --list                 only list the runners considered (no action)\n"
"  --scope SCOPE          owner/repo or org (default $GITHUB_REPOSITORY)\n"
"  --prefix PREFIX        runner name prefix (default rp-)\n"
"  --label LABEL          also consider runners with this label (repeatable)\n"
"  --group GROUP          only runners of the organization's runner group\n"
"                         GROUP (case-insensitive, as config.sh matches it;\n"
"                         an unknown group is an error); with --groups,\n"
"                         only that group (1 when there is none)\n"
"  --groups               list runner groups, not runners\n"
"  --repository REPO      with --groups: may REPO (name or org/name) use\n"
"                         each group?  1 when GROUP exists but REPO may\n"
"                         not use it\n"
"  --live FILE            JSON Lines of the live pool instances, each with\n"
"                         \"id\" (as pool-list prints them; - for stdin);\n"
"                         needed to delete or --dry-run (/dev/null: none\n"
"                         is live)\n"
"  --dry-run              say what would be deleted, delete nothing\n"
"  --foreign              also delete offline runners that are not the\n"
"                         pool's (no instance id in their name)\n"
"  --token-file FILE      read the GitHub token from FILE (default\n"
"                         $GITHUB_TOKEN); tokens are never options\n"
"  --app-id ID            authenticate as this GitHub App (default\n"
"                         $GITHUB_APP_ID)\n"
"  --app-key-file FILE    the app's private key PEM (default\n"
"                         $GITHUB_APP_PRIVATE_KEY_FILE, or the PEM in\n"
"                         $GITHUB_APP_PRIVATE_KEY)\n"
"  -h, --help             this help\n"
"\n"
"Exit status: 0 done, 1 no runner matched (--groups: no group matched, or\n"
"REPO may not use GROUP), 100 usage or permanent error,\n"
"111 temporary failure (network, 5xx, rate limit); a runner that fails to\n"
"be deleted sets the status and the others are still handled.\n";

static int
read_live(const char *path, struct strlist *live)
{
	struct jsonl in;
	cJSON *o;
	const char *id;
	int rc;

	memset(&in, 0, sizeof(in));
	if (strcmp(path, "-") == 0) {
		in.f = stdin;
		in.name = "stdin";
	} else if ((in.f = fopen(path, "r")) == NULL)
		return error_set(EXIT_PERM, "--live '%s': %s", path,
		    strerror(errno));
	else
		in.name = path;
	while ((rc = jsonl_read(&in, &o)) == 1) {
		if ((id = jsonl_str(o, "id")) == NULL)
			id = jsonl_str(o, "instance_id");
		if (id == NULL) {
			rc = error_set(EXIT_PERM, "%s:%lu: no \"id\"", in.name,
			    in.line);
		} else if (validate_instance_id(id) == -1) {
			rc = error_wrap("%s:%lu", in.name, in.line);
		} else if (!strlist_has(live, id))
			rc = strlist_add(live, id);
		cJSON_Delete(o);
		if (rc == -1)
			break;
	}
	if (in.f != stdin)
		fclose(in.f);
	return rc == -1 ? -1 : 0;
}

/*
 * The instance id in a runner name: "i-" and 8 or 17 hex digits, at the
 * start of the name or after a '-', followed by '-' or the end.
 */
static int
instance_of(const char *name, char *out, size_t outlen)
{
	const char *p;
	size_t n;

	for (p = name; (p = strstr(p, "i-")) != NULL; p++) {
		if (p != name && p[-1] != '-')
			continue;
		n = strspn(p + 2, "0123456789abcdef");
		if ((n == 8 || n == 17) && (p[2 + n] == '-' ||
		    p[2 + n] == '\0') && n + 3 <= outlen) {
			memcpy(out, p, n + 2);
			out[n + 2] = '\0';
			return 1;
		}
	}
	return 0;
}

static int
has_label(const cJSON *r, const struct strlist *want)
{
	const cJSON *l;

	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(r, "labels")) {
		const char *name = jsonl_str(l, "name");
		size_t i;

		for (i = 0; name && i < want->n; i++)
			if (strcasecmp(name, want->v[i]) == 0)
				return 1;
	}
	return 0;
}

/* The record printed for a runner; its action is added by the caller. */
static cJSON *
record(const cJSON *r, const char *inst)
{
	cJSON *o = cJSON_CreateObject(), *labels, *l;
	const cJSON *v;

	if (o == NULL)
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(r, "id");
	cJSON_AddNumberToObject(o, "id", cJSON_IsNumber(v) ? v->valuedouble :
	    0);
	cJSON_AddStringToObject(o, "name", jsonl_str(r, "name") ?
	    jsonl_str(r, "name") : "");
	cJSON_AddStringToObject(o, "status", jsonl_str(r, "status") ?
	    jsonl_str(r, "status") : "unknown");
	cJSON_AddBoolToObject(o, "busy", cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(r, "busy")));
	labels = cJSON_AddArrayToObject(o, "labels");
	cJSON_ArrayForEach(l, cJSON_GetObjectItemCaseSensitive(r, "labels"))
		if (jsonl_str(l, "name"))
			cJSON_AddItemToArray(labels,
			    cJSON_CreateString(jsonl_str(l, "name")));
	if (inst)
		cJSON_AddStringToObject(o, "instance_id", inst);
	else
		cJSON_AddNullToObject(o, "instance_id");
	return o;
}

static int
emit(cJSON *o, const char *action, const char *reason)
{
	int rc;

	if (action)
		cJSON_AddStringToObject(o, "action", action);
	if (reason)
		cJSON_AddStringToObject(o, "reason", reason);
	rc = jsonl_write(stdout, o);
	cJSON_Delete(o);
	return rc;
}

/* Offline and idle, per GitHub's answer r. */
static const char *
keep_reason(const cJSON *r)
{
	const char *st = jsonl_str(r, "status");

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "busy")))
		return "busy";
	if (st == NULL || strcmp(st, "offline") != 0)
		return "online";
	return NULL;
}

/*
 * Decide and act on one runner: 0 done, 1 the runner failed (reported,
 * error_status() kept), -1 a fatal error (stdout).
 */
static int
handle(struct github *gh, const cJSON *r, const struct strlist *live,
    int dry, int foreign)
{
	char inst[32], why[300];
	const char *keep;
	const cJSON *idv = cJSON_GetObjectItemCaseSensitive(r, "id");
	int have = instance_of(jsonl_str(r, "name"), inst, sizeof(inst));
	long long id = cJSON_IsNumber(idv) ? (long long)idv->valuedouble : 0;
	cJSON *o = record(r, have ? inst : NULL), *again;
	long status = 0;
	int rc;

	if (o == NULL)
		return error_set(EXIT_TEMP, "out of memory");
	if ((keep = keep_reason(r)) != NULL)
		return emit(o, "kept", keep);
	if (have && strlist_has(live, inst))
		return emit(o, "kept", "instance is live");
	/* a label can match runners that are not the pool's (every
	 * self-hosted runner carries "self-hosted"): those only on demand */
	if (!have && !foreign)
		return emit(o, "kept", "not the pool's: no instance id in its "
		    "name (--foreign to delete)");
	snprintf(why, sizeof(why), "offline, %s", have ?
	    "instance not live" : "no instance id in its name");
	if (dry)
		return emit(o, "would delete", why);
	/* read it again: it may have come online since the listing */
	if ((again = ghrunner_get(gh, id, &status)) == NULL) {
		if (status == 404) {
			error_clear();
			return emit(o, "kept", "already gone");
		}
		goto failed;
	}
	keep = keep_reason(again);
	if (keep) {
		rc = emit(o, "kept", keep);
		cJSON_Delete(again);
		return rc;
	}
	cJSON_Delete(again);
	switch (ghrunner_delete(gh, id)) {
	case 0:
		return emit(o, "deleted", why);
	case 1:
		return emit(o, "kept", "already gone");
	case 2:
		return emit(o, "kept", "busy");
	}
failed:
	tool_log("runner %lld: %s", id, error_msg());
	rc = error_status();
	if (emit(o, "failed", error_msg()) == -1)
		return -1;
	error_set(rc, "runner %lld could not be deleted", id);
	return 1;
}

/*
 * --repository: "name" or "org/name" of the scope's organization; the
 * name, or NULL with error_set() (a repository of another owner can never
 * use the organization's groups).
 */
static const char *
repo_name(const struct ghscope *sc, const char *s)
{
	struct ghscope r;
	const char *slash = strchr(s, '/');
	char full[200];

	if (slash == NULL) {
		snprintf(full, sizeof(full), "%s/%s", sc->owner, s);
		if (strlen(s) > 100 || ghscope_parse(full, &r) == -1)
			return error_set(EXIT_PERM, "'%s' is not a repository "
			    "name", s), NULL;
		return s;
	}
	if (ghscope_parse(s, &r) == -1 || r.kind != GHSCOPE_REPO)
		return error_set(EXIT_PERM, "'%s' is not org/name", s), NULL;
	if (strcasecmp(r.owner, sc->owner) != 0)
		return error_set(EXIT_PERM, "'%s' is not a repository of %s: "
		    "only the organization's own repositories use its runner "
		    "groups", s, sc->owner), NULL;
	return slash + 1;
}

/* The runners of the runner group named name, or NULL. */
static cJSON *
group_runners(struct github *gh, const char *name)
{
	cJSON *g = NULL, *all = NULL;
	const cJSON *id;

	switch (ghrunner_group_check(gh, name, NULL, &g)) {
	case -1:
		return NULL;
	case 1:
		error_set(EXIT_PERM, "--group: no runner group '%s' in %s", name,
		    github_scope(gh)->name);
		return NULL;
	}
	id = cJSON_GetObjectItemCaseSensitive(g, "id");
	if (!cJSON_IsNumber(id))
		error_set(EXIT_TEMP, "github: runner group '%s' has no id",
		    name);
	else
		all = ghrunner_group_runners(gh, (long long)id->valuedouble);
	cJSON_Delete(g);
	return all;
}

/* A runner group's record; "usable" when repo is not NULL. */
static int
group_record(const cJSON *g, const char *repo, int usable)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *v;

	if (o == NULL)
		return error_set(EXIT_TEMP, "out of memory");
	v = cJSON_GetObjectItemCaseSensitive(g, "id");
	cJSON_AddNumberToObject(o, "id", cJSON_IsNumber(v) ? v->valuedouble :
	    0);
	cJSON_AddStringToObject(o, "name", jsonl_str(g, "name") ?
	    jsonl_str(g, "name") : "");
	cJSON_AddStringToObject(o, "visibility", jsonl_str(g, "visibility") ?
	    jsonl_str(g, "visibility") : "unknown");
	cJSON_AddBoolToObject(o, "default", cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(g, "default")));
	if (repo) {
		cJSON_AddStringToObject(o, "repository", repo);
		cJSON_AddBoolToObject(o, "usable", usable);
	}
	return emit(o, NULL, NULL);
}

/*
 * --groups: every group (or the one named group), usable by repo or not:
 * 0 printed, 1 none matched or repo may not use group, -1 error.
 */
static int
list_groups(struct github *gh, const char *group, const char *repo)
{
	cJSON *all = NULL, *visible = NULL, *g;
	const cJSON *v;
	int rc = -1, n = 0;

	if (group) {
		switch (ghrunner_group_check(gh, group, repo, &g)) {
		case -1:
			return -1;
		case 1:
			fprintf(stderr, "%s: no runner group '%s' in %s\n",
			    tool_name, group, github_scope(gh)->name);
			return EXIT_NO;
		case 2:
			fprintf(stderr, "%s: runner group '%s' of %s exists, but "
			    "repository %s may not use it (its repository "
			    "access)\n", tool_name, group,
			    github_scope(gh)->name, repo);
			rc = group_record(g, repo, 0) == -1 ? -1 : EXIT_NO;
			cJSON_Delete(g);
			return rc;
		}
		rc = group_record(g, repo, 1);
		cJSON_Delete(g);
		return rc;
	}
	if ((all = ghrunner_groups(gh, NULL)) == NULL ||
	    (repo && (visible = ghrunner_groups(gh, repo)) == NULL))
		goto out;
	cJSON_ArrayForEach(g, all) {
		int usable = 0;
		const cJSON *w;

		v = cJSON_GetObjectItemCaseSensitive(g, "id");
		cJSON_ArrayForEach(w, visible)
			if (cJSON_Compare(v, cJSON_GetObjectItemCaseSensitive(w,
			    "id"), 1))
				usable = 1;
		if (group_record(g, repo, usable) == -1)
			goto out;
		n++;
	}
	rc = n ? 0 : EXIT_NO;
out:
	cJSON_Delete(all);
	cJSON_Delete(visible);
	return rc;
}

/* Name the option, never its value: it might be a secret. */
int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "app-id", required_argument, NULL, 'a' },
		{ "app-key-file", required_argument, NULL, 'k' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "foreign", no_argument, NULL, 'f' },
		{ "group", required_argument, NULL, 'g' },
		{ "groups", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "label", required_argument, NULL, 'L' },
		{ "list", no_argument, NULL, 'l' },
		{ "live", required_argument, NULL, 'i' },
		{ "prefix", required_argument, NULL, 'p' },
		{ "repository", required_argument, NULL, 'r' },
		{ "scope", required_argument, NULL, 's' },
		{ "token-file", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *scope = NULL, *prefix = "rp-", *livefile = NULL;
	const char *group = NULL, *repo = NULL;
	struct ghauth_src auth = { NULL, NULL, NULL, 0 };
	struct strlist labels = STRLIST_INIT, live = STRLIST_INIT;
	struct ghscope sc;
	struct github *gh = NULL;
	cJSON *all = NULL, *r;
	unsigned long matched = 0;
	int c, dry = 0, foreign = 0, list = 0, rc = 0, failed = 0, groups = 0;

	tool_init(argv[0]);
	opterr = 0;	/* getopt would echo "--token=VALUE" */
	if ((c = tool_exact_options(argc, argv, opts, HINT)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			foreign = 1;
			break;
		case 'G':
			groups = 1;
			break;
		case 'g':
			if (validate_runner_group(optarg) == -1)
				return error_wrap("--group"), tool_fail();
			group = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'i':
			livefile = optarg;
			break;
		case 'L':
			if (*optarg == '\0' || strlen(optarg) > 256)
				return tool_usage("--label: 1 to 256 "
				    "characters");
			if (strlist_add(&labels, optarg) == -1)
				return tool_fail();
			break;
		case 'l':
			list = 1;
			break;
		case 'n':
			dry = 1;
			break;
		case 'p':
			if (*optarg == '\0' || strlen(optarg) > 64)
				return tool_usage("--prefix: 1 to 64 "
				    "characters");
			prefix = optarg;
			break;
		case 'r':
			repo = optarg;
			break;
		case 's':
			scope = optarg;
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
	if (scope == NULL && (scope = getenv("GITHUB_REPOSITORY")) == NULL)
		return tool_usage("no scope: give --scope owner/repo or org");
	if (ghscope_parse(scope, &sc) == -1)
		return error_wrap("--scope"), tool_fail();
	if (groups || group || repo) {
		if (sc.kind != GHSCOPE_ORG)
			return tool_usage("--group%s: runner groups are an "
			    "organization's, and the scope is a repository",
			    groups ? "s" : "");
		if (repo && !groups)
			return tool_usage("--repository goes with --groups");
		if (repo && (repo = repo_name(&sc, repo)) == NULL)
			return error_wrap("--repository"), tool_fail();
	}
	if (groups) {
		if (list || dry || livefile || foreign || labels.n)
			return tool_usage("--groups takes neither --list, "
			    "--dry-run, --live, --foreign nor --label");
		if ((c = tool_github_auth_check(&auth)) != 0)
			return c;
		if ((gh = github_new(&sc, &auth)) == NULL)
			goto fail;
		rc = list_groups(gh, group, repo);
		if (rc == -1)
			goto fail;
		goto out;
	}
	if (list && (dry || livefile || foreign))
		return tool_usage("--list takes neither --dry-run, --live nor "
		    "--foreign");
	/* a dry run answers what the real one would do, so it needs the same */
	if (!list && livefile == NULL)
		return tool_usage("deleting (or --dry-run) needs --live FILE, "
		    "the live pool instances (--live /dev/null: none)");
	if ((c = tool_github_auth_check(&auth)) != 0)
		return c;
	if (livefile && read_live(livefile, &live) == -1)
		goto fail;
	if ((gh = github_new(&sc, &auth)) == NULL)
		goto fail;
	if (group) {
		if ((all = group_runners(gh, group)) == NULL)
			goto fail;
	} else if ((all = ghrunner_list(gh)) == NULL)
		goto fail;
	/* every page is read before anything is deleted */
	cJSON_ArrayForEach(r, all) {
		const char *name = jsonl_str(r, "name");
		cJSON *o;
		char inst[32];

		if (name == NULL || (strncmp(name, prefix, strlen(prefix)) &&
		    !has_label(r, &labels)))
			continue;
		matched++;
		if (list) {
			o = record(r, instance_of(name, inst, sizeof(inst)) ?
			    inst : NULL);
			if (o == NULL || emit(o, NULL, NULL) == -1)
				goto fail;
			continue;
		}
		switch (handle(gh, r, &live, dry, foreign)) {
		case -1:
			goto fail;
		case 1:
			rc = tool_status_merge(rc, error_status());
			failed = 1;
			break;
		}
	}
	if (!failed && matched == 0)
		rc = EXIT_NO;
	goto out;
fail:
	rc = tool_fail();
out:
	cJSON_Delete(all);
	strlist_free(&labels);
	strlist_free(&live);
	github_free(gh);
	return tool_exit(rc);
}
