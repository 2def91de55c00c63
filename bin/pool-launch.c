/*
 * pool-launch: one instant EC2 Fleet request from the pool's launch
 * template; prints the instances it launched.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
"usage: pool-launch --subnet SUBNET... [--pool NAME] [--count N]\n"
"                   [--run-id ID] [--class CLASS] [--usage spot|on-demand]\n"
"                   [--vcpu MIN[:MAX]] [--memory MIB[:MAX]] [--type PATTERN]...\n"
"                   [--arch x86_64|arm64] [--deadline-in SECONDS]\n"
"                   [--template NAME] [--client-token TOKEN]\n"
"                   [--region REGION] [--profile NAME]\n"
"\n"
"Launch N instances with one EC2 Fleet request of type instant: the pool's\n"
"launch template, one override per subnet, instance types chosen by\n"
"attributes (vCPU, memory) among the allowed patterns, spot\n"
"(price-capacity-optimized) or on-demand (lowest-price), and the pool's tags\n"
"applied at launch: state 'created', the run id (when given), class, usage\n"
"and a deadline.  EC2 picks only types of the architecture of the\n"
"template's AMI; three reads first find that architecture, check it is\n"
"--arch when given, and that some type of it matches, else nothing is\n"
"launched.  Prints one JSON object per launched instance.\n"
"\n"
"  --subnet SUBNET       subnet id (repeatable or space-separated)\n"
"  --pool NAME           the pool (default $RUNNER_POOL, $GITHUB_REPOSITORY)\n"
"  --count N             how many instances, 1-100 (default 1)\n"
"  --run-id ID           the GitHub run the instances are launched for\n"
"  --class CLASS         resource class tag (default 'default')\n"
"  --usage spot|on-demand (default spot)\n"
"  --vcpu MIN[:MAX]      vCPUs per instance (default 2)\n"
"  --memory MIB[:MAX]    memory per instance in MiB (default 4096)\n"
"  --type PATTERN        allowed instance types (default 'c* m* r*')\n"
"  --arch x86_64|arm64   the architecture the template must launch (default:\n"
"                        that of its AMI)\n"
"  --deadline-in SECONDS deadline tag, from now (default 3600)\n"
"  --template NAME       launch template (default runner-pool/POOL)\n"
"  --client-token TOKEN  idempotency token (default: a random one, so a\n"
"                        retried request never launches twice)\n"
"  --region REGION       AWS region (default $AWS_REGION, $AWS_DEFAULT_REGION)\n"
"  --profile NAME        AWS profile (default $AWS_PROFILE)\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0 all launched, 100 usage or permanent error (bad template,\n"
"another architecture, no matching type), 111 fewer launched than asked for\n"
"lack of capacity (those launched are printed) or temporary failure.\n";

struct range {
	long long min, max;	/* max 0: none */
};

static int
parse_range(const char *s, long long lo, long long hi, struct range *r,
    const char *opt)
{
	char tmp[64];
	char *colon;

	snprintf(tmp, sizeof(tmp), "%s", s);
	r->max = 0;
	if ((colon = strchr(tmp, ':')) != NULL) {
		*colon = '\0';
		if (validate_number(colon + 1, lo, hi, &r->max) == -1)
			return error_wrap("%s", opt);
	}
	if (validate_number(tmp, lo, hi, &r->min) == -1)
		return error_wrap("%s", opt);
	if (r->max && r->max < r->min)
		return error_set(EXIT_PERM, "%s: '%s': maximum below minimum",
		    opt, s);
	return 0;
}

