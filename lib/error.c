#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static char msg[1024];
static int status;

int
error_set(int st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	status = st;
	return -1;
}

int
error_wrap(const char *fmt, ...)
{
	char prefix[512], old[sizeof(msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, msg, sizeof(old));
	msg[0] = '\0';
	strncat(msg, prefix, sizeof(msg) - 1);
	strncat(msg, ": ", sizeof(msg) - strlen(msg) - 1);
	strncat(msg, old, sizeof(msg) - strlen(msg) - 1);
	return -1;
}

int
error_reclass(int st)
{
	status = st;
	return -1;
}

const char *
error_msg(void)
{
	return msg[0] ? msg : "unknown error";
}

int
error_status(void)
{
	return status ? status : EXIT_PERM;
}

void
error_clear(void)
{
	msg[0] = '\0';
	status = 0;
}
