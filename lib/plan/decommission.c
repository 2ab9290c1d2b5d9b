/*
 * plan/decommission.c — the steps that remove a database and every entry on it, once the
 * three keys of DESIGN §4.5 hold (gates.c marks such entries e->decommission):
 *   owner entry:   [dump_database] lock_database, revoke_connect per grantee,
 *   every entry:   disable_role (NOLOGIN, sessions end) for each of its roles,
 *   owner entry:   drop_database (WITH (FORCE)),
 *   every entry:   per role, drop_owned in every other database where pg_shdepend says it
 *                  still owns or holds something (REASSIGN OWNED to the master, DROP OWNED),
 *                  then drop_role; delete_secret with the recovery window;
 *                  the entry becomes decommissioned.
 * Each step is planned only for what the pass observed to exist, so a pass after a crash
 * plans what is left and nothing twice. Before any step, every object the database's entries
 * would remove must be gprdsd's (model/names.h): a role without its marker, a secret without
 * its tag, a database whose owner is not a managed role stops the decommission of the whole
 * database with the reason; nothing is dropped. The executor's guard checks again.
 *
 * Deliberately not here: the gates (gates.c), executing (daemon/apply.c, pg_apply.c, sm.c),
 * the mass-change guard (plan.c counts what this plans).
 */
#include "plan/decommission.h"

#include <stdio.h>

#include "model/names.h"
#include "plan/entry.h"

/* Why the role `name` of entry e may not be dropped, into why (nothing when it may). */
static void
role_not_ours(const struct gp_observed *o, const char *env, const struct gp_entry *e,
	      const char *name, struct gp_buf *why)
{
	const struct gp_obs_role *r = name ? gp_observed_role(o, name) : NULL;
	struct gp_buf want = {0};

	if (!r)
		return;
	gp_role_marker(env, e->key, &want);
	if (!gp_streq(r->comment, want.p))
		gp_buf_printf(why, "%srole %s does not carry gprdsd's marker for %s", why->len ? "; " : "",
			      name, e->key);
	gp_buf_release(&want);
}

static void
entry_not_ours(const struct gp_observed *o, const char *env, const struct gp_entry *e,
	       struct gp_buf *why)
{
	const struct gp_obs_secret *s = gp_observed_secret(o, e->secret_name);
	const struct gp_obs_database *db = gp_observed_database(o, e->database);
	const struct gp_obs_role *owner = db && db->owner ? gp_observed_role(o, db->owner) : NULL;

	role_not_ours(o, env, e, e->username, why);
	role_not_ours(o, env, e, e->alt_username, why);
	if (s && !s->managed)
		gp_buf_printf(why, "%ssecret %s does not carry the managed-by tag",
			      why->len ? "; " : "", e->secret_name);
	if (e->access == GP_ACCESS_OWNER && db && (!owner || !gp_role_marked(owner->comment, env)))
		gp_buf_printf(why, "%sdatabase %s is owned by %s, not a role gprdsd manages",
			      why->len ? "; " : "", e->database, db->owner ? db->owner : "nobody");
}

int
gp_decommission_blocker(const struct gp_desired *d, const struct gp_observed *o,
			const char *db, struct gp_buf *why)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct gp_entry *e = &d->v[i];

		if (e->decommission && gp_streq(e->database, db))
			entry_not_ours(o, d->env, e, why);
	}
	return why->oom ? -ENOMEM : 0;
}

/* ---------------------------------------------------------------------------------------
 * The steps of one entry
 */

#define NOTE_MEMBER "the master is not a superuser: it needs the role to end its sessions and " \
		    "reassign its objects"

static void
need_membership(struct gp_entry_ctx *c, const char *role)
{
	const char *master = c->o->master_user;

	if (c->o->master_superuser || !master || gp_observed_is_member(c->o, role, master))
		return;
	gp_entry_add_action(c, GP_ACT_GRANT_MEMBERSHIP, GP_WHY_REMOVE, NULL, master, role, "%s",
			    NOTE_MEMBER);
}

