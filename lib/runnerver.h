/*
 * runnerver.h: the actions runner's versions and release notes, and the
 * two rules github.com enforces on self-hosted runners (no I/O here):
 *
 *   - registration is refused below a minimum version (2.329.0 since
 *     2026: "The minimum runner version required to register with GitHub
 *     Actions is now 2.329.0");
 *   - a runner must install each new release within 30 days of its
 *     publication, or its message poll is refused ("Runner version vX is
 *     deprecated and cannot receive messages").
 *
 * Sources: GitHub's changelog of 2026-06-12, "GitHub Actions: minimum
 * version enforcement timeline for self-hosted runners"; actions/runner
 * issues 4203, 4305, 3381.
 *
 * Ownership: nothing here allocates; out buffers are the caller's.
 */
#ifndef RUNNERVER_H
#define RUNNERVER_H

#include <stddef.h>
#include <time.h>

#define RUNNERVER_MIN_REGISTER "2.329.0"
#define RUNNERVER_SUPERSEDED_DAYS 30

struct runnerver {
	unsigned long major, minor, patch;
};

/* "2.330.1" or "v2.330.1" (each part 0-99999): 0, or -1 (EXIT_PERM). */
int runnerver_parse(const char *, struct runnerver *);
/* <0, 0, >0 as a is older than, equal to or newer than b. */
int runnerver_cmp(const struct runnerver *a, const struct runnerver *b);
/*
 * The SHA-256 of package linux-ARCH from a release body, as actions/runner
 * writes it: "<!-- BEGIN SHA linux-x64 -->HEX<!-- END SHA linux-x64 -->".
 * out gets 64 lowercase hex digits and a NUL (outlen >= 65).  1 found,
 * 0 absent or malformed.
 */
int runnerver_body_sha256(const char *body, const char *arch, char *out,
    size_t outlen);
/* The same from an asset's "digest" ("sha256:HEX"): 1 or 0. */
int runnerver_digest_sha256(const char *digest, char *out, size_t outlen);
/* x64 | arm64 | arm: 0, or -1 (EXIT_PERM). */
int runnerver_arch_ok(const char *);

#endif
