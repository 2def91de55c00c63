#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "validate.h"

int
validate_number(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return error_set(EXIT_PERM, "empty, expected a number");
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || isspace((unsigned char)*s))
		return error_set(EXIT_PERM, "'%s' is not a whole number", s);
	if (errno == ERANGE || v < min || v > max)
		return error_set(EXIT_PERM, "'%s' is out of range %lld..%lld",
		    s, min, max);
	if (out)
		*out = v;
	return 0;
}

static int
all_of(const char *s, const char *extra, int lower_only)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isdigit(c) || (islower(c) && c < 128) ||
		    (!lower_only && isupper(c) && c < 128) ||
		    (c && strchr(extra, c)))
			continue;
		return 0;
	}
	return 1;
}

static int
hex_id(const char *s, const char *prefix, const char *what)
{
	size_t pl = strlen(prefix), n;

	if (s == NULL || strncmp(s, prefix, pl) != 0)
		return error_set(EXIT_PERM, "'%s' is not %s (%sXXXXXXXX)",
		    s ? s : "", what, prefix);
	n = strlen(s + pl);
	if ((n != 8 && n != 17) || strspn(s + pl, "0123456789abcdef") != n)
		return error_set(EXIT_PERM, "'%s' is not %s (%s followed by "
		    "8 or 17 hex digits)", s, what, prefix);
	return 0;
}

int
validate_region(const char *s)
{
	/* aa-bbbb-N, aa-gov-bbbb-N, aa-iso-bbbb-N ... */
	size_t n = strlen(s), dashes = 0, i;

	if (n < 9 || n > 25 || !all_of(s, "-", 1) || !isalpha((unsigned char)s[0]) ||
	    !isdigit((unsigned char)s[n - 1]) || s[n - 2] != '-')
		return error_set(EXIT_PERM, "'%s' is not an AWS region "
		    "(like us-east-1)", s);
	for (i = 0; i < n; i++)
		dashes += s[i] == '-';
	if (dashes < 2 || dashes > 4 || strstr(s, "--"))
		return error_set(EXIT_PERM, "'%s' is not an AWS region "
		    "(like us-east-1)", s);
	return 0;
}

int
validate_instance_id(const char *s)
{
	return hex_id(s, "i-", "an instance id");
}

int
validate_ami(const char *s)
{
	return hex_id(s, "ami-", "an AMI id");
}

int
validate_subnet(const char *s)
{
	return hex_id(s, "subnet-", "a subnet id");
}

int
validate_security_group(const char *s)
{
	return hex_id(s, "sg-", "a security group id");
}

int
validate_run_id(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 20 || strspn(s, "0123456789") != n || s[0] == '0')
		return error_set(EXIT_PERM, "'%s' is not a run id (a positive "
		    "number, like github.run_id)", s);
	return 0;
}

int
validate_pool(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 100 || !all_of(s, "._-/", 0) || s[0] == '/' ||
	    s[n - 1] == '/' || strstr(s, "//") || strstr(s, "..") ||
	    s[0] == '.')
		return error_set(EXIT_PERM, "'%s' is not a pool name (1-100 of "
		    "letters, digits, '.', '_', '-', parts joined by '/')", s);
	return 0;
}

int
validate_runner_group(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 100)
		return error_set(EXIT_PERM, "a runner group name is 1-100 "
		    "bytes, not %zu", n);
	if (s[0] == ' ' || s[n - 1] == ' ')
		return error_set(EXIT_PERM, "'%s': a runner group name neither "
		    "starts nor ends with a blank", s);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < ' ' || c == 127 || strchr("\"'`$\\", c))
			return error_set(EXIT_PERM, "'%s' is not a runner group "
			    "name (no control characters, quotes, '`', '$' or "
			    "'\\')", s);
	}
	return 0;
}

int
validate_class(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 32 || !all_of(s, "_-", 1))
		return error_set(EXIT_PERM, "'%s' is not a resource class "
		    "(1-32 of a-z, 0-9, '_', '-')", s);
	return 0;
}

