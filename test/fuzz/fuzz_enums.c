/*
 * fuzz_enums — schemas/metadata/enums.yaml: the YAML front end and the extraction of the
 * allowed values over the built-in lists (inputs/enums.c).
 */
#include "fuzz.h"

#include "base/doc.h"
#include "inputs/enums.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc =
		fuzz_doc_parse(gp_yaml_parse, data, size, "enums.yaml");
	struct gp_enums e = {0};
	struct gp_diags diags = {0};

	if (doc && gp_enums_init_default(&e) >= 0)
		(void)gp_enums_extract(doc, &e, &diags);
	gp_enums_release(&e);
	fuzz_diags_flush(&diags);
	return 0;
}
