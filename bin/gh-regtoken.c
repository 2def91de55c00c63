/*
 * gh-regtoken: a runner registration token for a repository or an
 * organization, printed or stored straight into an SSM SecureString.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "error.h"
#include "ghrunner.h"
#include "github.h"
#include "isotime.h"
#include "jsonl.h"
#include "ssm.h"
#include "tool.h"
#include "validate.h"

#define EXPIRY_MARGIN (10 * 60)	/* a stored token this close to expiry is
				 * refreshed whatever its age */

#define HINT "tokens are read from $GITHUB_TOKEN or --token-file"

static const char usage[] =
"usage: gh-regtoken [--scope SCOPE] [--token-file FILE]\n"
"                   [--app-id ID] [--app-key-file FILE]\n"
"                   [--store PARAM [--if-older-than MINUTES]]\n"
"                   [--region REGION] [--profile NAME]\n"
"\n"
"Get a self-hosted runner registration token for a repository (owner/repo)\n"
"or an organization (org).  Without --store print {\"token\",\"expires_at\",\n"
"\"scope\",\"url\"}; with --store, also get a remove token and write both to\n"
"the SSM SecureString PARAM as {\"token\",\"remove_token\",\"expires_at\",\n"
"\"scope\",\"url\",\"fetched_at\"}, printing only {\"parameter\",\"expires_at\",\n"
"\"scope\",\"stored\":true}.\n"
"\n"
"  --scope SCOPE          owner/repo or org (default $GITHUB_REPOSITORY)\n"
"  --token-file FILE      read the GitHub token from FILE (default\n"
"                         $GITHUB_TOKEN); tokens are never options\n"
"  --app-id ID            authenticate as this GitHub App (default\n"
"                         $GITHUB_APP_ID)\n"
"  --app-key-file FILE    the app's private key PEM (default\n"
"                         $GITHUB_APP_PRIVATE_KEY_FILE, or the PEM in\n"
"                         $GITHUB_APP_PRIVATE_KEY)\n"
"  --store PARAM          store into this SSM parameter (/path/name)\n"
"  --if-older-than MINUTES\n"
"                         with --store: do nothing, printing {\"parameter\",\n"
"                         \"stored\":false,\"age_min\"}, while the stored\n"
"                         token is younger than MINUTES (1-1440) and not\n"
"                         within 10 minutes of expiring\n"
"  --region REGION        AWS region (default $AWS_REGION, $AWS_DEFAULT_REGION)\n"
"  --profile NAME         AWS profile (default $AWS_PROFILE)\n"
"  -h, --help             this help\n"
"\n"
"Exit status: 0 done, 100 usage or permanent error (bad input, missing\n"
"credentials or permission), 111 temporary failure (network, 5xx, rate\n"
"limit).\n";

