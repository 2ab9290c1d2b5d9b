/*
 * inputs/lint.h — the checks of the RDS catalog (DESIGN §1.2, §1.4): what `gprdsd validate`
 * reports about every entry of every environment, and the part of it that the join holds
 * entries for.
 *
 * Each problem is a diagnostic at the field it concerns, or at the entry's database key when
 * the field is absent (gp_catalog_pos()): errors for a name or value that breaks a rule or is
 * not allowed by enums.yaml, warnings for missing optional values and for informational fields
 * that do not match. The join (plan/join.h) runs gp_catalog_names_check() and
 * gp_catalog_values_check() on the entries it joins and holds them with the message as
 * reason; `validate` runs gp_catalog_validate() on the whole catalog. Both word a problem the
 * same way, so a caller that shows both can de-duplicate them. Values are shown through
 * gp_quote() (base/quote.h).
 */
#ifndef GP_INPUTS_LINT_H
#define GP_INPUTS_LINT_H

#include "base/quote.h"
#include "inputs/catalog.h"
#include "inputs/enums.h"

/*
 * Where a message about field f of catalog entry c (read from file, may be NULL) points: f's
 * own position, or c's database key when f is NULL or absent from the file.
 */
struct gp_pos gp_catalog_pos(const char *file, const struct gp_catalog_entry *c,
			     const struct gp_field *f);

/*
 * The names of c: database, and configuration.username when present, against the naming
 * rules and the reserved names, which include master_user and master_db when they are known
 * (may be NULL). Adds one error per problem, in that order.
 * Returns the number of errors added, or -ENOMEM.
 */
int gp_catalog_names_check(const char *file, const struct gp_catalog_entry *c,
			   const char *master_user, const char *master_db, struct gp_diags *diags);

/*
 * The values of c that the join acts on: metadata.environment, metadata.risk,
 * configuration.size_tier and metadata.status against e (NULL, or an empty list: any value)
 * and against the values gprdsd knows, then the format of metadata.requested_by. Absent
 * values are no problem here, the join uses defaults for them. Adds one error per problem, in
 * that order. Returns the number of errors added, or -ENOMEM.
 */
int gp_catalog_values_check(const char *file, const struct gp_catalog_entry *c,
			    const struct gp_enums *e, struct gp_diags *diags);

/*
 * Checks every entry of c, for `validate`: its names (without master names, which `validate`
 * does not know), the requester format, the values of metadata.environment, risk, size_tier,
 * status, owner and domain (a missing environment is an error, any other missing value a
 * warning, unless catalog.c reported why it is absent: gp_field.reported), and the
 * informational configuration.secret_path and instance_class (mismatches are warnings); the
 * diagnostics' key is the entry's database. c NULL: nothing to check; e NULL: any value.
 * Returns 0, -EINVAL when it added an error or diags is NULL, or -ENOMEM.
 */
int gp_catalog_validate(const struct gp_catalog *c, const struct gp_enums *e,
			struct gp_diags *diags);

#endif
