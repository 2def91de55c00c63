/*
 * Fuzz target: SigV4 canonicalisation.  The input is split on NUL bytes
 * into method, path, query, then header name/value pairs, then a payload.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "sigv4.h"

#define MAXH 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *p, *part[3 + 2 * MAXH + 1];
	struct sigv4_header h[MAXH + 1];
	struct sigv4_request r;
	struct sigv4_result out;
	size_t n = 0, nh = 0, i;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (p = buf; n < sizeof(part) / sizeof(part[0]) && p <= buf + size;
	    p += strlen(p) + 1)
		part[n++] = p;
	if (n < 3) {
		free(buf);
		return 0;
	}
	h[nh].name = "host";
	h[nh++].value = "ec2.us-east-1.amazonaws.com";
	for (i = 3; i + 1 < n && nh <= MAXH; i += 2) {
		h[nh].name = part[i];
		h[nh++].value = part[i + 1];
	}
	memset(&r, 0, sizeof(r));
	r.method = part[0];
	r.path = *part[1] ? part[1] : "/";
	r.query = part[2];
	r.headers = h;
	r.nheaders = nh;
	r.payload = i < n ? part[i] : "";
	r.payload_len = strlen(r.payload);
	r.region = "us-east-1";
	r.service = "ec2";
	r.access_key = "AKIDEXAMPLE";
	r.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	r.session_token = nh % 2 ? "token" : NULL;
	r.now = 1440938160;
	if (sigv4_sign(&r, &out) == 0)
		sigv4_result_free(&out);
	error_clear();
	free(buf);
	return 0;
}
