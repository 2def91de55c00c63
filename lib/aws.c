#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "creds.h"
#include "error.h"
#include "sigv4.h"
#include "version.h"

#define EC2_VERSION "2016-11-15"

struct aws {
	struct http *http;
	struct creds creds;
	char region[32];
	char code[128];
};

struct endpoint {
	char url[512];
	char host[256];
	char path[256];
};

struct call {
	struct aws *aws;
	const struct endpoint *ep;
	const char *service;
	const char *what;
	int json;
	int (*sink)(void *, const char *, size_t);	/* 2xx bodies, or NULL */
	void *sink_arg;
};

struct aws *
aws_new(const char *region, const char *profile)
{
	struct aws *a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		error_set(EXIT_TEMP, "out of memory");
		return NULL;
	}
	if (creds_region(region, profile, a->region, sizeof(a->region)) == -1 ||
	    (a->http = http_new()) == NULL ||
	    creds_load(&a->creds, profile, a->http) == -1) {
		aws_free(a);
		return NULL;
	}
	return a;
}

void
aws_free(struct aws *a)
{
	if (a == NULL)
		return;
	creds_free(&a->creds);
	http_free(a->http);
	free(a);
}

const char *
aws_region(const struct aws *a)
{
	return a->region;
}

struct http *
aws_http(struct aws *a)
{
	return a->http;
}

const char *
aws_creds_source(const struct aws *a)
{
	return a->creds.source;
}

const char *
aws_error_code(const struct aws *a)
{
	return a->code;
}

void
aws_params_fail(struct aws_params *p, int status, const char *why)
{
	if (p->status)
		return;
	p->status = status;
	p->why = why;
}

void
aws_param(struct aws_params *p, const char *key, const char *value)
{
	if (p->status)
		return;
	if ((p->body.len && buf_putc(&p->body, '&') == -1) ||
	    buf_urlencode(&p->body, key, strlen(key), 0) == -1 ||
	    buf_putc(&p->body, '=') == -1 ||
	    buf_urlencode(&p->body, value, strlen(value), 0) == -1)
		aws_params_fail(p, error_status(), "out of memory");
}

void
aws_paramf(struct aws_params *p, const char *value, const char *keyfmt, ...)
{
	char key[256];
	va_list ap;
	int n;

	va_start(ap, keyfmt);
	n = vsnprintf(key, sizeof(key), keyfmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(key)) {
		aws_params_fail(p, EXIT_PERM, "parameter name too long");
		return;
	}
	aws_param(p, key, value);
}

void
aws_params_free(struct aws_params *p)
{
	buf_wipe(&p->body);
	p->status = 0;
	p->why = NULL;
}

static int
resolve(const struct aws *a, const char *service, struct endpoint *ep)
{
	char var[64];
	const char *s, *host, *slash;
	size_t i;

	snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", service);
	for (i = 0; var[i]; i++)
		var[i] = (char)toupper((unsigned char)var[i]);
	s = getenv(var);
	if (!s || !*s)
		s = getenv("AWS_ENDPOINT_URL");
	if (s && *s)
		snprintf(ep->url, sizeof(ep->url), "%s", s);
	else
		snprintf(ep->url, sizeof(ep->url), "https://%s.%s.amazonaws.com/",
		    service, a->region);
	if ((host = strstr(ep->url, "://")) == NULL ||
	    (strncmp(ep->url, "http://", 7) != 0 &&
	    strncmp(ep->url, "https://", 8) != 0))
		return error_set(EXIT_PERM, "%s endpoint '%s' is not an "
		    "http(s) URL", service, ep->url);
	host += 3;
	slash = strchr(host, '/');
	snprintf(ep->host, sizeof(ep->host), "%.*s",
	    (int)(slash ? (size_t)(slash - host) : strlen(host)), host);
	snprintf(ep->path, sizeof(ep->path), "%s", slash ? slash : "/");
	if (!*ep->host)
		return error_set(EXIT_PERM, "%s endpoint '%s' has no host",
		    service, ep->url);
	return 0;
}

