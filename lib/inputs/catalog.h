/*
 * inputs/catalog.h — the RDS catalog (DESIGN §1.2), extracted from the parsed YAML document.
 *
 * Strings are heap-allocated and owned by the struct; gp_catalog_free() accepts NULL.
 */
#ifndef GP_INPUTS_CATALOG_H
#define GP_INPUTS_CATALOG_H

#include "base/doc.h"
#include "model/types.h"

struct gp_catalog_entry {
	struct gp_field database; /* the map key under databases: */
	struct gp_field id, owner, requested_by, domain, risk, environment, status, created_date,
		approved_by, decommission_confirm;
	struct gp_field username, size_tier, instance_class, secret_path;
	struct gp_field rotate_after;      /* metadata.rotate_after: RFC 3339 (DESIGN §4.4) */
	struct gp_field rotation_strategy; /* configuration.rotation_strategy */
	/* metadata.approved_by names one group or a list of them: the groups, in file order.
	 * approved_by holds them as text ("a, b") with the position of the value. */
	struct gp_strv approvers;
	/* The entry's first shape problem, as reported (NULL: none): the join holds the entries
	 * of its database with it and does not report it again. */
	char *invalid;
};

struct gp_catalog {
	char *file;
	struct gp_field version;
	struct gp_catalog_entry *v; /* in file order */
	size_t n;
};
void gp_catalog_free(struct gp_catalog *c);
DEFINE_FREEP(struct gp_catalog, gp_catalog_free)

/*
 * Extracts the catalog from a parsed YAML document. Unknown keys inside an entry and its
 * metadata/configuration are ignored (the platform adds its own), except a key close to one
 * gprdsd reads (gp_did_you_mean()) that the mapping lacks: an error at it, "did you mean" that
 * key. A field that is not a scalar, and a section that is not a mapping, is an error at its
 * position. One mistake, one error: a field absent because of a reported problem has
 * .reported set, so that nothing reports it missing, and the entry keeps its first problem in
 * invalid; the diagnostics' key is the database. Returns 0 or -EINVAL (databases: missing or
 * not a mapping).
 */
int gp_catalog_extract(const struct gp_doc *doc, struct gp_catalog **ret, struct gp_diags *diags);

#endif
