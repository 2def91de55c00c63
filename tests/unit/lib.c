/* Unit tests for lib/: XML, JSON Lines, validation, buf, strlist, the
 * credential chain and the retry settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/aws.h"
#include "../../lib/buf.h"
#include "../../lib/creds.h"
#include "../../lib/ec2.h"
#include "../../lib/error.h"
#include "../../lib/http.h"
#include "../../lib/jsonl.h"
#include "../../lib/pool.h"
#include "../../lib/runnerver.h"
#include "../../lib/strlist.h"
#include "../../lib/tool.h"
#include "../../lib/validate.h"
#include "../../lib/xml.h"
#include "unit.h"

static void
test_xml(void)
{
	const char *doc =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">"
	    "<reservationSet><item><instancesSet>"
	    "<item><instanceId>i-0123456789abcdef0</instanceId>"
	    "<instanceState><code>16</code><name>running</name></instanceState>"
	    "<tagSet><item><key>runner-pool:state</key><value>idle</value></item>"
	    "<item><key>runner-pool:claim:42</key><value>1700000000000</value></item></tagSet>"
	    "</item><item><instanceId>i-0123456789abcdef1</instanceId></item>"
	    "</instancesSet></item></reservationSet>"
	    "<nextToken>abc&amp;def</nextToken></DescribeInstancesResponse>";
	struct xml *x = xml_parse(doc, strlen(doc)), *it;
	int n = 0;

	CHECK(x != NULL);
	CHECK_STR(xml_text(x, "nextToken"), "abc&def");
	CHECK_STR(xml_text(x, "no/such/path"), "");
	XML_EACH(it, xml_path(x, "reservationSet/item/instancesSet"), "item")
		n++;
	CHECK(n == 2);
	it = xml_path(x, "reservationSet/item/instancesSet/item");
	CHECK_STR(xml_text(it, "instanceState/name"), "running");
	CHECK_STR(xml_text(xml_next(xml_child(xml_child(it, "tagSet"), "item")),
	    "key"), "runner-pool:claim:42");
	xml_free(x);

	CHECK(xml_parse("<a><b></a>", 10) == NULL);
	CHECK(strstr(error_msg(), "malformed xml") != NULL);
	CHECK(error_status() == EXIT_TEMP);
	xml_free(NULL);
}

struct seen {
	int n, stop_at;
	char ids[3][24], state[16], tag[40], lifecycle[16];
	size_t ntags;
};

static int
seen_instance(void *arg, const struct ec2_instance *in)
{
	struct seen *s = arg;

	if (s->n < 3)
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", in->id);
	if (s->n++ == 0) {
		snprintf(s->state, sizeof(s->state), "%s", in->state);
		snprintf(s->tag, sizeof(s->tag), "%s=%s", in->tags[1].key,
		    in->tags[1].value);
		snprintf(s->lifecycle, sizeof(s->lifecycle), "%s",
		    in->lifecycle);
		s->ntags = in->ntags;
	}
	return s->n == s->stop_at ? error_set(EXIT_PERM, "enough") : 0;
}

/* The DescribeInstances reader: one byte at a time, as EC2 indents it,
 * nested fields of the same name ignored, a callback that stops it. */
