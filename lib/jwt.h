/*
 * jwt.h: RS256 JSON Web Tokens, as a GitHub App signs them to ask for an
 * installation token (iat = now - 60 s, exp = now + 540 s, iss).
 *
 * Ownership: the token is appended to the caller's buffer; the key is
 * read from the caller's memory and freed here; nothing else allocates
 * beyond the call.
 */
#ifndef JWT_H
#define JWT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define JWT_MAX_KEY 65536	/* bytes of PEM */

/*
 * Sign {"iat","exp","iss"} with the PEM private key (RSA, PKCS#1 or
 * PKCS#8, unencrypted); iss is written as a number when it is all digits.
 * 0, or -1 with error_set(EXIT_PERM, ...).
 */
int jwt_rs256(const char *iss, const char *pem, size_t pemlen, time_t now,
    struct buf *out);

#endif
