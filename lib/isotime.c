/*
 * isotime.c: ISO 8601 times (isotime.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "isotime.h"

int
isotime_parse(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0;
	const char *p;
	time_t t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d,
	    &h, &mi, &sec, &n) != 6 || n < 19)
		return error_set(EXIT_PERM, "'%s' is not an ISO 8601 time",
		    s ? s : "");
	p = s + n;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' && p[1] == '\0')
		;
	else if ((*p == '+' || *p == '-') &&
	    (sscanf(p + 1, "%2d:%2d", &oh, &om) == 2 ||
	    sscanf(p + 1, "%2d%2d", &oh, &om) == 2) &&
	    strlen(p) <= 6 && oh < 24 && om < 60) {
		if (*p == '-') {
			oh = -oh;
			om = -om;
		}
	} else
		return error_set(EXIT_PERM, "'%s' is not an ISO 8601 time", s);
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return error_set(EXIT_PERM, "'%s' is not an ISO 8601 time", s);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	if ((t = timegm(&tm)) == (time_t)-1)
		return error_set(EXIT_PERM, "'%s' is out of range", s);
	*out = t - (time_t)(oh * 3600 + om * 60);
	return 0;
}

void
isotime_format(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outlen, "%lld", (long long)t);
}