static void
lock_database(struct gp_entry_ctx *c, const struct gp_obs_database *db)
{
	const char *master = c->o->master_user;

	if (c->opts->env && !gp_isempty(c->opts->env->dump_dir))
		gp_entry_add_action(c, GP_ACT_DUMP_DATABASE, GP_WHY_REMOVE, db->name, NULL, NULL,
				    "pg_dump -Fc into %s, checked with pg_restore --list",
				    c->opts->env->dump_dir);
	gp_entry_add_action(c, GP_ACT_LOCK_DATABASE, GP_WHY_REMOVE, db->name, NULL, NULL,
			    "no new connections; its sessions end");
	for (size_t i = 0; i < db->n_grants; i++) {
		const struct gp_obs_grant *g = &db->grants[i];

		if (gp_isempty(g->grantee) || gp_streq(g->grantee, master) ||
		    !(g->connect || g->temporary))
			continue;
		gp_entry_add_action(c, GP_ACT_REVOKE_CONNECT, GP_WHY_REMOVE, db->name, g->grantee,
				    NULL, "lock-out");
	}
}

static void
drop_role(struct gp_entry_ctx *c, const struct gp_obs_role *r, const char *dropped_db)
{
	for (size_t i = 0; i < c->o->n_deps; i++) {
		const struct gp_obs_roledep *dep = &c->o->deps[i];

		if (!gp_streq(dep->role, r->name) || gp_streq(dep->database, dropped_db))
			continue;
		gp_entry_add_action(c, GP_ACT_DROP_OWNED, GP_WHY_REMOVE, dep->database, r->name,
				    c->o->master_user,
				    "its objects there go to %s, its privileges there go",
				    c->o->master_user ? c->o->master_user : "the master");
	}
	gp_entry_add_action(c, GP_ACT_DROP_ROLE, GP_WHY_REMOVE, NULL, r->name, NULL, "decommissioned");
}

void
gp_decommission_plan(struct gp_entry_ctx *c)
{
	const struct gp_entry *e = c->e;
	const struct gp_obs_database *db =
		e->access == GP_ACCESS_OWNER ? gp_observed_database(c->o, e->database) : NULL;
	const struct gp_obs_role *roles[2] = {gp_observed_role(c->o, e->username),
					      e->alt_username ? gp_observed_role(c->o, e->alt_username)
							      : NULL};
	const struct gp_obs_secret *s = gp_observed_secret(c->o, e->secret_name);

	c->ep->to = GP_STATE_DECOMMISSIONED;
	for (size_t i = 0; i < 2; i++)
		if (roles[i])
			need_membership(c, roles[i]->name);
	if (db)
		lock_database(c, db);
	for (size_t i = 0; i < 2; i++)
		if (roles[i] && roles[i]->login)
			gp_entry_add_action(c, GP_ACT_DISABLE_ROLE, GP_WHY_REMOVE, NULL,
					    roles[i]->name, NULL, "NOLOGIN; its sessions end");
	if (db)
		gp_entry_add_action(c, GP_ACT_DROP_DATABASE, GP_WHY_REMOVE, db->name, NULL, NULL,
				    "catalog status decommissioning, confirmed");
	/* The entry's database goes in this pass or went before: nothing to reassign there. */
	for (size_t i = 0; i < 2; i++)
		if (roles[i])
			drop_role(c, roles[i], e->database);
	if (s)
		gp_entry_add_action(c, GP_ACT_DELETE_SECRET, GP_WHY_REMOVE, NULL, e->username, NULL,
				    "scheduled for deletion, recoverable for %llu days",
				    c->opts->env ? (unsigned long long)(c->opts->env->secret
									 .recovery_window_ms /
									 86400000ULL)
						 : 7ULL);
}
