/*
 * Fuzz target: what GitHub sends that steers a request: a Link header
 * (ghlink_next), the URL it names checked against the API base
 * (http_url_under), and a release body's checksum markers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "error.h"
#include "ghlink.h"
#include "http.h"
#include "runnerver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), next[2048], hex[65];
	struct buf b = BUF_INIT;
	struct runnerver v;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ghlink_next(s, next, sizeof(next)) == 1) {
		(void)http_url_under(next, "https://api.github.com", &b);
		(void)http_url_under(next, "https://ghe.example.com/api/v3", &b);
	}
	(void)http_url_under(s, "https://ghe.example.com/api/v3", &b);
	(void)runnerver_body_sha256(s, "x64", hex, sizeof(hex));
	(void)runnerver_parse(s, &v);
	buf_free(&b);
	error_clear();
	free(s);
	return 0;
}