static int
prepare(void *arg, const struct http_request *rq, struct http_hdrs *out)
{
	const struct call *c = arg;
	struct sigv4_header h[3];
	struct sigv4_request sr;
	struct sigv4_result res;
	size_t n = 0;
	int rc;

	h[n].name = "host";
	h[n++].value = c->ep->host;
	h[n].name = "content-type";
	h[n++].value = c->json ? "application/x-amz-json-1.1" :
	    "application/x-www-form-urlencoded; charset=utf-8";
	if (c->json) {
		h[n].name = "x-amz-target";
		h[n++].value = c->what;
	}
	memset(&sr, 0, sizeof(sr));
	sr.method = "POST";
	sr.path = c->ep->path;
	sr.headers = h;
	sr.nheaders = n;
	sr.payload = rq->body;
	sr.payload_len = rq->body_len;
	sr.region = c->aws->region;
	sr.service = c->service;
	sr.access_key = c->aws->creds.access_key;
	sr.secret_key = c->aws->creds.secret_key;
	sr.session_token = c->aws->creds.session_token;
	sr.now = time(NULL);
	if (sigv4_sign(&sr, &res) == -1)
		return -1;
	rc = http_hdrs_add(out, "Host: %s", c->ep->host) |
	    http_hdrs_add(out, "Content-Type: %s", h[1].value) |
	    http_hdrs_add(out, "X-Amz-Date: %s", res.amz_date) |
	    http_hdrs_add(out, "Authorization: %s", res.authorization);
	if (c->json)
		rc |= http_hdrs_add(out, "X-Amz-Target: %s", c->what);
	if (sr.session_token)
		rc |= http_hdrs_add(out, "X-Amz-Security-Token: %s",
		    sr.session_token);
	sigv4_result_free(&res);
	return rc ? -1 : 0;
}

/* The start of a body that is neither AWS's JSON nor its XML (a proxy's
 * page, a load balancer's text), on one line, for the message. */
static void
body_excerpt(const struct http_response *rs, char *msg, size_t msglen)
{
	size_t i, n = 0;

	for (i = 0; i < rs->body.len && n + 1 < msglen && n < 200; i++) {
		unsigned char ch = (unsigned char)rs->body.s[i];

		if (ch == '\n' || ch == '\r' || ch == '\t')
			ch = ' ';
		if (ch < 0x20 || ch == 0x7f || (ch == ' ' && n && msg[n - 1] == ' '))
			continue;
		msg[n++] = (char)ch;
	}
	msg[n] = '\0';
}

/* The error code and message of a failed reply, XML or JSON. */
static void
parse_error(const struct call *c, const struct http_response *rs,
    char *code, size_t codelen, char *msg, size_t msglen)
{
	snprintf(code, codelen, "HTTP%ld", rs->status);
	body_excerpt(rs, msg, msglen);
	if (c->json) {
		cJSON *j = cJSON_ParseWithLength(rs->body.s ? rs->body.s : "",
		    rs->body.len), *t, *m;
		const char *hash;

		if (j == NULL)
			return;
		msg[0] = '\0';
		t = cJSON_GetObjectItemCaseSensitive(j, "__type");
		m = cJSON_GetObjectItemCaseSensitive(j, "message");
		if (!cJSON_IsString(m))
			m = cJSON_GetObjectItemCaseSensitive(j, "Message");
		if (cJSON_IsString(t)) {
			hash = strrchr(t->valuestring, '#');
			snprintf(code, codelen, "%s",
			    hash ? hash + 1 : t->valuestring);
		}
		if (cJSON_IsString(m))
			snprintf(msg, msglen, "%s", m->valuestring);
		cJSON_Delete(j);
	} else {
		struct xml *x = xml_parse(buf_str(&rs->body), rs->body.len);
		struct xml *e = xml_path(x, "Errors/Error");

		if (!e)
			e = xml_child(x, "Error");
		if (e || x) {
			msg[0] = '\0';
		}
		if (e) {
			snprintf(code, codelen, "%s", xml_text(e, "Code"));
			snprintf(msg, msglen, "%s", xml_text(e, "Message"));
		}
		xml_free(x);
		error_clear();
	}
}

static int
throttled(const char *code)
{
	return strcmp(code, "RequestLimitExceeded") == 0 ||
	    strcmp(code, "Throttling") == 0 ||
	    strcmp(code, "ThrottlingException") == 0 ||
	    strcmp(code, "TooManyRequestsException") == 0 ||
	    strcmp(code, "RequestThrottled") == 0 ||
	    strcmp(code, "TooManyUpdates") == 0 ||
	    strcmp(code, "ServiceUnavailable") == 0 ||
	    strcmp(code, "InternalError") == 0 ||
	    strcmp(code, "InternalFailure") == 0;
}

static int
classify(void *arg, const struct http_response *rs, long *delay)
{
	const struct call *c = arg;
	char code[128], msg[16];

	(void)delay;
	if (rs->status < 400)
		return HTTP_DONE;
	if (rs->status >= 500 || rs->status == 429)
		return HTTP_RETRY;
	parse_error(c, rs, code, sizeof(code), msg, sizeof(msg));
	return throttled(code) ? HTTP_RETRY : HTTP_DONE;
}

