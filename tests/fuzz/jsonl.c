/*
 * Fuzz target: JSON Lines input as every tool reads it (jsonl_read), each
 * object's "id" checked the way the tools check it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "jsonl.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f;
	struct jsonl in = { NULL, "fuzz", 0 };
	cJSON *o;

	if (size == 0 || (f = fmemopen((void *)data, size, "r")) == NULL)
		return 0;
	in.f = f;
	while (jsonl_read(&in, &o) == 1) {
		const char *id = jsonl_str(o, "id");

		if (id)
			(void)validate_instance_id(id);
		cJSON_Delete(o);
	}
	fclose(f);
	error_clear();
	return 0;
}
