/*
 * fuzz_contract — a request contract (inputs/contract.c) checked against the built-in request
 * schema; the same bytes read as a schema file (inputs/schema.c), and when that gives a
 * schema, a fixed contract checked against it.
 */
#include "fuzz.h"

#include "base/doc.h"
#include "inputs/contract.h"
#include "inputs/schema.h"

static const char contract[] = "id: RDS-0001\nservice: postgres\nenvironment: dev\n"
			       "owner: app-team\nrequester: a-b\nspec:\n  databaseName: orders\n"
			       "  username: orders_app\n  size: small\n  domain: catalog\n"
			       "  storageGb: 30\n  maxStorageGb: 40\n  multiAz: true\n  risk: high\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_(gp_schema_freep) struct gp_schema *builtin = NULL, *file = NULL;
	_cleanup_(gp_doc_freep) struct gp_doc *doc =
		fuzz_doc_parse(gp_yaml_parse, data, size, "rds.schema.yaml");
	struct gp_contracts cs = {0};
	struct gp_diags diags = {0};
	struct gp_enums e = {0};
	struct gp_buf out = {0};

	if (gp_enums_init_default(&e) < 0 || gp_schema_new_default(&builtin) < 0)
		goto done;
	(void)gp_contracts_read(&cs, (const char *)data, size, "RDS-0001.yaml", "dev", builtin,
				&e, &diags);
	if (doc && gp_schema_extract(doc, &file, &diags) >= 0) {
		(void)gp_schema_dump(file, &out);
		(void)gp_contracts_read(&cs, contract, sizeof(contract) - 1, "fixed.yaml", "dev",
					file, &e, &diags);
	}
	for (size_t i = 0; i < cs.n; i++)
		(void)gp_contract_dump(&cs.v[i], &out);
done:
	gp_buf_release(&out);
	gp_contracts_release(&cs);
	gp_enums_release(&e);
	fuzz_diags_flush(&diags);
	return 0;
}
