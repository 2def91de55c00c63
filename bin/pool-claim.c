/*
 * pool-claim: ask idle instances' agents for ownership by tagging them with
 * this run's claim, and print those granted to this run.
 *
 * The agent on each instance is the only writer of ownership (the
 * single-writer rule of ec2-runner-pool(7)): it grants the earliest claim it sees.
 * This tool only adds claims, reads back, and withdraws what was not
 * granted in time.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <openssl/rand.h>

#include "aws.h"
#include "ec2.h"
#include "error.h"
#include "jsonl.h"
#include "pool.h"
#include "strlist.h"
#include "tool.h"
#include "validate.h"

static const char usage[] =
"usage: pool-claim --run-id ID [--count N] [--timeout SECONDS]\n"
"                  [--answer-within SECONDS] [--interval MS]\n"
"                  [--region REGION] [--profile NAME] < CANDIDATES\n"
"\n"
"Claim up to N of the idle instances read as JSON Lines on stdin (e.g.\n"
"from pool-list --state idle): tag them runner-pool:claim:ID in one batched\n"
"call, in an order that spreads concurrent claimants, then read them back\n"
"until each is granted to this run by its agent, granted to another run,\n"
"or the time is up.  A claim its agent leaves unanswered (a dead or stuck\n"
"agent) is given up for the next candidate.  Claims not granted are\n"
"withdrawn; instances granted beyond N are handed back with a release\n"
"request.  Prints the instances this run now owns.\n"
"\n"
"  --run-id ID         the GitHub run claiming (required)\n"
"  --count N           how many instances are wanted, 1-100 (default 1)\n"
"  --timeout SECONDS   how long to wait for grants (default 60)\n"
"  --answer-within SECONDS\n"
"                      give up a claim no agent answered in this time,\n"
"                      1-3600 (default 15; a live agent answers within\n"
"                      its poll interval)\n"
"  --interval MS       first read-back this long after claiming, in\n"
"                      milliseconds (default 1000: when a grant can first\n"
"                      be expected); later ones back off to 4 times it,\n"
"                      with jitter\n"
"  --region REGION     AWS region (default $AWS_REGION, $AWS_DEFAULT_REGION)\n"
"  --profile NAME      AWS profile (default $AWS_PROFILE)\n"
"  -h, --help          this help\n"
"\n"
"A throttled call is waited out while time remains: it never ends the claim.\n"
"\n"
"Exit status: 0 all N claimed, 1 fewer claimed (those owned are printed;\n"
"launch the rest), 100 usage or permanent error, 111 temporary failure.\n";

enum { UNTRIED, PENDING, OWNED, LOST };

struct cand {
	char id[32];
	int st;
	double at;		/* when it was claimed, ms */
};

/* One claim: what the options ask for, and the candidates' states. */
struct claim {
	const char *run, *region, *profile;
	long long want, timeout, interval, answer;
	struct cand *c;
	size_t n;
	size_t next;		/* c[next..n-1] are untried */
	cJSON *owned;		/* records of owned instances, by id */
};

static double
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1)
		;
}

/*
 * How long to wait before read-back k (0 = the first): the interval, then
 * 1.5 times longer each time up to 4 intervals, each spread over 75-125%
 * so that K claimants started together do not read back together (K of
 * them polling every interval would ask DescribeInstances K/interval times
 * a second, against an account-wide refill of 20 a second).
 */
static long
wait_ms(long long interval, int k)
{
	double w = (double)interval;
	unsigned int x = 0;

	while (k-- > 0 && w < 4.0 * (double)interval)
		w *= 1.5;
	if (w > 4.0 * (double)interval)
		w = 4.0 * (double)interval;
	if (RAND_bytes((unsigned char *)&x, sizeof(x)) != 1)
		x = (unsigned int)rand();
	return (long)(w * (0.75 + (double)(x % 1001) / 2000.0));
}

/* Sleep ms, but not past end. */
static void
nap(long ms, double end)
{
	double left = end - now_ms();

	if (left <= 0)
		return;
	sleep_ms(ms < left ? ms : (long)left);
}

