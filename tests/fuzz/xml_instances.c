/*
 * Fuzz target: an EC2 reply body through the XML parser (expat) and the
 * DescribeInstances walk, each instance rendered as pool-list prints it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ec2.h"
#include "error.h"
#include "pool.h"
#include "xml.h"

static int
render(void *arg, const struct ec2_instance *in)
{
	cJSON *o = pool_instance_json(in);
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	(void)arg;
	free(s);
	cJSON_Delete(o);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xml *x = xml_parse((const char *)data, size);

	if (x) {
		ec2_each_instance(x, render, NULL);
		(void)xml_text(x, "nextToken");
		(void)xml_text(x, "Errors/Error/Code");
		xml_free(x);
	}
	error_clear();
	return 0;
}
