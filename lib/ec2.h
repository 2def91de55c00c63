/*
 * ec2.h: the EC2 calls of the toolkit, over aws.h.
 *
 * struct ec2_instance is filled by ec2_describe_instances() for the
 * callback's duration only: every string belongs to the reader, reused for
 * the next instance; copy what you keep.  The reply is read as it arrives
 * (struct ec2_reader), one instance at a time: memory does not grow with
 * the reply, and the callback sees the first instances before the last
 * have arrived.  Writes are batched at
 * EC2_BATCH ids per call.  All return 0 (or a count) or -1 with error_set().
 * struct ec2_requirements only points at the caller's strings.
 */
#ifndef EC2_H
#define EC2_H

#include <stddef.h>

#include "aws.h"

#define EC2_BATCH 1000
#define EC2_FILTER_VALUES 200	/* values in one filter */
#define EC2_MAX_TAGS 50

struct ec2_tag {
	const char *key;
	const char *value;	/* NULL: any value (DeleteTags) */
};

struct ec2_instance {
	const char *id, *state, *type, *az, *subnet, *launch_time;
	const char *private_ip, *lifecycle, *image;
	struct ec2_tag tags[EC2_MAX_TAGS];
	size_t ntags;
};

struct ec2_filter {
	const char *name;		/* "tag:runner-pool:pool" */
	const char *const *values;
	size_t nvalues;
};

/* The value of a tag, or NULL. */
const char *ec2_tag(const struct ec2_instance *, const char *key);

/*
 * Every instance matching the filters (all pages, NextToken followed),
 * among the given ids when nids > 0 (sent as instance-id filters of up to
 * EC2_FILTER_VALUES, so unknown ids are simply absent).  cb returns 0 to go
 * on, -1 to stop with an error.
 */
int ec2_describe_instances(struct aws *, const struct ec2_filter *, size_t nf,
    const char *const *ids, size_t nids,
    int (*cb)(void *, const struct ec2_instance *), void *arg);
/*
 * The reader of one DescribeInstances reply page: feed it the body in
 * pieces as they come (final on the last, possibly empty, piece); cb sees
 * each instance (reservationSet/item/instancesSet/item) in order as soon
 * as its end tag is read.  Feed returns 0, or -1 with error_set(): a
 * malformed reply (EXIT_TEMP), or cb's -1 with cb's own error (see
 * ec2_reader_cb_failed()).  The seam the fuzz target drives.
 */
struct ec2_reader;
struct ec2_reader *ec2_reader_new(int (*cb)(void *,
    const struct ec2_instance *), void *arg);
int ec2_reader_feed(struct ec2_reader *, const char *p, size_t n, int final);
/* The page's nextToken, "" when it is the last page. */
const char *ec2_reader_next_token(const struct ec2_reader *);
int ec2_reader_cb_failed(const struct ec2_reader *);
void ec2_reader_free(struct ec2_reader *);

int ec2_create_tags(struct aws *, const char *const *ids, size_t n,
    const struct ec2_tag *, size_t ntags);
int ec2_delete_tags(struct aws *, const char *const *ids, size_t n,
    const struct ec2_tag *, size_t ntags);
/* cb (may be NULL) sees each id with its new state. */
int ec2_terminate(struct aws *, const char *const *ids, size_t n,
    void (*cb)(void *, const char *id, const char *state), void *arg);

/*
 * What an instance type must have, as EC2's InstanceRequirements: vCPUs and
 * memory in MiB (a max of 0: no maximum), and at most EC2_MAX_ALLOWED
 * AllowedInstanceTypes wildcard patterns (none: any type; more: the
 * request is refused, see aws_params_fail()).
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceRequirementsRequest.html
 */
#define EC2_MAX_ALLOWED 400
struct ec2_requirements {
	long long vcpu_min, vcpu_max, mem_min, mem_max;
	const char *const *allowed;
	size_t nallowed;
};

/* Add them as "<prefix>.VCpuCount.Min" ... "<prefix>.AllowedInstanceType.N". */
void ec2_requirements_params(struct aws_params *, const char *prefix,
    const struct ec2_requirements *);

/*
 * The processor architecture of an image (DescribeImages) into arch:
 * i386, x86_64, arm64, x86_64_mac or arm64_mac.  An image id EC2 does not
 * know in the region, or a malformed one, is EXIT_PERM "image 'ami-...'
 * does not exist in REGION".
 */
int ec2_image_architecture(struct aws *, const char *ami, char *arch,
    size_t len);

/*
 * How many instance types of the architecture (hvm) meet the requirements
 * (GetInstanceTypesFromInstanceRequirements, its first page of up to 1000:
 * 0 means none), the first of them copied into first when not NULL.
 */
long ec2_instance_types(struct aws *, const char *arch,
    const struct ec2_requirements *, char *first, size_t firstlen);

/* The last error of a was EC2's "no such launch template" (by name or id). */
int ec2_template_missing(struct aws *a);

#endif
