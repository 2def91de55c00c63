#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "ec2.h"
#include "error.h"

const char *
ec2_tag(const struct ec2_instance *in, const char *key)
{
	size_t i;

	for (i = 0; i < in->ntags; i++)
		if (strcmp(in->tags[i].key, key) == 0)
			return in->tags[i].value;
	return NULL;
}

/*
 * The DescribeInstances reader: expat fed as the reply arrives, keeping
 * only the fields an ec2_instance has, for one instance at a time.  Every
 * element gets a kind from its parent's kind and its name; the subtrees
 * nobody reads (K_OTHER) cost no lookup.  The walk reads
 * <root>/reservationSet/item/instancesSet/item, the first of each field,
 * tagSet/item/{key,value}, and <root>/nextToken.
 */
enum {
	K_OTHER, K_ROOT, K_RSET, K_RITEM, K_ISET, K_INST, K_STATE, K_PLACE,
	K_TAGSET, K_TAGITEM, K_TAGKEY, K_TAGVAL, K_NEXT, K_FIELD
};
enum {
	F_ID, F_STATE, F_TYPE, F_AZ, F_SUBNET, F_LAUNCH, F_IP, F_LIFECYCLE,
	F_IMAGE, F_N
};
#define KINDS_DEPTH 16		/* nothing read is deeper */

static const struct {
	const char *name;
	int field;
} inst_fields[] = {
	{ "instanceId", F_ID }, { "instanceType", F_TYPE },
	{ "subnetId", F_SUBNET }, { "launchTime", F_LAUNCH },
	{ "privateIpAddress", F_IP }, { "instanceLifecycle", F_LIFECYCLE },
	{ "imageId", F_IMAGE },
};

struct ec2_reader {
	XML_Parser p;
	int (*cb)(void *, const struct ec2_instance *);
	void *arg;
	int depth, failed, cb_failed;
	unsigned char kind[KINDS_DEPTH];
	struct buf text;	/* this instance's strings, NUL-separated */
	size_t off[F_N];	/* into text; SIZE_MAX: absent */
	size_t tag_key[EC2_MAX_TAGS], tag_val[EC2_MAX_TAGS], ntags;
	struct buf token;	/* nextToken */
	int seen_tagset;
};

#define ABSENT ((size_t)-1)

static int
child_kind(struct ec2_reader *r, int parent, const char *name, size_t **cur)
{
	size_t i;

	*cur = NULL;
	switch (parent) {
	case K_ROOT:
		if (strcmp(name, "reservationSet") == 0)
			return K_RSET;
		if (strcmp(name, "nextToken") == 0 && r->token.len == 0)
			return K_NEXT;
		return K_OTHER;
	case K_RSET:
		return strcmp(name, "item") == 0 ? K_RITEM : K_OTHER;
	case K_RITEM:
		return strcmp(name, "instancesSet") == 0 ? K_ISET : K_OTHER;
	case K_ISET:
		return strcmp(name, "item") == 0 ? K_INST : K_OTHER;
	case K_INST:
		for (i = 0; i < sizeof(inst_fields) / sizeof(inst_fields[0]);
		    i++)
			if (strcmp(name, inst_fields[i].name) == 0) {
				if (r->off[inst_fields[i].field] != ABSENT)
					return K_OTHER;
				*cur = &r->off[inst_fields[i].field];
				return K_FIELD;
			}
		if (strcmp(name, "instanceState") == 0)
			return K_STATE;
		if (strcmp(name, "placement") == 0)
			return K_PLACE;
		if (strcmp(name, "tagSet") == 0 && !r->seen_tagset) {
			r->seen_tagset = 1;
			return K_TAGSET;
		}
		return K_OTHER;
	case K_STATE:
		if (strcmp(name, "name") == 0 && r->off[F_STATE] == ABSENT) {
			*cur = &r->off[F_STATE];
			return K_FIELD;
		}
		return K_OTHER;
	case K_PLACE:
		if (strcmp(name, "availabilityZone") == 0 &&
		    r->off[F_AZ] == ABSENT) {
			*cur = &r->off[F_AZ];
			return K_FIELD;
		}
		return K_OTHER;
	case K_TAGSET:
		if (strcmp(name, "item") != 0 || r->ntags == EC2_MAX_TAGS)
			return K_OTHER;
		r->tag_key[r->ntags] = r->tag_val[r->ntags] = ABSENT;
		r->ntags++;
		return K_TAGITEM;
	case K_TAGITEM:
		if (strcmp(name, "key") == 0 &&
		    r->tag_key[r->ntags - 1] == ABSENT) {
			*cur = &r->tag_key[r->ntags - 1];
			return K_FIELD;
		}
		if (strcmp(name, "value") == 0 &&
		    r->tag_val[r->ntags - 1] == ABSENT) {
			*cur = &r->tag_val[r->ntags - 1];
			return K_FIELD;
		}
		return K_OTHER;
	default:
		return K_OTHER;
	}
}

