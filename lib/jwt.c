/*
 * jwt.c: RS256 JSON Web Tokens (jwt.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "error.h"
#include "jwt.h"

static int
b64url(struct buf *out, const void *p, size_t n)
{
	struct buf b = BUF_INIT;
	size_t i;
	int rc = 0;

	if (buf_base64(&b, p, n) == -1)
		return -1;
	for (i = 0; i < b.len && b.s[i] != '='; i++) {
		char c = b.s[i] == '+' ? '-' : b.s[i] == '/' ? '_' : b.s[i];

		if (buf_putc(out, c) == -1) {
			rc = -1;
			break;
		}
	}
	buf_wipe(&b);
	return rc;
}

static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;	/* never prompt: an encrypted key is refused */
}

int
jwt_rs256(const char *iss, const char *pem, size_t pemlen, time_t now,
    struct buf *out)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	struct buf in = BUF_INIT, claims = BUF_INIT;
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *md = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	int rc = -1, numeric;

	if (iss == NULL || *iss == '\0' || strpbrk(iss, "\"\\") != NULL)
		return error_set(EXIT_PERM, "jwt: issuer '%.64s' cannot be "
		    "written in a claim", iss ? iss : "");
	numeric = strspn(iss, "0123456789") == strlen(iss);
	if (pemlen > (size_t)JWT_MAX_KEY ||
	    (bio = BIO_new_mem_buf(pem, (int)pemlen)) == NULL) {
		error_set(EXIT_PERM, "app private key: too long");
		goto out;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (key == NULL) {
		error_set(EXIT_PERM, "app private key: not an unencrypted PEM "
		    "private key");
		goto out;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		error_set(EXIT_PERM, "app private key: not an RSA key "
		    "(GitHub Apps sign RS256)");
		goto out;
	}
	if (buf_printf(&claims, numeric ?
	    "{\"iat\":%lld,\"exp\":%lld,\"iss\":%s}" :
	    "{\"iat\":%lld,\"exp\":%lld,\"iss\":\"%s\"}",
	    (long long)now - 60, (long long)now + 540, iss) == -1 ||
	    b64url(&in, header, sizeof(header) - 1) == -1 ||
	    buf_putc(&in, '.') == -1 ||
	    b64url(&in, claims.s, claims.len) == -1)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (unsigned char *)in.s,
	    in.len) != 1 ||
	    (sig = malloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen, (unsigned char *)in.s,
	    in.len) != 1) {
		error_set(EXIT_PERM, "app private key: cannot sign with it");
		goto out;
	}
	if (buf_add(out, in.s, in.len) == -1 || buf_putc(out, '.') == -1 ||
	    b64url(out, sig, siglen) == -1)
		goto out;
	rc = 0;
out:
	ERR_clear_error();
	free(sig);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	BIO_free(bio);
	buf_wipe(&in);
	buf_free(&claims);
	return rc;
}

