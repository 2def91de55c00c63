/*
 * pool-check: verify a pool's whole setup without changing anything (the
 * preflight of mode: check).  Every row is a read-only call, or one of
 * the calls the modes make tried with EC2's DryRun=true; each says ok,
 * warn, fail or skip, with the fix.  Rows go to stdout as JSON Lines as
 * they are made, then as a table to stderr and to the job summary.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "ec2.h"
#include "error.h"
#include "ghrunner.h"
#include "ghscope.h"
#include "github.h"
#include "jsonl.h"
#include "pool.h"
#include "ssm.h"
#include "strlist.h"
#include "tool.h"
#include "validate.h"

#define HINT "tokens are read from $GITHUB_TOKEN or --token-file"
#define MAX_ROWS 200
#define MAX_CLASSES 100
#define MAX_TYPES 1000
#define MAX_AZS 32
#define FEW_ADDRESSES 16	/* fewer free addresses in a subnet: warn */

static const char usage[] =
"usage: pool-check [--pool NAME] [--ami AMI] [--instance-profile PROFILE]\n"
"                  [--security-group SG]... [--subnet SUBNET]...\n"
"                  [--types PATTERNS] [--classes JSON] [--usage USAGE]\n"
"                  [--scope SCOPE] [--runner-group GROUP]\n"
"                  [--runner-release FILE] [--token-file FILE]\n"
"                  [--app-id ID] [--app-key-file FILE]\n"
"                  [--region REGION] [--profile NAME]\n"
"\n"
"Verify a pool's whole setup without changing anything: credentials and\n"
"region, every EC2 call the modes make (tried with DryRun=true), SSM\n"
"access to the pool's parameters, the AMI, subnets, security groups,\n"
"instance profile and metadata options of the launch template, the\n"
"instance types each class selects and in which AZs, the GitHub\n"
"credentials and the runner version.  Prints one {\"check\",\"status\",\n"
"\"detail\"[,\"fix\"]} a row (status ok, warn, fail or skip), then a table\n"
"on stderr and, when $GITHUB_STEP_SUMMARY is set, in the job summary.\n"
"What is not given is read from the pool's stored configuration and its\n"
"launch template.\n"
"\n"
"  --pool NAME               the pool (default $RUNNER_POOL, $GITHUB_REPOSITORY)\n"
"  --ami AMI                 the image the pool launches\n"
"  --instance-profile PROFILE  IAM instance profile name or ARN\n"
"  --security-group SG       security group id (repeatable or space-separated)\n"
"  --subnet SUBNET           subnet id (repeatable or space-separated)\n"
"  --types PATTERNS          allowed instance type patterns (default c* m* r*)\n"
"  --classes JSON            resource classes, {\"NAME\":{\"cpu\":N,\"mmem\":MIB\n"
"                            [,\"ami\":AMI]},...} (default class: 2 vCPU, 4096)\n"
"  --usage USAGE             spot or on-demand, for the fleet's DryRun\n"
"                            (default the stored one, else spot)\n"
"  --scope SCOPE             owner/repo or org the runners register with\n"
"  --runner-group GROUP      the organization's runner group the runners join;\n"
"                            $GITHUB_REPOSITORY, when the organization's,\n"
"                            must be allowed to use it\n"
"  --runner-release FILE     gh-runner-release's output (or {\"error\":MSG})\n"
"  --token-file FILE         read the GitHub token from FILE (default\n"
"                            $GITHUB_TOKEN)\n"
"  --app-id ID               authenticate as this GitHub App\n"
"  --app-key-file FILE       the app's private key PEM\n"
"  --region REGION           AWS region (default $AWS_REGION, $AWS_DEFAULT_REGION)\n"
"  --profile NAME            AWS profile (default $AWS_PROFILE)\n"
"  -h, --help                this help\n"
"\n"
"Exit status: 0 no row failed (warnings allowed), 1 a row failed (the\n"
"setup needs a fix: see its row), 100 usage error (nothing checked),\n"
"111 a row could not be checked for a temporary failure (network,\n"
"throttling, 5xx) and none failed for good.\n";

enum { OK, WARN, FAIL, SKIP };
static const char *const status_name[] = { "ok", "warn", "fail", "skip" };

struct row {
	char check[80];
	int status;
	char detail[640];
	char fix[400];
};

struct klass {
	char name[40];
	long long cpu, mmem;
	char ami[32];
	char arch[32];		/* of its own AMI, once checked */
};

struct subnet {
	char id[32], vpc[32], az[32];
	long long free;
	int found;
};

static struct row rows[MAX_ROWS];
static size_t nrows;
static int failed_perm, failed_temp, out_failed;

static struct {
	const char *pool, *ami, *profile, *types, *classes, *scope, *usage;
	const char *release, *group;
	struct strlist sgs, subnets, patterns;
} in;

static struct klass classes[MAX_CLASSES];
static size_t nclasses;
static struct subnet subnets[64];
static size_t nsubnets;
static char tname[160], tid[64], tversion[32];
static int have_template;
static char usage_buf[16], ami_buf[32], profile_buf[2100], scope_buf[160];
static char live_id[32];	/* an instance of the pool, for the DryRuns */
static char vpc[32];		/* the security groups' VPC */

/*
 * One row: printed at once as JSON Lines, kept for the table.  temp: a
 * failure that a retry may cure (EXIT_TEMP).
 */