static struct cand *
find(struct claim *cl, const char *id)
{
	size_t i;

	for (i = 0; i < cl->n; i++)
		if (strcmp(cl->c[i].id, id) == 0)
			return &cl->c[i];
	return NULL;
}

/* Judge one read-back instance. */
static int
judge(void *arg, const struct ec2_instance *in)
{
	struct claim *cl = arg;
	struct cand *c = find(cl, in->id);
	const char *state = ec2_tag(in, POOL_T_STATE);
	const char *run = ec2_tag(in, POOL_T_RUN);
	char key[64];

	if (c == NULL || c->st == LOST || c->st == UNTRIED)
		return 0;
	snprintf(key, sizeof(key), POOL_T_CLAIM "%s", cl->run);
	if (run && strcmp(run, cl->run) == 0 && state &&
	    (strcmp(state, "claimed") == 0 || strcmp(state, "running") == 0)) {
		cJSON *o = pool_instance_json(in);

		if (o == NULL)
			return error_set(EXIT_TEMP, "out of memory");
		cJSON_DeleteItemFromObject(cl->owned, in->id);
		cJSON_AddItemToObject(cl->owned, in->id, o);
		c->st = OWNED;
	} else if (c->st == PENDING && (strcmp(in->state, "running") != 0 ||
	    !state || strcmp(state, "idle") != 0 || !ec2_tag(in, key)))
		c->st = LOST;	/* taken, going away, or claim gone */
	return 0;
}

static int
readback(struct aws *a, struct claim *cl, int (*want)(int))
{
	const char *ids[EC2_BATCH];
	size_t i, n = 0;

	for (i = 0; i < cl->n; i++)
		if (want(cl->c[i].st))
			ids[n++] = cl->c[i].id;
	if (n == 0)
		return 0;
	return ec2_describe_instances(a, NULL, 0, ids, n, judge, cl);
}

static int
is_pending(int st)
{
	return st == PENDING;
}

static size_t
count(const struct claim *cl, int st)
{
	size_t i, n = 0;

	for (i = 0; i < cl->n; i++)
		n += cl->c[i].st == st;
	return n;
}

/* Tag ids with the claim; one call, or one per instance if a tag limit
 * is hit (that instance is lost). */
static int
add_claims(struct aws *a, struct claim *cl, const char **ids, size_t n)
{
	char key[64], val[32];
	struct ec2_tag t;
	struct cand *c;
	size_t i;

	snprintf(key, sizeof(key), POOL_T_CLAIM "%s", cl->run);
	snprintf(val, sizeof(val), "%.0f", now_ms());
	t.key = key;
	t.value = val;
	if (ec2_create_tags(a, ids, n, &t, 1) == 0)
		return 0;
	if (strcmp(aws_error_code(a), "TagLimitExceeded") != 0 &&
	    strcmp(aws_error_code(a), "InvalidInstanceID.NotFound") != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (ec2_create_tags(a, &ids[i], 1, &t, 1) == 0)
			continue;
		if (strcmp(aws_error_code(a), "TagLimitExceeded") != 0 &&
		    strcmp(aws_error_code(a), "InvalidInstanceID.NotFound")
		    != 0)
			return -1;
		tool_log("%s: %s: claim lost", ids[i], aws_error_code(a));
		if ((c = find(cl, ids[i])) != NULL)
			c->st = LOST;
	}
	error_clear();
	return 0;
}

/* An instance alone can fail a batched call: gone, or at its tag limit. */
static int
alone(const struct aws *a)
{
	return strcmp(aws_error_code(a), "TagLimitExceeded") == 0 ||
	    strcmp(aws_error_code(a), "InvalidInstanceID.NotFound") == 0;
}

/*
 * Ask the agents of ids to let this run go: a release request
 * (release:RUN), which an agent answers by deleting it with the run's
 * claim, and never grants the claim; a grant it was sending meanwhile
 * lands with the request beside it, and is handed back.  Only the agent
 * removes a claim (ec2-runner-pool(7), THE SINGLE-WRITER RULE).  One
 * call, again a few times while throttled (a claim left behind could be
 * granted to this run later); one by one when an instance is gone or at
 * its tag limit, where the claim itself is deleted instead (the request
 * has no room; a grant in flight is then left to provision's hand-back).
 */
