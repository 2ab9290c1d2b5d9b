/*
 * inputs/tfvars.h — the application databases of one environment's terraform.tfvars
 * (DESIGN §1.1), extracted from the parsed HCL document (base/doc.h, inputs/hcl.c).
 *
 * Strings are heap-allocated and owned by the struct; gp_tfvars_free() accepts NULL.
 */
#ifndef GP_INPUTS_TFVARS_H
#define GP_INPUTS_TFVARS_H

#include "base/doc.h"
#include "model/types.h"

/* One member of application_databases. key/database_name/username/access_level as written. */
struct gp_tfvars_entry {
	struct gp_field key; /* the map key (app key); position of the key */
	struct gp_field database;
	struct gp_field username;
	struct gp_field access; /* NULL v: default owner */
	/* The member's first shape problem, as reported (NULL: none): the join holds the entry
	 * with it as the reason and does not report it again. A field that is absent because of
	 * a reported problem has .reported set. */
	char *invalid;
};

struct gp_tfvars {
	char *file;
	enum gp_mode mode;  /* STANDALONE or COUPLED: which shape was read */
	bool rds_enabled;   /* COUPLED: rds_config.enabled; STANDALONE: true */
	struct gp_tfvars_entry *v; /* in file order */
	size_t n;
};
void gp_tfvars_free(struct gp_tfvars *t);
DEFINE_FREEP(struct gp_tfvars, gp_tfvars_free)

/*
 * Extracts the application databases from a parsed tfvars document. mode must be STANDALONE
 * (top-level application_databases) or COUPLED (rds_config = { enabled, application_databases
 * }). A missing attribute gives an empty list (COUPLED: rds_enabled false). Shape errors of a
 * single member (not an object, a field that is not a string, a missing field, an attribute
 * other than database_name, username and access_level, with the closest of them as a "did
 * you mean") are added to diags as errors at their position, one per mistake (a misspelt
 * username is not also missing), with the member's key as the diagnostics' key. The member is
 * still returned with the fields it has and its first problem in invalid, so validation can
 * block just that entry. Returns 0, or -EINVAL when the document's shape is wrong as a whole
 * (application_databases not an object).
 */
int gp_tfvars_extract(const struct gp_doc *doc, enum gp_mode mode, struct gp_tfvars **ret,
		      struct gp_diags *diags);

#endif
