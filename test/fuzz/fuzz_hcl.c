/*
 * fuzz_hcl — terraform.tfvars: the HCL lexer and parser (inputs/hcl.c), the canonical dump of
 * the tree (base/doc.c) and the extraction of application_databases in both shapes
 * (inputs/tfvars.c), as the daemon reads an environment's file.
 */
#include "fuzz.h"

#include "base/doc.h"
#include "inputs/tfvars.h"

static void
extract(const struct gp_doc *doc, enum gp_mode mode)
{
	_cleanup_(gp_tfvars_freep) struct gp_tfvars *t = NULL;
	struct gp_diags diags = {0};

	if (gp_tfvars_extract(doc, mode, &t, &diags) >= 0)
		FUZZ_CHECK(t && t->mode == mode && (t->n == 0 || t->v));
	fuzz_diags_flush(&diags);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc =
		fuzz_doc_parse(gp_hcl_parse, data, size, "fuzz.tfvars");

	if (doc) {
		extract(doc, GP_MODE_STANDALONE);
		extract(doc, GP_MODE_COUPLED);
	}
	return 0;
}
