/*
 * imds.h: instance metadata, IMDSv2 only (a session token first).
 *
 * The endpoint is AWS_EC2_METADATA_SERVICE_ENDPOINT, else
 * http://169.254.169.254; AWS_EC2_METADATA_DISABLED=true turns it off.
 * imds_get() appends the reply to out (the caller owns and frees it).
 */
#ifndef IMDS_H
#define IMDS_H

#include "buf.h"
#include "http.h"

/* path below /latest/, e.g. "meta-data/placement/region".  0, or -1
 * (EXIT_NO for a 404, EXIT_TEMP otherwise). */
int imds_get(struct http *, const char *path, struct buf *out);
int imds_disabled(void);

#endif
