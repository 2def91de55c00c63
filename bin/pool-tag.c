/*
 * pool-tag: set or remove pool tags on instances, in batched calls.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "ec2.h"
#include "error.h"
#include "jsonl.h"
#include "pool.h"
#include "strlist.h"
#include "tool.h"
#include "validate.h"

/* The value of one of the pool's own keys must be one it can read back. */
static int
check_value(const char *key, const char *v)
{
	if (strcmp(key, "state") == 0)
		return validate_state(v);
	if (strcmp(key, "run-id") == 0)
		return validate_run_id(v);
	if (strncmp(key, "claim:", 6) == 0 || strncmp(key, "release:", 8) == 0) {
		/* claim:RUN, release:RUN: a run id and a time in ms */
		if (validate_run_id(strchr(key, ':') + 1) == -1)
			return -1;
		return validate_number(v, 0, 99999999999999LL, NULL);
	}
	if (strcmp(key, "deadline") == 0)
		return validate_number(v, 0, 99999999999LL, NULL);
	if (strcmp(key, "class") == 0)
		return validate_class(v);
	if (strcmp(key, "usage") == 0)
		return validate_usage(v);
	if (strcmp(key, "pool") == 0)
		return validate_pool(v);
	return validate_tag_value(v);
}

static const char usage[] =
"usage: pool-tag [--set KEY=VALUE]... [--remove KEY]... [--region REGION]\n"
"                [--profile NAME] [INSTANCE...]\n"
"\n"
"Set or remove the pool's tags (keys are given without the 'runner-pool:'\n"
"prefix) on the instances named as arguments or, without arguments, by the\n"
"\"id\" of each JSON object on stdin (e.g. from pool-list).  One CreateTags\n"
"and one DeleteTags call per 1000 instances.  Each instance's input object\n"
"(or {\"id\":...}) is printed once its batch of tags is written.\n"
"\n"
"  --set KEY=VALUE   set runner-pool:KEY to VALUE (repeatable)\n"
"  --remove KEY      remove runner-pool:KEY, whatever its value (repeatable)\n"
"  --region REGION   AWS region (default $AWS_REGION, $AWS_DEFAULT_REGION)\n"
"  --profile NAME    AWS profile (default $AWS_PROFILE)\n"
"  -h, --help        this help\n"
"\n"
"Exit status: 0 tags written, 1 no instance given, 100 usage or permanent\n"
"error, 111 temporary failure (network, throttling, 5xx).\n";

/* Print the records of ids[off..off+n): the input objects, or {"id"}. */
static int
print_batch(cJSON **recs, const struct strlist *ids, size_t off, size_t n)
{
	size_t i;
	int rc = 0;

	for (i = off; rc == 0 && i < off + n; i++) {
		cJSON *o = recs ? recs[i] : cJSON_CreateObject();

		if (o == NULL)
			return error_set(EXIT_TEMP, "out of memory");
		if (!recs)
			cJSON_AddStringToObject(o, "id", ids->v[i]);
		rc = jsonl_write(stdout, o);
		if (!recs)
			cJSON_Delete(o);
	}
	return rc;
}

static char **sort_ids;

static int
by_id(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(sort_ids[i], sort_ids[j]);

	return c ? c : (i < j ? -1 : i > j);
}

/*
 * Drop repeated ids (and their records), keeping the first of each in
 * input order: a sort of the indices, O(n log n) (160,000 ids used to
 * take minutes with a scan per id).
 */
static int
dedup(struct strlist *l, cJSON **recs)
{
	size_t *ix, i, n = 0;
	unsigned char *drop;

	if (l->n < 2)
		return 0;
	ix = malloc(l->n * sizeof(*ix));
	drop = calloc(l->n, 1);
	if (ix == NULL || drop == NULL) {
		free(ix);
		free(drop);
		return error_set(EXIT_TEMP, "out of memory");
	}
	for (i = 0; i < l->n; i++)
		ix[i] = i;
	sort_ids = l->v;
	qsort(ix, l->n, sizeof(*ix), by_id);
	for (i = 1; i < l->n; i++)
		if (strcmp(l->v[ix[i]], l->v[ix[i - 1]]) == 0)
			drop[ix[i]] = 1;
	for (i = 0; i < l->n; i++) {
		if (drop[i]) {
			free(l->v[i]);
			if (recs)
				cJSON_Delete(recs[i]);
			continue;
		}
		l->v[n] = l->v[i];
		if (recs)
			recs[n] = recs[i];
		n++;
	}
	l->n = n;
	free(ix);
	free(drop);
	return 0;
}

