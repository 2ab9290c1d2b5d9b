/*
 * model/desired.c — destructor and lookup of one environment's desired state. Building it
 * (the join of tfvars and catalog) is plan/join.c's business.
 */
#include "model/desired.h"

#include <stdlib.h>

const char *
gp_hold_to_string(enum gp_hold h)
{
	static const char *const names[_GP_HOLD_MAX] = {
		[GP_HOLD_NONE] = "none",
		[GP_HOLD_INVALID] = "invalid",
		[GP_HOLD_CONFLICT] = "conflict",
		[GP_HOLD_NO_TFVARS] = "no_tfvars",
		[GP_HOLD_NOT_ALLOWED] = "not_allowed",
		[GP_HOLD_NEEDS_APPROVAL] = "needs_approval",
		[GP_HOLD_DECOMMISSION] = "decommission",
	};
	return (size_t)h < _GP_HOLD_MAX ? names[h] : NULL;
}


static void
entry_release(struct gp_entry *e)
{
	free(e->alt_username);
	free(e->decommission_confirm);
	free(e->key);
	free(e->database);
	free(e->username);
	free(e->approved_by);
	gp_strv_release(&e->approvals);
	free(e->contract);
	free(e->route);
	free(e->approvals_missing);
	free(e->owner_role);
	free(e->secret_name);
	free(e->reason);
	free(e->file);
}

void
gp_desired_free(struct gp_desired *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		entry_release(&d->v[i]);
	free(d->v);
	free(d->env);
	free(d);
}

const struct gp_entry *
gp_desired_find(const struct gp_desired *d, const char *key)
{
	for (size_t i = 0; d && i < d->n; i++)
		if (gp_streq(d->v[i].key, key))
			return &d->v[i];
	return NULL;
}

