#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "imds.h"

int
imds_disabled(void)
{
	const char *s = getenv("AWS_EC2_METADATA_DISABLED");

	return s && strcasecmp(s, "true") == 0;
}

static const char *
endpoint(void)
{
	const char *s = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");

	return s && *s ? s : "http://169.254.169.254";
}

int
imds_get(struct http *h, const char *path, struct buf *out)
{
	struct http_hdrs hs = { NULL, 0, 0 };
	struct http_request rq;
	struct http_response rs;
	struct http_policy pol;
	struct buf url = BUF_INIT, token = BUF_INIT;
	const char *base = endpoint();
	size_t bl = strlen(base);
	int rc = -1;

	if (imds_disabled())
		return error_set(EXIT_PERM, "instance metadata is disabled "
		    "(AWS_EC2_METADATA_DISABLED)");
	memset(&rs, 0, sizeof(rs));
	memset(&rq, 0, sizeof(rq));
	memset(&pol, 0, sizeof(pol));
	pol.attempts = 2;
	pol.what = "instance metadata";
	while (bl && base[bl - 1] == '/')
		bl--;
	http_set_timeouts(h, 1000, 2000);
	if (buf_printf(&url, "%.*s/latest/api/token", (int)bl, base) == -1 ||
	    http_hdrs_add(&hs, "X-aws-ec2-metadata-token-ttl-seconds: 300")
	    == -1)
		goto out;
	rq.method = "PUT";
	rq.url = url.s;
	rq.headers = &hs;
	if (http_do(h, &rq, &pol, &rs) == -1)
		goto out;
	if (rs.status != 200) {
		error_set(EXIT_TEMP, "instance metadata: token request "
		    "answered %ld", rs.status);
		goto out;
	}
	if (buf_add(&token, rs.body.s, rs.body.len) == -1)
		goto out;
	http_hdrs_free(&hs);
	buf_reset(&url);
	if (buf_printf(&url, "%.*s/latest/%s", (int)bl, base, path) == -1 ||
	    http_hdrs_add(&hs, "X-aws-ec2-metadata-token: %s",
	    buf_str(&token)) == -1)
		goto out;
	rq.method = "GET";
	rq.url = url.s;
	if (http_do(h, &rq, &pol, &rs) == -1)
		goto out;
	if (rs.status == 404) {
		error_set(EXIT_NO, "instance metadata: no '%s'", path);
		goto out;
	}
	if (rs.status != 200) {
		error_set(EXIT_TEMP, "instance metadata: '%s' answered %ld",
		    path, rs.status);
		goto out;
	}
	rc = buf_add(out, buf_str(&rs.body), rs.body.len);
out:
	http_set_timeouts(h, 5000, 30000);
	http_hdrs_free(&hs);
	http_response_free(&rs);
	buf_free(&url);
	buf_wipe(&token);
	return rc;
}
