/*
 * creds.h: AWS credentials and region, found the way the AWS CLI finds them.
 *
 * Credentials: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN);
 * else the profile (the argument, AWS_PROFILE, or "default") in
 * AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) then AWS_CONFIG_FILE
 * (~/.aws/config), including its credential_process; else the instance
 * role through IMDSv2.  struct creds owns its strings: creds_free() wipes
 * and frees them (a zeroed struct is fine to free).
 *
 * Region: the argument, AWS_REGION, AWS_DEFAULT_REGION, the profile's
 * region, in that order.
 */
#ifndef CREDS_H
#define CREDS_H

#include <stddef.h>

#include "http.h"

struct creds {
	char *access_key;
	char *secret_key;
	char *session_token;	/* NULL for long-term keys */
	char source[32];	/* "environment", "profile", "process", "imds" */
};

int creds_load(struct creds *, const char *profile, struct http *);
void creds_free(struct creds *);
/* 0 and out filled, or -1 (EXIT_PERM "no region ...") */
int creds_region(const char *arg, const char *profile, char *out,
    size_t outlen);

#endif
