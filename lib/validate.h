/*
 * validate.h: checks of every input that reaches AWS or GitHub.
 *
 * Each returns 0, or -1 with error_set(EXIT_PERM, ...) and a one-line
 * message naming the value and what is wrong with it; callers prefix the
 * option or input name with error_wrap().  Nothing here allocates.
 */
#ifndef VALIDATE_H
#define VALIDATE_H

/* A whole decimal number in [min, max] (strtonum-like). */
int validate_number(const char *s, long long min, long long max,
    long long *out);
int validate_region(const char *);
int validate_instance_id(const char *);	/* i-0123abcd (8 or 17 hex) */
int validate_ami(const char *);		/* ami-... */
int validate_subnet(const char *);	/* subnet-... */
int validate_security_group(const char *);	/* sg-... */
int validate_run_id(const char *);	/* 1 to 20 digits */
/* pool name: 1-100 of [A-Za-z0-9._-], with '/' between parts */
int validate_pool(const char *);
int validate_class(const char *);	/* 1-32 of [a-z0-9_-] */
int validate_usage(const char *);	/* spot | on-demand */
int validate_arch(const char *);	/* x86_64 | arm64 */
/* a tag key our tools write: IMDS-safe, 1-128 chars */
int validate_tag_key(const char *);
int validate_tag_value(const char *);	/* up to 256 chars */
/* an instance type pattern: [a-z0-9.*?-]+, e.g. "c*", "m5.*" */
int validate_type_pattern(const char *);
int validate_state(const char *);	/* created|running|... */
/* SSM parameter name: /a/b, [A-Za-z0-9_.-/], up to 1011 chars */
int validate_parameter_name(const char *);
/* a Unix user name: [a-z_][a-z0-9_-], at most 23 (room for a suffix) */
int validate_user_name(const char *);
/* a launch template name: 3-128 of letters, digits, ( ) . - / _ (EC2's rule) */
int validate_template_name(const char *);
/*
 * A GitHub runner group name, as config.sh --runnergroup takes it: 1-100
 * bytes, blanks inside allowed ("Expensive hardware runners"), none at
 * either end; no control character and none of " ' ` $ \ (it travels
 * in user data and a shell command line)
 */
int validate_runner_group(const char *);
/* IAM instance profile name or arn */
int validate_instance_profile(const char *);
/*
 * n bytes of well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or
 * code points past U+10FFFF) and no NUL byte.  The message names the byte
 * offset, never the text.
 */
int validate_utf8(const char *, size_t n);

#endif
