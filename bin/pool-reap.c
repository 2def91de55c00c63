/*
 * pool-reap: terminate the pool's instances that are past their deadline
 * and grace, or whose state tags are missing or invalid.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "ec2.h"
#include "error.h"
#include "isotime.h"
#include "jsonl.h"
#include "pool.h"
#include "strlist.h"
#include "tool.h"
#include "validate.h"

static const char usage[] =
"usage: pool-reap [--pool NAME] [--grace SECONDS] [--id INSTANCE]...\n"
"                 [--dry-run] [--region REGION] [--profile NAME]\n"
"\n"
"Terminate the pool's instances that are past their deadline plus the\n"
"grace period, stopped, marked terminating, or (once older than the grace\n"
"period) missing a valid state or deadline tag.  One JSON object per\n"
"instance: pool-list's members plus \"reason\" and \"terminated\".\n"
"\n"
"  --pool NAME       the pool (default $RUNNER_POOL, then $GITHUB_REPOSITORY)\n"
"  --grace SECONDS   time past the deadline before terminating (default 120)\n"
"  --id INSTANCE     judge only these instances (repeatable); one EC2 does\n"
"                    not show yet (just launched: EC2 is eventually\n"
"                    consistent) is looked for again for up to 15 seconds\n"
"  --dry-run         print what would be terminated; terminate nothing\n"
"  --region REGION   AWS region (default $AWS_REGION, $AWS_DEFAULT_REGION)\n"
"  --profile NAME    AWS profile (default $AWS_PROFILE)\n"
"  -h, --help        this help\n"
"\n"
"Exit status: 0 done (whether or not anything was reaped), 100 usage or\n"
"permanent error, 111 temporary failure (network, throttling, 5xx).  An\n"
"instance EC2 refuses to terminate is printed with \"error\"; the others\n"
"are still terminated, and the status is that of the failure.\n";

struct reap {
	time_t now;
	long long grace;
	struct strlist ids;
	struct strlist seen;	/* every instance EC2 showed */
	cJSON *out;		/* array of records to print */
};

static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

static int
not_found(struct aws *a)
{
	return strcmp(aws_error_code(a), "InvalidInstanceID.NotFound") == 0;
}

/* An instance's launch time, unix seconds; 0 when unreadable (old). */
static time_t
launched(const char *s)
{
	time_t t;

	if (isotime_parse(s, &t) == -1) {
		error_clear();
		return 0;
	}
	return t;
}

static int
judge(void *arg, const struct ec2_instance *in)
{
	struct reap *r = arg;
	const char *state = ec2_tag(in, POOL_T_STATE);
	const char *dl = ec2_tag(in, POOL_T_DEADLINE);
	long long deadline = -1;
	int old = r->now - launched(in->launch_time) > r->grace;
	const char *reason = NULL;
	cJSON *o;

	if (!strlist_has(&r->seen, in->id) &&
	    strlist_add(&r->seen, in->id) == -1)
		return error_set(EXIT_TEMP, "out of memory");
	if (dl && validate_number(dl, 0, 99999999999LL, &deadline) == -1)
		deadline = -1;
	error_clear();
	if (strcmp(in->state, "stopped") == 0 ||
	    strcmp(in->state, "stopping") == 0)
		reason = "stopped";
	else if (state && strcmp(state, "terminating") == 0)
		reason = "terminating";
	else if (!pool_state_valid(state) && old)
		reason = state ? "invalid state tag" : "no state tag";
	else if (deadline < 0 && old)
		reason = dl ? "invalid deadline tag" : "no deadline tag";
	else if (deadline >= 0 && (long long)r->now > deadline + r->grace)
		reason = "expired";
	if (reason == NULL)
		return 0;
	if ((o = pool_instance_json(in)) == NULL ||
	    strlist_add(&r->ids, in->id) == -1)
		return error_set(EXIT_TEMP, "out of memory");
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddItemToArray(r->out, o);
	return 0;
}

static void
mark(void *arg, const char *id, const char *state)
{
	cJSON *o, *out = arg;

	(void)state;
	cJSON_ArrayForEach(o, out)
		if (strcmp(jsonl_str(o, "id"), id) == 0)
			cJSON_ReplaceItemInObject(o, "terminated",
			    cJSON_CreateTrue());
}

/*
 * Terminate ids[0..n) in one call; a refused call is split in halves, so
 * one instance EC2 refuses blocks no other and a batch costs about
 * 2 log2(n) calls, not n (TerminateInstances holds 100 calls, refilled 5 a
 * second).  A throttled call is waited out; a NotFound for one instance
 * right after its launch is EC2 catching up and tried again.
 */