static void row(const char *check, int status, int temp, const char *fix,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
row(const char *check, int status, int temp, const char *fix,
    const char *fmt, ...)
{
	struct row *r;
	va_list ap;
	cJSON *o;

	if (nrows == MAX_ROWS)
		return;
	r = &rows[nrows++];
	snprintf(r->check, sizeof(r->check), "%s", check);
	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
	snprintf(r->fix, sizeof(r->fix), "%s", status == OK || !fix ? "" : fix);
	if (status == FAIL) {
		if (temp)
			failed_temp = 1;
		else
			failed_perm = 1;
	}
	if ((o = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddStringToObject(o, "check", r->check) ||
	    !cJSON_AddStringToObject(o, "status", status_name[status]) ||
	    !cJSON_AddStringToObject(o, "detail", r->detail) ||
	    (*r->fix && !cJSON_AddStringToObject(o, "fix", r->fix)) ||
	    jsonl_write(stdout, o) == -1)
		out_failed = 1;
	cJSON_Delete(o);
}

/* A failed AWS call as a row: its message, temporary or not. */
static void
row_error(const char *check, const char *fix)
{
	row(check, FAIL, error_status() == EXIT_TEMP, fix, "%s", error_msg());
	error_clear();
}

/* Append to a string buffer; what does not fit is cut. */
static void cat(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cat(char *buf, size_t len, const char *fmt, ...)
{
	size_t n = strlen(buf);
	va_list ap;

	if (n + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + n, len - n, fmt, ap);
	va_end(ap);
}

/* --- inputs ------------------------------------------------------------ */

static int
add_class(const char *name, const cJSON *c)
{
	const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(c, "cpu");
	const cJSON *mem = cJSON_GetObjectItemCaseSensitive(c, "mmem");
	const char *ami = jsonl_str(c, "ami");
	struct klass *k;
	size_t i;

	if (validate_class(name) == -1)
		return error_wrap("--classes");
	if (!cJSON_IsNumber(cpu) || cpu->valuedouble < 1 ||
	    cpu->valuedouble > 448 || !cJSON_IsNumber(mem) ||
	    mem->valuedouble < 512 || mem->valuedouble > 4194304)
		return error_set(EXIT_PERM, "--classes: class '%s' needs cpu "
		    "1-448 and mmem 512-4194304", name);
	if (ami && validate_ami(ami) == -1)
		return error_wrap("--classes: class '%s'", name);
	for (i = 0; i < nclasses; i++)
		if (strcmp(classes[i].name, name) == 0)
			break;
	if (i == nclasses) {
		if (nclasses == MAX_CLASSES)
			return error_set(EXIT_PERM, "--classes: more than %d "
			    "classes", MAX_CLASSES);
		nclasses++;
	}
	k = &classes[i];
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->cpu = (long long)cpu->valuedouble;
	k->mmem = (long long)mem->valuedouble;
	snprintf(k->ami, sizeof(k->ami), "%s", ami ? ami : "");
	return 0;
}

static int
parse_classes(const char *json)
{
	cJSON *j = cJSON_Parse(json), *c;
	int rc = 0;

	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return error_set(EXIT_PERM, "--classes: not a JSON object");
	}
	cJSON_ArrayForEach(c, j)
		if ((rc = add_class(c->string, c)) == -1)
			break;
	cJSON_Delete(j);
	return rc;
}

/* --- rows ---------------------------------------------------------------- */

static void
check_credentials(struct aws **aws, const char *region, const char *profile)
{
	const char *rsrc = region ? "--region" :
	    getenv("AWS_REGION") && *getenv("AWS_REGION") ? "$AWS_REGION" :
	    getenv("AWS_DEFAULT_REGION") && *getenv("AWS_DEFAULT_REGION") ?
	    "$AWS_DEFAULT_REGION" : "the profile";
	const char *src;

	if ((*aws = aws_new(region, profile)) == NULL) {
		row_error("credentials", "set AWS_REGION and credentials "
		    "(aws-actions/configure-aws-credentials, a profile, or an "
		    "instance role)");
		return;
	}
	src = aws_creds_source(*aws);
	row("credentials", OK, 0, NULL, "%s credentials (%s); region %s "
	    "(from %s)", strcmp(src, "imds") == 0 ? "instance role" : src,
	    strcmp(src, "imds") == 0 ? "IMDSv2" :
	    strcmp(src, "environment") == 0 ? "AWS_ACCESS_KEY_ID" :
	    strcmp(src, "process") == 0 ? "credential_process" :
	    profile ? profile : getenv("AWS_PROFILE") ? getenv("AWS_PROFILE") :
	    "default", aws_region(*aws), rsrc);
}

/* The pool's stored configuration fills what was not given. */
static void
check_config(struct aws *a, cJSON **config)
{
	char name[256];
	struct ssm_param p = { 0 };
	const char *code;

	snprintf(name, sizeof(name), "/runner-pool/%s/config", in.pool);
	if (ssm_get(a, name, 0, &p) == 0) {
		*config = cJSON_Parse(p.value);
		row("ssm:GetParameter", OK, 0, NULL, "%s readable (version "
		    "%lld)%s", name, p.version, cJSON_IsObject(*config) ? "" :
		    ", but not JSON: refresh rewrites it");
		ssm_param_free(&p);
		return;
	}
	code = aws_error_code(a);
	if (strcmp(code, "ParameterNotFound") == 0) {
		error_clear();
		row("ssm:GetParameter", OK, 0, NULL, "%s readable, not stored "
		    "yet (refresh stores it)", name);
		return;
	}
	row_error("ssm:GetParameter", "allow ssm:GetParameter on "
	    "arn:aws:ssm:REGION:ACCOUNT:parameter/runner-pool/*");
}

static void
check_token_param(struct aws *a)
{
	char name[256];
	struct ssm_param p = { 0 };

	snprintf(name, sizeof(name), "/runner-pool/%s/regtoken", in.pool);
	/* metadata only: the value stays encrypted, never decrypted here */
	if (ssm_get(a, name, 0, &p) == 0) {
		row("ssm:GetParameter regtoken", strcmp(p.type,
		    "SecureString") == 0 ? OK : FAIL, 0, "delete it; refresh "
		    "stores it again as a SecureString", "%s is a %s, version "
		    "%lld, %.0f min old", name, p.type, p.version,
		    (double)(time(NULL) - (time_t)p.last_modified) / 60);
		ssm_param_free(&p);
	} else if (strcmp(aws_error_code(a), "ParameterNotFound") == 0) {
		error_clear();
		row("ssm:GetParameter regtoken", OK, 0, NULL, "%s readable, "
		    "not stored yet (refresh stores it)", name);
	} else
		row_error("ssm:GetParameter regtoken", "allow "
		    "ssm:GetParameter on the pool's parameters");
	row("ssm:PutParameter", SKIP, 0, "allow ssm:PutParameter on "
	    "arn:aws:ssm:REGION:ACCOUNT:parameter/runner-pool/*; the first "
	    "refresh shows whether it is allowed",
	    "not tried: SSM has no DryRun, and a write would change the pool; "
	    "refresh writes /runner-pool/%s/config and regtoken", in.pool);
}

/*
 * The default version of a launch template (the reply: xml_free), or
 * NULL with the check's row written: a warning when it does not exist yet
 * (refresh creates it), else the error.
 */
static struct xml *
default_version(struct aws *a, const char *name, const char *check)
{
	struct aws_params p = AWS_PARAMS_INIT;
	struct xml *x;

	aws_param(&p, "LaunchTemplateName", name);
	aws_param(&p, "LaunchTemplateVersion.1", "$Default");
	x = aws_query(a, "DescribeLaunchTemplateVersions", &p);
	aws_params_free(&p);
	if (x != NULL)
		return x;
	if (ec2_template_missing(a)) {
		error_clear();
		row(check, WARN, 0, "run mode: refresh, which creates it",
		    "%s does not exist yet", name);
	} else
		row_error(check, "allow ec2:DescribeLaunchTemplateVersions");
	return NULL;
}

/*
 * The agent reads its tags through IMDSv2: the template data d enables
 * instance tags in metadata and requires tokens.  What they are, for the
 * row, in *tags and *tokens (EC2's defaults where d says nothing).
 */
static int
metadata_ok(const struct xml *d, const char **tags, const char **tokens)
{
	*tags = xml_text(d, "metadataOptions/instanceMetadataTags");
	*tokens = xml_text(d, "metadataOptions/httpTokens");
	if (!**tags)
		*tags = "disabled";
	if (!**tokens)
		*tokens = "optional";
	return strcmp(*tags, "enabled") == 0 &&
	    strcmp(*tokens, "required") == 0;
}

static void
check_template(struct aws *a)
{
	struct xml *x, *v, *d, *g;
	const char *tags, *tokens;

	if ((x = default_version(a, tname, "launch-template")) == NULL) {
		row("metadata-tags", SKIP, 0, "run mode: refresh", "no launch "
		    "template yet (refresh creates it with instance tags in "
		    "metadata and IMDSv2 required)");
		return;
	}
	v = xml_path(x, "launchTemplateVersionSet/item");
	d = xml_child(v, "launchTemplateData");
	have_template = 1;
	snprintf(tid, sizeof(tid), "%s", xml_text(v, "launchTemplateId"));
	snprintf(tversion, sizeof(tversion), "%s", xml_text(v,
	    "versionNumber"));
	row("launch-template", OK, 0, NULL, "%s (%s), default version %s",
	    tname, tid, tversion);
	if (!metadata_ok(d, &tags, &tokens))
		row("metadata-tags", FAIL, 0, "run mode: refresh (its template "
		    "enables instance tags in metadata and requires IMDSv2)",
		    "version %s: instance tags in metadata %s, IMDSv2 tokens "
		    "%s: the agent reads its tags through IMDS", tversion,
		    tags, tokens);
	else
		row("metadata-tags", OK, 0, NULL, "version %s: instance tags in "
		    "metadata enabled, IMDSv2 required", tversion);
	/* what was not given comes from the template */
	if (in.ami == NULL && *xml_text(d, "imageId"))
		in.ami = strncpy(ami_buf, xml_text(d, "imageId"),
		    sizeof(ami_buf) - 1);
	if (in.profile == NULL) {
		const char *pn = xml_text(d, "iamInstanceProfile/name");

		if (!*pn)
			pn = xml_text(d, "iamInstanceProfile/arn");
		if (*pn)
			in.profile = strncpy(profile_buf, pn,
			    sizeof(profile_buf) - 1);
	} else {
		const char *pn = xml_text(d, "iamInstanceProfile/name");
		const char *pa = xml_text(d, "iamInstanceProfile/arn");

		if (strcmp(pn, in.profile) && strcmp(pa, in.profile))
			row("instance-profile", WARN, 0, "run mode: refresh "
			    "(it makes a new template version)", "the template "
			    "names '%s', not '%s'", *pn ? pn : pa, in.profile);
	}
	if (in.sgs.n == 0)
		XML_EACH(g, xml_child(d, "securityGroupIdSet"), "item")
			strlist_add(&in.sgs, xml_text(g, NULL));
	xml_free(x);
}

/*
 * A class with its own AMI launches from its own template,
 * runner-pool/POOL/CLASS (refresh makes it): it exists, and its metadata
 * options are the agent's.
 */
static void
check_class_template(struct aws *a, const struct klass *k)
{
	char name[200], check[80];
	const char *tags, *tokens;
	struct xml *x, *d;

	snprintf(name, sizeof(name), "%.159s/%.39s", tname, k->name);
	snprintf(check, sizeof(check), "launch-template %.39s", k->name);
	if ((x = default_version(a, name, check)) == NULL)
		return;
	d = xml_path(x, "launchTemplateVersionSet/item/launchTemplateData");
	if (!metadata_ok(d, &tags, &tokens))
		row(check, FAIL, 0, "run mode: refresh", "%s: instance tags in "
		    "metadata %s, IMDSv2 tokens %s", name, tags, tokens);
	else if (strcmp(xml_text(d, "imageId"), k->ami))
		row(check, WARN, 0, "run mode: refresh (it makes a new "
		    "version)", "%s launches %s, not the class's %s", name,
		    xml_text(d, "imageId"), k->ami);
	else
		row(check, OK, 0, NULL, "%s: %s, instance tags in metadata "
		    "enabled, IMDSv2 required", name, k->ami);
	xml_free(x);
}

static int
live_cb(void *arg, const struct ec2_instance *i)
{
	size_t *n = arg;

	if (strcmp(i->state, "terminated") && strcmp(i->state,
	    "shutting-down")) {
		if (!*live_id)
			snprintf(live_id, sizeof(live_id), "%s", i->id);
		n[1]++;
	}
	n[0]++;
	return 0;
}

static void
check_instances(struct aws *a)
{
	const char *v[1];
	struct ec2_filter f;
	size_t n[2] = { 0, 0 };

	v[0] = in.pool;
	f.name = "tag:" POOL_T_POOL;
	f.values = v;
	f.nvalues = 1;
	if (ec2_describe_instances(a, &f, 1, NULL, 0, live_cb, n) == -1) {
		row_error("ec2:DescribeInstances", "allow ec2:DescribeInstances");
		return;
	}
	row("ec2:DescribeInstances", OK, 0, NULL, "%zu instances of the "
	    "pool, %zu live", n[0], n[1]);
}

/* One call tried with DryRun=true: DryRunOperation is ok. */
static void
dry(struct aws *a, const char *action, struct aws_params *p, const char *on)
{
	char check[80], fix[200];
	struct xml *x;
	const char *code;

	snprintf(check, sizeof(check), "ec2:%s", action);
	snprintf(fix, sizeof(fix), "allow ec2:%s to these credentials (IAM "
	    "policy of the user or role)", action);
	aws_param(p, "DryRun", "true");
	x = aws_query(a, action, p);
	aws_params_free(p);
	if (x != NULL) {
		xml_free(x);
		row(check, FAIL, 0, "report it: the endpoint ignored DryRun",
		    "the call succeeded although DryRun was set");
		return;
	}
	code = aws_error_code(a);
	if (strcmp(code, "DryRunOperation") == 0) {
		error_clear();
		row(check, OK, 0, NULL, "allowed (DryRun) on %s", on);
	} else if (strcmp(code, "UnauthorizedOperation") == 0) {
		error_clear();
		/* EC2 encodes the rest; sts:DecodeAuthorizationMessage reads it */
		row(check, FAIL, 0, fix, "not allowed: %s on %s "
		    "(UnauthorizedOperation)", check, on);
	} else
		row_error(check, fix);
}

static void
check_dry_runs(struct aws *a)
{
	struct aws_params p = AWS_PARAMS_INIT;
	char on[200];
	size_t i;

	/* the launch template: refresh adds a version and makes it the default */
	if (have_template) {
		aws_param(&p, "LaunchTemplateName", tname);
		aws_param(&p, "SourceVersion", tversion);
		aws_param(&p, "LaunchTemplateData.InstanceInitiatedShutdownBehavior",
		    "terminate");
		dry(a, "CreateLaunchTemplateVersion", &p, tname);
		aws_param(&p, "LaunchTemplateName", tname);
		aws_param(&p, "SetDefaultVersion", tversion);
		dry(a, "ModifyLaunchTemplate", &p, tname);
	} else {
		aws_param(&p, "LaunchTemplateName", tname);
		aws_param(&p, "LaunchTemplateData.InstanceInitiatedShutdownBehavior",
		    "terminate");
		aws_param(&p, "TagSpecification.1.ResourceType", "launch-template");
		aws_param(&p, "TagSpecification.1.Tag.1.Key", POOL_T_POOL);
		aws_param(&p, "TagSpecification.1.Tag.1.Value", in.pool);
		dry(a, "CreateLaunchTemplate", &p, tname);
	}

	/* provision's fleet: the template, one override per subnet */
	if (!have_template)
		row("ec2:CreateFleet", SKIP, 0, "run mode: refresh, then check "
		    "again", "needs the launch template %s", tname);
	else if (nsubnets == 0)
		row("ec2:CreateFleet", SKIP, 0, "give --subnet (subnet-ids)",
		    "no subnets to launch into");
	else {
		struct ec2_requirements req = { 2, 0, 4096, 0, NULL, 0 };
		char prefix[96];

		if (nclasses) {
			req.vcpu_min = classes[0].cpu;
			req.mem_min = classes[0].mmem;
		}
		req.allowed = (const char *const *)in.patterns.v;
		req.nallowed = in.patterns.n;
		const char *use = in.usage ? in.usage : "spot";
		int spot = strcmp(use, "spot") == 0;

		/* as pool-launch asks (spot needs EC2's service-linked role) */
		aws_param(&p, "Type", "instant");
		aws_param(&p, "TargetCapacitySpecification.TotalTargetCapacity", "1");
		aws_param(&p, "TargetCapacitySpecification.DefaultTargetCapacityType",
		    use);
		aws_param(&p, spot ? "TargetCapacitySpecification.SpotTargetCapacity" :
		    "TargetCapacitySpecification.OnDemandTargetCapacity", "1");
		if (spot)
			aws_param(&p, "SpotOptions.AllocationStrategy",
			    "price-capacity-optimized");
		aws_param(&p, "LaunchTemplateConfigs.1.LaunchTemplateSpecification."
		    "LaunchTemplateName", tname);
		aws_param(&p, "LaunchTemplateConfigs.1.LaunchTemplateSpecification."
		    "Version", "$Default");
		for (i = 0; i < nsubnets; i++) {
			aws_paramf(&p, subnets[i].id,
			    "LaunchTemplateConfigs.1.Overrides.%zu.SubnetId", i + 1);
			snprintf(prefix, sizeof(prefix), "LaunchTemplateConfigs.1."
			    "Overrides.%zu.InstanceRequirements", i + 1);
			ec2_requirements_params(&p, prefix, &req);
		}
		aws_param(&p, "TagSpecification.1.ResourceType", "instance");
		aws_param(&p, "TagSpecification.1.Tag.1.Key", POOL_T_POOL);
		aws_param(&p, "TagSpecification.1.Tag.1.Value", in.pool);
		snprintf(on, sizeof(on), "%s in %zu subnets, %s", tname,
		    nsubnets, use);
		dry(a, "CreateFleet", &p, on);
	}

	/* tags and termination: on an instance of the pool (a policy may be
	 * scoped by the pool's tag), else the template for the tags */
	if (*live_id || have_template) {
		const char *rid = *live_id ? live_id : tid;

		snprintf(on, sizeof(on), "%s", rid);
		aws_param(&p, "ResourceId.1", rid);
		aws_param(&p, "Tag.1.Key", POOL_T_STATE);
		aws_param(&p, "Tag.1.Value", "idle");
		dry(a, "CreateTags", &p, on);
		aws_param(&p, "ResourceId.1", rid);
		aws_param(&p, "Tag.1.Key", POOL_T_CLAIM "0");
		dry(a, "DeleteTags", &p, on);
	} else {
		row("ec2:CreateTags", SKIP, 0, "check again after refresh",
		    "nothing of the pool to try it on yet");
		row("ec2:DeleteTags", SKIP, 0, "check again after refresh",
		    "nothing of the pool to try it on yet");
	}
	if (*live_id) {
		aws_param(&p, "InstanceId.1", live_id);
		dry(a, "TerminateInstances", &p, live_id);
	} else
		row("ec2:TerminateInstances", SKIP, 0, "check again once the "
		    "pool has an instance", "the pool has no instance to try it "
		    "on (EC2 checks the instance exists before the permission "
		    "answer)");
}

/* The image: exists, available, its architecture and root device. */
static void
check_image(struct aws *a, const char *ami, const char *who, char *arch,
    size_t archlen)
{
	struct aws_params p = AWS_PARAMS_INIT;
	char check[80];
	struct xml *x, *i;

	*arch = '\0';
	snprintf(check, sizeof(check), "image %s", ami);
	aws_param(&p, "ImageId.1", ami);
	x = aws_query(a, "DescribeImages", &p);
	aws_params_free(&p);
	if (x == NULL) {
		if (strncmp(aws_error_code(a), "InvalidAMIID.", 13) == 0) {
			error_clear();
			row(check, FAIL, 0, "use an AMI of this region (ami input "
			    "or the class's ami)", "%s: no such image in %s (%s)",
			    who, aws_region(a), "InvalidAMIID.NotFound");
		} else
			row_error(check, "allow ec2:DescribeImages");
		return;
	}
	i = xml_path(x, "imagesSet/item");
	if (i == NULL)
		row(check, FAIL, 0, "use an AMI of this region", "%s: no such "
		    "image (deregistered?)", who);
	else {
		const char *ar = xml_text(i, "architecture");
		const char *st = xml_text(i, "imageState");
		const char *rt = xml_text(i, "rootDeviceType");
		int bad = validate_arch(ar) == -1;

		error_clear();
		snprintf(arch, archlen, "%s", ar);
		row(check, bad || strcmp(st, "available") ? FAIL :
		    strcmp(rt, "ebs") ? WARN : OK, 0, bad ? "use an x86_64 or "
		    "arm64 image" : strcmp(st, "available") ? "wait for the "
		    "image, or use another" : "use an EBS-backed image (an "
		    "instance-store root cannot stop and is slow to boot)",
		    "%s: %s, %s, %s, root %s %s", who, xml_text(i, "name"), ar,
		    st, rt, xml_text(i, "rootDeviceName"));
	}
	xml_free(x);
}

static void
check_network(struct aws *a)
{
	struct aws_params p = AWS_PARAMS_INIT;
	struct xml *x, *it;
	char check[80];
	size_t i;
	int mixed = 0;

	if (in.sgs.n == 0)
		row("security-groups", SKIP, 0, "give --security-group "
		    "(security-group-ids)", "no security groups given or in "
		    "the template");
	else {
		for (i = 0; i < in.sgs.n; i++)
			aws_paramf(&p, in.sgs.v[i], "GroupId.%zu", i + 1);
		x = aws_query(a, "DescribeSecurityGroups", &p);
		aws_params_free(&p);
		if (x == NULL) {
			if (strncmp(aws_error_code(a), "InvalidGroup", 12) == 0)
				row_error("security-groups", "use security groups "
				    "of this region and VPC");
			else
				row_error("security-groups", "allow "
				    "ec2:DescribeSecurityGroups");
		} else {
			XML_EACH(it, xml_child(x, "securityGroupInfo"), "item") {
				if (!*vpc)
					snprintf(vpc, sizeof(vpc), "%s",
					    xml_text(it, "vpcId"));
				else if (strcmp(vpc, xml_text(it, "vpcId")))
					mixed = 1;
			}
			if (mixed)
				row("security-groups", FAIL, 0, "use groups of "
				    "one VPC", "the groups are in different VPCs");
			else
				row("security-groups", OK, 0, NULL, "%zu groups, "
				    "in %s", in.sgs.n, vpc);
			xml_free(x);
		}
	}

	if (nsubnets == 0) {
		row("subnets", SKIP, 0, "give --subnet (subnet-ids)", "no "
		    "subnets given or stored");
		return;
	}
	for (i = 0; i < nsubnets; i++)
		aws_paramf(&p, subnets[i].id, "SubnetId.%zu", i + 1);
	x = aws_query(a, "DescribeSubnets", &p);
	aws_params_free(&p);
	if (x == NULL && strcmp(aws_error_code(a), "InvalidSubnetID.NotFound")) {
		row_error("subnets", "allow ec2:DescribeSubnets");
		return;
	}
	if (x == NULL) {
		/* one at a time, to name each missing one */
		error_clear();
		for (i = 0; i < nsubnets; i++) {
			struct xml *y;

			aws_param(&p, "SubnetId.1", subnets[i].id);
			y = aws_query(a, "DescribeSubnets", &p);
			aws_params_free(&p);
			if (y == NULL) {
				snprintf(check, sizeof(check), "subnet %.31s",
				    subnets[i].id);
				if (strcmp(aws_error_code(a),
				    "InvalidSubnetID.NotFound") == 0) {
					error_clear();
					row(check, FAIL, 0, "use subnets of this "
					    "region (subnet-ids)", "no such subnet "
					    "in %s", aws_region(a));
					subnets[i].found = -1;
				} else
					row_error(check, "allow ec2:DescribeSubnets");
				continue;
			}
			it = xml_path(y, "subnetSet/item");
			snprintf(subnets[i].vpc, sizeof(subnets[i].vpc), "%s",
			    xml_text(it, "vpcId"));
			snprintf(subnets[i].az, sizeof(subnets[i].az), "%s",
			    xml_text(it, "availabilityZone"));
			subnets[i].free = atoll(xml_text(it,
			    "availableIpAddressCount"));
			subnets[i].found = 1;
			xml_free(y);
		}
	} else {
		XML_EACH(it, xml_child(x, "subnetSet"), "item")
			for (i = 0; i < nsubnets; i++)
				if (strcmp(subnets[i].id, xml_text(it,
				    "subnetId")) == 0) {
					snprintf(subnets[i].vpc,
					    sizeof(subnets[i].vpc), "%s",
					    xml_text(it, "vpcId"));
					snprintf(subnets[i].az,
					    sizeof(subnets[i].az), "%s",
					    xml_text(it, "availabilityZone"));
					subnets[i].free = atoll(xml_text(it,
					    "availableIpAddressCount"));
					subnets[i].found = 1;
				}
		xml_free(x);
	}
	for (i = 0; i < nsubnets; i++) {
		struct subnet *s = &subnets[i];

		if (s->found != 1)
			continue;
		snprintf(check, sizeof(check), "subnet %.31s", s->id);
		if (*vpc && strcmp(s->vpc, vpc))
			row(check, FAIL, 0, "use subnets of the security "
			    "groups' VPC, or groups of the subnet's", "in %s, "
			    "the security groups in %s", s->vpc, vpc);
		else if (s->free == 0)
			row(check, FAIL, 0, "free addresses or use another "
			    "subnet", "%s, %s: no free address", s->az, s->vpc);
		else
			row(check, s->free < FEW_ADDRESSES ? WARN : OK, 0,
			    "add a subnet with room", "%s, %s, %lld free "
			    "addresses", s->az, s->vpc, s->free);
	}
}

/* The types a class selects, and in which of the subnets' AZs. */
static void
check_types(struct aws *a, const struct klass *k, const char *arch)
{
	static char types[MAX_TYPES][32];
	struct ec2_requirements req = { 0, 0, 0, 0, NULL, 0 };
	struct aws_params p = AWS_PARAMS_INIT;
	char check[80], azs[MAX_AZS][32], list[200] = "", where[300] = "";
	char *token = NULL, none[200] = "";
	size_t ntypes = 0, nazs = 0, i, j, start;
	long count[MAX_AZS];
	struct xml *x, *it;

	snprintf(check, sizeof(check), "instance-types %.39s", k->name);
	if (!*arch) {
		row(check, SKIP, 0, "fix the image row", "no image "
		    "architecture to select types for");
		return;
	}
	req.vcpu_min = k->cpu;
	req.mem_min = k->mmem;
	req.allowed = (const char *const *)in.patterns.v;
	req.nallowed = in.patterns.n;
	aws_param(&p, "ArchitectureType.1", arch);
	aws_param(&p, "VirtualizationType.1", "hvm");
	ec2_requirements_params(&p, "InstanceRequirements", &req);
	aws_param(&p, "MaxResults", "1000");
	x = aws_query(a, "GetInstanceTypesFromInstanceRequirements", &p);
	aws_params_free(&p);
	if (x == NULL) {
		row_error(check, "allow ec2:GetInstanceTypesFromInstanceRequirements");
		return;
	}
	XML_EACH(it, xml_child(x, "instanceTypeSet"), "item")
		if (ntypes < MAX_TYPES)
			snprintf(types[ntypes++], sizeof(types[0]), "%s",
			    xml_text(it, "instanceType"));
	xml_free(x);
	if (ntypes == 0) {
		row(check, FAIL, 0, "widen allowed-instance-types, or change "
		    "the class's cpu/mmem", "%s, at least %lld vCPUs and %lld "
		    "MiB: no instance type matches", arch, k->cpu, k->mmem);
		return;
	}
	for (i = 0; i < ntypes && i < 4; i++)
		cat(list, sizeof(list),
		    "%s%s", i ? " " : "", types[i]);
	if (ntypes > 4)
		cat(list, sizeof(list),
		    " +%zu", ntypes - 4);
	/* the subnets' AZs */
	for (i = 0; i < nsubnets; i++) {
		if (subnets[i].found != 1)
			continue;
		for (j = 0; j < nazs; j++)
			if (strcmp(azs[j], subnets[i].az) == 0)
				break;
		if (j == nazs && nazs < MAX_AZS) {
			snprintf(azs[nazs], sizeof(azs[0]), "%s", subnets[i].az);
			count[nazs++] = 0;
		}
	}
	if (nazs == 0) {
		row(check, OK, 0, NULL, "%zu types (%s), %s; no subnet to say in "
		    "which AZs", ntypes, list, arch);
		return;
	}
	/* DescribeInstanceTypeOfferings, up to 100 types a filter */
	for (start = 0; start < ntypes; start += 100) {
		do {
			aws_param(&p, "LocationType", "availability-zone");
			aws_param(&p, "Filter.1.Name", "instance-type");
			for (i = start; i < ntypes && i < start + 100; i++)
				aws_paramf(&p, types[i], "Filter.1.Value.%zu",
				    i - start + 1);
			aws_param(&p, "Filter.2.Name", "location");
			for (j = 0; j < nazs; j++)
				aws_paramf(&p, azs[j], "Filter.2.Value.%zu", j + 1);
			if (token)
				aws_param(&p, "NextToken", token);
			free(token);
			token = NULL;
			x = aws_query(a, "DescribeInstanceTypeOfferings", &p);
			aws_params_free(&p);
			if (x == NULL) {
				row_error(check, "allow "
				    "ec2:DescribeInstanceTypeOfferings");
				return;
			}
			XML_EACH(it, xml_child(x, "instanceTypeOfferingSet"),
			    "item")
				for (j = 0; j < nazs; j++)
					if (strcmp(azs[j], xml_text(it,
					    "location")) == 0)
						count[j]++;
			/* as long as EC2 makes it: a cut token would be
			 * another request */
			if (*xml_text(x, "nextToken") && (token =
			    strdup(xml_text(x, "nextToken"))) == NULL) {
				xml_free(x);
				error_set(EXIT_TEMP, "out of memory");
				row_error(check, "check again");
				return;
			}
			xml_free(x);
		} while (token);
	}
	for (j = 0; j < nazs; j++) {
		cat(where, sizeof(where),
		    "%s%s %ld", j ? ", " : "", azs[j], count[j]);
		if (count[j] == 0)
			cat(none, sizeof(none), "%s%s", *none ? " " : "", azs[j]);
	}
	row(check, *none ? WARN : OK, 0, "use subnets in AZs that offer "
	    "them, or widen allowed-instance-types", "%zu types (%s), %s; "
	    "offered in %s%s%s", ntypes, list, arch, where,
	    *none ? "; none in " : "", none);
}

static void
check_github(const struct ghauth_src *auth)
{
	struct ghscope sc;
	struct ghrunner_token t;
	struct github *gh;

	if (in.scope == NULL)
		row("github-token", SKIP, 0, "give --scope (github-scope)",
		    "no scope given, stored or in $GITHUB_REPOSITORY");
	else if (ghscope_parse(in.scope, &sc) == -1)
		row_error("github-token", "give owner/repo or org");
	else if ((gh = github_new(&sc, auth)) == NULL)
		row_error("github-token", "give github-token, or github-app-id "
		    "and github-app-private-key");
	else {
		/* a registration token is made and dropped: it only expires */
		if (ghrunner_token(gh, "registration-token", &t) == -1)
			row_error("github-token", sc.kind == GHSCOPE_ORG ?
			    "the token needs admin:org (classic) or the "
			    "organization's self-hosted runners: write "
			    "(fine-grained or App)" : "the token needs repo "
			    "(classic) or administration: write (fine-grained "
			    "or App)");
		else {
			row("github-token", OK, 0, NULL, "can create a "
			    "registration token for %s (%s)", sc.name,
			    github_auth_kind(gh) == GHAUTH_APP ?
			    "GitHub App" : "token");
			ghrunner_token_free(&t);
		}
		github_free(gh);
	}
}

static void
check_runner_release(void)
{
	struct jsonl j = { NULL, "--runner-release", 0 };
	const cJSON *w, *e;
	cJSON *o = NULL;
	char ws[400] = "";

	if (in.release == NULL) {
		row("runner-version", SKIP, 0, "pass gh-runner-release's output "
		    "as --runner-release FILE (mode: check does)", "not "
		    "resolved here");
		return;
	}
	if ((j.f = fopen(in.release, "r")) == NULL ||
	    jsonl_read(&j, &o) != 1) {
		row("runner-version", FAIL, 0, "check runner-version",
		    "cannot read --runner-release '%s'", in.release);
		error_clear();
		goto out;
	}
	if ((e = cJSON_GetObjectItemCaseSensitive(o, "error")) &&
	    cJSON_IsString(e)) {
		row("runner-version", FAIL, 0, "check runner-version and "
		    "runner-download-url", "%s", e->valuestring);
		goto out;
	}
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(o, "warnings"))
		if (cJSON_IsString(w))
			cat(ws, sizeof(ws),
			    "%s%s", *ws ? "; " : "", w->valuestring);
	row("runner-version", *ws ? WARN : OK, 0, "use runner-version: latest, "
	    "or pin a newer release", "v%s (newest v%s)%s%s",
	    jsonl_str(o, "version") ? jsonl_str(o, "version") : "?",
	    jsonl_str(o, "latest") ? jsonl_str(o, "latest") : "?",
	    *ws ? ": " : "", ws);
out:
	if (j.f)
		fclose(j.f);
	cJSON_Delete(o);
}

/*
 * Runner groups (issue 11, "Runner groups"): the runner-group input does
 * not exist yet.  Its check goes here: the group exists in the
 * organization and the repository may use it (GET /orgs/ORG/actions/
 * runner-groups, .../repositories), a fail row naming the fix otherwise.
 */
static void
check_runner_group(const struct ghauth_src *auth)
{
	const char *r = getenv("GITHUB_REPOSITORY"), *repo = NULL;
	struct ghscope sc;
	struct github *gh;
	cJSON *g = NULL;
	size_t n;

	if (in.group == NULL) {
		row("runner-group", SKIP, 0, NULL, "no runner-group given: "
		    "runners join the Default group");
		return;
	}
	if (in.scope == NULL || ghscope_parse(in.scope, &sc) == -1 ||
	    sc.kind != GHSCOPE_ORG) {
		row("runner-group", FAIL, 0, "give an organization as "
		    "github-scope", "a runner group is an organization's; "
		    "a repository's runners are all in its Default group");
		return;
	}
	/* the workflow's repository, when the organization's, must see it */
	n = strlen(sc.owner);
	if (r && strncmp(r, sc.owner, n) == 0 && r[n] == '/' && r[n + 1])
		repo = r + n + 1;
	if ((gh = github_new(&sc, auth)) == NULL) {
		row_error("runner-group", "give github-token, or github-app-id "
		    "and github-app-private-key");
		return;
	}
	switch (ghrunner_group_check(gh, in.group, repo, &g)) {
	case 0:
		row("runner-group", OK, 0, NULL, "'%s' of %s exists%s%s",
		    in.group, sc.owner, repo ? " and may serve " : "",
		    repo ? r : "");
		break;
	case 1:
		row("runner-group", FAIL, 0, "create the group in the "
		    "organization's Actions settings, or fix runner-group",
		    "%s has no runner group '%s'", sc.owner, in.group);
		break;
	case 2:
		row("runner-group", FAIL, 0, "add the repository to the "
		    "group's repositories (or make the group visible to all)",
		    "'%s' of %s exists, but %s may not use it", in.group,
		    sc.owner, r);
		break;
	default:
		row_error("runner-group", "the token needs admin:org (classic) "
		    "or the organization's self-hosted runners: read");
	}
	cJSON_Delete(g);
	github_free(gh);
}

/* --- the table ----------------------------------------------------------- */

static void
md_cell(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '|')
			fputs("\\|", f);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', f);
		else
			fputc(*s, f);
}

