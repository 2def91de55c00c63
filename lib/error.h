/*
 * error.h: the last error of lib/, and the exit status it maps to.
 *
 * lib/ never prints and never exits: a failing function records one message
 * here and returns -1 or NULL; the tool shows error_msg() and exits with
 * error_status().  The message is a static buffer, valid until the next
 * error_set(); the caller never frees it.
 */
#ifndef ERROR_H
#define ERROR_H

/* Exit statuses shared by every tool (see every man page, EXIT STATUS). */
enum {
	EXIT_DONE = 0,
	EXIT_NO = 1,		/* a legitimate "no": nothing matched, a race lost */
	EXIT_PERM = 100,	/* usage or permanent error */
	EXIT_TEMP = 111		/* temporary failure: retry may help */
};

/* Record a message with its exit status; always returns -1. */
int error_set(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Prefix the current message with more context ("ctx: old message"). */
int error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Keep the message, change the exit status it maps to. */
int error_reclass(int status);
const char *error_msg(void);
int error_status(void);
void error_clear(void);

#endif