int
validate_usage(const char *s)
{
	if (strcmp(s, "spot") != 0 && strcmp(s, "on-demand") != 0)
		return error_set(EXIT_PERM, "'%s' is not a usage class "
		    "(spot or on-demand)", s);
	return 0;
}

int
validate_arch(const char *s)
{
	if (strcmp(s, "x86_64") != 0 && strcmp(s, "arm64") != 0)
		return error_set(EXIT_PERM, "'%s' is not an architecture "
		    "(x86_64 or arm64)", s);
	return 0;
}

int
validate_tag_key(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 128 || !all_of(s, "+-=.,_:@", 0) ||
	    strcmp(s, ".") == 0 || strcmp(s, "..") == 0 ||
	    strcmp(s, "_index") == 0 || strncmp(s, "aws:", 4) == 0)
		return error_set(EXIT_PERM, "'%s' is not a usable tag key "
		    "(1-128 of letters, digits and + - = . , _ : @)", s);
	return 0;
}

int
validate_tag_value(const char *s)
{
	if (strlen(s) > 256)
		return error_set(EXIT_PERM, "tag value longer than 256 "
		    "characters");
	return 0;
}

int
validate_type_pattern(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 30 || !all_of(s, ".*?-", 1))
		return error_set(EXIT_PERM, "'%s' is not an instance type "
		    "pattern (like c* or m5.*)", s);
	return 0;
}

int
validate_state(const char *s)
{
	static const char *states[] = { "created", "running", "releasing",
	    "idle", "claimed", "terminating", NULL };
	int i;

	for (i = 0; states[i]; i++)
		if (strcmp(s, states[i]) == 0)
			return 0;
	return error_set(EXIT_PERM, "'%s' is not a pool state (created, "
	    "running, releasing, idle, claimed, terminating)", s);
}

int
validate_parameter_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > 1011 || s[0] != '/' || !all_of(s, "_.-/", 0) ||
	    strstr(s, "//") || s[n - 1] == '/' ||
	    strncmp(s, "/aws", 4) == 0 || strncmp(s, "/ssm", 4) == 0)
		return error_set(EXIT_PERM, "'%s' is not an SSM parameter name "
		    "(/path/name of letters, digits, _ . - /)", s);
	return 0;
}

int
validate_instance_profile(const char *s)
{
	size_t n = strlen(s);

	if (strncmp(s, "arn:", 4) == 0) {
		if (n > 2048 || strstr(s, ":instance-profile/") == NULL)
			return error_set(EXIT_PERM, "'%s' is not an instance "
			    "profile ARN", s);
		return 0;
	}
	if (n < 1 || n > 128 || !all_of(s, "+=,.@_-", 0))
		return error_set(EXIT_PERM, "'%s' is not an instance profile "
		    "name", s);
	return 0;
}

int
validate_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, len;
	unsigned long cp, min;

	while (i < n) {
		if (p[i] == 0)
			return error_set(EXIT_PERM, "a NUL byte at offset %zu", i);
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0)
			len = 2, cp = p[i] & 0x1f, min = 0x80;
		else if ((p[i] & 0xf0) == 0xe0)
			len = 3, cp = p[i] & 0x0f, min = 0x800;
		else if ((p[i] & 0xf8) == 0xf0)
			len = 4, cp = p[i] & 0x07, min = 0x10000;
		else
			goto bad;
		if (n - i < len)
			goto bad;
		for (k = 1; k < len; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += len;
	}
	return 0;
bad:
	return error_set(EXIT_PERM, "not UTF-8 at byte offset %zu", i);
}

int
validate_template_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 3 || n > 128 || !all_of(s, "().-/_", 0))
		return error_set(EXIT_PERM, "'%s' is not a launch template name "
		    "(3-128 of letters, digits, '(', ')', '.', '-', '/', '_')", s);
	return 0;
}

int
validate_user_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 23 || !all_of(s, "_-", 1) || s[0] == '-' ||
	    isdigit((unsigned char)s[0]))
		return error_set(EXIT_PERM, "'%s' is not a user name (a-z 0-9 _ -, "
		    "at most 23, not starting with a digit or '-')", s);
	return 0;
}