static void
test_ec2_reader(void)
{
	const char *doc =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<DescribeInstancesResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\">\n"
	    "    <requestId>r</requestId>\n"
	    "    <reservationSet>\n        <item>\n"
	    "            <reservationId>r-1</reservationId>\n"
	    "            <instancesSet>\n"
	    "                <item>\n"
	    "                    <instanceId>i-0123456789abcdef0</instanceId>\n"
	    "                    <instanceState><code>16</code><name>running</name></instanceState>\n"
	    "                    <networkInterfaceSet><item><privateIpAddress>10.0.0.9</privateIpAddress>"
	    "<tagSet><item><key>no</key><value>no</value></item></tagSet></item></networkInterfaceSet>\n"
	    "                    <privateIpAddress>10.0.0.1</privateIpAddress>\n"
	    "                    <tagSet>\n"
	    "                        <item><key>runner-pool:state</key><value>idle</value></item>\n"
	    "                        <item><key>runner-pool:claim:42</key><value>1&amp;2</value></item>\n"
	    "                        <item><key>empty</key></item>\n"
	    "                    </tagSet>\n"
	    "                </item>\n"
	    "                <item><instanceId>i-0123456789abcdef1</instanceId></item>\n"
	    "            </instancesSet>\n        </item>\n    </reservationSet>\n"
	    "    <nextToken>abc&amp;def</nextToken>\n"
	    "</DescribeInstancesResponse>\n";
	struct ec2_reader *r;
	struct seen s;
	size_t i;

	memset(&s, 0, sizeof(s));
	r = ec2_reader_new(seen_instance, &s);
	CHECK(r != NULL);
	for (i = 0; doc[i]; i++)
		CHECK(ec2_reader_feed(r, doc + i, 1, 0) == 0);
	CHECK(ec2_reader_feed(r, NULL, 0, 1) == 0);
	CHECK(s.n == 2);
	CHECK_STR(s.ids[0], "i-0123456789abcdef0");
	CHECK_STR(s.ids[1], "i-0123456789abcdef1");
	CHECK_STR(s.state, "running");
	CHECK_STR(s.tag, "runner-pool:claim:42=1&2");
	CHECK_STR(s.lifecycle, "on-demand");
	CHECK(s.ntags == 3);
	CHECK_STR(ec2_reader_next_token(r), "abc&def");
	ec2_reader_free(r);

	/* the callback's error stops the reader and is kept */
	memset(&s, 0, sizeof(s));
	s.stop_at = 1;
	r = ec2_reader_new(seen_instance, &s);
	CHECK(ec2_reader_feed(r, doc, strlen(doc), 1) == -1);
	CHECK(ec2_reader_cb_failed(r));
	CHECK_STR(error_msg(), "enough");
	CHECK(s.n == 1);
	CHECK(ec2_reader_feed(r, "", 0, 1) == -1);
	ec2_reader_free(r);

	memset(&s, 0, sizeof(s));
	r = ec2_reader_new(seen_instance, &s);
	CHECK(ec2_reader_feed(r, "<a><b></a>", 10, 1) == -1);
	CHECK(strstr(error_msg(), "malformed xml") != NULL);
	CHECK(error_status() == EXIT_TEMP);
	CHECK(!ec2_reader_cb_failed(r));
	CHECK(ec2_reader_feed(r, "", 0, 1) == -1);
	ec2_reader_free(r);
	ec2_reader_free(NULL);
}

/* A failed parameter sticks: later ones are dropped, nothing is sent. */
static void
test_aws_params(void)
{
	struct aws_params p = AWS_PARAMS_INIT;
	char key[300];

	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	aws_param(&p, "A", "1 2");
	aws_paramf(&p, "v", "Filter.%zu.Name", (size_t)1);
	CHECK(p.status == 0);
	CHECK_STR(buf_str(&p.body), "A=1%202&Filter.1.Name=v");
	aws_paramf(&p, "v", "%s.Value", key);
	CHECK(p.status == EXIT_PERM);
	aws_param(&p, "B", "2");
	CHECK_STR(buf_str(&p.body), "A=1%202&Filter.1.Name=v");
	/* the send step refuses it before any connection (no client needed) */
	error_clear();
	CHECK(aws_query(NULL, "CreateTags", &p) == NULL);
	CHECK_STR(error_msg(), "ec2 CreateTags: request not sent: parameter "
	    "name too long");
	CHECK(error_status() == EXIT_PERM);
	CHECK(aws_query_stream(NULL, "DescribeInstances", &p, NULL, NULL) ==
	    -1);
	aws_params_free(&p);
	CHECK(p.status == 0 && p.body.len == 0);
}