static int
call(struct aws *a, struct call *c, const char *body, size_t len,
    struct http_response *rs)
{
	struct endpoint ep;
	struct http_request rq;
	struct http_policy pol;
	struct http_hdrs hs = { NULL, 0, 0 };
	char code[128], msg[512], what[160];
	int rc;

	memset(rs, 0, sizeof(*rs));
	a->code[0] = '\0';
	if (resolve(a, c->service, &ep) == -1)
		return -1;
	c->ep = &ep;
	c->aws = a;
	memset(&rq, 0, sizeof(rq));
	memset(&pol, 0, sizeof(pol));
	if (http_hdrs_add(&hs, "User-Agent: ec2-runner-pool/%s",
	    VERSION) == -1)
		return -1;
	rq.method = "POST";
	rq.url = ep.url;
	rq.body = body;
	rq.body_len = len;
	rq.headers = &hs;
	rq.sink = c->sink;
	rq.sink_arg = c->sink_arg;
	snprintf(what, sizeof(what), "%s %s", c->service,
	    c->json ? strchr(c->what, '.') + 1 : c->what);
	pol.prepare = prepare;
	pol.classify = classify;
	pol.arg = c;
	pol.what = what;
	rc = http_do(a->http, &rq, &pol, rs);
	http_hdrs_free(&hs);
	if (rc == -1)
		return -1;
	if (rs->status >= 200 && rs->status < 300)
		return 0;
	parse_error(c, rs, code, sizeof(code), msg, sizeof(msg));
	snprintf(a->code, sizeof(a->code), "%s", code);
	return error_set(rs->status >= 500 || rs->status == 429 ||
	    throttled(code) ? EXIT_TEMP : EXIT_PERM, "%s: %s%s%s", what, code,
	    *msg ? ": " : "", msg);
}

/* An EC2 Query call: the reply tree, or with a sink, NULL and *ok set. */
static struct xml *
query(struct aws *a, const char *action, struct aws_params *p,
    int (*sink)(void *, const char *, size_t), void *arg, int *ok)
{
	struct aws_params full = AWS_PARAMS_INIT;
	struct http_response rs;
	struct call c;
	struct xml *x = NULL;

	*ok = 0;
	memset(&c, 0, sizeof(c));
	c.service = "ec2";
	c.what = action;
	c.sink = sink;
	c.sink_arg = arg;
	/* the one place a request's parameters are checked */
	if (p && p->status) {
		error_set(p->status, "ec2 %s: request not sent: %s", action,
		    p->why);
		goto out;
	}
	aws_param(&full, "Action", action);
	aws_param(&full, "Version", EC2_VERSION);
	if (!full.status && p && p->body.len &&
	    (buf_putc(&full.body, '&') == -1 ||
	    buf_add(&full.body, p->body.s, p->body.len) == -1)) {
		full.status = EXIT_TEMP;
		full.why = "out of memory";
	}
	if (full.status) {
		error_set(full.status, "ec2 %s: request not sent: %s", action,
		    full.why);
		goto out;
	}
	if (call(a, &c, full.body.s, full.body.len, &rs) == 0) {
		if (sink)
			*ok = 1;
		else if ((x = xml_parse(buf_str(&rs.body), rs.body.len)) == NULL)
			error_wrap("ec2 %s", action);
	}
	http_response_free(&rs);
out:
	aws_params_free(&full);
	return x;
}

struct xml *
aws_query(struct aws *a, const char *action, struct aws_params *p)
{
	int ok;

	return query(a, action, p, NULL, NULL, &ok);
}

int
aws_query_stream(struct aws *a, const char *action, struct aws_params *p,
    int (*sink)(void *, const char *, size_t), void *arg)
{
	int ok;

	query(a, action, p, sink, arg, &ok);
	return ok ? 0 : -1;
}

cJSON *
aws_json(struct aws *a, const char *service, const char *target,
    const cJSON *req)
{
	struct http_response rs;
	struct call c;
	cJSON *j = NULL;
	char *body;

	memset(&c, 0, sizeof(c));
	c.service = service;
	c.what = target;
	c.json = 1;
	if ((body = cJSON_PrintUnformatted(req)) == NULL) {
		error_set(EXIT_TEMP, "out of memory");
		return NULL;
	}
	if (call(a, &c, body, strlen(body), &rs) == 0) {
		j = cJSON_ParseWithLength(buf_str(&rs.body), rs.body.len);
		if (j == NULL)
			error_set(EXIT_TEMP, "%s: reply is not JSON", target);
	}
	http_response_free(&rs);
	explicit_bzero(body, strlen(body));
	free(body);
	return j;
}
