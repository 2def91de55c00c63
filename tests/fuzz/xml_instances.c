/*
 * Fuzz target: an EC2 reply body through the XML parser (expat): the
 * DescribeInstances reader, fed in pieces as libcurl would hand them over
 * (the first byte picks the piece size), each instance rendered by
 * pool-list's encoder and by cJSON, which must agree byte for byte; and the tree parser that reads error replies.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ec2.h"
#include "error.h"
#include "pool.h"
#include "xml.h"

/* Both encoders of an instance must print the same bytes. */
static int
render(void *arg, const struct ec2_instance *in)
{
	cJSON *o = pool_instance_json(in);
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;
	struct buf b = BUF_INIT;

	(*(unsigned long *)arg)++;
	if (s && pool_instance_write(&b, in) == 0 &&
	    (b.len != strlen(s) + 1 || memcmp(b.s, s, b.len - 1) != 0))
		abort();
	buf_free(&b);
	free(s);
	cJSON_Delete(o);
	/* a callback that stops the reader halfway must be safe too */
	return *(unsigned long *)arg == 1000 ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct ec2_reader *r;
	struct xml *x;
	unsigned long n = 0;
	size_t piece = size ? (size_t)data[0] % 64 + 1 : 1, off;

	if ((r = ec2_reader_new(render, &n)) != NULL) {
		for (off = 0; off < size; off += piece)
			if (ec2_reader_feed(r, s + off, size - off < piece ?
			    size - off : piece, 0) == -1)
				break;
		if (off >= size && ec2_reader_feed(r, NULL, 0, 1) == 0)
			(void)ec2_reader_next_token(r);
		ec2_reader_free(r);
	}
	if ((x = xml_parse(s, size)) != NULL) {
		(void)xml_text(x, "nextToken");
		(void)xml_text(x, "Errors/Error/Code");
		xml_free(x);
	}
	error_clear();
	return 0;
}
