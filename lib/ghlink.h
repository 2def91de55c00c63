/*
 * ghlink.h: the rel="next" URL of an HTTP Link header (RFC 8288), as
 * GitHub paginates its REST API.  No I/O, no allocation.
 */
#ifndef GHLINK_H
#define GHLINK_H

#include <stddef.h>

/* The URL of rel="next" in a Link header into out: 1 found, 0 none. */
int ghlink_next(const char *link, char *out, size_t outlen);

#endif
