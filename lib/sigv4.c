#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "buf.h"
#include "error.h"
#include "sigv4.h"

struct hdr {
	char *name;		/* lowercased */
	struct buf value;	/* canonical: trimmed, folded, joined by ',' */
};

struct param {
	char *key, *value;	/* encoded */
};

static void
hexify(const unsigned char *d, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void
sigv4_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char d[SHA256_DIGEST_LENGTH];
	unsigned int dn = 0;

	EVP_Digest(p, n, d, &dn, EVP_sha256(), NULL);
	hexify(d, SHA256_DIGEST_LENGTH, out);
}

static void
hmac(const void *key, size_t klen, const char *msg, unsigned char out[32])
{
	unsigned int n = 32;

	HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)msg,
	    strlen(msg), out, &n);
}

/* Canonical value: trim, and fold every run of white space to one space. */
static int
fold_value(struct buf *b, const char *v)
{
	int space = 0;

	while (*v && isspace((unsigned char)*v))
		v++;
	for (; *v; v++) {
		if (isspace((unsigned char)*v)) {
			space = 1;
			continue;
		}
		if (space && buf_putc(b, ' ') == -1)
			return -1;
		space = 0;
		if (buf_putc(b, *v) == -1)
			return -1;
	}
	return 0;
}

static int
hdrcmp(const void *a, const void *b)
{
	return strcmp(((const struct hdr *)a)->name,
	    ((const struct hdr *)b)->name);
}

static int
paramcmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

static int
unhex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX (and '+' stays '+': AWS query strings use %20), re-encode. */
static char *
reencode(const char *s, size_t n)
{
	struct buf raw = BUF_INIT, enc = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = unhex(s[i + 1])) >= 0 &&
		    (lo = unhex(s[i + 2])) >= 0) {
			if (buf_putc(&raw, hi * 16 + lo) == -1)
				goto fail;
			i += 2;
		} else if (buf_putc(&raw, s[i]) == -1)
			goto fail;
	}
	if (buf_urlencode(&enc, buf_str(&raw), raw.len, 0) == -1)
		goto fail;
	buf_free(&raw);
	return buf_take(&enc);
fail:
	buf_free(&raw);
	buf_free(&enc);
	return NULL;
}

static int
canonical_query(struct buf *out, const char *q)
{
	struct param *p = NULL;
	size_t n = 0, cap = 0, i;
	const char *s = q;
	int rc = -1;

	while (s && *s) {
		const char *amp = strchr(s, '&'), *eq;
		size_t len = amp ? (size_t)(amp - s) : strlen(s);

		if (len) {
			if (n == cap) {
				struct param *np;

				cap = cap ? cap * 2 : 8;
				np = realloc(p, cap * sizeof(*p));
				if (np == NULL) {
					error_set(EXIT_TEMP, "out of memory");
					goto out;
				}
				p = np;
			}
			eq = memchr(s, '=', len);
			p[n].key = reencode(s, eq ? (size_t)(eq - s) : len);
			p[n].value = eq ? reencode(eq + 1,
			    len - (size_t)(eq - s) - 1) : reencode("", 0);
			n++;
			if (!p[n - 1].key || !p[n - 1].value) {
				error_set(EXIT_TEMP, "out of memory");
				goto out;
			}
		}
		s = amp ? amp + 1 : NULL;
	}
	if (n)
		qsort(p, n, sizeof(*p), paramcmp);
	for (i = 0; i < n; i++)
		if (buf_printf(out, "%s%s=%s", i ? "&" : "", p[i].key,
		    p[i].value) == -1)
			goto out;
	rc = 0;
out:
	for (i = 0; i < n; i++) {
		free(p[i].key);
		free(p[i].value);
	}
	free(p);
	return rc;
}

/* RFC 3986 remove_dot_segments, with empty segments collapsed. */
static int
canonical_path(struct buf *out, const char *path, int no_normalize)
{
	struct buf norm = BUF_INIT;
	const char *seg[256];
	size_t segl[256], n = 0, i;
	const char *s = path && *path ? path : "/";
	int trailing;
	int rc;

	if (no_normalize)
		return buf_urlencode(out, s, strlen(s), 1);
	trailing = s[strlen(s) - 1] == '/';
	while (*s) {
		const char *e;
		size_t l;

		while (*s == '/')
			s++;
		if (!*s)
			break;
		e = strchr(s, '/');
		l = e ? (size_t)(e - s) : strlen(s);
		if (l == 1 && s[0] == '.') {
			if (!e)
				trailing = 1;
		} else if (l == 2 && s[0] == '.' && s[1] == '.') {
			if (n)
				n--;
			if (!e)
				trailing = 1;
		} else {
			if (n == 256)
				return error_set(EXIT_PERM, "path too deep");
			seg[n] = s;
			segl[n++] = l;
		}
		s += l;
	}
	if (buf_putc(&norm, '/') == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if ((i && buf_putc(&norm, '/') == -1) ||
		    buf_add(&norm, seg[i], segl[i]) == -1)
			goto fail;
	}
	if (n && trailing && buf_putc(&norm, '/') == -1)
		goto fail;
	rc = buf_urlencode(out, buf_str(&norm), norm.len, 1);
	buf_free(&norm);
	return rc;
fail:
	buf_free(&norm);
	return -1;
}

