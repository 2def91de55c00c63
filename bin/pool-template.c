/*
 * pool-template: create the pool's launch template, or add a version and
 * make it the default when what it launches has changed.
 */
#include <errno.h>
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

#define MAX_USER_DATA 16384

static const char usage[] =
"usage: pool-template --ami AMI --instance-profile PROFILE\n"
"                     --security-group SG... --user-data FILE\n"
"                     [--pool NAME] [--name TEMPLATE] [--dry-run]\n"
"                     [--region REGION] [--profile NAME]\n"
"\n"
"Create the pool's launch template, or, when the AMI, instance profile,\n"
"security groups, user data or metadata settings differ from its default\n"
"version, add a version and make it the default.  The template requires\n"
"IMDSv2 (hop limit 1), exposes instance tags in metadata and terminates on\n"
"shutdown.  The AMI must exist in the region: its architecture is printed\n"
"and tagged on the template (runner-pool:architecture).  Prints {\"name\",\n"
"\"id\",\"version\",\"architecture\",\"created\",\"changed\"}.\n"
"\n"
"  --ami AMI                 image id (ami-...), x86_64 or arm64\n"
"  --instance-profile PROFILE  IAM instance profile name or ARN\n"
"  --security-group SG       security group id (repeatable or space-separated)\n"
"  --user-data FILE          user data script ('-' for stdin, at most 16 KiB)\n"
"  --pool NAME               the pool (default $RUNNER_POOL, $GITHUB_REPOSITORY)\n"
"  --name TEMPLATE           template name (default runner-pool/POOL)\n"
"  --dry-run                 say what would change; change nothing\n"
"  --region REGION           AWS region (default $AWS_REGION, $AWS_DEFAULT_REGION)\n"
"  --profile NAME            AWS profile (default $AWS_PROFILE)\n"
"  -h, --help                this help\n"
"\n"
"Exit status: 0 template up to date, 100 usage or permanent error (also an\n"
"AMI that does not exist), 111 temporary failure (network, throttling, 5xx).\n";

struct spec {
	const char *ami, *profile, *pool;
	struct strlist sgs;
	struct buf user_data;	/* base64 */
};

static int
read_file(const char *path, struct buf *out)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	int rc;

	if (f == NULL)
		return error_set(EXIT_PERM, "--user-data: cannot open '%s': %s",
		    path, strerror(errno));
	rc = buf_read(out, f, MAX_USER_DATA);
	if (f != stdin)
		fclose(f);
	if (rc == -1)
		return error_wrap("--user-data: cannot read '%s'", path);
	if (rc == 1)
		return error_set(EXIT_PERM, "--user-data: '%s' is more than "
		    "EC2's %d bytes", path, MAX_USER_DATA);
	if (out->len == 0)
		return error_set(EXIT_PERM, "--user-data: '%s' is empty", path);
	return 0;
}

static void
data_params(struct aws_params *p, const struct spec *s)
{
	size_t i;

	aws_param(p, "LaunchTemplateData.ImageId", s->ami);
	aws_param(p, strncmp(s->profile, "arn:", 4) == 0 ?
	    "LaunchTemplateData.IamInstanceProfile.Arn" :
	    "LaunchTemplateData.IamInstanceProfile.Name", s->profile);
	for (i = 0; i < s->sgs.n; i++)
		aws_paramf(p, s->sgs.v[i],
		    "LaunchTemplateData.SecurityGroupId.%zu", i + 1);
	aws_param(p, "LaunchTemplateData.UserData", s->user_data.s);
	aws_param(p, "LaunchTemplateData.MetadataOptions.HttpEndpoint",
	    "enabled");
	aws_param(p, "LaunchTemplateData.MetadataOptions.HttpTokens",
	    "required");
	aws_param(p, "LaunchTemplateData.MetadataOptions."
	    "HttpPutResponseHopLimit", "1");
	aws_param(p, "LaunchTemplateData.MetadataOptions.InstanceMetadataTags",
	    "enabled");
	aws_param(p, "LaunchTemplateData.InstanceInitiatedShutdownBehavior",
	    "terminate");
}