/* pool-list's encoder prints what cJSON prints, for any tag value. */
static void
test_pool_write(void)
{
	static const char *const values[] = {
		"1900000000", "1700000000123", "2147483647", "2147483648",
		"-5", "0.5", "1e300", "nan", "inf", "-inf", "abc", "",
		"q\"uo\\te", "tab\tnl\ncr\rbs\bff\f", "\x01\x1f\x7f",
		"caf\xc3\xa9 \xe2\x82\xac", "0.1", "123456789012345678",
		"99999999999", "100000000000", "3.14159265358979",
	};
	struct ec2_instance in;
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct buf b = BUF_INIT;
		cJSON *o;
		char *s;

		memset(&in, 0, sizeof(in));
		in.id = values[i];
		in.type = values[(i + 1) % 21];
		in.state = "running";
		in.lifecycle = "spot";
		in.tags[0].key = POOL_T_DEADLINE;
		in.tags[0].value = values[i];
		in.tags[1].key = POOL_T_CLAIM "77";
		in.tags[1].value = values[i];
		in.tags[2].key = POOL_T_STATE;
		in.tags[2].value = values[(i + 2) % 21];
		in.tags[3].key = POOL_T_CLAIM "a\"b";
		in.tags[3].value = values[(i + 3) % 21];
		in.tags[4].key = POOL_T_RETIRE;
		in.tags[4].value = "";
		in.ntags = i % 2 ? 5 : 2;
		o = pool_instance_json(&in);
		s = cJSON_PrintUnformatted(o);
		CHECK(pool_instance_write(&b, &in) == 0);
		CHECK(b.len == strlen(s) + 1 && b.s[b.len - 1] == '\n');
		CHECK(strncmp(b.s, s, strlen(s)) == 0);
		if (strncmp(buf_str(&b), s, strlen(s)) != 0)
			fprintf(stderr, "  %s\n  %s", s, buf_str(&b));
		free(s);
		cJSON_Delete(o);
		buf_free(&b);
	}
}

static void
test_pool_json(void)
{
	struct ec2_instance in;
	cJSON *o;

	memset(&in, 0, sizeof(in));
	in.id = "i-0123456789abcdef0";
	in.state = "running";
	in.type = "c5.large";
	in.tags[0].key = POOL_T_STATE;
	in.tags[0].value = "idle";
	in.tags[1].key = POOL_T_DEADLINE;
	in.tags[1].value = "1900000000";
	in.tags[2].key = POOL_T_CLAIM "77";
	in.tags[2].value = "1700000000123";
	in.tags[3].key = POOL_T_RUN;
	in.tags[3].value = "";
	in.ntags = 4;
	o = pool_instance_json(&in);
	CHECK_STR(jsonl_str(o, "state"), "idle");
	CHECK(cJSON_GetObjectItem(o, "deadline")->valuedouble == 1900000000.0);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(o, "run_id")));
	CHECK_STR(jsonl_str(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "claims"),
	    0), "run_id"), "77");
	cJSON_Delete(o);
	in.tags[1].value = "soon";
	o = pool_instance_json(&in);
	CHECK(cJSON_IsNull(cJSON_GetObjectItem(o, "deadline")));
	cJSON_Delete(o);
}

