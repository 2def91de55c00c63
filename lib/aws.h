/*
 * aws.h: a signed AWS client for the Query (EC2) and JSON 1.1 (SSM)
 * protocols.
 *
 * aws_new() resolves the region and credentials once (see creds.h) and the
 * endpoints from AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then
 * https://<service>.<region>.amazonaws.com.  aws_free(NULL) is a no-op.
 * Every request is signed afresh on every attempt and retried (http.h) on
 * throttling, 5xx and connection errors.  On failure the AWS error code is
 * kept (aws_error_code()) and the message reads
 * "ec2 CreateTags: Code: message"; the status is EXIT_TEMP for throttling,
 * 5xx and network errors, EXIT_PERM for any other 4xx.
 */
#ifndef AWS_H
#define AWS_H

#include <cjson/cJSON.h>

#include "buf.h"
#include "http.h"
#include "xml.h"

struct aws;

/*
 * A request's parameters.  Adding one cannot fail where the caller sees
 * it: the first failure (out of memory, a name over 255 bytes) is kept in
 * the object, later additions are dropped, and aws_query() /
 * aws_query_stream() refuse to send it, with that error.  So no request
 * goes out with some of its parameters missing.
 */
struct aws_params {
	struct buf body;	/* form-encoded, owned */
	int status;		/* 0, or the first failure's exit status */
	const char *why;	/* that failure, for the message */
};
#define AWS_PARAMS_INIT { BUF_INIT, 0, NULL }

struct aws *aws_new(const char *region, const char *profile);
void aws_free(struct aws *);
const char *aws_region(const struct aws *);
struct http *aws_http(struct aws *);
/* Where the credentials came from: creds.h's source ("environment", ...). */
const char *aws_creds_source(const struct aws *);
/* The AWS error code of the last failed call ("" if none). */
const char *aws_error_code(const struct aws *);

void aws_param(struct aws_params *, const char *key, const char *value);
/* A request its builder cannot make whole: why (a static string) sticks,
 * as a failed parameter's would, unless one failed before. */
void aws_params_fail(struct aws_params *, int status, const char *why);
void aws_paramf(struct aws_params *, const char *value, const char *keyfmt,
    ...) __attribute__((format(printf, 3, 4)));
void aws_params_free(struct aws_params *);

/* EC2 Query API call; the reply tree is the caller's (xml_free). */
struct xml *aws_query(struct aws *, const char *action, struct aws_params *);
/*
 * The same call with a 2xx reply handed to sink as it arrives (see
 * http.h: never stored, not retried once the sink has seen part of it);
 * an error reply is read as aws_query() reads it.  0 or -1; a sink's -1
 * stops the call with the sink's error.
 */
int aws_query_stream(struct aws *, const char *action, struct aws_params *,
    int (*sink)(void *arg, const char *p, size_t n), void *arg);
/* JSON 1.1 call ("ssm", "AmazonSSM.GetParameter"); reply is the caller's. */
cJSON *aws_json(struct aws *, const char *service, const char *target,
    const cJSON *request);

#endif
