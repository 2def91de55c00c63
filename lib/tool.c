#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "ghauth.h"
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
	fprintf(stderr, " (see %s --help)\n", tool_name);
	return EXIT_PERM;
}

int
tool_bad_option(const char *arg, int missing, const char *hint)
{
	size_t n;
	char opt[3] = { '-', 0, 0 };

	/* an unknown short option (alone or in a cluster): getopt leaves
	 * optind at the previous argument, a value that could be a secret,
	 * so it is named from optopt (0 for an unknown long option) */
	if ((!missing && optopt != 0) || arg == NULL) {
		opt[1] = (char)(optopt > 32 && optopt < 127 ? optopt : '?');
		arg = opt;
	}
	n = strcspn(arg, "=");

	if (missing)
		return tool_usage("option '%.*s' needs a value", (int)n, arg);
	if (n > 40)
		return tool_usage("unknown option%s%s%s", hint ? " (" : "",
		    hint ? hint : "", hint ? ")" : "");
	return tool_usage("unknown option '%.*s'%s%s%s", (int)n, arg,
	    hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
}

int
tool_exact_options(int argc, char **argv, const struct option *opts,
    const char *hint)
{
	const struct option *o;
	size_t n;
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], "--", 2) != 0)
			continue;
		n = strcspn(argv[i] + 2, "=");
		for (o = opts; o->name; o++)
			if (strlen(o->name) == n &&
			    strncmp(o->name, argv[i] + 2, n) == 0)
				break;
		if (o->name == NULL) {
			optopt = 0;
			return tool_bad_option(argv[i], 0, hint);
		}
		if (o->has_arg == required_argument && argv[i][2 + n] == '\0')
			i++;	/* its value may look like an option */
	}
	return 0;
}

int
tool_aws_option(int c, const char *arg, const char **pool,
    const char **region, const char **profile)
{
	const char **p = c == 'p' ? pool : c == 'R' ? region :
	    c == 'P' ? profile : NULL;

	if (p == NULL)
		return 0;
	*p = arg;
	return 1;
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

static int
rank(int s)
{
	switch (s) {
	case EXIT_DONE:
		return 0;
	case EXIT_NO:
		return 1;
	case EXIT_PERM:
		return 2;
	default:
		return 3;	/* EXIT_TEMP, or anything unexpected */
	}
}

int
tool_status_merge(int a, int b)
{
	return rank(a) >= rank(b) ? a : b;
}

int
tool_github_option(int c, const char *arg, struct ghauth_src *a)
{
	switch (c) {
	case 'a':
		a->app_id = arg;
		return 1;
	case 'k':
		a->app_key_file = arg;
		return 1;
	case 't':
		a->token_file = arg;
		return 1;
	}
	return 0;
}

int
tool_github_auth_check(const struct ghauth_src *a)
{
	if (a->app_key_file && a->app_id == NULL &&
	    getenv("GITHUB_APP_ID") == NULL)
		return tool_usage("--app-key-file needs --app-id");
	if (a->app_id && a->token_file)
		return tool_usage("--app-id and --token-file exclude each "
		    "other");
	return 0;
}