static int
capacity(const char *code)
{
	static const char *codes[] = { "InsufficientInstanceCapacity",
	    "InsufficientCapacity", "UnfulfillableCapacity",
	    "MaxSpotInstanceCountExceeded", "SpotMaxPriceTooLow",
	    "InsufficientFreeAddressesInSubnet", "InsufficientHostCapacity",
	    "RequestLimitExceeded", "InternalError", NULL };
	int i;

	for (i = 0; codes[i]; i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

/*
 * The template's default version, and the architecture of its AMI: EC2
 * Fleet picks attribute-based types only of that architecture, so it is
 * the architecture of the launch.  The fleet then names this version, not
 * $Default, so that it launches the AMI checked here.
 */
static int
template_arch(struct aws *a, const char *tname, char *version, size_t vlen,
    char *arch, size_t alen)
{
	struct aws_params p = AWS_PARAMS_INIT;
	struct xml *x, *v;
	char ami[64];

	aws_param(&p, "LaunchTemplateName", tname);
	aws_param(&p, "LaunchTemplateVersion.1", "$Default");
	x = aws_query(a, "DescribeLaunchTemplateVersions", &p);
	aws_params_free(&p);
	if (x == NULL)
		return ec2_template_missing(a) ? error_set(EXIT_PERM, "launch template "
		    "'%s' does not exist in %s", tname, aws_region(a)) : -1;
	v = xml_path(x, "launchTemplateVersionSet/item");
	snprintf(version, vlen, "%s", xml_text(v, "versionNumber"));
	snprintf(ami, sizeof(ami), "%s", xml_text(v,
	    "launchTemplateData/imageId"));
	xml_free(x);
	if (*version == '\0')
		return error_set(EXIT_PERM, "launch template '%s' has no "
		    "default version", tname);
	if (*ami == '\0')
		return error_set(EXIT_PERM, "launch template '%s' version %s "
		    "names no AMI", tname, version);
	if (ec2_image_architecture(a, ami, arch, alen) == -1)
		return error_wrap("launch template '%s' version %s", tname,
		    version);
	return 0;
}

/* "2+" or "2-4", for a message. */
static const char *
range_str(const struct range *r, char *out, size_t len)
{
	if (r->max)
		snprintf(out, len, "%lld-%lld", r->min, r->max);
	else
		snprintf(out, len, "%lld+", r->min);
	return out;
}

/* The patterns as the user gave them, for a message. */
static const char *
joined(const struct strlist *l, char *out, size_t len)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < l->n && n < len; i++)
		n += snprintf(out + n, len - n, "%s%s", i ? " " : "", l->v[i]);
	return out;
}

/* Option state lives for the whole run: usage errors return at once. */
static struct strlist subnets, types;

/* What one launch asks for, from the options and the three reads. */
struct launch {
	const char *region, *profile, *pool, *run, *class, *use;
	const char *tmpl, *token, *want;
	struct range vcpu, mem;
	long long count, deadline_in;
	struct ec2_requirements req;
	char tname[160], version[32], arch[32], deadline[32], gen[33];
	struct ec2_tag tags[6];	/* the pool's tags: applied and printed */
	size_t ntags;
};

