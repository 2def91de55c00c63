#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "tool.h"

const char *tool_name = "pool";

void
tool_init(const char *argv0)
{
	const char *s = argv0 ? strrchr(argv0, '/') : NULL;

	tool_name = s ? s + 1 : argv0 ? argv0 : tool_name;
}

void
tool_log(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
tool_fail(void)
{
	fprintf(stderr, "%s: %s\n", tool_name, error_msg());
	return error_status();
}

int
tool_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s: try '%s --help'\n", tool_name, tool_name);
	return EXIT_PERM;
}

int
tool_exit(int status)
{
	if (fclose(stdout) == EOF) {
		fprintf(stderr, "%s: write error on stdout: %s\n", tool_name,
		    strerror(errno));
		return status ? status : EXIT_TEMP;
	}
	return status;
}