static void
test_jsonl(void)
{
	char text[] = "{\"id\":\"i-1\"}\n\n  \n{\"id\":2}\n[1]\n";
	struct jsonl in;
	cJSON *o;
	FILE *f = fmemopen(text, strlen(text), "r");
	char out[256];
	FILE *w;

	in.f = f;
	in.name = "stdin";
	in.line = 0;
	CHECK(jsonl_read(&in, &o) == 1);
	CHECK_STR(jsonl_str(o, "id"), "i-1");
	cJSON_Delete(o);
	CHECK(jsonl_read(&in, &o) == 1);	/* blank lines skipped */
	CHECK(jsonl_str(o, "id") == NULL);	/* not a string */
	cJSON_Delete(o);
	CHECK(jsonl_read(&in, &o) == -1);	/* an array is not an object */
	CHECK_STR(error_msg(), "stdin:5: not a JSON object");
	CHECK(jsonl_read(&in, &o) == 0);
	fclose(f);

	w = fmemopen(out, sizeof(out), "w");
	o = cJSON_Parse("{ \"a\" : [1, 2] }");
	CHECK(jsonl_write(w, o) == 0);
	fclose(w);
	CHECK_STR(out, "{\"a\":[1,2]}\n");
	cJSON_Delete(o);
}

/* the InstanceRequirements of a fleet override and of the type preview */
static void
test_requirements(void)
{
	const char *pats[] = { "c*", "m5.*" };
	struct ec2_requirements r = { 2, 0, 4096, 0, pats, 2 };
	struct aws_params p = AWS_PARAMS_INIT;

	ec2_requirements_params(&p, "X", &r);
	CHECK_STR(p.body.s, "X.VCpuCount.Min=2&X.MemoryMiB.Min=4096&"
	    "X.AllowedInstanceType.1=c%2A&X.AllowedInstanceType.2=m5.%2A");
	aws_params_free(&p);
	r.vcpu_max = 8;
	r.mem_max = 16384;
	r.nallowed = 0;
	ec2_requirements_params(&p, "Y", &r);
	CHECK_STR(p.body.s, "Y.VCpuCount.Min=2&Y.VCpuCount.Max=8&"
	    "Y.MemoryMiB.Min=4096&Y.MemoryMiB.Max=16384");
	aws_params_free(&p);
	/* a longer list than EC2 takes is refused, never cut (a shorter
	 * list would allow other types) */
	{
		const char *many[EC2_MAX_ALLOWED + 1];
		size_t i;

		for (i = 0; i <= EC2_MAX_ALLOWED; i++)
			many[i] = "c5.*";
		r.allowed = many;
		r.nallowed = EC2_MAX_ALLOWED;
		ec2_requirements_params(&p, "Z", &r);
		CHECK(p.status == 0);
		aws_params_free(&p);
		r.nallowed = EC2_MAX_ALLOWED + 1;
		aws_param(&p, "A", "1");
		ec2_requirements_params(&p, "Z", &r);
		CHECK(p.status == EXIT_PERM);
		CHECK_STR(p.why, "more than 400 allowed instance type patterns");
		error_clear();
		CHECK(aws_query(NULL, "CreateFleet", &p) == NULL);
		CHECK_STR(error_msg(), "ec2 CreateFleet: request not sent: more "
		    "than 400 allowed instance type patterns");
		aws_params_free(&p);
	}
}

