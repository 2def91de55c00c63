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

cJSON *
pool_instance_json(const struct ec2_instance *in)
{
	cJSON *o = cJSON_CreateObject(), *claims;
	const char *d = ec2_tag(in, POOL_T_DEADLINE);
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
	/* digits only, at most 11: checked here, not with validate_number(),
	 * which would overwrite the caller's saved error (a throttled
	 * read-back must keep its status) */
	if (d && *d && strlen(d) <= 11 && strspn(d, "0123456789") == strlen(d))
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
