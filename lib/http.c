#define _GNU_SOURCE	/* strcasestr */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "error.h"
#include "http.h"

struct http {
	CURL *curl;
	long connect_ms, total_ms;
};

static int curl_ready;

struct http *
http_new(void)
{
	struct http *h;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			error_set(EXIT_TEMP, "cannot initialise libcurl");
			return NULL;
		}
		curl_ready = 1;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		error_set(EXIT_TEMP, "out of memory");
		return NULL;
	}
	if ((h->curl = curl_easy_init()) == NULL) {
		free(h);
		error_set(EXIT_TEMP, "cannot initialise libcurl");
		return NULL;
	}
	h->connect_ms = 5000;
	h->total_ms = 30000;
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	free(h);
}

void
http_set_timeouts(struct http *h, long connect_ms, long total_ms)
{
	h->connect_ms = connect_ms;
	h->total_ms = total_ms;
}

int
http_hdrs_add(struct http_hdrs *hs, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (hs->n == hs->cap) {
		size_t cap = hs->cap ? hs->cap * 2 : 8;
		char **v = realloc(hs->v, cap * sizeof(*v));

		if (v == NULL)
			return error_set(EXIT_TEMP, "out of memory");
		hs->v = v;
		hs->cap = cap;
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		return error_set(EXIT_TEMP, "out of memory");
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	hs->v[hs->n++] = s;
	return 0;
}

void
http_hdrs_free(struct http_hdrs *hs)
{
	size_t i;

	for (i = 0; i < hs->n; i++) {
		explicit_bzero(hs->v[i], strlen(hs->v[i]));
		free(hs->v[i]);
	}
	free(hs->v);
	memset(hs, 0, sizeof(*hs));
}

/* Where one attempt's body goes, and why it stopped early. */
struct body {
	CURL *curl;
	const struct http_request *rq;
	struct buf *b;
	size_t total;		/* bytes received, stored or sunk */
	int sinking;		/* -1 undecided, 0 into b, 1 into rq->sink */
	int too_big, sink_failed;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct body *bd = arg;
	size_t len = size * n;
	long status = 0;

	if (bd->sinking == -1) {
		curl_easy_getinfo(bd->curl, CURLINFO_RESPONSE_CODE, &status);
		bd->sinking = bd->rq->sink && status >= 200 && status < 300;
	}
	if (len > (size_t)HTTP_MAX_BODY - bd->total) {
		bd->too_big = 1;
		return 0;
	}
	bd->total += len;
	if (bd->sinking) {
		if (bd->rq->sink(bd->rq->sink_arg, p, len) == -1) {
			bd->sink_failed = 1;
			return 0;
		}
		return len;
	}
	return buf_add(bd->b, p, len) == 0 ? len : 0;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	/* a new status line (redirect, 100-continue) starts afresh */
	if (size * n > 5 && strncmp(p, "HTTP/", 5) == 0)
		buf_reset(b);
	return buf_add(b, p, size * n) == 0 ? size * n : 0;
}

int
http_attempts(void)
{
	const char *s = getenv("AWS_MAX_ATTEMPTS");
	char *end;
	long n;

	if (s && *s) {
		n = strtol(s, &end, 10);
		if (*end == '\0' && n >= 1 && n <= 20)
			return (int)n;
	}
	return 5;
}

static long
jitter(long cap_ms)
{
	unsigned int r = 0;

	if (cap_ms <= 0)
		return 0;
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (unsigned int)rand();
	return (long)(r % (unsigned long)cap_ms);
}

static void
sleep_ms(long ms)
{
	struct timespec ts;

	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1)
		;
}

void
http_backoff(int attempt)
{
	long cap = 100L << (attempt > 6 ? 6 : attempt);

	sleep_ms(jitter(cap > 5000 ? 5000 : cap) + 20);
}

static int
retryable_curl(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/*
 * 0: a response; -1: no response, why in *cc; -2: stopped with the error
 * already set, or cut short after the sink saw part of it (no retry).
 */
static int
attempt_once(struct http *h, const struct http_request *rq,
    const struct http_hdrs *extra, struct http_response *rs, CURLcode *cc,
    const char *what)
{
	struct curl_slist *list = NULL, *l;
	struct body bd;
	size_t i;
	int rc = 0;

	curl_easy_reset(h->curl);
	buf_reset(&rs->body);
	buf_reset(&rs->headers);
	rs->status = 0;
	for (i = 0; rq->headers && i < rq->headers->n; i++) {
		if ((l = curl_slist_append(list, rq->headers->v[i])) == NULL)
			goto oom;
		list = l;
	}
	for (i = 0; extra && i < extra->n; i++) {
		if ((l = curl_slist_append(list, extra->v[i])) == NULL)
			goto oom;
		list = l;
	}
	/* no "Expect: 100-continue" round trip, no default Accept */
	if ((l = curl_slist_append(list, "Expect:")) == NULL)
		goto oom;
	list = l;
	curl_easy_setopt(h->curl, CURLOPT_URL, rq->url);
	curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, rq->method);
	if (strcmp(rq->method, "GET") == 0)
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	else if (rq->body || strcmp(rq->method, "POST") == 0 ||
	    strcmp(rq->method, "PUT") == 0) {
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS,
		    rq->body ? rq->body : "");
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)rq->body_len);
	}
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
	memset(&bd, 0, sizeof(bd));
	bd.curl = h->curl;
	bd.rq = rq;
	bd.b = &rs->body;
	bd.sinking = -1;
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &bd);
	curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, &rs->headers);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS, h->connect_ms);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, h->total_ms);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
	/* fewer, larger reads of a long reply: fewer system calls and expat
	 * calls per byte */
	curl_easy_setopt(h->curl, CURLOPT_BUFFERSIZE, 256L * 1024);
	*cc = curl_easy_perform(h->curl);
	if (*cc == CURLE_OK)
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &rs->status);
	else if (bd.too_big) {
		error_set(EXIT_PERM, "%s: reply larger than %ld MiB", what,
		    HTTP_MAX_BODY / (1024 * 1024));
		rc = -2;
	} else if (bd.sink_failed)
		rc = -2;	/* the sink's own error */
	else if (bd.sinking == 1 && bd.total > 0) {
		error_set(EXIT_TEMP, "%s: %s (reply cut short)", what,
		    curl_easy_strerror(*cc));
		rc = -2;
	} else
		rc = -1;
	curl_slist_free_all(list);
	return rc;