static void
test_validate(void)
{
	long long v = 0;

	CHECK(validate_number("42", 1, 100, &v) == 0 && v == 42);
	CHECK(validate_number("101", 1, 100, &v) == -1);
	CHECK(validate_number("4x", 1, 100, &v) == -1);
	CHECK(validate_number(" 4", 1, 100, &v) == -1);
	CHECK(validate_number("", 1, 100, &v) == -1);
	CHECK(validate_number("99999999999999999999", 0, 5, &v) == -1);
	CHECK(validate_region("us-east-1") == 0);
	CHECK(validate_region("us-gov-west-1") == 0);
	CHECK(validate_region("ap-southeast-2") == 0);
	CHECK(validate_region("moon-1") == -1);
	CHECK(validate_region("US-EAST-1") == -1);
	CHECK(validate_region("us-east-") == -1);
	CHECK(validate_instance_id("i-0123456789abcdef0") == 0);
	CHECK(validate_instance_id("i-01234567") == 0);
	CHECK(validate_instance_id("i-0123456789ABCDEF0") == -1);
	CHECK(validate_instance_id("i-012345") == -1);
	CHECK(validate_ami("ami-0123456789abcdef0") == 0);
	CHECK(validate_subnet("subnet-12345678") == 0);
	CHECK(validate_security_group("sg-1234567") == -1);
	CHECK(validate_run_id("123456789") == 0);
	CHECK(validate_run_id("0") == -1);
	CHECK(validate_run_id("12a") == -1);
	CHECK(validate_run_id("123456789012345678901") == -1);
	CHECK(validate_pool("acme/web") == 0);
	CHECK(validate_pool("acme") == 0);
	CHECK(validate_pool("/acme") == -1);
	CHECK(validate_pool("a//b") == -1);
	CHECK(validate_pool("a b") == -1);
	CHECK(validate_pool("../etc") == -1);
	CHECK(validate_class("large-2") == 0);
	CHECK(validate_class("Large") == -1);
	CHECK(validate_usage("spot") == 0 && validate_usage("on-demand") == 0);
	CHECK(validate_usage("reserved") == -1);
	CHECK(validate_arch("x86_64") == 0 && validate_arch("arm64") == 0);
	CHECK(validate_arch("aarch64") == -1 && validate_arch("i386") == -1);
	CHECK(validate_tag_key("runner-pool:claim:42") == 0);
	CHECK(validate_tag_key("runner-pool/state") == -1);
	CHECK(validate_tag_key("a b") == -1);
	CHECK(validate_tag_key("aws:x") == -1);
	CHECK(validate_tag_key("_index") == -1);
	CHECK(validate_type_pattern("m5.*") == 0);
	CHECK(validate_type_pattern("c*") == 0);
	CHECK(validate_type_pattern("c;rm") == -1);
	CHECK(validate_state("releasing") == 0);
	CHECK(validate_state("gone") == -1);
	CHECK(validate_parameter_name("/runner-pool/acme/web/config") == 0);
	CHECK(validate_parameter_name("runner-pool") == -1);
	CHECK(validate_parameter_name("/aws/reserved") == -1);
	CHECK(validate_instance_profile("runner-profile") == 0);
	CHECK(validate_instance_profile(
	    "arn:aws:iam::123456789012:instance-profile/runner") == 0);
	CHECK(validate_instance_profile("bad name") == -1);
	/* messages name the value */
	validate_subnet("subnet-zz");
	CHECK(strstr(error_msg(), "'subnet-zz'") != NULL);
	CHECK(error_status() == EXIT_PERM);
}

