#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "error.h"

static int
grow(struct buf *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->len + need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + need + 1) {
		if (cap > (size_t)-1 / 2)
			return error_set(EXIT_TEMP, "out of memory");
		cap *= 2;
	}
	if ((p = realloc(b->s, cap)) == NULL)
		return error_set(EXIT_TEMP, "out of memory");
	b->s = p;
	b->cap = cap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (grow(b, n) == -1)
		return -1;
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int
buf_puts(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int
buf_putc(struct buf *b, int c)
{
	char ch = (char)c;

	return buf_add(b, &ch, 1);
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return error_set(EXIT_PERM, "bad format");
	if (grow(b, (size_t)n) == -1)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int
buf_urlencode(struct buf *b, const char *s, size_t len, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	if (grow(b, len * 3) == -1)
		return -1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~' || (keep_slash && c == '/')) {
			b->s[b->len++] = (char)c;
		} else {
			b->s[b->len++] = '%';
			b->s[b->len++] = hex[c >> 4];
			b->s[b->len++] = hex[c & 15];
		}
	}
	b->s[b->len] = '\0';
	return 0;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

char *
buf_take(struct buf *b)
{
	char *s = b->s;

	if (s == NULL)
		s = calloc(1, 1);
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void
buf_free(struct buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void
buf_wipe(struct buf *b)
{
	if (b->s)
		explicit_bzero(b->s, b->cap);
	buf_free(b);
}

const char *
buf_str(const struct buf *b)
{
	return b->s ? b->s : "";
}

int
buf_base64(struct buf *b, const void *p, size_t n)
{
	size_t need = 4 * ((n + 2) / 3);

	if (n > (size_t)1 << 30)
		return error_set(EXIT_PERM, "data too large to encode");
	if (grow(b, need) == -1)
		return -1;
	EVP_EncodeBlock((unsigned char *)b->s + b->len,
	    (const unsigned char *)p, (int)n);
	b->len += need;
	b->s[b->len] = '\0';
	return 0;
}

int
buf_read(struct buf *b, FILE *f, size_t max)
{
	char chunk[4096];
	size_t n, start = b->len;
	int rc = 0;

	errno = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (b->len - start + n > max) {
			rc = 1;
			break;
		}
		if (buf_add(b, chunk, n) == -1) {
			rc = -1;
			break;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	if (rc == 0 && ferror(f))
		rc = error_set(EXIT_TEMP, "read error: %s", strerror(errno ?
		    errno : EIO));
	return rc;
}