/* The stored token is fresh enough: print so and return 1. */
static int
fresh(struct aws *aws, const char *param, const struct ghscope *sc,
    long long minutes, int *rc)
{
	struct ssm_param p;
	cJSON *j = NULL, *o = NULL;
	const char *fetched, *expires, *scope;
	time_t tf, te, now = time(NULL);
	long long age;
	int ok = 0;

	*rc = 0;
	if (ssm_get(aws, param, 1, &p) == -1) {
		if (error_status() == EXIT_NO) {	/* not stored yet */
			error_clear();
			return 0;
		}
		*rc = -1;
		return 0;
	}
	j = cJSON_Parse(p.value);
	fetched = jsonl_str(j, "fetched_at");
	expires = jsonl_str(j, "expires_at");
	scope = jsonl_str(j, "scope");
	if (fetched && expires && scope && strcmp(scope, sc->name) == 0 &&
	    isotime_parse(fetched, &tf) == 0 &&
	    isotime_parse(expires, &te) == 0) {
		age = tf <= now ? (long long)(now - tf) / 60 : 0;
		if (age < minutes && te - now > EXPIRY_MARGIN && tf <= now + 60)
			ok = 1;
	}
	error_clear();
	if (ok) {
		if ((o = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddStringToObject(o, "parameter", param) ||
		    !cJSON_AddFalseToObject(o, "stored") ||
		    !cJSON_AddNumberToObject(o, "age_min", (double)age) ||
		    !cJSON_AddStringToObject(o, "expires_at", expires) ||
		    !cJSON_AddStringToObject(o, "scope", scope))
			*rc = error_set(EXIT_TEMP, "out of memory");
		else
			*rc = jsonl_write(stdout, o);
	}
	github_json_wipe(j);
	cJSON_Delete(j);
	cJSON_Delete(o);
	ssm_param_free(&p);
	return ok;
}

static int
store(struct github *gh, struct aws *aws, const char *param)
{
	struct ghrunner_token reg, rem;
	cJSON *v = NULL, *o = NULL;
	char now[32], *value = NULL;
	const char *scope = github_scope(gh)->name;
	int rc = -1;

	memset(&rem, 0, sizeof(rem));
	if (ghrunner_token(gh, "registration-token", &reg) == -1)
		return -1;
	if (ghrunner_token(gh, "remove-token", &rem) == -1)
		goto out;
	isotime_format(time(NULL), now, sizeof(now));
	if ((v = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(v, "token", reg.token) ||
	    !cJSON_AddStringToObject(v, "remove_token", rem.token) ||
	    !cJSON_AddStringToObject(v, "expires_at", reg.expires_at) ||
	    !cJSON_AddStringToObject(v, "scope", scope) ||
	    !cJSON_AddStringToObject(v, "url", github_runner_url(gh)) ||
	    !cJSON_AddStringToObject(v, "fetched_at", now) ||
	    (value = cJSON_PrintUnformatted(v)) == NULL) {
		error_set(EXIT_TEMP, "out of memory");
		goto out;
	}
	if (ssm_put(aws, param, value, 1, 1, NULL) == -1)
		goto out;
	if ((o = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(o, "parameter", param) ||
	    !cJSON_AddStringToObject(o, "expires_at", reg.expires_at) ||
	    !cJSON_AddStringToObject(o, "scope", scope) ||
	    !cJSON_AddTrueToObject(o, "stored")) {
		error_set(EXIT_TEMP, "out of memory");
		goto out;
	}
	rc = jsonl_write(stdout, o);
out:
	if (value) {
		explicit_bzero(value, strlen(value));
		free(value);
	}
	github_json_wipe(v);
	cJSON_Delete(v);
	cJSON_Delete(o);
	ghrunner_token_free(&reg);
	ghrunner_token_free(&rem);
	return rc;
}

static int
print(struct github *gh)
{
	struct ghrunner_token t;
	cJSON *o = NULL;
	int rc = -1;

	if (ghrunner_token(gh, "registration-token", &t) == -1)
		return -1;
	if ((o = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(o, "token", t.token) ||
	    !cJSON_AddStringToObject(o, "expires_at", t.expires_at) ||
	    !cJSON_AddStringToObject(o, "scope", github_scope(gh)->name) ||
	    !cJSON_AddStringToObject(o, "url", github_runner_url(gh)))
		error_set(EXIT_TEMP, "out of memory");
	else
		rc = jsonl_write(stdout, o);
	github_json_wipe(o);
	cJSON_Delete(o);
	ghrunner_token_free(&t);
	return rc;
}

/* Name the option, never its value: it might be a secret. */
int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "app-id", required_argument, NULL, 'a' },
		{ "app-key-file", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "if-older-than", required_argument, NULL, 'o' },
		{ "profile", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'R' },
		{ "scope", required_argument, NULL, 's' },
		{ "store", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	const char *region = NULL, *profile = NULL, *param = NULL;
	const char *scope = NULL;
	struct ghauth_src auth = { NULL, NULL, NULL, 0 };
	struct ghscope sc;
	struct github *gh = NULL;
	struct aws *aws = NULL;
	long long minutes = -1;
	int c, rc = 0;

	tool_init(argv[0]);
	opterr = 0;	/* getopt would echo "--token=VALUE" */
	if ((c = tool_exact_options(argc, argv, opts, HINT)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'o':
			if (validate_number(optarg, 1, 1440, &minutes) == -1)
				return error_wrap("--if-older-than"),
				    tool_fail();
			break;
		case 's':
			scope = optarg;
			break;
		case 'S':
			if (validate_parameter_name(optarg) == -1)
				return error_wrap("--store"), tool_fail();
			param = optarg;
			break;
		default:
			if (tool_aws_option(c, optarg, NULL, &region, &profile) ||
			    tool_github_option(c, optarg, &auth))
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
	if (minutes >= 0 && param == NULL)
		return tool_usage("--if-older-than needs --store");
	if ((c = tool_github_auth_check(&auth)) != 0)
		return c;
	/* a bad region is a bad region, --store or not */
	if (region && validate_region(region) == -1)
		return error_wrap("--region"), tool_fail();
	if ((gh = github_new(&sc, &auth)) == NULL)
		goto fail;
	if (param) {
		if ((aws = aws_new(region, profile)) == NULL)
			goto fail;
		if (minutes >= 0 && fresh(aws, param, &sc, minutes, &rc))
			goto done;
		if (rc == -1 || store(gh, aws, param) == -1)
			goto fail;
	} else if (print(gh) == -1)
		goto fail;
done:
	if (rc == -1)
		goto fail;
	goto out;
fail:
	rc = tool_fail();
out:
	github_free(gh);
	aws_free(aws);
	return tool_exit(rc);
}
