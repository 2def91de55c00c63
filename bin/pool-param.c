/*
 * pool-param: read, write or delete one SSM parameter; values travel
 * through stdin and stdout only, never argv.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "error.h"
#include "jsonl.h"
#include "ssm.h"
#include "tool.h"
#include "validate.h"

/* a Standard parameter (what we put) holds 4 KB: "Standard parameters ...
 * Maximum value size 4 KB" (Systems Manager, "Managing parameter tiers");
 * the Advanced tier costs money and is never chosen silently */
#define MAX_VALUE 4096

static const char usage[] =
"usage: pool-param get [--decrypt] [--region REGION] [--profile NAME] NAME\n"
"       pool-param put [--secure] [--no-overwrite] [--region REGION]\n"
"                      [--profile NAME] NAME < VALUE\n"
"       pool-param delete [--region REGION] [--profile NAME] NAME\n"
"\n"
"Read, write or delete the SSM parameter NAME (/path/name).  put reads the\n"
"value from stdin (UTF-8, one final newline dropped, at most 4096 bytes);\n"
"get "
"prints {\"name\",\"type\",\"value\",\"version\",\"last_modified\"}; put\n"
"prints {\"name\",\"version\"}; delete prints {\"name\",\"deleted\":true}.\n"
"\n"
"  --decrypt         get: decrypt a SecureString (else its value is withheld)\n"
"  --secure          put: store as SecureString (KMS key alias/aws/ssm)\n"
"  --no-overwrite    put: fail if the parameter exists\n"
"  --region REGION   AWS region (default $AWS_REGION, $AWS_DEFAULT_REGION)\n"
"  --profile NAME    AWS profile (default $AWS_PROFILE)\n"
"  -h, --help        this help\n"
"\n"
"Exit status: 0 done, 1 no such parameter (get, delete) or it exists\n"
"(put --no-overwrite), 100 usage or permanent error, 111 temporary failure.\n";

static int
read_value(struct buf *v)
{
	switch (buf_read(v, stdin, MAX_VALUE)) {
	case -1:
		return error_wrap("stdin");
	case 1:
		return error_set(EXIT_PERM, "stdin: value longer than %d bytes, "
		    "SSM's limit for a standard parameter", MAX_VALUE);
	}
	if (validate_utf8(v->s, v->len) == -1)
		return error_wrap("stdin: the value");
	if (v->len && v->s[v->len - 1] == '\n')
		v->s[--v->len] = '\0';
	if (v->len == 0)
		return error_set(EXIT_PERM, "stdin: empty value");
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "decrypt", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "no-overwrite", no_argument, NULL, 'o' },
		{ "profile", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'R' },
		{ "secure", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	const char *region = NULL, *profile = NULL, *cmd, *name;
	int decrypt = 0, secure = 0, overwrite = 1, c, rc = 0;
	struct aws *aws = NULL;
	struct buf value = BUF_INIT;
	struct ssm_param p;
	long long version = 0;
	cJSON *o = NULL;

	tool_init(argv[0]);
	memset(&p, 0, sizeof(p));
	if ((c = tool_exact_options(argc, argv, opts, NULL)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			decrypt = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'o':
			overwrite = 0;
			break;
		case 's':
			secure = 1;
			break;
		default:
			if (tool_aws_option(c, optarg, NULL, &region, &profile))
				break;
			return tool_bad_option(argv[optind - 1], c == ':', NULL);
		}
	}
	if (argc - optind != 2)
		return tool_usage("expected a command and a parameter name");
	cmd = argv[optind];
	name = argv[optind + 1];
	if (strcmp(cmd, "get") && strcmp(cmd, "put") && strcmp(cmd, "delete"))
		return tool_usage("unknown command '%s' (get, put, delete)",
		    cmd);
	if ((decrypt && strcmp(cmd, "get")) ||
	    ((secure || !overwrite) && strcmp(cmd, "put")))
		return tool_usage("option not valid with '%s'", cmd);
	if (validate_parameter_name(name) == -1)
		return tool_fail();
	if (strcmp(cmd, "put") == 0 && read_value(&value) == -1)
		goto fail;
	if ((o = cJSON_CreateObject()) == NULL ||
	    (aws = aws_new(region, profile)) == NULL)
		goto fail;
	cJSON_AddStringToObject(o, "name", name);
	if (strcmp(cmd, "get") == 0) {
		if (ssm_get(aws, name, decrypt, &p) == -1)
			goto fail;
		cJSON_AddStringToObject(o, "type", p.type);
		if (strcmp(p.type, "SecureString") == 0 && !decrypt)
			cJSON_AddNullToObject(o, "value");
		else
			cJSON_AddStringToObject(o, "value", p.value);
		cJSON_AddNumberToObject(o, "version", (double)p.version);
		cJSON_AddNumberToObject(o, "last_modified", p.last_modified);
	} else if (strcmp(cmd, "put") == 0) {
		if (ssm_put(aws, name, value.s, secure, overwrite,
		    &version) == -1) {
			if (strcmp(aws_error_code(aws),
			    "ParameterAlreadyExists") == 0)
				error_reclass(EXIT_NO);
			goto fail;
		}
		cJSON_AddNumberToObject(o, "version", (double)version);
	} else {
		if (ssm_delete(aws, name) == -1)
			goto fail;
		cJSON_AddTrueToObject(o, "deleted");
	}
	if (jsonl_write(stdout, o) == -1)
		goto fail;
	goto out;
fail:
	rc = tool_fail();
out:
	if (o) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "value");

		if (cJSON_IsString(v))
			explicit_bzero(v->valuestring, strlen(v->valuestring));
	}
	cJSON_Delete(o);
	ssm_param_free(&p);
	buf_wipe(&value);
	aws_free(aws);
	return tool_exit(rc);
}