static void
report(const char *region)
{
	static const char *const mark[] = { "ok  ", "WARN", "FAIL", "skip" };
	static const char *const icon[] = { ":white_check_mark: ok",
	    ":warning: warn", ":x: fail", ":heavy_minus_sign: skip" };
	const char *sum = getenv("GITHUB_STEP_SUMMARY");
	size_t i, n[4] = { 0, 0, 0, 0 };
	FILE *f;

	for (i = 0; i < nrows; i++)
		n[rows[i].status]++;
	fprintf(stderr, "%s: pool %s%s%s\n", tool_name, in.pool,
	    region ? " in " : "", region ? region : "");
	for (i = 0; i < nrows; i++) {
		fprintf(stderr, "  %s  %-31s %s\n", mark[rows[i].status],
		    rows[i].check, rows[i].detail);
		if (*rows[i].fix)
			fprintf(stderr, "        %-31s fix: %s\n", "",
			    rows[i].fix);
	}
	fprintf(stderr, "%s: %zu ok, %zu warn, %zu fail, %zu skipped\n",
	    tool_name, n[OK], n[WARN], n[FAIL], n[SKIP]);
	if (sum == NULL || *sum == '\0')
		return;
	if ((f = fopen(sum, "a")) == NULL) {
		tool_log("cannot append to $GITHUB_STEP_SUMMARY");
		return;
	}
	fprintf(f, "### runner-pool check: %s\n\n", in.pool);
	fprintf(f, "%zu ok, %zu warn, %zu fail, %zu skipped\n\n", n[OK],
	    n[WARN], n[FAIL], n[SKIP]);
	fputs("| | check | detail | fix |\n|---|---|---|---|\n", f);
	for (i = 0; i < nrows; i++) {
		fprintf(f, "| %s | `", icon[rows[i].status]);
		md_cell(f, rows[i].check);
		fputs("` | ", f);
		md_cell(f, rows[i].detail);
		fputs(" | ", f);
		md_cell(f, rows[i].fix);
		fputs(" |\n", f);
	}
	fputc('\n', f);
	if (fclose(f) != 0)
		tool_log("cannot append to $GITHUB_STEP_SUMMARY");
}