static void
reader_fail(struct ec2_reader *r)
{
	r->failed = 1;
	XML_StopParser(r->p, XML_FALSE);
}

static void
instance_begin(struct ec2_reader *r)
{
	size_t i;

	buf_reset(&r->text);
	for (i = 0; i < F_N; i++)
		r->off[i] = ABSENT;
	r->ntags = 0;
	r->seen_tagset = 0;
}

static const char *
str(const struct ec2_reader *r, size_t off)
{
	return off == ABSENT ? "" : r->text.s + off;
}

static void
instance_end(struct ec2_reader *r)
{
	struct ec2_instance in;
	size_t i;

	memset(&in, 0, sizeof(in));
	in.id = str(r, r->off[F_ID]);
	in.state = str(r, r->off[F_STATE]);
	in.type = str(r, r->off[F_TYPE]);
	in.az = str(r, r->off[F_AZ]);
	in.subnet = str(r, r->off[F_SUBNET]);
	in.launch_time = str(r, r->off[F_LAUNCH]);
	in.private_ip = str(r, r->off[F_IP]);
	in.lifecycle = str(r, r->off[F_LIFECYCLE]);
	if (!*in.lifecycle)
		in.lifecycle = "on-demand";
	in.image = str(r, r->off[F_IMAGE]);
	for (i = 0; i < r->ntags; i++) {
		in.tags[i].key = str(r, r->tag_key[i]);
		in.tags[i].value = str(r, r->tag_val[i]);
	}
	in.ntags = r->ntags;
	if (r->cb(r->arg, &in) == -1) {
		r->cb_failed = 1;
		reader_fail(r);
	}
}

static void on_text(void *, const XML_Char *, int);

/* Text is read only inside a field: expat calls no handler for the rest
 * (the whitespace of an indented reply, the fields nobody reads). */
static void
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
	struct ec2_reader *r = arg;
	int parent, k;
	size_t *cur;

	(void)attrs;
	if (r->failed)
		return;
	parent = r->depth == 0 ? -1 : r->depth <= KINDS_DEPTH ?
	    r->kind[r->depth - 1] : K_OTHER;
	r->depth++;
	if (parent == K_OTHER || r->depth > KINDS_DEPTH)
		k = K_OTHER;
	else if (parent == -1)
		k = K_ROOT;
	else
		k = child_kind(r, parent, name, &cur);
	if (r->depth <= KINDS_DEPTH)
		r->kind[r->depth - 1] = (unsigned char)k;
	if (k == K_INST)
		instance_begin(r);
	else if (k == K_FIELD) {
		*cur = r->text.len;
		/* the string starts empty: "" even with no text */
		if (buf_add(&r->text, "", 1) == -1) {
			reader_fail(r);
			return;
		}
		r->text.len--;
		XML_SetCharacterDataHandler(r->p, on_text);
	} else if (k == K_NEXT)
		XML_SetCharacterDataHandler(r->p, on_text);
}

