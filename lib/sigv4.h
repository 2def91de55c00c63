/*
 * sigv4.h: AWS Signature Version 4, as a pure function of its inputs.
 *
 * Time is an argument, so signing is testable against AWS's published suite
 * (tests/unit/sigv4.c).  The caller owns every input; sigv4_sign() fills
 * out->* with strings it allocates and sigv4_result_free() releases (wiping
 * them).  Headers: names compared case-insensitively, values trimmed and
 * folded as AWS specifies; x-amz-date and, with a session token,
 * x-amz-security-token are signed too and added when absent.
 */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>
#include <time.h>

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;		/* "POST" */
	const char *path;		/* "/" (normalised unless no_normalize) */
	const char *query;		/* raw query string, or NULL */
	const struct sigv4_header *headers;	/* must include host */
	size_t nheaders;
	const void *payload;
	size_t payload_len;
	const char *region;
	const char *service;
	const char *access_key;
	const char *secret_key;
	const char *session_token;	/* NULL without one */
	time_t now;
	int no_normalize;		/* S3 style paths */
};

struct sigv4_result {
	char amz_date[17];		/* YYYYMMDDTHHMMSSZ */
	char *canonical_request;
	char *string_to_sign;
	char *authorization;		/* the Authorization header's value */
	char payload_hash[65];
};

int sigv4_sign(const struct sigv4_request *, struct sigv4_result *);
void sigv4_result_free(struct sigv4_result *);
/* Lowercase hex SHA-256 of p[0..n) into out[65]. */
void sigv4_sha256_hex(const void *p, size_t n, char out[65]);

#endif