/* What the stored configuration gives, for what was not given. */
static void
from_config(const cJSON *c)
{
	const cJSON *s;
	const char *v;

	if (!cJSON_IsObject(c))
		return;
	if (nsubnets == 0)
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(c,
		    "subnets"))
			if (cJSON_IsString(s) && validate_subnet(s->valuestring)
			    == 0 && nsubnets < sizeof(subnets) /
			    sizeof(subnets[0]))
				snprintf(subnets[nsubnets++].id,
				    sizeof(subnets[0].id), "%s", s->valuestring);
	if (in.classes == NULL)
		cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(c,
		    "classes"))
			if (add_class(s->string, s) == -1)
				error_clear();
	if (in.usage == NULL && (v = jsonl_str(c, "usage")) &&
	    validate_usage(v) == 0)
		in.usage = strncpy(usage_buf, v, sizeof(usage_buf) - 1);
	/* whole, however long (400 patterns): a cut list would check other
	 * types than the pool launches; kept until exit */
	if (in.types == NULL && (v = jsonl_str(c, "allowed_types")))
		in.types = strdup(v);
	if (in.scope == NULL && (v = jsonl_str(c, "github_scope")) &&
	    ghscope_parse(v, &(struct ghscope){ 0 }) == 0)
		in.scope = strncpy(scope_buf, v, sizeof(scope_buf) - 1);
	error_clear();
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ami", required_argument, NULL, 'A' },
		{ "app-id", required_argument, NULL, 'a' },
		{ "app-key-file", required_argument, NULL, 'k' },
		{ "classes", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "instance-profile", required_argument, NULL, 'i' },
		{ "pool", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'R' },
		{ "runner-group", required_argument, NULL, 'G' },
		{ "runner-release", required_argument, NULL, 'r' },
		{ "scope", required_argument, NULL, 's' },
		{ "security-group", required_argument, NULL, 'g' },
		{ "subnet", required_argument, NULL, 'S' },
		{ "token-file", required_argument, NULL, 't' },
		{ "types", required_argument, NULL, 'T' },
		{ "usage", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	struct ghauth_src auth = { NULL, NULL, NULL, 0 };
	const char *region = NULL, *profile = NULL;
	struct strlist sn = STRLIST_INIT;
	struct aws *aws = NULL;
	cJSON *config = NULL;
	char arch[32] = "";
	size_t i, j;
	int c, rc;

	tool_init(argv[0]);
	opterr = 0;
	if ((c = tool_exact_options(argc, argv, opts, HINT)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'A':
			if (validate_ami(optarg) == -1)
				return error_wrap("--ami"), tool_fail();
			in.ami = optarg;
			break;
		case 'c':
			in.classes = optarg;
			break;
		case 'g':
			if (strlist_split(&in.sgs, optarg,
			    validate_security_group, "--security-group") == -1)
				return tool_fail();
			break;
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'i':
			if (validate_instance_profile(optarg) == -1)
				return error_wrap("--instance-profile"),
				    tool_fail();
			in.profile = optarg;
			break;
		case 'G':
			if (validate_runner_group(optarg) == -1)
				return error_wrap("--runner-group"), tool_fail();
			in.group = optarg;
			break;
		case 'r':
			in.release = optarg;
			break;
		case 's':
			if (ghscope_parse(optarg,
			    &(struct ghscope){ 0 }) == -1)
				return error_wrap("--scope"), tool_fail();
			in.scope = optarg;
			break;
		case 'S':
			if (strlist_split(&sn, optarg, validate_subnet,
			    "--subnet") == -1)
				return tool_fail();
			break;
		case 'T':
			in.types = optarg;
			break;
		case 'u':
			if (validate_usage(optarg) == -1)
				return error_wrap("--usage"), tool_fail();
			in.usage = optarg;
			break;
		default:
			if (tool_aws_option(c, optarg, &in.pool, &region,
			    &profile) || tool_github_option(c, optarg, &auth))
				break;
			return tool_bad_option(argv[optind - 1], c == ':', HINT);
		}
	}
	if (optind < argc)
		return tool_usage("unexpected argument (tokens are read from "
		    "$GITHUB_TOKEN or --token-file, never argv)");
	if ((c = tool_github_auth_check(&auth)) != 0)
		return c;
	if (pool_name(in.pool, &in.pool) == -1 ||
	    pool_template_name(in.pool, tname, sizeof(tname)) == -1)
		return tool_fail();
	if (region && validate_region(region) == -1)
		return error_wrap("--region"), tool_fail();
	if (sn.n > sizeof(subnets) / sizeof(subnets[0]))
		return tool_usage("--subnet: more than %zu subnets",
		    sizeof(subnets) / sizeof(subnets[0]));
	for (i = 0; i < sn.n; i++)
		snprintf(subnets[nsubnets++].id, sizeof(subnets[0].id), "%s",
		    sn.v[i]);
	strlist_free(&sn);
	if (in.classes && parse_classes(in.classes) == -1)
		return tool_fail();
	if (in.types && strlist_split(&in.patterns, in.types,
	    validate_type_pattern, "--types") == -1)
		return tool_fail();
	if (in.patterns.n > EC2_MAX_ALLOWED)
		return tool_usage("--types: at most %d patterns",
		    EC2_MAX_ALLOWED);

	check_credentials(&aws, region, profile);
	if (aws) {
		check_config(aws, &config);
		from_config(config);
		check_token_param(aws);
	}
	if (in.scope == NULL)
		in.scope = getenv("GITHUB_REPOSITORY");
	if (!in.patterns.n && strlist_split(&in.patterns, in.types ?
	    in.types : "c* m* r*", validate_type_pattern, "types") == -1) {
		row_error("instance-types", "fix allowed-instance-types");
		strlist_split(&in.patterns, "c* m* r*", NULL, "types");
	}
	/* the default class first: the fleet's DryRun uses it */
	for (i = 0; i < nclasses; i++)
		if (strcmp(classes[i].name, "default") == 0)
			break;
	if (i == nclasses) {
		cJSON *d = cJSON_Parse("{\"cpu\":2,\"mmem\":4096}");

		if (add_class("default", d) == -1)
			error_clear();
		cJSON_Delete(d);
		for (i = 0; i < nclasses; i++)
			if (strcmp(classes[i].name, "default") == 0)
				break;
	}
	if (i > 0 && i < nclasses) {
		struct klass t = classes[0];

		classes[0] = classes[i];
		classes[i] = t;
	}
	if (aws) {
		check_template(aws);
		check_instances(aws);
		check_network(aws);
		check_dry_runs(aws);
		if (in.ami)
			check_image(aws, in.ami, "ami", arch, sizeof(arch));
		else
			row("image", FAIL, 0, "give --ami (the ami input)",
			    "no AMI given or in the launch template");
		if (in.profile)
			row("instance-profile", SKIP, 0, "make sure the "
			    "instance profile exists (IAM console or aws iam "
			    "get-instance-profile)", "%s: existence not checked "
			    "(IAM, outside the pool's EC2 and SSM footprint); a "
			    "missing one fails the first launch", in.profile);
		else
			row("instance-profile", FAIL, 0, "give "
			    "--instance-profile (iam-instance-profile)",
			    "no instance profile given or in the template");
		for (i = 0; i < nclasses; i++) {
			struct klass *k = &classes[i];
			const char *ca = arch;

			if (*k->ami) {
				char who[64];

				for (j = 0; j < i; j++)
					if (strcmp(classes[j].ami, k->ami) == 0)
						break;
				snprintf(who, sizeof(who), "class %.39s", k->name);
				check_class_template(aws, k);
				if (j == i)
					check_image(aws, k->ami, who, k->arch,
					    sizeof(k->arch));
				else
					memcpy(k->arch, classes[j].arch,
					    sizeof(k->arch));
				ca = k->arch;
			}
			check_types(aws, k, ca);
		}
	} else
		row("aws", SKIP, 0, "fix the credentials row", "EC2 and SSM "
		    "not checked without credentials and a region");
	check_github(&auth);
	check_runner_release();
	check_runner_group(&auth);

	report(aws ? aws_region(aws) : NULL);
	cJSON_Delete(config);
	aws_free(aws);
	strlist_free(&in.sgs);
	strlist_free(&in.patterns);
	rc = failed_perm ? EXIT_NO : failed_temp ? EXIT_TEMP : 0;
	if (out_failed && rc == 0)
		rc = EXIT_TEMP;
	return tool_exit(rc);
}
