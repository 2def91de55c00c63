/*
 * pool-list: print a pool's instances as JSON Lines, filtered by EC2.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "ec2.h"
#include "error.h"
#include "pool.h"
#include "strlist.h"
#include "tool.h"
#include "validate.h"


static const char usage[] =
"usage: pool-list [--pool NAME] [--state STATE]... [--run-id ID]\n"
"                 [--class CLASS] [--usage spot|on-demand] [--type PATTERN]...\n"
"                 [--id INSTANCE]... [--all] [--region REGION] [--profile NAME]\n"
"\n"
"Print the pool's instances, one JSON object per line, filtered by EC2.\n"
"\n"
"  --pool NAME       the pool (default $RUNNER_POOL, then $GITHUB_REPOSITORY)\n"
"  --state STATE     pool state: created, running, releasing, idle, claimed,\n"
"                    terminating (repeatable or comma-separated)\n"
"  --run-id ID       instances serving this GitHub run\n"
"  --class CLASS     resource class\n"
"  --usage spot|on-demand  spot or on-demand\n"
"  --type PATTERN    instance type pattern, like c* or m5.* (repeatable)\n"
"  --id INSTANCE     only these instances (repeatable or comma-separated)\n"
"  --all             include instances shutting down or terminated\n"
"  --region REGION   AWS region (default $AWS_REGION, $AWS_DEFAULT_REGION)\n"
"  --profile NAME    AWS profile (default $AWS_PROFILE)\n"
"  -h, --help        this help\n"
"\n"
"Exit status: 0 instances printed, 1 none matched, 100 usage or permanent\n"
"error, 111 temporary failure (network, throttling, 5xx).\n";

/* One line per instance as it is read; stdout is written in blocks. */
static struct buf line;

static int
print(void *arg, const struct ec2_instance *in)
{
	(*(unsigned long *)arg)++;
	buf_reset(&line);
	if (pool_instance_write(&line, in) == -1)
		return -1;
	if (fwrite(line.s, 1, line.len, stdout) != line.len)
		return error_set(EXIT_TEMP, "write error: %s", strerror(errno));
	return 0;
}

/* Option state lives for the whole run: usage errors return at once. */
static struct strlist states, types, ids;

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "class", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "id", required_argument, NULL, 'i' },
		{ "pool", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'R' },
		{ "run-id", required_argument, NULL, 'r' },
		{ "state", required_argument, NULL, 's' },
		{ "type", required_argument, NULL, 't' },
		{ "usage", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *live[] = { "pending", "running", "stopping",
	    "stopped" };
	const char *pool = NULL, *run = NULL, *class = NULL, *use = NULL;
	const char *region = NULL, *profile = NULL;
	struct ec2_filter f[8];
	size_t nf = 0;
	unsigned long found = 0;
	struct aws *aws;
	int all = 0, c, rc;

	tool_init(argv[0]);
	if ((c = tool_exact_options(argc, argv, opts, NULL)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = 1;
			break;
		case 'c':
			if (validate_class(optarg) == -1)
				return error_wrap("--class"), tool_fail();
			class = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'i':
			if (strlist_split(&ids, optarg, validate_instance_id,
			    "--id") == -1)
				return tool_fail();
			break;
		case 'r':
			if (validate_run_id(optarg) == -1)
				return error_wrap("--run-id"), tool_fail();
			run = optarg;
			break;
		case 's':
			if (strlist_split(&states, optarg, validate_state,
			    "--state") == -1)
				return tool_fail();
			break;
		case 't':
			if (strlist_split(&types, optarg, validate_type_pattern,
			    "--type") == -1)
				return tool_fail();
			break;
		case 'u':
			if (validate_usage(optarg) == -1)
				return error_wrap("--usage"), tool_fail();
			use = optarg;
			break;
		default:
			if (tool_aws_option(c, optarg, &pool, &region, &profile))
				break;
			return tool_bad_option(argv[optind - 1], c == ':', NULL);
		}
	}
	if (optind != argc)
		return tool_usage("unexpected argument '%s'", argv[optind]);
	if (pool_name(pool, &pool) == -1)
		return tool_fail();

	f[nf].name = "tag:" POOL_T_POOL;
	f[nf].values = &pool;
	f[nf++].nvalues = 1;
	if (states.n) {
		f[nf].name = "tag:" POOL_T_STATE;
		f[nf].values = (const char *const *)states.v;
		f[nf++].nvalues = states.n;
	}
	if (run) {
		f[nf].name = "tag:" POOL_T_RUN;
		f[nf].values = &run;
		f[nf++].nvalues = 1;
	}
	if (class) {
		f[nf].name = "tag:" POOL_T_CLASS;
		f[nf].values = &class;
		f[nf++].nvalues = 1;
	}
	if (use) {
		f[nf].name = "tag:" POOL_T_USAGE;
		f[nf].values = &use;
		f[nf++].nvalues = 1;
	}
	if (types.n) {
		f[nf].name = "instance-type";
		f[nf].values = (const char *const *)types.v;
		f[nf++].nvalues = types.n;
	}
	if (!all) {
		f[nf].name = "instance-state-name";
		f[nf].values = live;
		f[nf++].nvalues = sizeof(live) / sizeof(live[0]);
	}
	if ((aws = aws_new(region, profile)) == NULL)
		return tool_fail();
	setvbuf(stdout, NULL, _IOFBF, 64 * 1024);
	rc = ec2_describe_instances(aws, f, nf, (const char *const *)ids.v,
	    ids.n, print, &found);
	if (fflush(stdout) == EOF && rc == 0)
		rc = error_set(EXIT_TEMP, "write error: %s", strerror(errno));
	aws_free(aws);
	buf_free(&line);
	if (rc == -1)
		rc = tool_fail();
	else
		rc = found ? 0 : EXIT_NO;
	strlist_free(&states);
	strlist_free(&types);
	strlist_free(&ids);
	return tool_exit(rc);
}
