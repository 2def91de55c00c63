/*
 * jsonl.h: JSON Lines in and out, one object per line.
 *
 * jsonl_read() hands the caller a parsed object it must cJSON_Delete();
 * blank lines are skipped; a line that is not a JSON object is an error
 * naming the line number.  jsonl_write() prints one compact line and
 * flushes, so a pipeline sees each record as it is made; a failed write
 * (EPIPE, full disk) is an error.
 */
#ifndef JSONL_H
#define JSONL_H

#include <stdio.h>

#include <cjson/cJSON.h>

struct jsonl {
	FILE *f;
	const char *name;	/* for messages: "stdin" */
	unsigned long line;
};

/* 1 and *out set, 0 at end of input, -1 on error (EXIT_PERM). */
int jsonl_read(struct jsonl *, cJSON **out);
int jsonl_write(FILE *, const cJSON *);
/* A string member, or NULL when absent or not a string. */
const char *jsonl_str(const cJSON *, const char *key);

#endif