static void
on_end(void *arg, const XML_Char *name)
{
	struct ec2_reader *r = arg;
	int k;

	(void)name;
	if (r->failed)
		return;
	k = r->depth <= KINDS_DEPTH ? r->kind[r->depth - 1] : K_OTHER;
	r->depth--;
	if (k == K_FIELD) {
		/* keep the NUL: the next string starts after it */
		r->text.len++;
		XML_SetCharacterDataHandler(r->p, NULL);
	} else if (k == K_NEXT)
		XML_SetCharacterDataHandler(r->p, NULL);
	else if (k == K_INST)
		instance_end(r);
}

static void
on_text(void *arg, const XML_Char *s, int len)
{
	struct ec2_reader *r = arg;
	int k;

	if (r->failed || r->depth == 0 || r->depth > KINDS_DEPTH)
		return;
	k = r->kind[r->depth - 1];
	if (k == K_FIELD) {
		if (buf_add(&r->text, s, (size_t)len) == -1)
			reader_fail(r);
	} else if (k == K_NEXT) {
		if (buf_add(&r->token, s, (size_t)len) == -1)
			reader_fail(r);
	}
}

struct ec2_reader *
ec2_reader_new(int (*cb)(void *, const struct ec2_instance *), void *arg)
{
	struct ec2_reader *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->p = XML_ParserCreate("UTF-8")) == NULL) {
		free(r);
		error_set(EXIT_TEMP, "out of memory");
		return NULL;
	}
	r->cb = cb;
	r->arg = arg;
	XML_SetUserData(r->p, r);
	XML_SetElementHandler(r->p, on_start, on_end);
	return r;
}

int
ec2_reader_feed(struct ec2_reader *r, const char *p, size_t n, int final)
{
	if (r->failed)
		return -1;
	while (n > 0 || final) {
		int len = n > INT_MAX / 2 ? INT_MAX / 2 : (int)n;
		int last = final && (size_t)len == n;

		if (XML_Parse(r->p, p, len, last) == XML_STATUS_ERROR) {
			if (r->cb_failed)
				return -1;	/* the callback's error */
			if (r->failed)
				return error_set(EXIT_TEMP, "out of memory");
			r->failed = 1;
			return error_set(EXIT_TEMP, "malformed xml reply: %s at "
			    "line %lu", XML_ErrorString(XML_GetErrorCode(r->p)),
			    (unsigned long)XML_GetCurrentLineNumber(r->p));
		}
		if (last)
			break;
		p += len;
		n -= (size_t)len;
	}
	return 0;
}

const char *
ec2_reader_next_token(const struct ec2_reader *r)
{
	return buf_str(&r->token);
}

int
ec2_reader_cb_failed(const struct ec2_reader *r)
{
	return r->cb_failed;
}

void
ec2_reader_free(struct ec2_reader *r)
{
	if (r == NULL)
		return;
	XML_ParserFree(r->p);
	buf_free(&r->text);
	buf_free(&r->token);
	free(r);
}

static int
reader_sink(void *arg, const char *p, size_t n)
{
	return ec2_reader_feed(arg, p, n, 0);
}

/* One filtered query, every page; ids (at most EC2_FILTER_VALUES) become
 * an instance-id filter, so an id EC2 does not know yet is just absent.
 * The page token is as long as EC2 makes it. */