static void
test_buf(void)
{
	struct buf b = BUF_INIT;
	struct strlist l = STRLIST_INIT;

	CHECK_STR(buf_str(&b), "");
	buf_urlencode(&b, "a b/c~:=&", 9, 0);
	CHECK_STR(b.s, "a%20b%2Fc~%3A%3D%26");
	buf_reset(&b);
	buf_urlencode(&b, "/x y/", 5, 1);
	CHECK_STR(b.s, "/x%20y/");
	buf_reset(&b);
	buf_base64(&b, "hello", 5);
	CHECK_STR(b.s, "aGVsbG8=");
	buf_reset(&b);
	buf_printf(&b, "%d-%s", 7, "x");
	CHECK_STR(b.s, "7-x");
	buf_wipe(&b);
	CHECK(b.s == NULL);

	CHECK(strlist_split(&l, " c*, m5.* r*\t", validate_type_pattern,
	    "--type") == 0);
	CHECK(l.n == 3 && strcmp(l.v[1], "m5.*") == 0);
	CHECK(strlist_has(&l, "r*") && !strlist_has(&l, "x"));
	CHECK(strlist_split(&l, "c* bad;", validate_type_pattern, "--type")
	    == -1);
	CHECK(strncmp(error_msg(), "--type: ", 8) == 0);
	strlist_free(&l);
	CHECK(strlist_split(&l, " , ", NULL, "--id") == -1);
	CHECK_STR(error_msg(), "--id: empty value");
	strlist_free(&l);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void
test_creds(void)
{
	char dir[] = "/tmp/unit-creds.XXXXXX", cred[256], conf[256], cmd[256];
	char region[32];
	struct creds c;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(cred, sizeof(cred), "%s/credentials", dir);
	snprintf(conf, sizeof(conf), "%s/config", dir);
	snprintf(cmd, sizeof(cmd), "%s/process.sh", dir);
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_CONFIG_FILE", conf, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");

	/* environment first */
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	CHECK(creds_load(&c, NULL, NULL) == 0);
	CHECK_STR(c.access_key, "AKIDENV");
	CHECK_STR(c.session_token, "envtoken");
	CHECK_STR(c.source, "environment");
	creds_free(&c);
	CHECK(c.secret_key == NULL);
	unsetenv("AWS_SECRET_ACCESS_KEY");
	CHECK(creds_load(&c, NULL, NULL) == -1);	/* half a pair */
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SESSION_TOKEN");

	/* then the profile: credentials file, comments and spaces */
	write_file(cred, "# comment\n[default]\naws_access_key_id = AKIDDEF\n"
	    "aws_secret_access_key=defsecret\n\n[ci]\n"
	    "aws_access_key_id = AKIDCI\naws_secret_access_key = cisecret\n"
	    "aws_session_token = citoken\n");
	write_file(conf, "[default]\nregion = eu-west-1\n[profile ci]\n"
	    "region = us-west-2\n[profile proc]\ncredential_process = sh ");
	CHECK(creds_load(&c, NULL, NULL) == 0);
	CHECK_STR(c.access_key, "AKIDDEF");
	CHECK(c.session_token == NULL);
	creds_free(&c);
	CHECK(creds_load(&c, "ci", NULL) == 0);
	CHECK_STR(c.secret_key, "cisecret");
	CHECK_STR(c.session_token, "citoken");
	creds_free(&c);
	setenv("AWS_PROFILE", "ci", 1);
	CHECK(creds_load(&c, NULL, NULL) == 0 && strcmp(c.access_key,
	    "AKIDCI") == 0);
	creds_free(&c);
	CHECK(creds_region(NULL, NULL, region, sizeof(region)) == 0);
	CHECK_STR(region, "us-west-2");
	unsetenv("AWS_PROFILE");
	CHECK(creds_region(NULL, NULL, region, sizeof(region)) == 0);
	CHECK_STR(region, "eu-west-1");
	setenv("AWS_DEFAULT_REGION", "ap-south-1", 1);
	CHECK(creds_region(NULL, NULL, region, sizeof(region)) == 0);
	CHECK_STR(region, "ap-south-1");
	setenv("AWS_REGION", "us-east-2", 1);
	CHECK(creds_region(NULL, NULL, region, sizeof(region)) == 0);
	CHECK_STR(region, "us-east-2");
	CHECK(creds_region("ca-central-1", NULL, region, sizeof(region)) == 0);
	CHECK_STR(region, "ca-central-1");
	CHECK(creds_region("nowhere", NULL, region, sizeof(region)) == -1);

	/* credential_process */
	write_file(cmd, "printf '{\"Version\":1,\"AccessKeyId\":\"AKIDPROC\","
	    "\"SecretAccessKey\":\"procsecret\",\"SessionToken\":\"proctok\"}'\n");
	{
		char line[512];

		snprintf(line, sizeof(line), "[profile proc]\n"
		    "credential_process = sh %s\n", cmd);
		write_file(conf, line);
	}
	CHECK(creds_load(&c, "proc", NULL) == 0);
	CHECK_STR(c.access_key, "AKIDPROC");
	CHECK_STR(c.session_token, "proctok");
	CHECK_STR(c.source, "process");
	creds_free(&c);
	write_file(cmd, "exit 3\n");
	CHECK(creds_load(&c, "proc", NULL) == -1);
	CHECK(strstr(error_msg(), "status 3") != NULL);
	CHECK(error_status() == EXIT_TEMP);

	/* nothing: a clear permanent error */
	CHECK(creds_load(&c, "missing", NULL) == -1);
	CHECK_STR(error_msg(), "profile 'missing' not found");
	unlink(cred);
	unlink(conf);
	unlink(cmd);
	rmdir(dir);
	CHECK(creds_load(&c, NULL, NULL) == -1);
	CHECK(strncmp(error_msg(), "no AWS credentials", 18) == 0);
	CHECK(error_status() == EXIT_PERM);
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
}

