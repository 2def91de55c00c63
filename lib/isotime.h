/*
 * isotime.h: ISO 8601 times as GitHub and EC2 write them, to and from unix
 * seconds.  Nothing here allocates.
 */
#ifndef ISOTIME_H
#define ISOTIME_H

#include <stddef.h>
#include <time.h>

/*
 * "2020-01-22T12:13:35Z", with fractions of a second and an offset
 * ("...35.123+00:00", "...35-0500") accepted; 0, or -1 (EXIT_PERM).
 */
int isotime_parse(const char *, time_t *);
/* unix seconds to "2020-01-22T12:13:35Z" (out: at least 21 bytes). */
void isotime_format(time_t, char *out, size_t outlen);

#endif