static int
describe(struct aws *a, const struct ec2_filter *f, size_t nf,
    const char *const *ids, size_t nids,
    int (*cb)(void *, const struct ec2_instance *), void *arg)
{
	char *token = NULL;
	size_t i, j;
	int rc = 0;

	do {
		struct aws_params p = AWS_PARAMS_INIT;
		struct ec2_reader *r;
		const char *next;

		for (i = 0; i < nf; i++) {
			aws_paramf(&p, f[i].name, "Filter.%zu.Name", i + 1);
			for (j = 0; j < f[i].nvalues; j++)
				aws_paramf(&p, f[i].values[j],
				    "Filter.%zu.Value.%zu", i + 1, j + 1);
		}
		if (nids) {
			aws_paramf(&p, "instance-id", "Filter.%zu.Name", nf + 1);
			for (i = 0; i < nids; i++)
				aws_paramf(&p, ids[i], "Filter.%zu.Value.%zu",
				    nf + 1, i + 1);
		}
		aws_param(&p, "MaxResults", "1000");
		if (token)
			aws_param(&p, "NextToken", token);
		free(token);
		token = NULL;
		if ((r = ec2_reader_new(cb, arg)) == NULL) {
			aws_params_free(&p);
			return -1;
		}
		if (aws_query_stream(a, "DescribeInstances", &p, reader_sink,
		    r) == -1 || ec2_reader_feed(r, NULL, 0, 1) == -1) {
			if (r->failed && !r->cb_failed)
				error_wrap("ec2 DescribeInstances");
			rc = -1;
		} else {
			next = ec2_reader_next_token(r);
			if (*next && (token = strdup(next)) == NULL)
				rc = error_set(EXIT_TEMP, "out of memory");
		}
		aws_params_free(&p);
		ec2_reader_free(r);
	} while (rc == 0 && token);
	free(token);
	return rc;
}

int
ec2_describe_instances(struct aws *a, const struct ec2_filter *f, size_t nf,
    const char *const *ids, size_t nids,
    int (*cb)(void *, const struct ec2_instance *), void *arg)
{
	size_t off;

	if (nids == 0)
		return describe(a, f, nf, NULL, 0, cb, arg);
	for (off = 0; off < nids; off += EC2_FILTER_VALUES)
		if (describe(a, f, nf, ids + off, nids - off < EC2_FILTER_VALUES ?
		    nids - off : EC2_FILTER_VALUES, cb, arg) == -1)
			return -1;
	return 0;
}

static int
tags_call(struct aws *a, const char *action, const char *const *ids,
    size_t n, const struct ec2_tag *t, size_t nt)
{
	size_t off, i;

	for (off = 0; off < n; off += EC2_BATCH) {
		struct aws_params p = AWS_PARAMS_INIT;
		size_t m = n - off < EC2_BATCH ? n - off : EC2_BATCH;
		struct xml *x;

		for (i = 0; i < m; i++)
			aws_paramf(&p, ids[off + i], "ResourceId.%zu", i + 1);
		for (i = 0; i < nt; i++) {
			aws_paramf(&p, t[i].key, "Tag.%zu.Key", i + 1);
			if (t[i].value)
				aws_paramf(&p, t[i].value, "Tag.%zu.Value",
				    i + 1);
		}
		x = aws_query(a, action, &p);
		aws_params_free(&p);
		if (x == NULL)
			return -1;
		xml_free(x);
	}
	return 0;
}

int
ec2_create_tags(struct aws *a, const char *const *ids, size_t n,
    const struct ec2_tag *t, size_t nt)
{
	return tags_call(a, "CreateTags", ids, n, t, nt);
}

int
ec2_delete_tags(struct aws *a, const char *const *ids, size_t n,
    const struct ec2_tag *t, size_t nt)
{
	return tags_call(a, "DeleteTags", ids, n, t, nt);
}

int
ec2_terminate(struct aws *a, const char *const *ids, size_t n,
    void (*cb)(void *, const char *, const char *), void *arg)
{
	size_t off, i;

	for (off = 0; off < n; off += EC2_BATCH) {
		struct aws_params p = AWS_PARAMS_INIT;
		size_t m = n - off < EC2_BATCH ? n - off : EC2_BATCH;
		struct xml *x, *it;

		for (i = 0; i < m; i++)
			aws_paramf(&p, ids[off + i], "InstanceId.%zu", i + 1);
		x = aws_query(a, "TerminateInstances", &p);
		aws_params_free(&p);
		if (x == NULL)
			return -1;
		XML_EACH(it, xml_child(x, "instancesSet"), "item")
			if (cb)
				cb(arg, xml_text(it, "instanceId"),
				    xml_text(it, "currentState/name"));
		xml_free(x);
	}
	return 0;
}

