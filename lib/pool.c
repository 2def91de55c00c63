#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "pool.h"
#include "validate.h"

static void
add_str(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/*
 * The deadline tag as a number: 1 to 11 digits (epoch seconds), else
 * NULL.  Both encoders below use it, so they print the same bytes.  Not
 * validate_number(): that sets the error, and a throttled read-back must
 * keep its caller's saved status.
 */
static const char *
deadline_tag(const struct ec2_instance *in)
{
	const char *d = ec2_tag(in, POOL_T_DEADLINE);
	size_t n = d ? strlen(d) : 0;

	return n && n <= 11 && strspn(d, "0123456789") == n ? d : NULL;
}

cJSON *
pool_instance_json(const struct ec2_instance *in)
{
	cJSON *o = cJSON_CreateObject(), *claims;
	const char *d = deadline_tag(in);
	size_t i, pl = strlen(POOL_T_CLAIM);

	if (o == NULL)
		return NULL;
	add_str(o, "id", in->id);
	add_str(o, "pool", ec2_tag(in, POOL_T_POOL));
	add_str(o, "state", ec2_tag(in, POOL_T_STATE));
	add_str(o, "run_id", ec2_tag(in, POOL_T_RUN));
	add_str(o, "class", ec2_tag(in, POOL_T_CLASS));
	add_str(o, "usage", ec2_tag(in, POOL_T_USAGE));
	add_str(o, "instance_type", in->type);
	add_str(o, "az", in->az);
	add_str(o, "subnet", in->subnet);
	add_str(o, "launch_time", in->launch_time);
	if (d)
		cJSON_AddNumberToObject(o, "deadline", strtod(d, NULL));
	else
		cJSON_AddNullToObject(o, "deadline");
	add_str(o, "private_ip", in->private_ip);
	add_str(o, "ec2_state", in->state);
	add_str(o, "lifecycle", in->lifecycle);
	add_str(o, "runner", ec2_tag(in, POOL_T_RUNNER));
	add_str(o, "runner_version", ec2_tag(in, POOL_T_RUNNER_VERSION));
	add_str(o, "health", ec2_tag(in, POOL_T_HEALTH));
	cJSON_AddBoolToObject(o, "retire", ec2_tag(in, POOL_T_RETIRE) != NULL);
	claims = cJSON_AddArrayToObject(o, "claims");
	for (i = 0; claims && i < in->ntags; i++) {
		cJSON *c;

		if (strncmp(in->tags[i].key, POOL_T_CLAIM, pl) != 0)
			continue;
		if ((c = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddStringToObject(c, "run_id", in->tags[i].key + pl);
		cJSON_AddNumberToObject(c, "at", strtod(in->tags[i].value,
		    NULL));
		cJSON_AddItemToArray(claims, c);
	}
	return o;
}

/* A JSON string as cJSON prints it: ", \\ and the controls escaped, the
 * rest (UTF-8 included) as is. */
static int
put_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;
	int rc = buf_putc(b, '"');

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = { '\\', 0, 0, 0, 0, 0 };
		size_t n = 2;

		if (c >= 32 && c != '"' && c != '\\')
			continue;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		default:
			esc[1] = 'u';
			esc[2] = esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		rc |= buf_add(b, run, (size_t)(s - run));
		rc |= buf_add(b, esc, n);
		run = s + 1;
	}
	rc |= buf_add(b, run, (size_t)(s - run));
	rc |= buf_putc(b, '"');
	return rc ? -1 : 0;
}

/* A number as cJSON prints it: an int as %d, else the shortest of %1.15g
 * and %1.17g that reads back, NaN and infinities as null. */
static int
put_num(struct buf *b, double d)
{
	char s[32];
	double t, big;
	int i;

	if (isnan(d) || isinf(d))
		return buf_puts(b, "null");
	i = d >= INT_MAX ? INT_MAX : d <= INT_MIN ? INT_MIN : (int)d;
	if (d == (double)i)
		return buf_printf(b, "%d", i);
	snprintf(s, sizeof(s), "%1.15g", d);
	t = strtod(s, NULL);
	big = fabs(t) > fabs(d) ? fabs(t) : fabs(d);
	if (fabs(t - d) > big * DBL_EPSILON)
		snprintf(s, sizeof(s), "%1.17g", d);
	return buf_puts(b, s);
}

/* ,"key":"value" or ,"key":null */
static int
put_member(struct buf *b, const char *key, const char *v)
{
	if (buf_puts(b, key) == -1)
		return -1;
	return v && *v ? put_str(b, v) : buf_puts(b, "null");
}

int
pool_instance_write(struct buf *b, const struct ec2_instance *in)
{
	const char *d = deadline_tag(in);
	size_t i, pl = strlen(POOL_T_CLAIM), nc = 0;
	int rc = 0;

	rc |= put_member(b, "{\"id\":", in->id);
	rc |= put_member(b, ",\"pool\":", ec2_tag(in, POOL_T_POOL));
	rc |= put_member(b, ",\"state\":", ec2_tag(in, POOL_T_STATE));
	rc |= put_member(b, ",\"run_id\":", ec2_tag(in, POOL_T_RUN));
	rc |= put_member(b, ",\"class\":", ec2_tag(in, POOL_T_CLASS));
	rc |= put_member(b, ",\"usage\":", ec2_tag(in, POOL_T_USAGE));
	rc |= put_member(b, ",\"instance_type\":", in->type);
	rc |= put_member(b, ",\"az\":", in->az);
	rc |= put_member(b, ",\"subnet\":", in->subnet);
	rc |= put_member(b, ",\"launch_time\":", in->launch_time);
	rc |= buf_puts(b, ",\"deadline\":");
	rc |= d ? put_num(b, strtod(d, NULL)) : buf_puts(b, "null");
	rc |= put_member(b, ",\"private_ip\":", in->private_ip);
	rc |= put_member(b, ",\"ec2_state\":", in->state);
	rc |= put_member(b, ",\"lifecycle\":", in->lifecycle);
	rc |= put_member(b, ",\"runner\":", ec2_tag(in, POOL_T_RUNNER));
	rc |= put_member(b, ",\"runner_version\":",
	    ec2_tag(in, POOL_T_RUNNER_VERSION));
	rc |= put_member(b, ",\"health\":", ec2_tag(in, POOL_T_HEALTH));
	rc |= buf_puts(b, ec2_tag(in, POOL_T_RETIRE) ? ",\"retire\":true" :
	    ",\"retire\":false");
	rc |= buf_puts(b, ",\"claims\":[");
	for (i = 0; i < in->ntags; i++) {
		if (strncmp(in->tags[i].key, POOL_T_CLAIM, pl) != 0)
			continue;
		rc |= buf_puts(b, nc++ ? ",{\"run_id\":" : "{\"run_id\":");
		rc |= put_str(b, in->tags[i].key + pl);
		rc |= buf_puts(b, ",\"at\":");
		rc |= put_num(b, strtod(in->tags[i].value, NULL));
		rc |= buf_putc(b, '}');
	}
	rc |= buf_puts(b, "]}\n");
	return rc ? -1 : 0;
}

int
pool_name(const char *arg, const char **out)
{
	const char *s = arg;

	if (!s || !*s)
		s = getenv("RUNNER_POOL");
	if (!s || !*s)
		s = getenv("GITHUB_REPOSITORY");
	if (!s || !*s)
		return error_set(EXIT_PERM, "no pool: use --pool or set "
		    "RUNNER_POOL");
	if (validate_pool(s) == -1)
		return error_wrap("--pool");
	*out = s;
	return 0;
}

int
pool_state_valid(const char *s)
{
	int rc = s && validate_state(s) == 0;

	error_clear();
	return rc;
}

int
pool_template_name(const char *pool, char *out, size_t outlen)
{
	if ((size_t)snprintf(out, outlen, "runner-pool/%s", pool) >= outlen)
		return error_set(EXIT_PERM, "pool name too long");
	return 0;
}