static void
split(struct aws *a, const char **ids, size_t n, cJSON *out, int *rc,
    size_t *failed)
{
	cJSON *o;
	int i;

	if (n == 0)
		return;
	for (i = 0;; i++) {
		if (ec2_terminate(a, ids, n, mark, out) == 0)
			return;
		if (error_status() == EXIT_TEMP && i < 6)
			nap_ms(1000L << (i < 3 ? i : 3));
		else if (n == 1 && not_found(a) && i < 4)
			nap_ms(1000L << i);
		else
			break;
	}
	if (n > 1 && error_status() != EXIT_TEMP) {
		split(a, ids, n / 2, out, rc, failed);
		split(a, ids + n / 2, n - n / 2, out, rc, failed);
		return;
	}
	cJSON_ArrayForEach(o, out) {
		size_t j;

		for (j = 0; j < n; j++)
			if (strcmp(jsonl_str(o, "id"), ids[j]) == 0)
				break;
		if (j == n || cJSON_IsTrue(cJSON_GetObjectItem(o,
		    "terminated")))
			continue;
		cJSON_AddStringToObject(o, "error", error_msg());
		(*failed)++;
	}
	*rc = tool_status_merge(*rc, error_status());
}

/* Option state lives for the whole run: usage errors return at once. */
static struct strlist only;

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "grace", required_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ "id", required_argument, NULL, 'i' },
		{ "pool", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *live[] = { "pending", "running", "stopping",
	    "stopped" };
	const char *pool = NULL, *region = NULL, *profile = NULL;
	struct ec2_filter f[2];
	struct reap r;
	struct aws *aws = NULL;
	cJSON *o;
	size_t failed = 0, i;
	int c, dry = 0, rc = 0;

	tool_init(argv[0]);
	memset(&r, 0, sizeof(r));
	r.grace = 120;
	if ((c = tool_exact_options(argc, argv, opts, NULL)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (validate_number(optarg, 0, 7 * 86400, &r.grace)
			    == -1)
				return error_wrap("--grace"), tool_fail();
			break;
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'i':
			if (strlist_split(&only, optarg, validate_instance_id,
			    "--id") == -1)
				return tool_fail();
			break;
		case 'n':
			dry = 1;
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
	f[0].name = "tag:" POOL_T_POOL;
	f[0].values = &pool;
	f[0].nvalues = 1;
	f[1].name = "instance-state-name";
	f[1].values = live;
	f[1].nvalues = sizeof(live) / sizeof(live[0]);
	r.now = time(NULL);
	if ((r.out = cJSON_CreateArray()) == NULL ||
	    (aws = aws_new(region, profile)) == NULL ||
	    ec2_describe_instances(aws, f, 2, (const char *const *)only.v,
	    only.n, judge, &r) == -1)
		goto fail;
	/* named instances EC2 does not show yet: just launched (a failed
	 * provision cleaning up), they appear within seconds; nothing
	 * launched may be left running */
	for (i = 0; only.n && i < 6; i++) {
		struct strlist miss = { NULL, 0, 0 };
		size_t j;

		for (j = 0; j < only.n; j++)
			if (!strlist_has(&r.seen, only.v[j]) &&
			    strlist_add(&miss, only.v[j]) == -1)
				goto fail;
		if (miss.n == 0) {
			strlist_free(&miss);
			break;
		}
		if (i == 5) {
			tool_log("%zu instance%s not found: %s%s", miss.n,
			    miss.n == 1 ? "" : "s", miss.v[0],
			    miss.n > 1 ? " ..." : "");
			strlist_free(&miss);
			break;
		}
		nap_ms(500L << i);	/* 0.5 + 1 + 2 + 4 + 8 s */
		if (ec2_describe_instances(aws, f, 2,
		    (const char *const *)miss.v, miss.n, judge, &r) == -1) {
			strlist_free(&miss);
			goto fail;
		}
		strlist_free(&miss);
	}
	cJSON_ArrayForEach(o, r.out)
		cJSON_AddBoolToObject(o, "terminated", 0);
	if (!dry && r.ids.n && ec2_terminate(aws, (const char *const *)r.ids.v,
	    r.ids.n, mark, r.out) == -1) {
		/* a batch failed: the rest in halves, so one instance EC2
		 * refuses blocks no other, and each failure is recorded */
		struct strlist left = { NULL, 0, 0 };

		cJSON_ArrayForEach(o, r.out)
			if (!cJSON_IsTrue(cJSON_GetObjectItem(o, "terminated")) &&
			    strlist_add(&left, jsonl_str(o, "id")) == -1) {
				strlist_free(&left);
				goto fail;
			}
		split(aws, (const char **)left.v, left.n, r.out, &rc, &failed);
		strlist_free(&left);
	}
	cJSON_ArrayForEach(o, r.out)
		if (jsonl_write(stdout, o) == -1)
			goto fail;
	if (failed)
		tool_log("%zu of %zu instances could not be terminated", failed,
		    r.ids.n);
	if (r.ids.n - failed)
		tool_log("%s %zu instance%s", dry ? "would terminate" :
		    "terminated", r.ids.n - failed,
		    r.ids.n - failed == 1 ? "" : "s");
	goto out;
fail:
	rc = tool_fail();
out:
	cJSON_Delete(r.out);
	strlist_free(&r.ids);
	strlist_free(&r.seen);
	strlist_free(&only);
	aws_free(aws);
	return tool_exit(rc);
}
