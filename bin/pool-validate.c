/*
 * pool-validate: check one input with the rules the tools themselves use,
 * so that the action's entrypoint and the tools never disagree on what is
 * valid (one rule, one place: lib/validate.c and friends).
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "ghscope.h"
#include "runnerver.h"
#include "strlist.h"
#include "tool.h"
#include "validate.h"

#define MAX_VALUE 65536

static const char usage[] =
"usage: pool-validate KIND [--list [--count N]] [--range MIN:MAX]\n"
"                     < VALUE\n"
"\n"
"Check VALUE, read from stdin (one final newline dropped), as the tools\n"
"check it, and print it back normalised: with --list, the words (split on\n"
"blanks and commas) joined by one space.  A value of more than one line is\n"
"refused, and so is a list of more than N words (default 100) or, without\n"
"--list, more than one word.  KIND is one of:\n"
"\n"
"  pool, region, ami, subnet, security-group, instance-profile, run-id,\n"
"  class, usage, type (an instance type pattern), scope (owner/repo or\n"
"  org), runner-version (latest or N.N.N), number (a whole number in\n"
"  --range, default 0:999999999), seconds (0.001-600, up to 3 decimals),\n"
"  token (a GitHub token: printable, no blanks), user (a Unix user name),\n"
"  runner-group (a GitHub runner group name: one value, blanks inside\n"
"  allowed)\n"
"\n"
"  --list            VALUE is a list of words\n"
"  --count N         at most N words, 1-1000 (default 100)\n"
"  --range MIN:MAX   number: the bounds (whole numbers)\n"
"  -h, --help        this help\n"
"\n"
"Exit status: 0 valid (the value printed, a token excepted), 100 not valid\n"
"(one line on stderr; control characters in the value shown as '?').\n";

static long long lo = 0, hi = 999999999;

static int
check_number(const char *s)
{
	if (s[0] == '0' && s[1] != '\0')
		return error_set(EXIT_PERM, "'%s' has a leading zero", s);
	return validate_number(s, lo, hi, NULL);
}

/* 0.001 to 600 seconds, at most 3 decimals, no leading zero but "0." */
static int
check_seconds(const char *s)
{
	size_t n = strspn(s, "0123456789"), d = 0;
	double v;

	if (n == 0 || n > 3 || (s[0] == '0' && n > 1))
		goto bad;
	if (s[n] == '.') {
		d = strspn(s + n + 1, "0123456789");
		if (d == 0 || d > 3)
			goto bad;
	}
	if (s[n + (d ? d + 1 : 0)] != '\0')
		goto bad;
	v = strtod(s, NULL);
	if (v <= 0 || v > 600)
		return error_set(EXIT_PERM, "'%s' is out of range 0.001-600 "
		    "seconds", s);
	return 0;
bad:
	return error_set(EXIT_PERM, "'%s' is not a number of seconds "
	    "(like 2 or 0.5)", s);
}

static int
check_scope(const char *s)
{
	struct ghscope sc;

	return ghscope_parse(s, &sc);
}

static int
check_runner_version(const char *s)
{
	struct runnerver v;

	if (strcmp(s, "latest") == 0)
		return 0;
	if (*s == 'v')	/* the tag's form; the input is the version */
		return error_set(EXIT_PERM, "'%s' is not latest or N.N.N", s);
	return runnerver_parse(s, &v);
}

static int
check_token(const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]))
			return error_set(EXIT_PERM, "has a blank or control "
			    "character at offset %zu", i);
	if (n < 4 || n > 1024)
		return error_set(EXIT_PERM, "is %zu characters long", n);
	return 0;
}

static const struct kind {
	const char *name;
	int (*check)(const char *);
	int secret;		/* never repeat the value */
	int whole;		/* one value with blanks inside, never split */
} kinds[] = {
	{ "ami", validate_ami, 0, 0 },
	{ "class", validate_class, 0, 0 },
	{ "instance-profile", validate_instance_profile, 0, 0 },
	{ "number", check_number, 0, 0 },
	{ "pool", validate_pool, 0, 0 },
	{ "region", validate_region, 0, 0 },
	{ "run-id", validate_run_id, 0, 0 },
	{ "runner-group", validate_runner_group, 0, 1 },
	{ "runner-version", check_runner_version, 0, 0 },
	{ "scope", check_scope, 0, 0 },
	{ "seconds", check_seconds, 0, 0 },
	{ "security-group", validate_security_group, 0, 0 },
	{ "subnet", validate_subnet, 0, 0 },
	{ "token", check_token, 1, 0 },
	{ "type", validate_type_pattern, 0, 0 },
	{ "usage", validate_usage, 0, 0 },
	{ "user", validate_user_name, 0, 0 },
};

