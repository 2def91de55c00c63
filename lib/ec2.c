#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void
fill(struct ec2_instance *in, const struct xml *x)
{
	const struct xml *t;

	memset(in, 0, sizeof(*in));
	in->id = xml_text(x, "instanceId");
	in->state = xml_text(x, "instanceState/name");
	in->type = xml_text(x, "instanceType");
	in->az = xml_text(x, "placement/availabilityZone");
	in->subnet = xml_text(x, "subnetId");
	in->launch_time = xml_text(x, "launchTime");
	in->private_ip = xml_text(x, "privateIpAddress");
	in->lifecycle = xml_text(x, "instanceLifecycle");
	if (!*in->lifecycle)
		in->lifecycle = "on-demand";
	in->image = xml_text(x, "imageId");
	XML_EACH(t, xml_child(x, "tagSet"), "item") {
		if (in->ntags == EC2_MAX_TAGS)
			break;
		in->tags[in->ntags].key = xml_text(t, "key");
		in->tags[in->ntags++].value = xml_text(t, "value");
	}
}

int
ec2_each_instance(const struct xml *reply,
    int (*cb)(void *, const struct ec2_instance *), void *arg)
{
	struct xml *r, *it;
	struct ec2_instance in;
	int rc = 0;

	XML_EACH(r, xml_child(reply, "reservationSet"), "item") {
		XML_EACH(it, xml_child(r, "instancesSet"), "item") {
			fill(&in, it);
			if (rc == 0 && cb(arg, &in) == -1)
				rc = -1;
		}
	}
	return rc;
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
		struct xml *x;
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
		x = aws_query(a, "DescribeInstances", &p);
		aws_params_free(&p);
		free(token);
		token = NULL;
		if (x == NULL)
			return -1;
		rc = ec2_each_instance(x, cb, arg);
		next = xml_text(x, "nextToken");
		if (*next && (token = strdup(next)) == NULL)
			rc = error_set(EXIT_TEMP, "out of memory");
		xml_free(x);
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
	for (i = 0; i < r->nallowed && i < EC2_MAX_ALLOWED; i++)
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