static int
ask_release(struct aws *a, const char **ids, size_t n, const char *run,
    long long interval)
{
	char key[64], val[32], ck[64];
	struct ec2_tag t, c;
	size_t i;
	int k, rc = 0;

	if (n == 0)
		return 0;
	snprintf(key, sizeof(key), POOL_T_RELEASE "%s", run);
	snprintf(val, sizeof(val), "%.0f", now_ms());
	t.key = key;
	t.value = val;
	for (k = 0;; k++) {
		if (ec2_create_tags(a, ids, n, &t, 1) == 0)
			return 0;
		if (alone(a))
			break;
		if (error_status() != EXIT_TEMP || k == 5)
			return -1;
		sleep_ms(wait_ms(interval, k + 1));
	}
	error_clear();
	snprintf(ck, sizeof(ck), POOL_T_CLAIM "%s", run);
	c.key = ck;
	c.value = NULL;
	for (i = 0; i < n; i++) {
		if (ec2_create_tags(a, &ids[i], 1, &t, 1) == 0)
			continue;
		if (strcmp(aws_error_code(a), "TagLimitExceeded") == 0) {
			tool_log("%s: TagLimitExceeded: no room for the release "
			    "request; deleting the claim", ids[i]);
			if (ec2_delete_tags(a, &ids[i], 1, &c, 1) == 0)
				continue;
		}
		if (strcmp(aws_error_code(a), "InvalidInstanceID.NotFound")
		    == 0) {
			tool_log("%s: gone", ids[i]);
			continue;
		}
		tool_log("%s: %s", ids[i], error_msg());
		rc = -1;
	}
	if (rc == 0)
		error_clear();
	return rc;
}

