/*
 * fuzz_catalog — the RDS catalog: the YAML front end (inputs/yaml.c, over libyaml), the
 * canonical dump of the tree, the extraction of the catalog (inputs/catalog.c) and the checks
 * `validate` runs on it against the built-in enums (inputs/lint.c).
 */
#include "fuzz.h"

#include "base/doc.h"
#include "inputs/catalog.h"
#include "inputs/enums.h"
#include "inputs/lint.h"

static void
check_catalog(const struct gp_doc *doc)
{
	_cleanup_(gp_catalog_freep) struct gp_catalog *c = NULL;
	struct gp_enums e = {0};
	struct gp_diags diags = {0};

	if (gp_catalog_extract(doc, &c, &diags) >= 0 && gp_enums_init_default(&e) >= 0) {
		(void)gp_catalog_validate(c, &e, &diags);
		for (size_t i = 0; i < c->n; i++) {
			(void)gp_catalog_names_check(c->file, &c->v[i], "postgres", "postgres",
						     &diags);
			(void)gp_catalog_values_check(c->file, &c->v[i], &e, &diags);
		}
	}
	gp_enums_release(&e);
	fuzz_diags_flush(&diags);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc =
		fuzz_doc_parse(gp_yaml_parse, data, size, "rds-catalog.yaml");

	if (doc)
		check_catalog(doc);
	return 0;
}