/* The options into l: -1 to go on, else the exit status. */
static int
options(int argc, char **argv, struct launch *l)
{
	static const struct option opts[] = {
		{ "arch", required_argument, NULL, 'a' },
		{ "class", required_argument, NULL, 'c' },
		{ "client-token", required_argument, NULL, 'C' },
		{ "count", required_argument, NULL, 'n' },
		{ "deadline-in", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "memory", required_argument, NULL, 'm' },
		{ "pool", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'R' },
		{ "run-id", required_argument, NULL, 'r' },
		{ "subnet", required_argument, NULL, 's' },
		{ "template", required_argument, NULL, 'T' },
		{ "type", required_argument, NULL, 't' },
		{ "usage", required_argument, NULL, 'u' },
		{ "vcpu", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	if ((c = tool_exact_options(argc, argv, opts, NULL)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (validate_arch(optarg) == -1)
				return error_wrap("--arch"), tool_fail();
			l->want = optarg;
			break;
		case 'c':
			if (validate_class(optarg) == -1)
				return error_wrap("--class"), tool_fail();
			l->class = optarg;
			break;
		case 'C':
			if (strlen(optarg) < 1 || strlen(optarg) > 64)
				return tool_usage("--client-token: 1 to 64 "
				    "characters");
			l->token = optarg;
			break;
		case 'd':
			if (validate_number(optarg, 60, 7 * 86400,
			    &l->deadline_in) == -1)
				return error_wrap("--deadline-in"), tool_fail();
			break;
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'm':
			if (parse_range(optarg, 512, 4194304, &l->mem,
			    "--memory") == -1)
				return tool_fail();
			break;
		case 'n':
			if (validate_number(optarg, 1, 100, &l->count) == -1)
				return error_wrap("--count"), tool_fail();
			break;
		case 'r':
			if (validate_run_id(optarg) == -1)
				return error_wrap("--run-id"), tool_fail();
			l->run = optarg;
			break;
		case 's':
			if (strlist_split(&subnets, optarg, validate_subnet,
			    "--subnet") == -1)
				return tool_fail();
			break;
		case 'T':
			if (validate_template_name(optarg) == -1)
				return error_wrap("--template"), tool_fail();
			l->tmpl = optarg;
			break;
		case 't':
			if (strlist_split(&types, optarg, validate_type_pattern,
			    "--type") == -1)
				return tool_fail();
			break;
		case 'u':
			if (validate_usage(optarg) == -1)
				return error_wrap("--usage"), tool_fail();
			l->use = optarg;
			break;
		case 'v':
			if (parse_range(optarg, 1, 448, &l->vcpu, "--vcpu") == -1)
				return tool_fail();
			break;
		default:
			if (tool_aws_option(c, optarg, &l->pool, &l->region,
			    &l->profile))
				break;
			return tool_bad_option(argv[optind - 1], c == ':', NULL);
		}
	}
	if (optind != argc)
		return tool_usage("unexpected argument '%s'", argv[optind]);
	if (subnets.n == 0)
		return tool_usage("--subnet is required");
	if (subnets.n > 50)
		return tool_usage("--subnet: at most 50 subnets");
	if (types.n == 0 && strlist_split(&types, "c* m* r*", NULL, "") == -1)
		return tool_fail();
	if (types.n > 400)
		return tool_usage("--type: at most 400 patterns");
	if (pool_name(l->pool, &l->pool) == -1)
		return tool_fail();
	if (l->tmpl)
		snprintf(l->tname, sizeof(l->tname), "%s", l->tmpl);
	else if (pool_template_name(l->pool, l->tname, sizeof(l->tname)) == -1)
		return tool_fail();
	l->req.vcpu_min = l->vcpu.min;
	l->req.vcpu_max = l->vcpu.max;
	l->req.mem_min = l->mem.min;
	l->req.mem_max = l->mem.max;
	l->req.allowed = (const char *const *)types.v;
	l->req.nallowed = types.n;
	return -1;
}

/*
 * The three reads before the one write: the template's default version
 * and its AMI's architecture (--arch when given), and some instance type
 * of that architecture meeting the requirements.  0 or -1.
 */
static int
check_launchable(struct aws *aws, struct launch *l)
{
	char first[64], pats[256], vr[48], mr[48];

	if (template_arch(aws, l->tname, l->version, sizeof(l->version),
	    l->arch, sizeof(l->arch)) == -1)
		return -1;
	if (l->want && strcmp(l->want, l->arch) != 0)
		return error_set(EXIT_PERM, "--arch %s: launch template '%s' "
		    "version %s launches %s", l->want, l->tname, l->version,
		    l->arch);
	switch (ec2_instance_types(aws, l->arch, &l->req, first,
	    sizeof(first))) {
	case -1:
		return -1;
	case 0:
		return error_set(EXIT_PERM, "no %s instance type with %s vCPUs "
		    "and %s MiB matches --type '%s'", l->arch,
		    range_str(&l->vcpu, vr, sizeof(vr)),
		    range_str(&l->mem, mr, sizeof(mr)),
		    joined(&types, pats, sizeof(pats)));
	}
	return 0;
}

/* The pool's tags, with the deadline from now. */
static void
pool_tags(struct launch *l)
{
	snprintf(l->deadline, sizeof(l->deadline), "%lld",
	    (long long)time(NULL) + l->deadline_in);
	l->ntags = 0;
	l->tags[l->ntags].key = POOL_T_POOL;
	l->tags[l->ntags++].value = l->pool;
	l->tags[l->ntags].key = POOL_T_STATE;
	l->tags[l->ntags++].value = "created";
	if (l->run) {
		l->tags[l->ntags].key = POOL_T_RUN;
		l->tags[l->ntags++].value = l->run;
	}
	l->tags[l->ntags].key = POOL_T_CLASS;
	l->tags[l->ntags++].value = l->class;
	l->tags[l->ntags].key = POOL_T_USAGE;
	l->tags[l->ntags++].value = l->use;
	l->tags[l->ntags].key = POOL_T_DEADLINE;
	l->tags[l->ntags++].value = l->deadline;
}

/* --client-token, else a random one: a retried request (timeout, reset,
 * 5xx) must not launch twice. */
static int
client_token(struct launch *l)
{
	unsigned char r[16];
	size_t i;

	if (l->token)
		return 0;
	if (RAND_bytes(r, sizeof(r)) != 1)
		return error_set(EXIT_TEMP, "no randomness for a client token");
	for (i = 0; i < sizeof(r); i++)
		snprintf(l->gen + 2 * i, 3, "%02x", r[i]);
	l->token = l->gen;
	return 0;
}

/* The CreateFleet request: instant, one override per subnet, the tags. */
static void
fleet_params(struct aws_params *p, const struct launch *l)
{
	char num[32], prefix[96];
	size_t i;

	aws_param(p, "Type", "instant");
	aws_param(p, "ClientToken", l->token);
	snprintf(num, sizeof(num), "%lld", l->count);
	aws_param(p, "TargetCapacitySpecification.TotalTargetCapacity", num);
	aws_param(p, "TargetCapacitySpecification.DefaultTargetCapacityType",
	    l->use);
	if (strcmp(l->use, "spot") == 0) {
		aws_param(p, "TargetCapacitySpecification.SpotTargetCapacity",
		    num);
		aws_param(p, "SpotOptions.AllocationStrategy",
		    "price-capacity-optimized");
	} else {
		aws_param(p, "TargetCapacitySpecification."
		    "OnDemandTargetCapacity", num);
		aws_param(p, "OnDemandOptions.AllocationStrategy",
		    "lowest-price");
	}
	aws_param(p, "LaunchTemplateConfigs.1.LaunchTemplateSpecification."
	    "LaunchTemplateName", l->tname);
	aws_param(p, "LaunchTemplateConfigs.1.LaunchTemplateSpecification."
	    "Version", l->version);
	for (i = 0; i < subnets.n; i++) {
		aws_paramf(p, subnets.v[i],
		    "LaunchTemplateConfigs.1.Overrides.%zu.SubnetId", i + 1);
		snprintf(prefix, sizeof(prefix), "LaunchTemplateConfigs.1."
		    "Overrides.%zu.InstanceRequirements", i + 1);
		ec2_requirements_params(p, prefix, &l->req);
	}
	aws_param(p, "TagSpecification.1.ResourceType", "instance");
	for (i = 0; i < l->ntags; i++) {
		aws_paramf(p, l->tags[i].key, "TagSpecification.1.Tag.%zu.Key",
		    i + 1);
		aws_paramf(p, l->tags[i].value,
		    "TagSpecification.1.Tag.%zu.Value", i + 1);
	}
}

/* One record per instance the fleet launched; how many, or -1. */
static long
print_launched(const struct xml *x, const struct launch *l)
{
	struct xml *it, *id;
	long launched = 0;

	XML_EACH(it, xml_child(x, "fleetInstanceSet"), "item") {
		struct xml *ov = xml_path(it, "launchTemplateAndOverrides/"
		    "overrides");

		XML_EACH(id, xml_child(it, "instanceIds"), "item") {
			struct ec2_instance in;
			cJSON *o;

			memset(&in, 0, sizeof(in));
			in.id = xml_text(id, NULL);
			in.type = xml_text(it, "instanceType");
			in.subnet = xml_text(ov, "subnetId");
			in.az = xml_text(ov, "availabilityZone");
			in.state = "pending";
			in.lifecycle = *xml_text(it, "lifecycle") ?
			    xml_text(it, "lifecycle") : l->use;
			memcpy(in.tags, l->tags, l->ntags * sizeof(l->tags[0]));
			in.ntags = l->ntags;
			if ((o = pool_instance_json(&in)) == NULL ||
			    jsonl_write(stdout, o) == -1) {
				cJSON_Delete(o);
				return -1;
			}
			cJSON_Delete(o);
			launched++;
		}
	}
	return launched;
}

/*
 * The fleet's errors, logged, and the exit status: 0 when all launched,
 * else 111 if every error was one of capacity, 100 otherwise.
 */
static int
judge_fleet(const struct xml *x, const struct launch *l, long launched)
{
	struct xml *it;
	int temp = 1, nerr = 0;

	XML_EACH(it, xml_child(x, "errorSet"), "item") {
		const char *code = xml_text(it, "errorCode");

		tool_log("%s: %s", code, xml_text(it, "errorMessage"));
		if (!capacity(code))
			temp = 0;
		nerr++;
	}
	if (launched < l->count) {
		tool_log("launched %ld of %lld instances", launched, l->count);
		return temp ? EXIT_TEMP : EXIT_PERM;
	}
	if (nerr)
		tool_log("launched all %ld instances despite %d errors",
		    launched, nerr);
	return 0;
}

int
main(int argc, char **argv)
{
	struct launch l;
	struct aws_params p = AWS_PARAMS_INIT;
	struct aws *aws = NULL;
	struct xml *x = NULL;
	long launched;
	int rc;

	tool_init(argv[0]);
	memset(&l, 0, sizeof(l));
	l.class = "default";
	l.use = "spot";
	l.vcpu.min = 2;
	l.mem.min = 4096;
	l.count = 1;
	l.deadline_in = 3600;
	if ((rc = options(argc, argv, &l)) != -1)
		return rc;
	if ((aws = aws_new(l.region, l.profile)) == NULL ||
	    check_launchable(aws, &l) == -1 || client_token(&l) == -1)
		goto fail;
	pool_tags(&l);
	fleet_params(&p, &l);
	if ((x = aws_query(aws, "CreateFleet", &p)) == NULL ||
	    (launched = print_launched(x, &l)) == -1)
		goto fail;
	rc = judge_fleet(x, &l, launched);
	goto out;
fail:
	rc = tool_fail();
out:
	xml_free(x);
	aws_params_free(&p);
	strlist_free(&subnets);
	strlist_free(&types);
	aws_free(aws);
	return tool_exit(rc);
}