/* Option state lives for the whole run: usage errors return at once. */
static struct strlist keys, vals, rm, ids;
static struct buf key;

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "profile", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'R' },
		{ "remove", required_argument, NULL, 'r' },
		{ "set", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct ec2_tag set[EC2_MAX_TAGS], del[EC2_MAX_TAGS];
	const char *region = NULL, *profile = NULL;
	cJSON **recs = NULL;
	struct aws *aws = NULL;
	size_t i, off, nrecs = 0;
	int c, rc = EXIT_PERM;

	tool_init(argv[0]);
	if ((c = tool_exact_options(argc, argv, opts, NULL)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		char *eq;

		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'r':
		case 's':
			eq = c == 's' ? strchr(optarg, '=') : NULL;
			if (c == 's' && eq == NULL)
				return tool_usage("--set: '%s' is not "
				    "KEY=VALUE", optarg);
			if (eq)
				*eq = '\0';
			buf_reset(&key);
			if (buf_printf(&key, POOL_PREFIX "%s", optarg) == -1)
				return tool_fail();
			if (validate_tag_key(key.s) == -1 ||
			    (eq && check_value(optarg, eq + 1) == -1)) {
				error_wrap(c == 's' ? "--set" : "--remove");
				return tool_fail();
			}
			if (keys.n + rm.n == EC2_MAX_TAGS)
				return tool_usage("more than %d tags",
				    EC2_MAX_TAGS);
			if (c == 's') {
				if (strlist_add(&keys, key.s) == -1 ||
				    strlist_add(&vals, eq + 1) == -1)
					return tool_fail();
			} else if (strlist_add(&rm, key.s) == -1)
				return tool_fail();
			break;
		default:
			if (tool_aws_option(c, optarg, NULL, &region, &profile))
				break;
			return tool_bad_option(argv[optind - 1], c == ':', NULL);
		}
	}
	buf_free(&key);
	if (keys.n + rm.n == 0)
		return tool_usage("nothing to do: give --set or --remove");

	if (optind < argc) {
		for (i = (size_t)optind; i < (size_t)argc; i++)
			if (validate_instance_id(argv[i]) == -1 ||
			    strlist_add(&ids, argv[i]) == -1)
				return tool_fail();
		if (dedup(&ids, NULL) == -1)
			return tool_fail();
	} else {
		struct jsonl in = { stdin, "stdin", 0 };
		cJSON *o;
		int r;

		while ((r = jsonl_read(&in, &o)) == 1) {
			const char *id = jsonl_str(o, "id");
			cJSON **nr;

			if (id == NULL || validate_instance_id(id) == -1) {
				if (id)
					error_wrap("stdin:%lu", in.line);
				else
					error_set(EXIT_PERM, "stdin:%lu: no "
					    "\"id\" string", in.line);
				cJSON_Delete(o);
				goto out;
			}
			if (ids.n == nrecs) {
				nrecs = nrecs ? nrecs * 2 : 64;
				if ((nr = realloc(recs, nrecs * sizeof(*recs))) ==
				    NULL) {
					error_set(EXIT_TEMP, "out of memory");
					cJSON_Delete(o);
					goto out;
				}
				recs = nr;
			}
			if (strlist_add(&ids, id) == -1) {
				cJSON_Delete(o);
				goto out;
			}
			recs[ids.n - 1] = o;
		}
		if (r == -1)
			goto out;
	}
	if (dedup(&ids, recs) == -1)
		goto out;
	if (ids.n == 0) {
		tool_log("no instances given");
		rc = EXIT_NO;
		goto done;
	}
	for (i = 0; i < keys.n; i++) {
		set[i].key = keys.v[i];
		set[i].value = vals.v[i];
	}
	for (i = 0; i < rm.n; i++) {
		del[i].key = rm.v[i];
		del[i].value = NULL;
	}
	if ((aws = aws_new(region, profile)) == NULL)
		goto out;
	/* a batch at a time, its records printed once its tags are written:
	 * a later failure leaves the output naming exactly what was done */
	for (off = 0; off < ids.n; off += EC2_BATCH) {
		const char *const *b = (const char *const *)ids.v + off;
		size_t n = ids.n - off < EC2_BATCH ? ids.n - off : EC2_BATCH;

		if (keys.n && ec2_create_tags(aws, b, n, set, keys.n) == -1)
			goto out;
		if (rm.n && ec2_delete_tags(aws, b, n, del, rm.n) == -1)
			goto out;
		if (print_batch(recs, &ids, off, n) == -1)
			goto out;
	}
	rc = 0;
	goto done;
out:
	rc = tool_fail();
done:
	for (i = 0; recs && i < ids.n; i++)
		cJSON_Delete(recs[i]);
	free(recs);
	aws_free(aws);
	strlist_free(&keys);
	strlist_free(&vals);
	strlist_free(&rm);
	strlist_free(&ids);
	return tool_exit(rc);
}
