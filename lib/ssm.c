#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ssm.h"

static cJSON *
call(struct aws *a, const char *op, cJSON *req)
{
	char target[64];
	cJSON *r;

	snprintf(target, sizeof(target), "AmazonSSM.%s", op);
	r = aws_json(a, "ssm", target, req);
	if (r == NULL && strcmp(aws_error_code(a), "ParameterNotFound") == 0)
		error_reclass(EXIT_NO);
	return r;
}

static void
wipe_json(cJSON *j)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "Value");

	if (cJSON_IsString(v))
		explicit_bzero(v->valuestring, strlen(v->valuestring));
}

int
ssm_put(struct aws *a, const char *name, const char *value, int secure,
    int overwrite, long long *version)
{
	cJSON *req = cJSON_CreateObject(), *r = NULL, *v;
	int rc = -1;

	if (req == NULL ||
	    !cJSON_AddStringToObject(req, "Name", name) ||
	    !cJSON_AddStringToObject(req, "Value", value) ||
	    !cJSON_AddStringToObject(req, "Type", secure ? "SecureString" :
	    "String") ||
	    !cJSON_AddBoolToObject(req, "Overwrite", overwrite)) {
		error_set(EXIT_TEMP, "out of memory");
		goto out;
	}
	if ((r = call(a, "PutParameter", req)) == NULL)
		goto out;
	v = cJSON_GetObjectItemCaseSensitive(r, "Version");
	if (version)
		*version = cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
	rc = 0;
out:
	wipe_json(req);
	cJSON_Delete(req);
	cJSON_Delete(r);
	return rc;
}

int
ssm_get(struct aws *a, const char *name, int decrypt, struct ssm_param *p)
{
	cJSON *req = cJSON_CreateObject(), *r = NULL, *par, *v;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (req == NULL || !cJSON_AddStringToObject(req, "Name", name) ||
	    !cJSON_AddBoolToObject(req, "WithDecryption", decrypt)) {
		error_set(EXIT_TEMP, "out of memory");
		goto out;
	}
	if ((r = call(a, "GetParameter", req)) == NULL)
		goto out;
	par = cJSON_GetObjectItemCaseSensitive(r, "Parameter");
	v = cJSON_GetObjectItemCaseSensitive(par, "Value");
	if (!cJSON_IsString(v)) {
		error_set(EXIT_TEMP, "ssm GetParameter: no value in the reply");
		goto out;
	}
	p->value = strdup(v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(par, "Name");
	p->name = strdup(cJSON_IsString(v) ? v->valuestring : name);
	v = cJSON_GetObjectItemCaseSensitive(par, "Type");
	p->type = strdup(cJSON_IsString(v) ? v->valuestring : "String");
	v = cJSON_GetObjectItemCaseSensitive(par, "Version");
	p->version = cJSON_IsNumber(v) ? (long long)v->valuedouble : 0;
	v = cJSON_GetObjectItemCaseSensitive(par, "LastModifiedDate");
	p->last_modified = cJSON_IsNumber(v) ? v->valuedouble : 0;
	if (!p->value || !p->name || !p->type) {
		ssm_param_free(p);
		error_set(EXIT_TEMP, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (r)
		wipe_json(cJSON_GetObjectItemCaseSensitive(r, "Parameter"));
	cJSON_Delete(req);
	cJSON_Delete(r);
	return rc;
}

int
ssm_delete(struct aws *a, const char *name)
{
	cJSON *req = cJSON_CreateObject(), *r;

	if (req == NULL || !cJSON_AddStringToObject(req, "Name", name)) {
		cJSON_Delete(req);
		return error_set(EXIT_TEMP, "out of memory");
	}
	r = call(a, "DeleteParameter", req);
	cJSON_Delete(req);
	if (r == NULL)
		return -1;
	cJSON_Delete(r);
	return 0;
}

void
ssm_param_free(struct ssm_param *p)
{
	if (p->value)
		explicit_bzero(p->value, strlen(p->value));
	free(p->value);
	free(p->name);
	free(p->type);
	memset(p, 0, sizeof(*p));
}