/* Print the message with control characters as '?'; EXIT_PERM. */
static int
refuse(const char *msg)
{
	char line[512];
	size_t i;

	snprintf(line, sizeof(line), "%s", msg);
	for (i = 0; line[i]; i++)
		if (iscntrl((unsigned char)line[i]))
			line[i] = '?';
	fprintf(stderr, "%s: %s\n", tool_name, line);
	return tool_exit(EXIT_PERM);
}

static int
read_value(struct buf *b)
{
	switch (buf_read(b, stdin, MAX_VALUE)) {
	case -1:
		return error_wrap("stdin");
	case 1:
		return error_set(EXIT_PERM, "longer than %d bytes", MAX_VALUE);
	}
	if (b->len && b->s[b->len - 1] == '\n')
		b->s[--b->len] = '\0';
	if (b->len == 0)
		return error_set(EXIT_PERM, "is empty");
	if (memchr(b->s, '\n', b->len) || memchr(b->s, '\r', b->len))
		return error_set(EXIT_PERM, "has more than one line");
	if (validate_utf8(b->s, b->len) == -1)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "list", no_argument, NULL, 'l' },
		{ "range", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 }
	};
	static struct strlist words;
	static struct buf value, out;
	const struct kind *k = NULL;
	long long count = 100;
	char *colon;
	size_t i;
	int c, list = 0;

	tool_init(argv[0]);
	if ((c = tool_exact_options(argc, argv, opts, NULL)) != 0)
		return c;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (validate_number(optarg, 1, 1000, &count) == -1)
				return error_wrap("--count"), tool_fail();
			break;
		case 'h':
			fputs(usage, stdout);
			return tool_exit(0);
		case 'l':
			list = 1;
			break;
		case 'r':
			if ((colon = strchr(optarg, ':')) == NULL)
				return tool_usage("--range: MIN:MAX");
			*colon = '\0';
			if (validate_number(optarg, 0, 999999999, &lo) == -1 ||
			    validate_number(colon + 1, lo, 999999999, &hi) == -1)
				return error_wrap("--range"), tool_fail();
			break;
		default:
			return tool_bad_option(argv[optind - 1], c == ':', NULL);
		}
	}
	if (optind != argc - 1)
		return tool_usage("give one KIND");
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, argv[optind]) == 0)
			k = &kinds[i];
	if (k == NULL)
		return tool_usage("unknown KIND '%.40s'", argv[optind]);
	if (read_value(&value) == -1)
		return refuse(error_msg());
	/* a secret is one word by nature: checked whole, never split */
	if (k->secret) {
		if (list || k->check(buf_str(&value)) == -1)
			return refuse(list ? "a secret is not a list" :
			    error_msg());
		buf_wipe(&value);
		return tool_exit(0);
	}
	if (k->whole) {
		if (list || k->check(buf_str(&value)) == -1)
			return refuse(list ? "is one value, not a list" :
			    error_msg());
		if (printf("%s\n", buf_str(&value)) < 0)
			return tool_exit(EXIT_TEMP);
		buf_wipe(&value);
		return tool_exit(0);
	}
	if (strlist_split(&words, buf_str(&value), NULL, "value") == -1)
		return refuse("is empty");
	if (!list && (words.n != 1 || strcspn(value.s, ", \t") != value.len))
		return refuse("holds more than one value");
	if ((long long)words.n > count) {
		char msg[80];

		snprintf(msg, sizeof(msg), "%zu values, more than %lld", words.n,
		    count);
		return refuse(msg);
	}
	for (i = 0; i < words.n; i++) {
		if (k->check(words.v[i]) == -1)
			return refuse(error_msg());
		if ((i && buf_putc(&out, ' ') == -1) ||
		    buf_puts(&out, words.v[i]) == -1)
			return tool_fail();
	}
	/* a secret is checked, never repeated */
	if (!k->secret && printf("%s\n", buf_str(&out)) < 0)
		return tool_exit(EXIT_TEMP);
	buf_wipe(&value);
	buf_wipe(&out);
	strlist_free(&words);
	return tool_exit(0);
}