static void
test_retry_settings(void)
{
	unsetenv("AWS_MAX_ATTEMPTS");
	CHECK(http_attempts() == 5);
	setenv("AWS_MAX_ATTEMPTS", "2", 1);
	CHECK(http_attempts() == 2);
	setenv("AWS_MAX_ATTEMPTS", "0", 1);
	CHECK(http_attempts() == 5);
	setenv("AWS_MAX_ATTEMPTS", "many", 1);
	CHECK(http_attempts() == 5);
	unsetenv("AWS_MAX_ATTEMPTS");
}

static void
test_error(void)
{
	CHECK(error_set(EXIT_TEMP, "inner %d", 1) == -1);
	CHECK(error_wrap("outer") == -1);
	CHECK_STR(error_msg(), "outer: inner 1");
	CHECK(error_status() == EXIT_TEMP);
	error_reclass(EXIT_NO);
	CHECK(error_status() == EXIT_NO);
	CHECK_STR(error_msg(), "outer: inner 1");
	error_clear();
	CHECK(error_status() == EXIT_PERM);
}

static void
test_runnerver(void)
{
	struct runnerver a, b;
	char hex[65];
	const char *sha = "798b38484f62c5fc1f9858d599f832b0eafbf9d542545d0a44b176cfc341091a";
	char body[600];

	CHECK(runnerver_parse("2.330.1", &a) == 0 && a.major == 2 &&
	    a.minor == 330 && a.patch == 1);
	CHECK(runnerver_parse("v2.9.0", &b) == 0 && runnerver_cmp(&a, &b) > 0);
	CHECK(runnerver_parse("2.330.10", &b) == 0 && runnerver_cmp(&a, &b) < 0);
	CHECK(runnerver_cmp(&a, &a) == 0);
	CHECK(runnerver_parse("2.330", &a) == -1);
	CHECK(runnerver_parse("2.330.1.4", &a) == -1);
	CHECK(runnerver_parse("2.033.1", &a) == -1);	/* leading zero */
	CHECK(runnerver_parse("2.330.1\n", &a) == -1);
	CHECK(runnerver_parse("99999999999999999999.1.1", &a) == -1);
	CHECK(runnerver_parse("", &a) == -1);
	CHECK(runnerver_parse(NULL, &a) == -1);
	error_clear();
	snprintf(body, sizeof(body), "- actions-runner-linux-arm-2.338.0.tar.gz "
	    "<!-- BEGIN SHA linux-arm -->%064d<!-- END SHA linux-arm -->\r\n"
	    "- actions-runner-linux-x64-2.338.0.tar.gz <!-- BEGIN SHA "
	    "linux-x64 -->%s<!-- END SHA linux-x64 -->\r\n", 0, sha);
	CHECK(runnerver_body_sha256(body, "x64", hex, sizeof(hex)) == 1);
	CHECK_STR(hex, sha);
	/* linux-arm is not linux-arm64 */
	CHECK(runnerver_body_sha256(body, "arm64", hex, sizeof(hex)) == 0);
	CHECK(runnerver_body_sha256(body, "arm", hex, sizeof(hex)) == 1 &&
	    hex[0] == '0');
	CHECK(runnerver_body_sha256(body, "x64", hex, 64) == 0);
	CHECK(runnerver_body_sha256("<!-- BEGIN SHA linux-x64 -->abc<!-- END "
	    "SHA linux-x64 -->", "x64", hex, sizeof(hex)) == 0);
	CHECK(runnerver_body_sha256(NULL, "x64", hex, sizeof(hex)) == 0);
	CHECK(runnerver_digest_sha256("sha256:798B38484F62C5FC1F9858D599F832B0"
	    "EAFBF9D542545D0A44B176CFC341091A", hex, sizeof(hex)) == 1);
	CHECK_STR(hex, sha);
	CHECK(runnerver_digest_sha256("sha1:798b", hex, sizeof(hex)) == 0);
	CHECK(runnerver_arch_ok("arm64") == 0 && runnerver_arch_ok("amd64") == -1);
	error_clear();
}

