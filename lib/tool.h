/*
 * tool.h: what every bin/ tool does the same way: its name in messages,
 * failure reports, and a checked stdout at exit.  Prints to stderr only.
 */
#ifndef TOOL_H
#define TOOL_H

#include <getopt.h>

extern const char *tool_name;

void tool_init(const char *argv0);
/* "tool: message" on stderr. */
void tool_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report error_msg() and return error_status(). */
int tool_fail(void);
/* A usage error: one line, the message and a pointer to --help; EXIT_PERM. */
int tool_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * An unknown option, or one missing its value (missing != 0): the usage
 * status, naming the option but never a value given with '=' (it could be a
 * secret).  hint, when not NULL, is added in parentheses.
 */
int tool_bad_option(const char *arg, int missing, const char *hint);
/*
 * getopt_long also takes abbreviations ("--reg" for "--region", "--token=X"
 * for "--token-file X"): refuse any long option not spelled whole, before
 * getopt_long runs.  0, or the usage status.
 */
int tool_exact_options(int argc, char **argv, const struct option *opts,
    const char *hint);
/*
 * The options the AWS tools share: --pool (p), --profile (P), --region (R).
 * Stores optarg for c into the matching pointer and returns 1, or returns 0
 * when c is none of them (or its pointer is NULL: the tool lacks it).
 * The values are checked where they are used (pool_name(), aws_new()).
 */
int tool_aws_option(int c, const char *arg, const char **pool,
    const char **region, const char **profile);
/*
 * The status of a run whose items ended with statuses a and b, the one
 * rule every tool uses (ec2-runner-pool(7), EXIT STATUS): a temporary
 * failure outranks a permanent one (a retry may still help the items that
 * failed for a while; those that failed for good fail again, then alone),
 * which outranks "no", which outranks done.
 */
int tool_status_merge(int a, int b);
/*
 * The GitHub tools' credential options: --app-id (letter a), --app-key-file
 * (k), --token-file (t).  Stores arg into auth and returns 1, or returns 0
 * when c is none of them.  tool_github_auth_check() then refuses what does
 * not go together: 0, or the usage status (its line printed).
 */
struct ghauth_src;
int tool_github_option(int c, const char *arg, struct ghauth_src *);
int tool_github_auth_check(const struct ghauth_src *);
/* Close stdout; a failed write turns status into EXIT_TEMP. */
int tool_exit(int status);

#endif
