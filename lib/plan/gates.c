/*
 * gates.c — the gates of DESIGN §4.2 (gates.h) as a table: each row says which hold it
 * applies and decides, from the entry and the environment, whether it applies and why.
 *
 * Deliberately not here: finding problems (the join does, and holds entries for them before
 * any gate is tried), diagnostics (a gate is a state, not an error), and acting on a gate:
 * decommissioning, approval routing and provisioning are the planner's business, which reads
 * the hold. This module never releases a hold.
 */
#include "plan/gates.h"

#include "base/quote.h"

struct gate_env {
	const char *env;
	const struct gp_env_config *config; /* NULL: defaults */
};

struct gate {
	enum gp_hold hold;
	/* Whether the gate holds e; when it does, it writes the reason into b. */
	bool (*holds)(const struct gate_env *g, const struct gp_entry *e, struct gp_buf *b);
};

/* The catalog asks for removal: left to the decommissioning code, which does not exist yet. */
static bool
decommission_requested(_unused_ const struct gate_env *g, const struct gp_entry *e,
		       struct gp_buf *b)
{
	if (e->requested != GP_STATE_DECOMMISSIONING && e->requested != GP_STATE_DECOMMISSIONED)
		return false;
	gp_buf_printf(b,
		      "catalog status is %s; left as it is: this version of gprdsd does not remove "
		      "anything (decommissioning is not implemented)",
		      gp_state_to_string(e->requested));
	return true;
}

/* A catalog-only entry: requested, but no app says yet how it connects. */
static bool
tfvars_missing(_unused_ const struct gate_env *g, const struct gp_entry *e, struct gp_buf *b)
{
	if (e->has_tfvars)
		return false;
	gp_buf_puts(b, "no tfvars entry");
	return true;
}

static bool
provisioning_forbidden(const struct gate_env *g, _unused_ const struct gp_entry *e,
		       struct gp_buf *b)
{
	char q[GP_QUOTE_BUF];
	/* Without a config (`validate`), the default of DESIGN §7: true for dev only. */
	bool allowed = g->config ? g->config->allow_provision : gp_streq(g->env, "dev");

	if (allowed)
		return false;
	gp_buf_printf(b, "allow_provision is false for env %s", gp_escape(q, g->env, false));
	return true;
}

static bool
approval_missing(_unused_ const struct gate_env *g, const struct gp_entry *e, struct gp_buf *b)
{
	if ((e->size != GP_SIZE_LARGE && e->size != GP_SIZE_XLARGE) || !gp_isempty(e->approved_by))
		return false;
	gp_buf_printf(b, "size_tier %s needs metadata.approved_by", gp_size_to_string(e->size));
	return true;
}

/* In the order they are tried: the first that holds an entry decides its reason. */
static const struct gate gates[] = {
	{GP_HOLD_DECOMMISSION, decommission_requested},
	{GP_HOLD_NO_TFVARS, tfvars_missing},
	{GP_HOLD_NOT_ALLOWED, provisioning_forbidden},
	{GP_HOLD_NEEDS_APPROVAL, approval_missing},
};

int
gp_entry_hold(struct gp_entry *e, enum gp_hold h, const char *reason)
{
	char *r;

	if (e->hold != GP_HOLD_NONE)
		return 0;
	r = strdup(reason);
	if (!r)
		return -ENOMEM;
	free(e->reason);
	e->reason = r;
	e->hold = h;
	return 0;
}

static int
gate_entry(const struct gate_env *g, struct gp_entry *e)
{
	if (e->hold != GP_HOLD_NONE)
		return 0;
	for (size_t k = 0; k < ELEMENTSOF(gates); k++) {
		_cleanup_(gp_buf_release) struct gp_buf reason = {0};

		if (gates[k].holds(g, e, &reason))
			return reason.oom ? -ENOMEM : gp_entry_hold(e, gates[k].hold, reason.p);
	}
	return 0;
}

int
gp_gates_apply(struct gp_desired *d, const struct gp_env_config *env_config)
{
	struct gate_env g;
	int r = 0;

	if (!d || !d->env)
		return -EINVAL;
	g = (struct gate_env){d->env, env_config};
	for (size_t i = 0; r >= 0 && i < d->n; i++)
		r = gate_entry(&g, &d->v[i]);
	return r;
}