static struct hdr *
find_hdr(struct hdr *h, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return &h[i];
	return NULL;
}

static int
add_hdr(struct hdr *h, size_t *n, const char *name, const char *value)
{
	struct hdr *e;
	char lower[128];
	size_t i;

	/* a header name is an RFC 7230 token: anything else (a space, a
	 * colon, a newline) would change what is signed and sent */
	for (i = 0; name[i]; i++)
		if (i == sizeof(lower) - 1 || !(isalnum((unsigned char)name[i]) ||
		    strchr("!#$%&'*+-.^_`|~", name[i])))
			return error_set(EXIT_PERM, "sigv4: header name "
			    "'%.40s' is not an HTTP token of at most %zu "
			    "characters", name, sizeof(lower) - 1);
	if (i == 0)
		return error_set(EXIT_PERM, "sigv4: empty header name");
	for (i = 0; name[i]; i++)
		lower[i] = (char)tolower((unsigned char)name[i]);
	lower[i] = '\0';
	if ((e = find_hdr(h, *n, lower)) == NULL) {
		e = &h[(*n)++];
		if ((e->name = strdup(lower)) == NULL)
			return error_set(EXIT_TEMP, "out of memory");
		memset(&e->value, 0, sizeof(e->value));
	} else if (buf_putc(&e->value, ',') == -1)
		return -1;
	return fold_value(&e->value, value);
}

int
sigv4_sign(const struct sigv4_request *r, struct sigv4_result *out)
{
	struct buf creq = BUF_INIT, sts = BUF_INIT, signed_h = BUF_INIT;
	struct buf authz = BUF_INIT, key = BUF_INIT;
	struct hdr *h;
	size_t nh = 0, i;
	char date[9], scope[256], hash[65];
	unsigned char k[32];
	struct tm tm;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((h = calloc(r->nheaders + 2, sizeof(*h))) == NULL)
		return error_set(EXIT_TEMP, "out of memory");
	gmtime_r(&r->now, &tm);
	strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	memcpy(date, out->amz_date, 8);
	date[8] = '\0';

	for (i = 0; i < r->nheaders; i++)
		if (add_hdr(h, &nh, r->headers[i].name,
		    r->headers[i].value) == -1)
			goto out;
	if (!find_hdr(h, nh, "x-amz-date") &&
	    add_hdr(h, &nh, "x-amz-date", out->amz_date) == -1)
		goto out;
	if (r->session_token && !find_hdr(h, nh, "x-amz-security-token") &&
	    add_hdr(h, &nh, "x-amz-security-token", r->session_token) == -1)
		goto out;
	qsort(h, nh, sizeof(*h), hdrcmp);

	sigv4_sha256_hex(r->payload ? r->payload : "", r->payload_len,
	    out->payload_hash);
	if (buf_printf(&creq, "%s\n", r->method) == -1 ||
	    canonical_path(&creq, r->path, r->no_normalize) == -1 ||
	    buf_putc(&creq, '\n') == -1 ||
	    canonical_query(&creq, r->query) == -1 ||
	    buf_putc(&creq, '\n') == -1)
		goto out;
	for (i = 0; i < nh; i++) {
		if (buf_printf(&creq, "%s:%s\n", h[i].name,
		    buf_str(&h[i].value)) == -1 ||
		    buf_printf(&signed_h, "%s%s", i ? ";" : "",
		    h[i].name) == -1)
			goto out;
	}
	if (buf_printf(&creq, "\n%s\n%s", buf_str(&signed_h),
	    out->payload_hash) == -1)
		goto out;

	snprintf(scope, sizeof(scope), "%s/%s/%s/aws4_request", date,
	    r->region, r->service);
	sigv4_sha256_hex(creq.s, creq.len, hash);
	if (buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s\n%s", out->amz_date,
	    scope, hash) == -1)
		goto out;

	if (buf_printf(&key, "AWS4%s", r->secret_key) == -1)
		goto out;
	hmac(key.s, key.len, date, k);
	hmac(k, 32, r->region, k);
	hmac(k, 32, r->service, k);
	hmac(k, 32, "aws4_request", k);
	hmac(k, 32, sts.s, k);
	hexify(k, 32, hash);
	if (buf_printf(&authz, "AWS4-HMAC-SHA256 Credential=%s/%s, "
	    "SignedHeaders=%s, Signature=%s", r->access_key, scope,
	    buf_str(&signed_h), hash) == -1)
		goto out;

	out->canonical_request = buf_take(&creq);
	out->string_to_sign = buf_take(&sts);
	out->authorization = buf_take(&authz);
	rc = 0;
out:
	explicit_bzero(k, sizeof(k));
	buf_wipe(&key);
	buf_free(&creq);
	buf_free(&sts);
	buf_free(&signed_h);
	buf_free(&authz);
	for (i = 0; i < nh; i++) {
		free(h[i].name);
		buf_wipe(&h[i].value);
	}
	free(h);
	return rc;
}

void
sigv4_result_free(struct sigv4_result *r)
{
	free(r->canonical_request);
	free(r->string_to_sign);
	free(r->authorization);
	r->canonical_request = r->string_to_sign = r->authorization = NULL;
}
