/*
 * ssm.h: SSM Parameter Store, where the pool keeps its configuration
 * (String) and registration token (SecureString).
 *
 * struct ssm_param owns its strings; ssm_param_free() wipes the value and
 * frees them.  Values never go through argv or logs.  Missing parameters
 * fail with EXIT_NO and aws_error_code() "ParameterNotFound".
 */
#ifndef SSM_H
#define SSM_H

#include "aws.h"

struct ssm_param {
	char *name, *type, *value;
	long long version;
	double last_modified;	/* unix seconds */
};

int ssm_put(struct aws *, const char *name, const char *value, int secure,
    int overwrite, long long *version);
int ssm_get(struct aws *, const char *name, int decrypt, struct ssm_param *);
int ssm_delete(struct aws *, const char *name);
void ssm_param_free(struct ssm_param *);

#endif
