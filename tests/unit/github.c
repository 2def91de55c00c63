/* lib/github.c without the network: the app JWT (signed with a key made
 * here, verified with its public key), Link headers, permission hints,
 * rate-limit waits, times and scopes. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "../../lib/buf.h"
#include "../../lib/error.h"
#include "../../lib/ghauth.h"
#include "../../lib/ghlimit.h"
#include "../../lib/ghlink.h"
#include "../../lib/github.h"
#include "../../lib/isotime.h"
#include "unit.h"

/* base64url (no padding) to bytes; *n gets the length. */
static unsigned char *
unb64url(const char *s, size_t len, size_t *n)
{
	struct buf b = BUF_INIT;
	unsigned char *out;
	size_t i;
	int r;

	for (i = 0; i < len; i++)
		buf_putc(&b, s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i]);
	while (b.len % 4)
		buf_putc(&b, '=');
	out = malloc(b.len);
	r = EVP_DecodeBlock(out, (unsigned char *)b.s, (int)b.len);
	*n = r < 0 ? 0 : (size_t)r - (len % 4 == 2 ? 2 : len % 4 == 3 ? 1 : 0);
	buf_free(&b);
	return out;
}

static char *
pem_of(EVP_PKEY *k, int private)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p, *s;
	long n;

	if (private)
		PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
	else
		PEM_write_bio_PUBKEY(bio, k);
	n = BIO_get_mem_data(bio, &p);
	s = malloc((size_t)n + 1);
	memcpy(s, p, (size_t)n);
	s[n] = '\0';
	BIO_free(bio);
	return s;
}

static cJSON *
part(const char *s, size_t len)
{
	size_t n;
	unsigned char *raw = unb64url(s, len, &n);
	cJSON *j = cJSON_ParseWithLength((char *)raw, n);

	free(raw);
	return j;
}

static void
test_jwt(void)
{
	EVP_PKEY *key = EVP_RSA_gen(2048), *pub = NULL;
	char *priv = pem_of(key, 1), *pubpem = pem_of(key, 0);
	struct buf jwt = BUF_INIT;
	const char *d1, *d2;
	cJSON *h, *c;
	unsigned char *sig;
	size_t siglen;
	EVP_MD_CTX *md;
	BIO *bio;

	CHECK(key != NULL);
	CHECK(ghauth_jwt("12345", priv, strlen(priv), 1700000000, &jwt) == 0);
	d1 = strchr(jwt.s, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	CHECK(d1 && d2 && strchr(d2 + 1, '.') == NULL);
	CHECK(strcspn(jwt.s, "=+/") == jwt.len);	/* base64url, unpadded */
	h = part(jwt.s, (size_t)(d1 - jwt.s));
	c = part(d1 + 1, (size_t)(d2 - d1 - 1));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(h, "alg")),
	    "RS256");
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(h, "typ")), "JWT");
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "iat")) ==
	    1700000000 - 60);
	CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(c, "exp")) ==
	    1700000000 + 540);
	CHECK(cJSON_IsNumber(cJSON_GetObjectItem(c, "iss")) &&
	    cJSON_GetNumberValue(cJSON_GetObjectItem(c, "iss")) == 12345);
	/* the signature checks out with the public key only */
	bio = BIO_new_mem_buf(pubpem, -1);
	pub = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	sig = unb64url(d2 + 1, strlen(d2 + 1), &siglen);
	CHECK(siglen == 256);
	md = EVP_MD_CTX_new();
	CHECK(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1);
	CHECK(EVP_DigestVerify(md, sig, siglen, (unsigned char *)jwt.s,
	    (size_t)(d2 - jwt.s)) == 1);
	/* and not for another message */
	EVP_MD_CTX_free(md);
	md = EVP_MD_CTX_new();
	EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub);
	CHECK(EVP_DigestVerify(md, sig, siglen, (unsigned char *)jwt.s,
	    (size_t)(d1 - jwt.s)) != 1);
	EVP_MD_CTX_free(md);
	free(sig);
	cJSON_Delete(h);
	cJSON_Delete(c);

	/* a client id is a string issuer */
	buf_free(&jwt);
	CHECK(ghauth_jwt("Iv1.abc123", priv, strlen(priv), 1700000000,
	    &jwt) == 0);
	d1 = strchr(jwt.s, '.');
	d2 = strchr(d1 + 1, '.');
	c = part(d1 + 1, (size_t)(d2 - d1 - 1));
	CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(c, "iss")),
	    "Iv1.abc123");
	cJSON_Delete(c);
	buf_free(&jwt);

	/* refusals: bad id, not a key, a public key, a non-RSA key */
	CHECK(ghauth_jwt("12 3", priv, strlen(priv), 1, &jwt) == -1);
	CHECK(error_status() == EXIT_PERM);
	CHECK(ghauth_jwt("1", "not a pem", 9, 1, &jwt) == -1);
	CHECK(strstr(error_msg(), "private key") != NULL);
	CHECK(ghauth_jwt("1", pubpem, strlen(pubpem), 1, &jwt) == -1);
	{
		EVP_PKEY *ec = EVP_EC_gen("P-256");
		char *ecpem = pem_of(ec, 1);

		CHECK(ghauth_jwt("1", ecpem, strlen(ecpem), 1, &jwt) == -1);
		CHECK(strstr(error_msg(), "not an RSA key") != NULL);
		free(ecpem);
		EVP_PKEY_free(ec);
	}
	CHECK(jwt.len == 0);
	free(priv);
	free(pubpem);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(key);
}