static void
test_url_under(void)
{
	struct buf b = BUF_INIT;
	const char *api = "https://ghe.example.com/api/v3";

	CHECK(http_url_under("https://ghe.example.com/api/v3/repos/a/b?page=2",
	    api, &b) == 1);
	CHECK_STR(buf_str(&b), "https://ghe.example.com:443/api/v3/repos/a/b?page=2");
	/* as libcurl sends it: scheme, host and the default port are the same */
	CHECK(http_url_under("HTTPS://GHE.example.com:443/api/v3/x", api, &b) == 1);
	CHECK(http_url_under("https://ghe.example.com/api/v3", api, &b) == 1);
	/* dot-segments leave the API: refused */
	CHECK(http_url_under("https://ghe.example.com/api/v3/../../evil", api,
	    &b) == 0 && b.len == 0);
	CHECK(http_url_under("https://ghe.example.com/api/v3/%2e%2e/x", api,
	    &b) == 0);
	CHECK(http_url_under("https://ghe.example.com/api/v3x/repos", api,
	    &b) == 0);
	CHECK(http_url_under("https://ghe.example.com:8443/api/v3/x", api,
	    &b) == 0);
	CHECK(http_url_under("http://ghe.example.com/api/v3/x", api, &b) == 0);
	CHECK(http_url_under("https://evil.example.com/api/v3/x", api, &b) == 0);
	CHECK(http_url_under("https://ghe.example.com@evil.example.com/api/v3/x",
	    api, &b) == 0);
	CHECK(http_url_under("ftp://ghe.example.com/api/v3/x", api, &b) == 0);
	CHECK(http_url_under("https://api.github.com/repos/a/b?page=3",
	    "https://api.github.com", &b) == 1);
	CHECK(http_url_under("http://127.0.0.1:80/api/v3/r", "http://127.0.0.1/api/v3",
	    &b) == 1);
	buf_free(&b);
	error_clear();
}

static void
test_status_merge(void)
{
	CHECK(tool_status_merge(EXIT_DONE, EXIT_NO) == EXIT_NO);
	CHECK(tool_status_merge(EXIT_PERM, EXIT_NO) == EXIT_PERM);
	CHECK(tool_status_merge(EXIT_PERM, EXIT_TEMP) == EXIT_TEMP);
	CHECK(tool_status_merge(EXIT_TEMP, EXIT_PERM) == EXIT_TEMP);
	CHECK(tool_status_merge(EXIT_DONE, EXIT_DONE) == EXIT_DONE);
	CHECK(tool_status_merge(EXIT_NO, EXIT_DONE) == EXIT_NO);
}

int
main(void)
{
	test_xml();
	test_ec2_reader();
	test_pool_write();
	test_aws_params();
	test_pool_json();
	test_jsonl();
	test_validate();
	test_requirements();
	test_buf();
	test_creds();
	test_retry_settings();
	test_error();
	test_runnerver();
	test_url_under();
	test_status_merge();
	return unit_done();
}
