#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "jsonl.h"
#include "validate.h"

#define MAX_LINE (1024 * 1024)

int
jsonl_read(struct jsonl *in, cJSON **out)
{
	struct buf line = BUF_INIT;
	int c;

	*out = NULL;
	for (;;) {
		buf_reset(&line);
		while ((c = getc(in->f)) != EOF && c != '\n') {
			if (line.len >= MAX_LINE) {
				buf_free(&line);
				return error_set(EXIT_PERM, "%s:%lu: line "
				    "longer than %d bytes", in->name,
				    in->line + 1, MAX_LINE);
			}
			if (buf_putc(&line, c) == -1) {
				buf_free(&line);
				return -1;
			}
		}
		if (ferror(in->f)) {
			buf_free(&line);
			return error_set(EXIT_TEMP, "%s: read error: %s",
			    in->name, strerror(errno));
		}
		if (c == EOF && line.len == 0) {
			buf_free(&line);
			return 0;
		}
		in->line++;
		if (strspn(buf_str(&line), " \t\r") != line.len)
			break;
		if (c == EOF) {
			buf_free(&line);
			return 0;
		}
	}
	/* JSON is UTF-8 text: a NUL byte is neither white space nor the end
	 * of a value (RFC 8259, 8.1) */
	if (validate_utf8(line.s, line.len) == -1) {
		buf_free(&line);
		return error_wrap("%s:%lu", in->name, in->line);
	}
	{
		const char *end = NULL;

		*out = cJSON_ParseWithLengthOpts(line.s, line.len, &end, 0);
		if (*out && end && strspn(end, " \t\r") != strlen(end)) {
			cJSON_Delete(*out);
			*out = NULL;
		}
	}
	buf_free(&line);
	if (*out == NULL || !cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return error_set(EXIT_PERM, "%s:%lu: not a JSON object",
		    in->name, in->line);
	}
	return 1;
}

int
jsonl_write(FILE *f, const cJSON *j)
{
	char *s = cJSON_PrintUnformatted(j);
	int rc = 0;

	if (s == NULL)
		return error_set(EXIT_TEMP, "out of memory");
	if (fputs(s, f) == EOF || putc('\n', f) == EOF || fflush(f) == EOF)
		rc = error_set(EXIT_TEMP, "write error: %s", strerror(errno));
	explicit_bzero(s, strlen(s));
	free(s);
	return rc;
}

const char *
jsonl_str(const cJSON *j, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}