/* The options into cl: -1 to go on, else the exit status. */
static int
options(int argc, char **argv, struct claim *cl)
{
	static const struct option opts[] = {
		{ "answer-within", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "interval", required_argument, NULL, 'i' },
		{ "profile", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'R' },
		{ "run-id", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	if ((c = tool_exact_options(argc, argv, opts, NULL)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (validate_number(optarg, 1, 3600, &cl->answer) == -1)
				return error_wrap("--answer-within"), tool_fail();
			break;
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'i':
			if (validate_number(optarg, 10, 60000, &cl->interval)
			    == -1)
				return error_wrap("--interval"), tool_fail();
			break;
		case 'n':
			if (validate_number(optarg, 1, 100, &cl->want) == -1)
				return error_wrap("--count"), tool_fail();
			break;
		case 'r':
			if (validate_run_id(optarg) == -1)
				return error_wrap("--run-id"), tool_fail();
			cl->run = optarg;
			break;
		case 't':
			if (validate_number(optarg, 1, 3600, &cl->timeout) == -1)
				return error_wrap("--timeout"), tool_fail();
			break;
		default:
			if (tool_aws_option(c, optarg, NULL, &cl->region,
			    &cl->profile))
				break;
			return tool_bad_option(argv[optind - 1], c == ':', NULL);
		}
	}
	if (optind != argc)
		return tool_usage("unexpected argument '%s'", argv[optind]);
	if (cl->run == NULL)
		return tool_usage("--run-id is required");
	return -1;
}

/* One candidate more, untried; 0 or -1. */
static int
add_candidate(struct claim *cl, const char *id, size_t *cap)
{
	if (cl->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct cand *nc;

		if ((nc = realloc(cl->c, ncap * sizeof(*nc))) == NULL)
			return error_set(EXIT_TEMP, "out of memory");
		cl->c = nc;
		*cap = ncap;
	}
	snprintf(cl->c[cl->n].id, sizeof(cl->c[0].id), "%s", id);
	cl->c[cl->n++].st = UNTRIED;
	return 0;
}

/*
 * The candidates from stdin: idle (or unknown state), not yet past their
 * deadline, each once, at most EC2_BATCH of them.  0, or -1 on a record
 * without a valid instance id.
 */
static int
read_candidates(struct claim *cl)
{
	struct jsonl in = { stdin, "stdin", 0 };
	size_t cap = 0;
	cJSON *o;
	int r;

	while ((r = jsonl_read(&in, &o)) == 1) {
		const char *id = jsonl_str(o, "id"), *st = jsonl_str(o, "state");
		cJSON *dl = cJSON_GetObjectItemCaseSensitive(o, "deadline");

		if (id == NULL)
			r = error_set(EXIT_PERM, "stdin:%lu: no \"id\" string",
			    in.line);
		else if (validate_instance_id(id) == -1)
			r = error_wrap("stdin:%lu", in.line);
		else if ((st && strcmp(st, "idle") != 0) ||
		    (cJSON_IsNumber(dl) && dl->valuedouble <= (double)time(NULL))
		    || find(cl, id) || cl->n == EC2_BATCH)
			r = 0;
		else
			r = add_candidate(cl, id, &cap);
		cJSON_Delete(o);
		if (r == -1)
			return -1;
	}
	return r;
}

/* A random order spreads concurrent claimants over the pool. */
static void
shuffle(struct claim *cl)
{
	size_t i, j;

	for (i = cl->n - 1; i > 0; i--) {
		unsigned int x = 0;
		struct cand t;

		RAND_bytes((unsigned char *)&x, sizeof(x));
		j = x % (i + 1);
		t = cl->c[i];
		cl->c[i] = cl->c[j];
		cl->c[j] = t;
	}
}

/* The next untried candidates into batch, as many as are still needed,
 * now pending; how many. */
static size_t
take_batch(struct claim *cl, const char **batch)
{
	long long need = cl->want - (long long)count(cl, OWNED) -
	    (long long)count(cl, PENDING);
	size_t nb = 0;

	while (need > 0 && cl->next < cl->n) {
		cl->c[cl->next].st = PENDING;
		cl->c[cl->next].at = now_ms();
		batch[nb++] = cl->c[cl->next++].id;
		need--;
	}
	return nb;
}

/* No answer in time: the agent is dead or stuck; the claim is withdrawn
 * with the others at the end (a late grant is still seen there, and
 * handed back if not needed). */
static void
give_up(struct claim *cl)
{
	size_t i;

	for (i = 0; i < cl->next; i++)
		if (cl->c[i].st == PENDING &&
		    now_ms() - cl->c[i].at > (double)cl->answer * 1000) {
			tool_log("%s: no answer from its agent in %llds; "
			    "trying another", cl->c[i].id, cl->answer);
			cl->c[i].st = LOST;
		}
}

/*
 * Claim and read back until 'want' are owned, the candidates run out, or
 * the time is up.  A throttled call is waited out while time remains.
 * 0, or -1 on a permanent error (the claims are then withdrawn all the
 * same).
 */
static int
claim_loop(struct aws *aws, struct claim *cl)
{
	double end = now_ms() + (double)cl->timeout * 1000;
	int k = 0, slow = 0;
	size_t i;

	while (count(cl, OWNED) < (size_t)cl->want && now_ms() < end) {
		const char *batch[EC2_BATCH];
		size_t nb = take_batch(cl, batch);

		if (nb && add_claims(aws, cl, batch, nb) == -1) {
			if (error_status() != EXIT_TEMP)
				return -1;
			/* throttled (CreateTags is all or nothing: none was
			 * tagged): the same batch again, later */
			tool_log("claiming: %s; again later", error_msg());
			error_clear();
			for (i = 0; i < nb; i++)
				cl->c[--cl->next].st = UNTRIED;
			nap(wait_ms(cl->interval, ++slow), end);
			continue;
		}
		if (nb)
			k = 0;		/* new claims: their grants come anew */
		if (count(cl, PENDING) == 0) {
			if (cl->next < cl->n)
				continue;	/* that batch was lost: next */
			break;
		}
		nap(wait_ms(cl->interval, k++ + slow), end);
		if (readback(aws, cl, is_pending) == -1) {
			if (error_status() != EXIT_TEMP)
				return -1;
			/* throttled: wait longer, never give up while time
			 * remains */
			tool_log("reading back: %s; again later", error_msg());
			error_clear();
			slow++;
			continue;
		}
		if (slow > 0)
			slow--;
		give_up(cl);
	}
	return 0;
}

/*
 * A last look first (grants up to now are owned; not after an error),
 * then every claim not granted is withdrawn with a release request: a
 * grant landing after it is its agent's to hand back, never owned here.
 * Only the tried candidates stay in cl.  0 or -1.
 */
static int
withdraw(struct aws *aws, struct claim *cl, int rc)
{
	const char *ids[EC2_BATCH];
	size_t i, n = 0;

	if (rc == 0 && count(cl, OWNED) < (size_t)cl->want &&
	    count(cl, PENDING) > 0 && readback(aws, cl, is_pending) == -1) {
		tool_log("reading back: %s", error_msg());
		error_clear();
	}
	for (i = 0; i < cl->next; i++)
		if (cl->c[i].st != OWNED)
			ids[n++] = cl->c[i].id;
	cl->n = cl->next;
	if (ask_release(aws, ids, n, cl->run, cl->interval) == -1) {
		tool_log("withdrawing claims: %s", error_msg());
		return -1;
	}
	return 0;
}

/* Keep at most 'want': hand the rest back with a release request (only
 * the agent writes the state).  A failure is logged; it fails the run
 * only if something else did (its error is then the one shown). */
static void
hand_back(struct aws *aws, struct claim *cl, int rc)
{
	const char *ids[EC2_BATCH];
	size_t i, n = 0, owned = 0;

	for (i = 0; i < cl->n; i++)
		if (cl->c[i].st == OWNED && owned++ >= (size_t)cl->want) {
			tool_log("%s: granted beyond %lld, handed back",
			    cl->c[i].id, cl->want);
			ids[n++] = cl->c[i].id;
		}
	if (ask_release(aws, ids, n, cl->run, cl->interval) == -1) {
		tool_log("handing back: %s", error_msg());
		if (rc == 0)
			error_clear();
	}
}

/* One record per instance kept, up to 'want'; how many, or -1. */
static long
print_owned(const struct claim *cl)
{
	size_t i;
	long owned = 0;

	for (i = 0; i < cl->n && owned < cl->want; i++) {
		if (cl->c[i].st != OWNED)
			continue;
		if (jsonl_write(stdout, cJSON_GetObjectItemCaseSensitive(
		    cl->owned, cl->c[i].id)) == -1)
			return -1;
		owned++;
	}
	return owned;
}

int
main(int argc, char **argv)
{
	struct claim cl;
	struct aws *aws = NULL;
	long owned;
	int rc;

	tool_init(argv[0]);
	memset(&cl, 0, sizeof(cl));
	cl.want = 1;
	cl.timeout = 60;
	cl.interval = 1000;
	cl.answer = 15;
	if ((rc = options(argc, argv, &cl)) != -1)
		return rc;
	if (read_candidates(&cl) == -1)
		goto fail;
	if ((cl.owned = cJSON_CreateObject()) == NULL) {
		error_set(EXIT_TEMP, "out of memory");
		goto fail;
	}
	if (cl.n == 0) {
		tool_log("no idle candidates");
		rc = EXIT_NO;
		goto out;
	}
	shuffle(&cl);
	if ((aws = aws_new(cl.region, cl.profile)) == NULL)
		goto fail;
	rc = claim_loop(aws, &cl);
	if (withdraw(aws, &cl, rc) == -1)
		rc = -1;
	hand_back(aws, &cl, rc);
	if ((owned = print_owned(&cl)) == -1 || rc == -1)
		goto fail;
	if (owned < cl.want) {
		tool_log("claimed %ld of %lld", owned, cl.want);
		rc = EXIT_NO;
	}
	goto out;
fail:
	rc = tool_fail();
out:
	cJSON_Delete(cl.owned);
	free(cl.c);
	aws_free(aws);
	return tool_exit(rc);
}
