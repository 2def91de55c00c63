/*
 * buf.h: a growable byte string, always NUL-terminated once non-empty.
 *
 * The struct owns b->s; buf_free() releases it (and is a no-op on an empty
 * buf), buf_wipe() zeroes it first (for secrets), buf_take() hands it to the
 * caller, who frees it.  Functions return 0, or -1 with error_set().
 */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>
#include <stdio.h>

struct buf {
	char *s;
	size_t len, cap;
};
#define BUF_INIT { NULL, 0, 0 }

int buf_add(struct buf *, const void *, size_t);
int buf_puts(struct buf *, const char *);
int buf_putc(struct buf *, int);
int buf_printf(struct buf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Append s percent-encoded (RFC 3986 unreserved kept; '/' too if keep_slash). */
int buf_urlencode(struct buf *, const char *s, size_t len, int keep_slash);
/* Append base64 of p[0..n) (RFC 4648, padded). */
int buf_base64(struct buf *, const void *p, size_t n);
/* Empty the buf, keeping its memory. */
void buf_reset(struct buf *);
char *buf_take(struct buf *);
void buf_free(struct buf *);
void buf_wipe(struct buf *);
/*
 * Append what is left of f, at most max bytes: 0 read to the end; 1 f holds
 * more than max (b holds max bytes or a little more; say so in the caller's
 * words); -1 a read error (EXIT_TEMP, "read error: ..." with errno's text)
 * or out of memory.  The one bounded reader of the toolkit: the stack copy
 * is wiped, as secrets (tokens, keys) pass through it.  f stays open.
 */
int buf_read(struct buf *, FILE *f, size_t max);
/* The contents, "" when empty: never NULL. */
const char *buf_str(const struct buf *);

#endif