static void
test_link(void)
{
	char out[256];

	CHECK(ghlink_next("<https://api.github.com/repositories/1/"
	    "actions/runners?per_page=100&page=2>; rel=\"next\", "
	    "<https://api.github.com/repositories/1/actions/runners?"
	    "per_page=100&page=3>; rel=\"last\"", out, sizeof(out)) == 1);
	CHECK_STR(out, "https://api.github.com/repositories/1/actions/"
	    "runners?per_page=100&page=2");
	/* next not first, unquoted, odd spacing and case */
	CHECK(ghlink_next("<http://h/a?page=1>; rel=\"prev\",<http://h/a?"
	    "page=3> ;REL = next", out, sizeof(out)) == 1);
	CHECK_STR(out, "http://h/a?page=3");
	/* a rel list, a comma inside a quoted parameter */
	CHECK(ghlink_next("<http://h/x>; title=\"a, b\"; rel=\"last\", "
	    "<http://h/y>; rel=\"prev next\"", out, sizeof(out)) == 1);
	CHECK_STR(out, "http://h/y");
	/* no next: last page */
	CHECK(ghlink_next("<http://h/a?page=1>; rel=\"prev\", "
	    "<http://h/a?page=1>; rel=\"first\"", out, sizeof(out)) == 0);
	CHECK(ghlink_next("", out, sizeof(out)) == 0);
	CHECK(ghlink_next("<http://h/a>; rel=\"nextish\"", out,
	    sizeof(out)) == 0);
	/* an unterminated quote ends the header */
	CHECK(ghlink_next("<http://h/x>; title=\"a, b", out,
	    sizeof(out)) == 0);
	CHECK(ghlink_next("<http://h/x>; rel=\"next", out,
	    sizeof(out)) == 1);
	CHECK(ghlink_next("<http://h/x", out, sizeof(out)) == 0);
	/* too long for out */
	CHECK(ghlink_next("<http://h/aaaaaaaaaaaa>; rel=next", out,
	    8) == 0);
}

