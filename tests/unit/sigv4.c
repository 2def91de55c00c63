/* The AWS SigV4 test suite (tests/cloud/aws-sigv4-test-suite) run against
 * lib/sigv4.c: canonical request, string to sign and Authorization. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../../lib/buf.h"
#include "../../lib/error.h"
#include "../../lib/sigv4.h"
#include "unit.h"

/* dir/name.ext, or NULL when it does not fit */
static const char *
case_path(char *buf, size_t len, const char *dir, const char *name,
    const char *ext)
{
	int n = snprintf(buf, len, "%s/%s.%s", dir, name, ext);

	return n < 0 || (size_t)n >= len ? NULL : buf;
}

static char *
slurp(const char *path)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	size_t n;
	FILE *f = path ? fopen(path, "r") : NULL;

	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_take(&b);
}

static int
run_case(const char *dir, const char *name)
{
	char path[1024], *req, *creq, *sts, *authz, *line, *save = NULL;
	char *method, *target, *query, *body = NULL, *token = NULL;
	struct sigv4_header h[32];
	size_t nh = 0;
	struct sigv4_request r;
	struct sigv4_result out;
	char *p;

	if ((req = slurp(case_path(path, sizeof(path), dir, name, "req")))
	    == NULL)
		return 0;
	creq = slurp(case_path(path, sizeof(path), dir, name, "creq"));
	sts = slurp(case_path(path, sizeof(path), dir, name, "sts"));
	authz = slurp(case_path(path, sizeof(path), dir, name, "authz"));

	/* body: after the first empty line */
	if ((p = strstr(req, "\n\n")) != NULL) {
		*p = '\0';
		body = p + 2;
	}
	line = strtok_r(req, "\n", &save);
	method = line;
	p = strchr(line, ' ');
	*p = '\0';
	target = p + 1;
	*strrchr(target, ' ') = '\0';
	if ((query = strchr(target, '?')) != NULL)
		*query++ = '\0';
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		if ((line[0] == ' ' || line[0] == '\t') && nh) {
			/* continuation: rejoin with the newline folded */
			line[-1] = ' ';
			continue;
		}
		p = strchr(line, ':');
		*p = '\0';
		h[nh].name = line;
		h[nh].value = p + 1;
		nh++;
	}
	/* the session-token case signs a token the .req does not carry */
	if (creq && (p = strstr(creq, "x-amz-security-token:")) != NULL &&
	    strstr(name, "sts") == NULL) {
		token = strdup(p + strlen("x-amz-security-token:"));
		*strchr(token, '\n') = '\0';
	}

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = target;
	r.query = query;
	r.headers = h;
	r.nheaders = nh;
	r.payload = body;
	r.payload_len = body ? strlen(body) : 0;
	r.region = "us-east-1";
	r.service = "service";
	r.access_key = "AKIDEXAMPLE";
	r.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	r.session_token = token;
	r.now = 1440938160;	/* 20150830T123600Z */
	CHECK(sigv4_sign(&r, &out) == 0);
	if (creq)
		CHECK_STR(out.canonical_request, creq);
	if (sts)
		CHECK_STR(out.string_to_sign, sts);
	if (authz)
		CHECK_STR(out.authorization, authz);
	if (unit_fail)
		fprintf(stderr, "  in case %s\n", name);
	sigv4_result_free(&out);
	free(token);
	free(req);
	free(creq);
	free(sts);
	free(authz);
	return 1;
}

static int
walk(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char sub[1024];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name)
		    >= sizeof(sub))
			continue;
		if (stat(sub, &st) == -1 || !S_ISDIR(st.st_mode))
			continue;
		n += run_case(sub, e->d_name);
		n += walk(sub);
	}
	closedir(d);
	return n;
}

/* header names outside RFC 7230's token characters are refused */
static void
test_header_names(void)
{
	static const char *bad[] = { "x amz", "x:amz", "x-amz\n", "", "x\"y",
	    "x(y)", "\xc3\xa9" };
	struct sigv4_header h[2] = { { "host", "example.amazonaws.com" },
	    { NULL, "v" } };
	struct sigv4_request r;
	struct sigv4_result out;
	char longname[200];
	size_t i;

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path = "/";
	r.headers = h;
	r.nheaders = 2;
	r.region = "us-east-1";
	r.service = "service";
	r.access_key = "AKIDEXAMPLE";
	r.secret_key = "secret";
	r.now = 1440938160;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h[1].name = bad[i];
		CHECK(sigv4_sign(&r, &out) == -1 && error_status() == EXIT_PERM);
		sigv4_result_free(&out);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	h[1].name = longname;
	CHECK(sigv4_sign(&r, &out) == -1);
	sigv4_result_free(&out);
	h[1].name = "X-Amz-Meta_1!#$%&'*+.^`|~";
	CHECK(sigv4_sign(&r, &out) == 0 &&
	    strstr(out.canonical_request, "x-amz-meta_1!#$%&'*+.^`|~:v\n"));
	sigv4_result_free(&out);
	error_clear();
}

int
main(int argc, char **argv)
{
	const char *suite = argc > 1 ? argv[1] :
	    "tests/cloud/aws-sigv4-test-suite";
	int n = walk(suite);

	test_header_names();

	printf("# %d cases from %s\n", n, suite);
	CHECK(n >= 34);	/* every case, the README's quirks included */
	return unit_done();
}
