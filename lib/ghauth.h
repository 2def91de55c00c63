/*
 * ghauth.h: GitHub credentials, found the way creds.h finds AWS's: a token
 * (classic or fine-grained) or a GitHub App (id and private key PEM, for
 * an RS256 JWT that github.c exchanges for an installation token).  They
 * come from files or the environment, never from argv, are never part of
 * a message, and are wiped when freed.
 *
 * Ownership: struct ghauth owns its strings; ghauth_free() wipes and frees
 * them (a zeroed struct is fine to free).  ghauth_load() copies what it
 * needs from its source.
 */
#ifndef GHAUTH_H
#define GHAUTH_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define GHAUTH_MAX_SECRET 16384	/* token and key files, bytes */

enum ghauth_kind { GHAUTH_TOKEN, GHAUTH_APP };

/*
 * Where the credentials come from; every member may be NULL.  The first
 * that applies wins: app_id (with app_key_file, else $GITHUB_APP_PRIVATE_KEY
 * holding the PEM, else $GITHUB_APP_PRIVATE_KEY_FILE); token_file; then the
 * environment: $GITHUB_APP_ID (key as above); $GITHUB_TOKEN.
 */
struct ghauth_src {
	const char *token_file;
	const char *app_id;
	const char *app_key_file;
	int anonymous;		/* no credentials found: call without them
				 * (public data, e.g. actions/runner releases) */
};

struct ghauth {
	int kind;		/* GHAUTH_TOKEN or GHAUTH_APP */
	char *token;		/* PAT or installation token (NULL: none yet,
				 * or anonymous), wiped */
	char *app_id;
	struct buf key;		/* the app's private key PEM, wiped */
};

/* 0, or -1 with error_set() (EXIT_PERM: nothing usable found). */
int ghauth_load(struct ghauth *, const struct ghauth_src *);
void ghauth_free(struct ghauth *);
/* Is s[0..n) usable as a token: printable ASCII, no spaces?  1 or 0. */
int ghauth_token_ok(const char *s, size_t n);
/*
 * An RS256 JWT for app_id signed with the PEM private key (PKCS#1 or
 * PKCS#8, unencrypted): iat = now - 60, exp = now + 540, iss = app_id
 * (a number when it is all digits).  Appended to out; 0 or -1.
 */
int ghauth_jwt(const char *app_id, const char *pem, size_t pemlen,
    time_t now, struct buf *out);

#endif
