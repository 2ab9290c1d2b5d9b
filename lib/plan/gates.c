/*
 * gates.c — the gates of DESIGN §4.2 (gates.h) as a table: each row says which hold it
 * applies and decides, from the entry and the environment, whether it applies and why.
 *
 * Deliberately not here: finding problems (the join does, and holds entries for them before
 * any gate is tried), diagnostics (a gate is a state, not an error), and acting on a gate:
 * decommissioning and provisioning are the planner's business, which reads
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

static bool
removal_requested(const struct gp_entry *e)
{
	return e->requested == GP_STATE_DECOMMISSIONING || e->requested == GP_STATE_DECOMMISSIONED;
}

/*
 * The catalog asks for removal: it happens only when all three keys of DESIGN §4.5 hold (the
 * status, the environment's allow_delete, metadata.decommission_confirm naming the database).
 * Each missing key is named; the entry is held and nothing is removed.
 */
static bool
decommission_requested(const struct gate_env *g, const struct gp_entry *e, struct gp_buf *b)
{
	char q[GP_QUOTE_BUF + 1];
	bool allowed = g->config && g->config->allow_delete;
	bool confirmed = e->database && gp_streq(e->decommission_confirm, e->database);

	if (!removal_requested(e) || (allowed && confirmed))
		return false;
	gp_buf_printf(b, "catalog status is %s; held, nothing is removed:",
		      gp_state_to_string(e->requested));
	if (!allowed)
		gp_buf_printf(b, " allow_delete is not true for environment %s%s",
			      gp_quote(q, g->env), confirmed ? "" : ";");
	if (!confirmed)
		gp_buf_printf(b, " metadata.decommission_confirm must name the database %s",
			      gp_quote(q, e->database ? e->database : ""));
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

/* A request contract's approval route (DESIGN §1.3a): every group it names must have
 * approved (plan/routing.c found which have not). */
static bool
route_unapproved(_unused_ const struct gate_env *g, const struct gp_entry *e, struct gp_buf *b)
{
	if (!e->route || !e->approvals_missing)
		return false;
	gp_buf_printf(b, "approval route %s of contract %s: metadata.approved_by lacks %s",
		      e->route, e->contract ? e->contract : "?", e->approvals_missing);
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
	{GP_HOLD_NEEDS_APPROVAL, route_unapproved},
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
		/* Removal confirmed by all three keys: the provisioning gates do not apply. */
		if (gates[k].hold == GP_HOLD_DECOMMISSION && removal_requested(e)) {
			e->decommission = true;
			return 0;
		}
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
