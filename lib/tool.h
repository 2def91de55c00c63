/*
 * tool.h: what every bin/ tool does the same way: its name in messages,
 * failure reports, and a checked stdout at exit.  Prints to stderr only.
 */
#ifndef TOOL_H
#define TOOL_H

extern const char *tool_name;

void tool_init(const char *argv0);
/* "tool: message" on stderr. */
void tool_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report error_msg() and return error_status(). */
int tool_fail(void);
/* A usage error: the message, a hint, and EXIT_PERM. */
int tool_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Close stdout; a failed write turns status into EXIT_TEMP. */
int tool_exit(int status);

#endif