static void
test_hints(void)
{
	const char *h;

	h = github_hint(GHSCOPE_REPO, GHAUTH_TOKEN, 403, NULL);
	CHECK(h && strstr(h, "administration: write") && strstr(h, "repo scope"));
	h = github_hint(GHSCOPE_ORG, GHAUTH_TOKEN, 403, NULL);
	CHECK(h && strstr(h, "organization_self_hosted_runners") &&
	    strstr(h, "admin:org"));
	h = github_hint(GHSCOPE_REPO, GHAUTH_TOKEN, 404, NULL);
	CHECK(h && strstr(h, "no such repository"));
	h = github_hint(GHSCOPE_ORG, GHAUTH_TOKEN, 404, NULL);
	CHECK(h && strstr(h, "no such organization"));
	h = github_hint(GHSCOPE_REPO, GHAUTH_TOKEN, 401, NULL);
	CHECK(h && strstr(h, "expired"));
	h = github_hint(GHSCOPE_REPO, GHAUTH_APP, 404, "installation");
	CHECK(h && strstr(h, "not installed on this repository"));
	h = github_hint(GHSCOPE_ORG, GHAUTH_APP, 404, "installation");
	CHECK(h && strstr(h, "not installed on this organization"));
	h = github_hint(GHSCOPE_REPO, GHAUTH_APP, 401, "installation");
	CHECK(h && strstr(h, "JWT"));
	h = github_hint(GHSCOPE_REPO, GHAUTH_APP, 403, NULL);
	CHECK(h && strstr(h, "installation") && strstr(h, "administration"));
	h = github_hint(GHSCOPE_ORG, GHAUTH_APP, 403, NULL);
	CHECK(h && strstr(h, "organization_self_hosted_runners"));
	CHECK(github_hint(GHSCOPE_REPO, GHAUTH_TOKEN, 422, NULL) == NULL);
	CHECK(github_hint(GHSCOPE_REPO, GHAUTH_TOKEN, 500, NULL) == NULL);
}

static void
test_ratelimit(void)
{
	const char *sec = "{\"message\":\"You have exceeded a secondary rate "
	    "limit and have been temporarily blocked\"}";

	/* not limited: other statuses, a plain permission 403 */
	CHECK(ghlimit_wait(404, NULL, NULL, NULL, "", 0) == -1);
	CHECK(ghlimit_wait(403, "", "4999", "1700003600",
	    "{\"message\":\"Resource not accessible by integration\"}",
	    1700000000) == -1);
	/* Retry-After wins */
	CHECK(ghlimit_wait(403, "2", NULL, NULL, sec, 0) == 2);
	CHECK(ghlimit_wait(429, "7", "0", "99", "", 0) == 7);
	/* primary limit: until the reset */
	CHECK(ghlimit_wait(403, "", "0", "1700000030",
	    "{\"message\":\"API rate limit exceeded for x.\"}",
	    1700000000) == 30);
	CHECK(ghlimit_wait(403, "", "0", "1699999990",
	    "{\"message\":\"API rate limit exceeded\"}", 1700000000) == 1);
	CHECK(ghlimit_wait(403, "", "0", "1700003600",
	    "{\"message\":\"API rate limit exceeded\"}", 1700000000) == 3600);
	/* limited, no delay given */
	CHECK(ghlimit_wait(403, "", "12", "1700000000", sec,
	    1700000000) == GHLIMIT_SECONDARY_WAIT);
	CHECK(ghlimit_wait(429, NULL, NULL, NULL, "", 0) ==
	    GHLIMIT_SECONDARY_WAIT);
	CHECK(GHLIMIT_SECONDARY_WAIT >= 60);
}

static void
test_time(void)
{
	time_t t = 0;
	char out[32];

	CHECK(isotime_parse("2020-01-22T12:13:35.123+00:00", &t) == 0);
	CHECK(t == 1579695215);
	CHECK(isotime_parse("2020-01-22T12:13:35Z", &t) == 0);
	CHECK(t == 1579695215);
	CHECK(isotime_parse("2020-01-22T14:13:35+02:00", &t) == 0);
	CHECK(t == 1579695215);
	CHECK(isotime_parse("2020-01-22T07:13:35-0500", &t) == 0);
	CHECK(t == 1579695215);
	CHECK(isotime_parse("2020-01-22 12:13:35Z", &t) == -1);
	CHECK(isotime_parse("2020-01-22T12:13:35", &t) == -1);
	CHECK(isotime_parse("2020-13-22T12:13:35Z", &t) == -1);
	CHECK(isotime_parse("2020-01-22T12:13:35Zjunk", &t) == -1);
	CHECK(isotime_parse(NULL, &t) == -1);
	isotime_format(1579695215, out, sizeof(out));
	CHECK_STR(out, "2020-01-22T12:13:35Z");
}