/*
 * Attribute-based instance type selection: the InstanceRequirements of a
 * fleet override and of GetInstanceTypesFromInstanceRequirements share the
 * same parameters.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_InstanceRequirementsRequest.html
 */
void
ec2_requirements_params(struct aws_params *p, const char *prefix,
    const struct ec2_requirements *r)
{
	char num[32];
	size_t i;

	/* never a shorter list than asked for: that would allow other types */
	if (r->nallowed > EC2_MAX_ALLOWED) {
		aws_params_fail(p, EXIT_PERM, "more than 400 allowed instance "
		    "type patterns");
		return;
	}
	snprintf(num, sizeof(num), "%lld", r->vcpu_min);
	aws_paramf(p, num, "%s.VCpuCount.Min", prefix);
	if (r->vcpu_max) {
		snprintf(num, sizeof(num), "%lld", r->vcpu_max);
		aws_paramf(p, num, "%s.VCpuCount.Max", prefix);
	}
	snprintf(num, sizeof(num), "%lld", r->mem_min);
	aws_paramf(p, num, "%s.MemoryMiB.Min", prefix);
	if (r->mem_max) {
		snprintf(num, sizeof(num), "%lld", r->mem_max);
		aws_paramf(p, num, "%s.MemoryMiB.Max", prefix);
	}
	for (i = 0; i < r->nallowed; i++)
		aws_paramf(p, r->allowed[i], "%s.AllowedInstanceType.%zu",
		    prefix, i + 1);
}

/*
 * DescribeImages by id: a well-formed id EC2 does not know answers
 * InvalidAMIID.NotFound ("The image id '[ami-...]' does not exist"), a
 * malformed one InvalidAMIID.Malformed; a recently deregistered image may
 * still answer, with an empty imagesSet.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeImages.html
 */
int
ec2_image_architecture(struct aws *a, const char *ami, char *arch, size_t len)
{
	struct aws_params p = AWS_PARAMS_INIT;
	struct xml *x;
	const char *v;
	int rc = 0;

	aws_param(&p, "ImageId.1", ami);
	x = aws_query(a, "DescribeImages", &p);
	aws_params_free(&p);
	if (x == NULL) {
		if (strncmp(aws_error_code(a), "InvalidAMIID.", 13) == 0)
			return error_set(EXIT_PERM, "image '%s' does not exist "
			    "in %s", ami, aws_region(a));
		return -1;
	}
	v = xml_text(xml_path(x, "imagesSet/item"), "architecture");
	if (*v == '\0')
		rc = error_set(EXIT_PERM, "image '%s' does not exist in %s",
		    ami, aws_region(a));
	else
		snprintf(arch, len, "%s", v);
	xml_free(x);
	return rc;
}

/* https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetInstanceTypesFromInstanceRequirements.html */
long
ec2_instance_types(struct aws *a, const char *arch,
    const struct ec2_requirements *r, char *first, size_t firstlen)
{
	struct aws_params p = AWS_PARAMS_INIT;
	struct xml *x, *it;
	long n = 0;

	aws_param(&p, "ArchitectureType.1", arch);
	aws_param(&p, "VirtualizationType.1", "hvm");
	ec2_requirements_params(&p, "InstanceRequirements", r);
	aws_param(&p, "MaxResults", "1000");
	x = aws_query(a, "GetInstanceTypesFromInstanceRequirements", &p);
	aws_params_free(&p);
	if (x == NULL)
		return -1;
	XML_EACH(it, xml_child(x, "instanceTypeSet"), "item") {
		if (n++ == 0 && first)
			snprintf(first, firstlen, "%s",
			    xml_text(it, "instanceType"));
	}
	xml_free(x);
	return n;
}

int
ec2_template_missing(struct aws *a)
{
	const char *c = aws_error_code(a);

	return strncmp(c, "InvalidLaunchTemplateName.NotFound", 34) == 0 ||
	    strncmp(c, "InvalidLaunchTemplateId.NotFound", 32) == 0;
}
