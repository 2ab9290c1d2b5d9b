/*
 * inputs/contract.h — request contracts, docs/20-contracts/rds-requests/<env>/RDS-NNNN.yaml
 * (DESIGN §1.3a): the request a person filed, read and checked against the request schema
 * (inputs/schema.h) and the enums (inputs/enums.h).
 *
 * A contract names its identity (id, service, environment, owner, requester) at the top level
 * or under `metadata`, and the rest under `spec`, with the camelCase keys of schema.h's field
 * table. Other keys of `metadata` (title, description, created) are ignored; an unknown key
 * under `spec`, or one at the top level that looks like a typo, is a warning with a hint.
 *
 * Checking follows the schema: required fields, types (a quoted "false" is a string, not a
 * bool; a quoted "20" is not an integer), patterns, enums and enum_from lists (with "did you
 * mean" when a value is close to an allowed one), minimum and maximum, then gprdsd's own naming
 * rules and reserved names (model/names.h), the values gprdsd acts on (a risk and a size it
 * knows), the directory the contract is filed in (rds-requests/<env>/ must match its
 * environment), and the schema's conditional rules. Each problem is one diagnostic at the
 * value's file:line:col (a missing field: where it belongs); a field with a problem is not
 * used by the rules that follow, so one mistake is reported once.
 *
 * Every string is owned by the contract; gp_contracts_release() frees them all.
 */
#ifndef GP_INPUTS_CONTRACT_H
#define GP_INPUTS_CONTRACT_H

#include "base/quote.h"
#include "inputs/enums.h"
#include "inputs/schema.h"

struct gp_contract_value {
	char *v;            /* the scalar as written; NULL when absent or not a scalar */
	unsigned line, col; /* where the value stands (0: absent) */
	bool present;       /* written in the contract (a null value counts as absent) */
	bool plain;         /* an unquoted scalar */
	bool misplaced;     /* written in the wrong section: reported there, not as missing */
	enum gp_node_kind kind; /* STRING, LIST or OBJECT */
	const char *section;    /* "", "metadata." or "spec.": where it was (or belongs) */
	/* Set by gp_contract_check(): */
	bool ok;        /* present or defaulted, and obeys every rule of its own */
	bool defaulted; /* absent: the schema's default (in v) */
	int64_t n;      /* ok and INTEGER */
	bool b;         /* ok and BOOLEAN */
};

struct gp_contract {
	char *file;    /* the name diagnostics use (relative to the checkout) */
	char *dir_env; /* the environment of the directory it was found in */
	bool parsed;   /* the YAML parsed and is a mapping */
	char *salvaged_db; /* did not parse: the database its one `databaseName:` line names,
			    * when that is a valid name, so that the entries it describes are
			    * held (NULL: none found; it then describes no entry) */
	bool valid;    /* parsed, and gp_contract_check() found no error */
	char *problem; /* not valid: its first error, the reason of the entries it holds */
	unsigned line, col;           /* where the document starts */
	unsigned spec_line, spec_col; /* the `spec` key, else the document */
	struct gp_contract_value f[_GP_REQ_FIELD_MAX];
};

struct gp_contracts {
	struct gp_contract *v; /* in the order they were added (the caller sorts the files) */
	size_t n, cap;
};
void gp_contracts_release(struct gp_contracts *cs);

/*
 * Parses buf as a contract named name, found in the directory of environment dir_env, and
 * checks it against s and e; appends it to cs, valid or not (a file that does not parse is
 * kept too, with parsed false and, when one line of it reads `databaseName: <valid name>`,
 * that name in salvaged_db: the entries of that database are held for it).
 * Diagnostics go to diags. Returns 0 (also for an invalid contract) or -ENOMEM.
 */
int gp_contracts_read(struct gp_contracts *cs, const char *buf, size_t len, const char *name,
		      const char *dir_env, const struct gp_schema *s, const struct gp_enums *e,
		      struct gp_diags *diags);

/* The two steps of gp_contracts_read(), for tests: shape (which key holds which value), then
 * the rules. Both add diagnostics and return 0 or -ENOMEM; c->valid says the verdict. */
int gp_contract_extract(const struct gp_doc *doc, struct gp_contract *c, struct gp_diags *diags);
int gp_contract_check(struct gp_contract *c, const struct gp_schema *s, const struct gp_enums *e,
		      struct gp_diags *diags);

/* The value of f when it is usable (ok: given and valid, or defaulted): its text, with
 * booleans as "true"/"false". NULL otherwise. */
const char *gp_contract_get(const struct gp_contract *c, enum gp_req_field f);
/* Where a message about f points: its value, else the contract's spec or top. */
struct gp_pos gp_contract_pos(const struct gp_contract *c, enum gp_req_field f);
/* How messages name the contract: its id when valid, else its file. */
const char *gp_contract_name(const struct gp_contract *c);

/* Canonical dump of a contract for golden files: each field and its verdict. */
int gp_contract_dump(const struct gp_contract *c, struct gp_buf *out);

#endif