static void
test_scope(void)
{
	struct ghscope sc;

	CHECK(ghscope_parse("acme/web.app", &sc) == 0);
	CHECK(sc.kind == GHSCOPE_REPO);
	CHECK_STR(sc.owner, "acme");
	CHECK_STR(sc.repo, "web.app");
	CHECK_STR(sc.name, "acme/web.app");
	CHECK(ghscope_parse("acme-corp", &sc) == 0);
	CHECK(sc.kind == GHSCOPE_ORG);
	CHECK_STR(sc.owner, "acme-corp");
	CHECK_STR(sc.repo, "");
	CHECK(ghscope_parse("", &sc) == -1);
	CHECK(ghscope_parse("a/b/c", &sc) == -1);
	CHECK(ghscope_parse("acme/", &sc) == -1);
	CHECK(ghscope_parse("/web", &sc) == -1);
	CHECK(ghscope_parse("acme/..", &sc) == -1);
	CHECK(ghscope_parse("-acme", &sc) == -1);
	CHECK(ghscope_parse("ac me", &sc) == -1);
	CHECK(ghscope_parse("acme/we?b", &sc) == -1);
	CHECK(ghscope_parse("acme/web.git", &sc) == -1);
	CHECK(ghscope_parse("acme/web.GIT", &sc) == -1);
	CHECK(ghscope_parse("acme/.git", &sc) == -1);
	CHECK(ghscope_parse("acme/git", &sc) == 0);
	CHECK(ghscope_parse("acme/web.gitx", &sc) == 0);
	CHECK(ghscope_parse("a234567890123456789012345678901234567890",
	    &sc) == -1);
	CHECK(error_status() == EXIT_PERM);
}

static void
test_new(void)
{
	struct ghscope sc;
	struct ghauth_src a = { NULL, NULL, NULL, 0 };
	struct github *gh;

	ghscope_parse("acme/web", &sc);
	unsetenv("GITHUB_TOKEN");
	unsetenv("GITHUB_APP_ID");
	setenv("GITHUB_API_URL", "http://127.0.0.1:9/api/v3/", 1);
	setenv("GITHUB_SERVER_URL", "http://127.0.0.1:9/", 1);
	CHECK(github_new(&sc, &a) == NULL);
	CHECK(error_status() == EXIT_PERM &&
	    strstr(error_msg(), "no GitHub credentials"));
	setenv("GITHUB_TOKEN", "ghp_bad token", 1);
	CHECK(github_new(&sc, &a) == NULL);
	CHECK(strstr(error_msg(), "ghp_") == NULL);
	setenv("GITHUB_TOKEN", "ghp_x\n", 1);
	CHECK((gh = github_new(&sc, &a)) != NULL);
	if (gh) {
		CHECK_STR(github_runner_url(gh), "http://127.0.0.1:9/acme/web");
		CHECK(github_auth_kind(gh) == GHAUTH_TOKEN);
	}
	github_free(gh);
	setenv("GITHUB_API_URL", "ftp://x", 1);
	CHECK(github_new(&sc, &a) == NULL);
	CHECK(strstr(error_msg(), "GITHUB_API_URL") != NULL);
	setenv("GITHUB_API_URL", "http://127.0.0.1:9/api/v3", 1);
	a.token_file = "/nonexistent/token";
	CHECK(github_new(&sc, &a) == NULL);
	CHECK(error_status() == EXIT_PERM &&
	    strstr(error_msg(), "/nonexistent/token"));
	a.token_file = NULL;
	setenv("GITHUB_APP_ID", "42", 1);
	unsetenv("GITHUB_APP_PRIVATE_KEY");
	unsetenv("GITHUB_APP_PRIVATE_KEY_FILE");
	CHECK(github_new(&sc, &a) == NULL);
	CHECK(strstr(error_msg(), "no private key") != NULL);
	unsetenv("GITHUB_APP_ID");
	github_free(NULL);
}

int
main(void)
{
	test_jwt();
	test_link();
	test_hints();
	test_ratelimit();
	test_time();
	test_scope();
	test_new();
	return unit_done();
}