oom:
	curl_slist_free_all(list);
	*cc = CURLE_OUT_OF_MEMORY;
	return -1;
}

int
http_do(struct http *h, const struct http_request *rq,
    const struct http_policy *pol, struct http_response *rs)
{
	int attempts = pol && pol->attempts ? pol->attempts : http_attempts();
	const char *what = pol && pol->what ? pol->what : rq->url;
	CURLcode cc = CURLE_OK;
	int i;

	for (i = 0; i < attempts; i++) {
		struct http_hdrs extra = { NULL, 0, 0 };
		long delay = -1;
		int got;

		if (pol && pol->prepare &&
		    pol->prepare(pol->arg, rq, &extra) == -1) {
			http_hdrs_free(&extra);
			return -1;
		}
		got = attempt_once(h, rq, &extra, rs, &cc, what);
		http_hdrs_free(&extra);
		if (got == -2)
			return -1;
		if (got == 0) {
			if (!pol || !pol->classify ||
			    pol->classify(pol->arg, rs, &delay) == HTTP_DONE)
				return 0;
			if (i + 1 == attempts)
				return 0;	/* the caller reports it */
		} else if (cc == CURLE_OUT_OF_MEMORY)
			return error_set(EXIT_TEMP, "out of memory");
		else if (!retryable_curl(cc))
			return error_set(EXIT_TEMP, "%s: %s", what,
			    curl_easy_strerror(cc));
		if (i + 1 < attempts) {
			if (delay >= 0)
				sleep_ms(delay > 60000 ? 60000 : delay);
			else
				http_backoff(i);
		}
	}
	return error_set(EXIT_TEMP, "%s: %s (after %d attempts)", what,
	    curl_easy_strerror(cc), attempts);
}

void
http_response_free(struct http_response *rs)
{
	buf_free(&rs->headers);
	buf_wipe(&rs->body);
	rs->status = 0;
}

int
http_header(const struct http_response *rs, const char *name, char *out,
    size_t outlen)
{
	const char *p = buf_str(&rs->headers);
	size_t nl = strlen(name);

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			size_t vl;

			while (*v == ' ' || *v == '\t')
				v++;
			vl = (size_t)(p + len - v);
			while (vl && (v[vl - 1] == '\r' || v[vl - 1] == ' '))
				vl--;
			if (vl >= outlen)
				vl = outlen - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 0;
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	return -1;
}

/* scheme://host:port and the path of u, normalised; 0 or -1 */
static int
url_parts(const char *u, struct buf *origin, struct buf *path,
    struct buf *full)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *p = NULL, *q = NULL;
	size_t i;
	int rc = -1;

	if (h == NULL)
		return error_set(EXIT_TEMP, "out of memory");
	if (curl_url_set(h, CURLUPART_URL, u, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PATH, &p, 0) != CURLUE_OK) {
		rc = error_set(EXIT_PERM, "'%.200s' is not a URL", u);
		goto out;
	}
	for (i = 0; scheme[i]; i++)
		scheme[i] = (char)tolower((unsigned char)scheme[i]);
	for (i = 0; host[i]; i++)
		host[i] = (char)tolower((unsigned char)host[i]);
	if ((strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
	    strcasestr(p, "%2e") != NULL) {
		rc = 1;
		goto out;
	}
	curl_url_get(h, CURLUPART_QUERY, &q, 0);
	if (buf_printf(origin, "%s://%s:%s", scheme, host, port) == -1 ||
	    buf_puts(path, p) == -1 ||
	    (full && buf_printf(full, "%s://%s:%s%s%s%s", scheme, host, port,
	    p, q ? "?" : "", q ? q : "") == -1))
		goto out;
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(p);
	curl_free(q);
	curl_url_cleanup(h);
	return rc;
}

int
http_url_under(const char *url, const char *base, struct buf *out)
{
	struct buf uo = BUF_INIT, up = BUF_INIT, bo = BUF_INIT, bp = BUF_INIT;
	size_t bl;
	int r, rc = -1;

	buf_reset(out);
	if ((r = url_parts(url, &uo, &up, out)) == -1)
		goto out;
	if (r == 1) {
		rc = 0;
		goto out;
	}
	if ((r = url_parts(base, &bo, &bp, NULL)) != 0) {
		if (r == 1)
			error_set(EXIT_PERM, "'%.200s' is not an http(s) base "
			    "URL", base);
		goto out;
	}
	bl = bp.len;
	while (bl > 0 && bp.s[bl - 1] == '/')
		bl--;
	rc = strcmp(uo.s, bo.s) == 0 && strncmp(up.s, bp.s, bl) == 0 &&
	    (up.s[bl] == '/' || up.s[bl] == '\0');
out:
	if (rc != 1)
		buf_reset(out);
	buf_free(&uo);
	buf_free(&up);
	buf_free(&bo);
	buf_free(&bp);
	return rc;
}