/* Which field of the default version differs from the spec, or NULL. */
static const char *
differs(const struct xml *d, const struct spec *s)
{
	const struct xml *g;
	size_t n = 0;

	if (strcmp(xml_text(d, "imageId"), s->ami))
		return "ami";
	if (strcmp(xml_text(d, "iamInstanceProfile/name"), s->profile) &&
	    strcmp(xml_text(d, "iamInstanceProfile/arn"), s->profile))
		return "instance profile";
	XML_EACH(g, xml_child(d, "securityGroupIdSet"), "item") {
		if (!strlist_has(&s->sgs, xml_text(g, NULL)))
			return "security groups";
		n++;
	}
	if (n != s->sgs.n)
		return "security groups";
	if (strcmp(xml_text(d, "userData"), s->user_data.s))
		return "user data";
	if (strcmp(xml_text(d, "metadataOptions/httpTokens"), "required") ||
	    strcmp(xml_text(d, "metadataOptions/instanceMetadataTags"),
	    "enabled") ||
	    strcmp(xml_text(d, "metadataOptions/httpPutResponseHopLimit"), "1"))
		return "metadata options";
	if (strcmp(xml_text(d, "instanceInitiatedShutdownBehavior"),
	    "terminate"))
		return "shutdown behaviour";
	return NULL;
}

static int
tag_arch(struct aws *a, const char *id, const char *arch)
{
	const char *ids[1];
	struct ec2_tag t;

	ids[0] = id;
	t.key = POOL_T_ARCH;
	t.value = arch;
	return ec2_create_tags(a, ids, 1, &t, 1);
}

/* Option state lives for the whole run: usage errors return at once. */
static struct spec s;

/*
 * What EC2 found not valid in the template it took anyway (a
 * ValidationWarning: warning/errorSet/item/code,message), logged so that a
 * template that will not launch is noticed now, not at the first launch.
 */
