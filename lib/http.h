/*
 * http.h: every libcurl call of the toolkit, with bounded retries.
 *
 * struct http is opaque: http_new() / http_free() (NULL is a no-op).  One
 * handle keeps its connections alive across requests.  http_do() runs one
 * request up to `attempts` times: connection errors, timeouts and what the
 * policy's classify() calls retryable are retried after a jittered
 * exponential backoff (full jitter, 100 ms doubling, capped at 5 s, or the
 * delay classify() asks for, bounded by 60 s).  Before every attempt
 * prepare() may add headers (signing happens there, so each attempt carries
 * a fresh date).  The response (status, headers, body) is owned by the
 * caller: http_response_free().
 *
 * A body is at most HTTP_MAX_BODY bytes, streamed or not: a longer one is
 * EXIT_PERM (no retry: the server would send it again).  A request with a
 * sink gets a 2xx body handed to the sink as it arrives, never stored
 * (rs->body stays empty); other statuses are buffered as usual.  Once the
 * sink has seen a byte the request is not retried (the sink's reader has
 * consumed part of a reply): a transfer cut short then is EXIT_TEMP.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "buf.h"

#define HTTP_MAX_BODY (64L * 1024 * 1024)

struct http;

struct http_hdrs {
	char **v;		/* "Name: value" strings, owned */
	size_t n, cap;
};

struct http_request {
	const char *method;
	const char *url;
	const void *body;
	size_t body_len;
	const struct http_hdrs *headers;	/* may be NULL */
	/* 2xx body bytes as they arrive (NULL: into rs->body); 0, or -1
	 * with error_set() to stop the transfer with that error */
	int (*sink)(void *arg, const char *p, size_t n);
	void *sink_arg;
};

struct http_response {
	long status;
	struct buf headers;	/* raw header lines of the final response */
	struct buf body;
};

enum { HTTP_DONE, HTTP_RETRY };

struct http_policy {
	int attempts;		/* 0: AWS_MAX_ATTEMPTS, else 5 */
	/* add per-attempt headers (e.g. a signature); 0 or -1 */
	int (*prepare)(void *arg, const struct http_request *,
	    struct http_hdrs *);
	/* HTTP_DONE or HTTP_RETRY; may set *delay_ms (-1: backoff) */
	int (*classify)(void *arg, const struct http_response *,
	    long *delay_ms);
	void *arg;
	const char *what;	/* for messages: "ec2 DescribeInstances" */
};

struct http *http_new(void);
void http_free(struct http *);
/* Timeouts in milliseconds (connect, whole transfer). */
void http_set_timeouts(struct http *, long connect_ms, long total_ms);

/*
 * 0 when a response was received (whatever its status: the caller judges
 * it); -1 with error_set(EXIT_TEMP) when every attempt failed to get one.
 */
int http_do(struct http *, const struct http_request *,
    const struct http_policy *, struct http_response *);
void http_response_free(struct http_response *);
/* The value of a response header (case-insensitive), copied to out. */
int http_header(const struct http_response *, const char *name,
    char *out, size_t outlen);

int http_hdrs_add(struct http_hdrs *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Frees and wipes (headers may carry credentials). */
void http_hdrs_free(struct http_hdrs *);

/* Sleep for a jittered backoff of the given attempt (0-based). */
void http_backoff(int attempt);
/* Default attempt count: AWS_MAX_ATTEMPTS (1..20) or 5. */
int http_attempts(void);

/*
 * Is url under base (an http(s) URL with a path and no query)?  Both are
 * read as libcurl will send them: scheme and host case-insensitive, the
 * default port explicit or not, dot-segments removed.  A path holding an
 * encoded dot (%2e) is never under anything.  1 and the normalised url in
 * out (what to request), 0 when it is not under base, -1 on error.
 */
int http_url_under(const char *url, const char *base, struct buf *out);

#endif
