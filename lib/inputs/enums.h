/*
 * inputs/enums.h — allowed values of the catalog's fields: built in, or from the checkout's
 * schemas/metadata/enums.yaml (DESIGN §1.2).
 */
#ifndef GP_INPUTS_ENUMS_H
#define GP_INPUTS_ENUMS_H

#include "base/doc.h"
#include "model/types.h"

/* Allowed values. An empty list means "any value" (owners and domains by default). */
struct gp_enums {
	struct gp_strv environments, owners, domains, risks, sizes, statuses;
	bool from_file;
};
int gp_enums_init_default(struct gp_enums *e);
/* Reads schemas/metadata/enums.yaml; keys missing there keep the built-in list. */
int gp_enums_extract(const struct gp_doc *doc, struct gp_enums *e, struct gp_diags *diags);
void gp_enums_release(struct gp_enums *e);
/* The list enums.yaml keeps under key ("environments", "owners", "domains",
 * "risk_profile_security_risk", "rds.instance_sizes", "rds.request_status"), as e holds it
 * (an empty list: any value); NULL when gprdsd reads no such key. */
const struct gp_strv *gp_enums_list(const struct gp_enums *e, const char *key);

#endif