static void
warnings(const struct xml *x)
{
	const struct xml *it;

	XML_EACH(it, xml_path(x, "warning/errorSet"), "item")
		tool_log("warning: EC2: %s: %s", xml_text(it, "code"),
		    xml_text(it, "message"));
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ami", required_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "instance-profile", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'N' },
		{ "pool", required_argument, NULL, 'p' },
		{ "profile", required_argument, NULL, 'P' },
		{ "region", required_argument, NULL, 'R' },
		{ "security-group", required_argument, NULL, 's' },
		{ "user-data", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 }
	};
	const char *region = NULL, *profile = NULL, *name = NULL, *ud = NULL;
	char tname[160], version[32] = "", id[64] = "", arch[32] = "";
	const char *changed = NULL;
	struct buf raw = BUF_INIT;
	struct aws *aws = NULL;
	struct aws_params p = AWS_PARAMS_INIT;
	struct xml *x = NULL;
	int c, dry = 0, created = 0, rc = 0, race = 0;
	cJSON *o = NULL;

	tool_init(argv[0]);
	if ((c = tool_exact_options(argc, argv, opts, NULL)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (validate_ami(optarg) == -1)
				return error_wrap("--ami"), tool_fail();
			s.ami = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'i':
			if (validate_instance_profile(optarg) == -1)
				return error_wrap("--instance-profile"),
				    tool_fail();
			s.profile = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'N':
			if (validate_template_name(optarg) == -1)
				return error_wrap("--name"), tool_fail();
			name = optarg;
			break;
		case 's':
			if (strlist_split(&s.sgs, optarg,
			    validate_security_group, "--security-group") == -1)
				return tool_fail();
			break;
		case 'u':
			ud = optarg;
			break;
		default:
			if (tool_aws_option(c, optarg, &s.pool, &region, &profile))
				break;
			return tool_bad_option(argv[optind - 1], c == ':', NULL);
		}
	}
	if (optind != argc)
		return tool_usage("unexpected argument '%s'", argv[optind]);
	if (!s.ami || !s.profile || !s.sgs.n || !ud)
		return tool_usage("--ami, --instance-profile, --security-group "
		    "and --user-data are required");
	if (pool_name(s.pool, &s.pool) == -1)
		return tool_fail();
	if (name)
		snprintf(tname, sizeof(tname), "%s", name);
	else if (pool_template_name(s.pool, tname, sizeof(tname)) == -1)
		return tool_fail();
	if (strlen(tname) < 3 || strlen(tname) > 128 ||
	    strspn(tname, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789().-/_") != strlen(tname))
		return tool_usage("--name: '%s' is not a launch template name",
		    tname);
	if (read_file(ud, &raw) == -1 ||
	    buf_base64(&s.user_data, raw.s, raw.len) == -1)
		goto fail;
	if ((aws = aws_new(region, profile)) == NULL)
		goto fail;
	/* before any write, in a dry run too: EC2 takes any well-formed id
	 * into a template and fails only at launch */
	if (ec2_image_architecture(aws, s.ami, arch, sizeof(arch)) == -1) {
		error_wrap("--ami");
		goto fail;
	}
	if (validate_arch(arch) == -1) {
		error_set(EXIT_PERM, "--ami: image '%s' is %s, not x86_64 or "
		    "arm64", s.ami, arch);
		goto fail;
	}

again:
	aws_param(&p, "LaunchTemplateName", tname);
	aws_param(&p, "LaunchTemplateVersion.1", "$Default");
	x = aws_query(aws, "DescribeLaunchTemplateVersions", &p);
	aws_params_free(&p);
	if (x == NULL && !ec2_template_missing(aws))
		goto fail;
	error_clear();
	if (x == NULL) {
		changed = "created";
		created = 1;
		if (!dry) {
			aws_param(&p, "LaunchTemplateName", tname);
			aws_param(&p, "VersionDescription", "ec2-runner-pool");
			data_params(&p, &s);
			aws_param(&p, "TagSpecification.1.ResourceType",
			    "launch-template");
			aws_param(&p, "TagSpecification.1.Tag.1.Key",
			    POOL_T_POOL);
			aws_param(&p, "TagSpecification.1.Tag.1.Value", s.pool);
			aws_param(&p, "TagSpecification.1.Tag.2.Key",
			    POOL_T_ARCH);
			aws_param(&p, "TagSpecification.1.Tag.2.Value", arch);
			x = aws_query(aws, "CreateLaunchTemplate", &p);
			aws_params_free(&p);
			/* another writer (a second refresh) created it since we
			 * looked: read it again, as an update (EC2 is eventually
			 * consistent: the read may lag the create a little) */
			if (x == NULL && race < 5 && strcmp(aws_error_code(aws),
			    "InvalidLaunchTemplateName.AlreadyExistsException") == 0) {
				error_clear();
				http_backoff(race++);
				changed = NULL;
				created = 0;
				goto again;
			}
			if (x == NULL)
				goto fail;
			warnings(x);
			snprintf(id, sizeof(id), "%s", xml_text(x,
			    "launchTemplate/launchTemplateId"));
			snprintf(version, sizeof(version), "%s", xml_text(x,
			    "launchTemplate/defaultVersionNumber"));
		}
	} else {
		struct xml *v = xml_path(x, "launchTemplateVersionSet/item");

		snprintf(id, sizeof(id), "%s", xml_text(v,
		    "launchTemplateId"));
		snprintf(version, sizeof(version), "%s", xml_text(v,
		    "versionNumber"));
		changed = differs(xml_child(v, "launchTemplateData"), &s);
		xml_free(x);
		x = NULL;
		if (changed && !dry) {
			aws_param(&p, "LaunchTemplateName", tname);
			aws_param(&p, "VersionDescription", "ec2-runner-pool");
			data_params(&p, &s);
			x = aws_query(aws, "CreateLaunchTemplateVersion", &p);
			aws_params_free(&p);
			if (x == NULL)
				goto fail;
			warnings(x);
			snprintf(version, sizeof(version), "%s", xml_text(x,
			    "launchTemplateVersion/versionNumber"));
			xml_free(x);
			aws_param(&p, "LaunchTemplateName", tname);
			aws_param(&p, "SetDefaultVersion", version);
			x = aws_query(aws, "ModifyLaunchTemplate", &p);
			aws_params_free(&p);
			if (x == NULL)
				goto fail;
			/* the tag follows the default version's AMI */
			if (tag_arch(aws, id, arch) == -1)
				goto fail;
		}
	}
	if (changed)
		tool_log("%s%s: %s", dry ? "would update " : "", tname,
		    created ? "created" : changed);
	if ((o = cJSON_CreateObject()) == NULL)
		goto fail;
	cJSON_AddStringToObject(o, "name", tname);
	if (*id)
		cJSON_AddStringToObject(o, "id", id);
	else
		cJSON_AddNullToObject(o, "id");
	cJSON_AddNumberToObject(o, "version", atof(version));
	cJSON_AddStringToObject(o, "architecture", arch);
	cJSON_AddBoolToObject(o, "created", created);
	cJSON_AddBoolToObject(o, "changed", changed != NULL);
	if (changed && !created)
		cJSON_AddStringToObject(o, "reason", changed);
	cJSON_AddBoolToObject(o, "dry_run", dry);
	if (jsonl_write(stdout, o) == -1)
		goto fail;
	goto out;
fail:
	rc = tool_fail();
out:
	cJSON_Delete(o);
	xml_free(x);
	buf_free(&raw);
	buf_free(&s.user_data);
	strlist_free(&s.sgs);
	aws_free(aws);
	return tool_exit(rc);
}
