/*
 * plan/routing.h — request contracts in the join (DESIGN §1.3a): which entries a contract
 * describes, where it disagrees with the catalog or the tfvars, and its approval route.
 *
 * A contract describes the entries of its database (environment, database name); the route
 * applies to all of them. The join (plan/join.h) adds an entry for a contract whose database
 * neither the tfvars nor the catalog has (it stays pending: "no tfvars entry"), then runs
 * gp_join_contracts() before the gates; the gate of the route is plan/gates.c's.
 */
#ifndef GP_PLAN_ROUTING_H
#define GP_PLAN_ROUTING_H

#include "inputs/catalog.h"
#include "inputs/contract.h"
#include "model/desired.h"

/*
 * The route that applies to an entry of contract c: the first of s->routes whose conditions
 * all hold, a condition on environment or risk read from the entry (its environment env, its
 * risk: the catalog's, else the contract's), any other from the contract. NULL when none does
 * (then no approval is needed beyond the other gates).
 */
const struct gp_schema_route *gp_route_select(const struct gp_schema *s,
					      const struct gp_contract *c, const char *env,
					      const struct gp_entry *e);
/*
 * The groups of rt that approvals does not name, as "a, b" appended to out. Returns how many,
 * or -ENOMEM.
 */
int gp_route_missing(const struct gp_schema_route *rt, const struct gp_strv *approvals,
		     struct gp_buf *out);

struct gp_contract_join {
	const char *env;
	const struct gp_contracts *contracts; /* the environment's; NULL: none */
	const struct gp_schema *schema;
	const struct gp_catalog *catalog; /* NULL: none */
	const char *cat_file;
};

/*
 * The contract step of the join, over entries built from the tfvars, the catalog and the
 * contracts. Per contract (a file that did not parse describes no entry):
 *   invalid                          its entries held GP_HOLD_INVALID with its first problem
 *   a second contract for a database both contracts' entries held GP_HOLD_CONFLICT
 *   username, risk or size differing  the database's entries held GP_HOLD_CONFLICT, one
 *     from the tfvars or the catalog  error naming both positions
 *   no tfvars entry for its database a warning naming the contract (the gate holds it)
 * Its entries get e->contract, e->route and e->approvals_missing, and, without a catalog
 * entry, the contract's risk and size. Returns 0 or -ENOMEM.
 */
int gp_join_contracts(struct gp_desired *d, const struct gp_contract_join *in,
		      struct gp_diags *diags);

#endif
