/*
 * plan.c — desired × observed (+ lifecycle records) → ordered actions, and their printing.
 *
 * The planner is pure: it reads the values it is given and returns values. It never decides
 * anything from a clock or a random source (now comes in opts) and never talks to a server.
 * Deliberately not here: applying actions (daemon/pass.c), lifecycle bookkeeping
 * (lifecycle.c), removal of anything (an entry that left the inputs is reported as an orphan
 * and never dropped).
 */
#include "plan/plan.h"

#include <stdio.h>

#include <cjson/cJSON.h>

#include "codec/secret.h"
#include "model/names.h"

static const char *const action_names[_GP_ACT_MAX] = {
	[GP_ACT_CREATE_SECRET] = "create_secret",
	[GP_ACT_ADOPT_SECRET] = "adopt_secret",
	[GP_ACT_UPDATE_SECRET] = "update_secret",
	[GP_ACT_CREATE_ROLE] = "create_role",
	[GP_ACT_ALTER_ROLE] = "alter_role",
	[GP_ACT_SET_PASSWORD] = "set_password",
	[GP_ACT_COMMENT_ROLE] = "comment_role",
	[GP_ACT_GRANT_MEMBERSHIP] = "grant_membership",
	[GP_ACT_CREATE_DATABASE] = "create_database",
	[GP_ACT_ALTER_DATABASE_OWNER] = "alter_database_owner",
	[GP_ACT_REVOKE_PUBLIC] = "revoke_public",
	[GP_ACT_GRANT_CONNECT] = "grant_connect",
	[GP_ACT_APPLY_GRANTS] = "apply_grants",
	[GP_ACT_VERIFY_LOGIN] = "verify_login",
};

static const char *const why_names[_GP_WHY_MAX] = {
	[GP_WHY_NEW] = "new",
	[GP_WHY_DRIFT] = "drift",
	[GP_WHY_ADOPT] = "adopt",
	[GP_WHY_CHECK] = "check",
};

const char *
gp_action_kind_to_string(enum gp_action_kind k)
{
	return (size_t)k < _GP_ACT_MAX ? action_names[k] : "?";
}

const char *
gp_why_to_string(enum gp_why w)
{
	return (size_t)w < _GP_WHY_MAX ? why_names[w] : "?";
}

/* ---------------------------------------------------------------------------------------
 * What one entry needs, step by step. Each step looks at the observed state and appends
 * actions; `created` tracks what this plan itself creates so later steps know that, e.g.,
 * a database made in this pass has PostgreSQL's default ACL until we revoke it.
 */

struct entry_ctx {
	const struct gp_entry *e;
	const struct gp_observed *o;
	const struct gp_record *rec; /* NULL: new to gprdsd */
	const struct gp_plan_opts *opts;
	const struct gp_obs_secret *secret;
	const struct gp_obs_role *role;
	bool role_created;     /* this plan creates the role */
	bool secret_created;   /* this plan creates the secret (fresh password) */
	bool password_unknown; /* the secret's value was needed but not fetched */
	bool db_created;       /* this plan creates the database (owner entry) */
	struct gp_entry_plan *ep;
	int r;
};

static void
add_action(struct entry_ctx *c, enum gp_action_kind kind, enum gp_why why, const char *database,
	   const char *role, const char *object, const char *fmt, ...) _printf_(7, 8);

static void
add_action(struct entry_ctx *c, enum gp_action_kind kind, enum gp_why why, const char *database,
	   const char *role, const char *object, const char *fmt, ...)
{
	struct gp_entry_plan *ep = c->ep;
	struct gp_action *v, *a;
	struct gp_buf detail = {0};
	va_list ap;

	if (c->r < 0)
		return;
	v = realloc(ep->actions, (ep->n_actions + 1) * sizeof(*v));
	if (!v) {
		c->r = -ENOMEM;
		return;
	}
	ep->actions = v;
	a = &v[ep->n_actions];
	*a = (struct gp_action){.kind = kind, .why = why};
	if (fmt) {
		va_start(ap, fmt);
		gp_buf_vprintf(&detail, fmt, ap);
		va_end(ap);
		a->detail = gp_buf_steal(&detail);
	}
	a->database = gp_strdup0(database);
	a->role = gp_strdup0(role);
	a->object = gp_strdup0(object);
	if ((database && !a->database) || (role && !a->role) || (object && !a->object) ||
	    (fmt && !a->detail)) {
		c->r = -ENOMEM;
		free(a->database), free(a->role), free(a->object), free(a->detail);
		return;
	}
	ep->n_actions++;
	if (why != GP_WHY_CHECK)
		ep->n_changes++;
}

/* An object that exists but that gprdsd has never recorded is adopted; else it drifted. */
static enum gp_why
existing_why(const struct entry_ctx *c)
{
	return c->rec && c->rec->state == GP_STATE_ACTIVE ? GP_WHY_DRIFT : GP_WHY_ADOPT;
}

static void
want_of(const struct entry_ctx *c, struct gp_secret_want *w)
{
	*w = (struct gp_secret_want){
		.username = c->e->username,
		.host = c->opts->secret_host ? c->opts->secret_host : "",
		.port = c->opts->secret_port ? c->opts->secret_port : "",
		.dbname = c->e->database,
		.aliases = c->opts->env ? &c->opts->env->secret.password_aliases : NULL,
	};
}

static void
plan_secret(struct entry_ctx *c)
{
	const struct gp_entry *e = c->e;
	struct gp_secret_want want;
	_cleanup_free_ char *problem = NULL;
	int r;

	if (!c->secret) {
		c->secret_created = true;
		add_action(c, GP_ACT_CREATE_SECRET, GP_WHY_NEW, NULL, e->username, e->secret_name,
			   "new secret with a generated password");
		return;
	}
	if (!c->secret->value_json) {
		/* Not fetched: its version was verified before, so its content is as we left it. */
		if (!c->secret->managed)
			add_action(c, GP_ACT_ADOPT_SECRET, GP_WHY_ADOPT, NULL, e->username,
				   e->secret_name, "tag as managed by gprdsd");
		return;
	}
	want_of(c, &want);
	r = gp_secret_check(c->secret->value_json, &want, &problem);
	if (r < 0) {
		/* No usable password: a new one is generated and the role follows it. */
		c->secret_created = true;
		add_action(c, c->secret->managed ? GP_ACT_UPDATE_SECRET : GP_ACT_ADOPT_SECRET,
			   c->secret->managed ? GP_WHY_DRIFT : GP_WHY_ADOPT, NULL, e->username,
			   e->secret_name, "%s; a new password is generated",
			   problem ? problem : "no usable password");
	} else if (!c->secret->managed) {
		add_action(c, GP_ACT_ADOPT_SECRET, GP_WHY_ADOPT, NULL, e->username, e->secret_name,
			   "keep its password%s%s", r > 0 ? ", correct: " : "",
			   r > 0 && problem ? problem : "");
	} else if (r > 0) {
		add_action(c, GP_ACT_UPDATE_SECRET, GP_WHY_DRIFT, NULL, e->username,
			   e->secret_name, "correct: %s", problem ? problem : "content");
	}
}

static void
role_attr_diff(const struct gp_entry *e, const struct gp_obs_role *r, struct gp_buf *b)
{
	if (!r->login)
		gp_buf_puts(b, "login is off; ");
	if (r->superuser)
		gp_buf_puts(b, "superuser is on; ");
	if (r->createrole)
		gp_buf_puts(b, "createrole is on; ");
	if (r->replication)
		gp_buf_puts(b, "replication is on; ");
	if (r->bypassrls)
		gp_buf_puts(b, "bypassrls is on; ");
	if (!r->inherit)
		gp_buf_puts(b, "inherit is off; ");
	if (r->createdb != e->createdb)
		gp_buf_printf(b, "createdb is %s; ", r->createdb ? "on" : "off");
	if (b->len >= 2)
		b->p[b->len -= 2] = '\0';
}

static void
plan_role(struct entry_ctx *c, const char *env)
{
	const struct gp_entry *e = c->e;
	struct gp_buf diff = {0}, comment = {0};

	gp_role_marker(env, e->key, &comment);
	if (!c->role) {
		c->role_created = true;
		add_action(c, GP_ACT_CREATE_ROLE, GP_WHY_NEW, NULL, e->username, NULL,
			   "LOGIN, %sCREATEDB, password from the secret", e->createdb ? "" : "NO");
		add_action(c, GP_ACT_COMMENT_ROLE, GP_WHY_NEW, NULL, e->username, NULL, "%s",
			   comment.p);
		goto out;
	}
	role_attr_diff(e, c->role, &diff);
	if (diff.len)
		add_action(c, GP_ACT_ALTER_ROLE, existing_why(c), NULL, e->username, NULL, "%s",
			   diff.p);
	if (!gp_streq(c->role->comment, comment.p))
		add_action(c, GP_ACT_COMMENT_ROLE, c->role->comment ? GP_WHY_DRIFT : GP_WHY_ADOPT,
			   NULL, e->username, NULL, "%s", comment.p);
	if (c->secret_created)
		add_action(c, GP_ACT_SET_PASSWORD, GP_WHY_ADOPT, NULL, e->username, NULL,
			   "the role takes the new secret's password");
	else if (c->secret && c->secret->value_json &&
		 !(c->rec && gp_streq(c->rec->verified_version, c->secret->current_version)))
		add_action(c, GP_ACT_SET_PASSWORD, c->rec && c->rec->verified_version ? GP_WHY_DRIFT
										     : GP_WHY_ADOPT,
			   NULL, e->username, NULL, "%s",
			   c->rec && c->rec->verified_version
				   ? "the secret changed since it was last verified"
				   : "the role takes the secret's password");
out:
	gp_buf_release(&diff);
	gp_buf_release(&comment);
}

static const struct gp_obs_grant *
find_grant(const struct gp_obs_database *db, const char *grantee)
{
	for (size_t i = 0; db && i < db->n_grants; i++)
		if (gp_streq(db->grants[i].grantee, grantee))
			return &db->grants[i];
	return NULL;
}

static void
plan_database(struct entry_ctx *c, const struct gp_obs_database *db)
{
	const struct gp_entry *e = c->e;
	const struct gp_obs_grant *pub;
	const char *master = c->o->master_user;

	if (!c->o->master_superuser && master && !gp_observed_is_member(c->o, e->username, master))
		add_action(c, GP_ACT_GRANT_MEMBERSHIP, c->role_created ? GP_WHY_NEW : existing_why(c),
			   NULL, master, e->username,
			   "the master is not a superuser: it must be a member of the owner role");
	if (!db) {
		c->db_created = true;
		add_action(c, GP_ACT_CREATE_DATABASE, GP_WHY_NEW, e->database, e->username,
			   e->username, "owner %s", e->username);
		add_action(c, GP_ACT_REVOKE_PUBLIC, GP_WHY_NEW, e->database, NULL, "PUBLIC",
			   "isolate the database");
		return;
	}
	if (!gp_streq(db->owner, e->username))
		add_action(c, GP_ACT_ALTER_DATABASE_OWNER, existing_why(c), e->database, e->username,
			   e->username, "owner is %s", db->owner ? db->owner : "unknown");
	pub = find_grant(db, "");
	if (pub && (pub->connect || pub->temporary || pub->create))
		add_action(c, GP_ACT_REVOKE_PUBLIC, existing_why(c), e->database, NULL, "PUBLIC",
			   "PUBLIC has%s%s%s", pub->connect ? " CONNECT" : "",
			   pub->temporary ? " TEMPORARY" : "", pub->create ? " CREATE" : "");
}

static void
plan_connect(struct entry_ctx *c, const struct gp_obs_database *db, bool db_new)
{
	const struct gp_entry *e = c->e;
	const struct gp_obs_grant *g = find_grant(db, e->username);

	if (db_new || !db || c->role_created) {
		add_action(c, GP_ACT_GRANT_CONNECT, GP_WHY_NEW, e->database, e->username, NULL,
			   "CONNECT, TEMPORARY");
		return;
	}
	if (!g || !g->connect || !g->temporary)
		add_action(c, GP_ACT_GRANT_CONNECT, existing_why(c), e->database, e->username, NULL,
			   "missing%s%s", g && g->connect ? "" : " CONNECT",
			   g && g->temporary ? "" : " TEMPORARY");
}

static void
plan_privileges(struct entry_ctx *c, bool db_new)
{
	const struct gp_entry *e = c->e;
	const struct gp_obs_dbaccess *a;
	const char *level = gp_access_to_string(e->access);

	if (e->access == GP_ACCESS_OWNER)
		return; /* the owner owns the database and, on PostgreSQL 15, its public schema */
	if (!db_new && !c->role_created && !gp_strv_contains(&c->o->access_checked, e->database))
		return; /* not checked in this pass (see verify_interval): nothing to compare */
	a = gp_observed_access(c->o, e->database, e->username);
	if (db_new || c->role_created || !a) {
		add_action(c, GP_ACT_APPLY_GRANTS, GP_WHY_NEW, e->database, e->username,
			   e->owner_role, "%s privileges in schema public", level);
		return;
	}
	if (!a->schema_usage || !a->tables_ok || !a->sequences_ok || !a->defaults_ok)
		add_action(c, GP_ACT_APPLY_GRANTS, existing_why(c), e->database, e->username,
			   e->owner_role, "%s privileges differ:%s%s%s%s", level,
			   a->schema_usage ? "" : " schema usage", a->tables_ok ? "" : " tables",
			   a->sequences_ok ? "" : " sequences",
			   a->defaults_ok ? "" : " default privileges");
}

static bool
verify_due(const struct entry_ctx *c)
{
	const struct gp_record *rec = c->rec;

	if (!rec || rec->state != GP_STATE_ACTIVE || !rec->verified_version)
		return true;
	if (c->secret && !gp_streq(rec->verified_version, c->secret->current_version))
		return true;
	return gp_check_due(c->opts->now, rec->verified_at, c->opts->verify_interval_ms,
			    c->e->key);
}

bool
gp_check_due(int64_t now, int64_t last, uint64_t interval_ms, const char *key)
{
	uint64_t h = gp_fnv64(GP_FNV64_INIT, key, strlen(key));
	uint64_t early_ms = interval_ms / 10 * (h % 1024) / 1024;

	if (last > now)
		return true;
	return (uint64_t)(now - last) * 1000 >= interval_ms - early_ms;
}

static void
plan_verify(struct entry_ctx *c)
{
	if (c->ep->n_changes > 0 || verify_due(c))
		add_action(c, GP_ACT_VERIFY_LOGIN, GP_WHY_CHECK, c->e->database, c->e->username,
			   NULL, "log in with the secret's credentials");
}

/* ---------------------------------------------------------------------------------------
 * Entry-level decisions: held, waiting for a retry, or planned.
 */

static bool
entry_waiting(const struct gp_record *rec, const struct gp_plan_opts *opts)
{
	if (!rec || rec->state != GP_STATE_FAILED || rec->next_retry <= opts->now || opts->retry_now)
		return false;
	/* A new commit is a new input: a permanent error may be fixed by it. */
	return gp_streq(rec->last_commit, opts->commit) || !opts->commit;
}

static bool
entry_needs_value(const struct gp_entry *e, const struct gp_observed *o,
		  const struct gp_record *rec, const struct gp_plan_opts *opts)
{
	const struct gp_obs_secret *s = gp_observed_secret(o, e->secret_name);
	struct entry_ctx c = {.e = e, .o = o, .rec = rec, .opts = opts, .secret = s};

	if (!s)
		return false;
	if (!rec || !rec->verified_version || !gp_streq(rec->verified_version, s->current_version))
		return true;
	if (!gp_observed_role(o, e->username))
		return true; /* the role must be created with the secret's password */
	return verify_due(&c);
}

int
gp_plan_values_needed(const struct gp_desired *d, const struct gp_observed *o,
		      const struct gp_state_file *s, const struct gp_plan_opts *opts,
		      struct gp_strv *names)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct gp_entry *e = &d->v[i];
		const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, e->key);
		int r;

		if (e->hold != GP_HOLD_NONE || entry_waiting(rec, opts))
			continue;
		if (!entry_needs_value(e, o, rec, opts) || gp_strv_contains(names, e->secret_name))
			continue;
		r = gp_strv_push(names, e->secret_name);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
plan_entry(const struct gp_desired *d, size_t i, const struct gp_observed *o,
	   const struct gp_state_file *s, const struct gp_plan_opts *opts,
	   struct gp_entry_plan *ep, struct gp_strv *new_dbs)
{
	const struct gp_entry *e = &d->v[i];
	const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, e->key);
	const struct gp_obs_database *db = gp_observed_database(o, e->database);
	struct entry_ctx c = {.e = e, .o = o, .rec = rec, .opts = opts, .ep = ep};
	bool db_new;

	*ep = (struct gp_entry_plan){.entry = i, .from = rec ? rec->state : GP_STATE_PENDING};
	if (e->hold != GP_HOLD_NONE) {
		ep->held = true;
		ep->to = ep->from == GP_STATE_ACTIVE ? GP_STATE_ACTIVE : GP_STATE_PENDING;
		return 0;
	}
	if (entry_waiting(rec, opts)) {
		ep->waiting = true;
		ep->to = GP_STATE_FAILED;
		return 0;
	}
	/* An editor/reader needs its database: made earlier in this plan, or already there. */
	if (e->access != GP_ACCESS_OWNER && !db && !gp_strv_contains(new_dbs, e->database)) {
		struct gp_buf note = {0};

		gp_buf_printf(&note, "waiting for database %s (created by its owner entry)",
			      e->database);
		ep->waiting = true;
		ep->to = ep->from;
		ep->note = gp_buf_steal(&note);
		return ep->note ? 0 : -ENOMEM;
	}
	ep->to = GP_STATE_ACTIVE;
	c.secret = gp_observed_secret(o, e->secret_name);
	c.role = gp_observed_role(o, e->username);
	ep->needs_value = c.secret && !c.secret->value_json && entry_needs_value(e, o, rec, opts);
	plan_secret(&c);
	plan_role(&c, d->env);
	if (e->access == GP_ACCESS_OWNER)
		plan_database(&c, db);
	/* An editor/reader's database may be created by its owner entry earlier in this plan. */
	db_new = c.db_created || gp_strv_contains(new_dbs, e->database);
	plan_connect(&c, db_new ? NULL : db, db_new);
	plan_privileges(&c, db_new);
	plan_verify(&c);
	if (c.db_created && c.r >= 0 && gp_strv_push(new_dbs, e->database) < 0)
		c.r = -ENOMEM;
	return c.r;
}

/* Roles and secrets gprdsd manages (comment, tag) that no entry wants: reported, never removed. */
static int
collect_orphans(const struct gp_desired *d, const struct gp_observed *o, struct gp_plan *p)
{
	struct gp_strv users = {0}, secrets = {0};
	struct gp_buf t = {0};
	int r = 0;

	for (size_t i = 0; i < d->n && r >= 0; i++) {
		if (d->v[i].username)
			r = gp_strv_push(&users, d->v[i].username);
		if (r >= 0 && d->v[i].secret_name)
			r = gp_strv_push(&secrets, d->v[i].secret_name);
	}
	gp_strv_sort(&users);
	gp_strv_sort(&secrets);
	for (size_t i = 0; i < o->n_roles && r >= 0; i++) {
		const struct gp_obs_role *role = &o->roles[i];

		if (!gp_role_marked(role->comment, d->env) || gp_strv_has(&users, role->name))
			continue;
		t.len = 0;
		gp_buf_printf(&t, "role %s", role->name);
		r = t.oom ? -ENOMEM : gp_strv_push(&p->orphans, t.p);
	}
	for (size_t i = 0; i < o->n_secrets && r >= 0; i++) {
		if (!o->secrets[i].managed || gp_strv_has(&secrets, o->secrets[i].name))
			continue;
		t.len = 0;
		gp_buf_printf(&t, "secret %s", o->secrets[i].name);
		r = t.oom ? -ENOMEM : gp_strv_push(&p->orphans, t.p);
	}
	gp_buf_release(&t);
	gp_strv_release(&users);
	gp_strv_release(&secrets);
	return r;
}

int
gp_plan_build(const struct gp_desired *d, const struct gp_observed *o,
	      const struct gp_state_file *s, const struct gp_plan_opts *opts,
	      struct gp_plan **ret)
{
	_cleanup_(gp_plan_freep) struct gp_plan *p = calloc(1, sizeof(*p));
	struct gp_strv new_dbs = {0};
	int r = 0;

	if (!p)
		return -ENOMEM;
	p->env = gp_strdup0(d->env);
	p->v = calloc(d->n ? d->n : 1, sizeof(*p->v));
	if (!p->v || (d->env && !p->env))
		return -ENOMEM;
	for (size_t i = 0; i < d->n && r >= 0; i++) {
		r = plan_entry(d, i, o, s, opts, &p->v[i], &new_dbs);
		p->n = i + 1;
		p->n_changes += p->v[i].n_changes;
	}
	gp_strv_release(&new_dbs);
	if (r >= 0)
		r = collect_orphans(d, o, p);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

void
gp_plan_free(struct gp_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		for (size_t j = 0; j < p->v[i].n_actions; j++) {
			struct gp_action *a = &p->v[i].actions[j];

			free(a->database);
			free(a->role);
			free(a->object);
			free(a->detail);
		}
		free(p->v[i].actions);
		free(p->v[i].note);
	}
	free(p->v);
	free(p->env);
	gp_strv_release(&p->orphans);
	free(p);
}

/* ---------------------------------------------------------------------------------------
 * Printing
 */

int
gp_action_describe(const struct gp_action *a, struct gp_buf *out)
{
	gp_buf_puts(out, gp_action_kind_to_string(a->kind));
	switch (a->kind) {
	case GP_ACT_CREATE_SECRET:
	case GP_ACT_ADOPT_SECRET:
	case GP_ACT_UPDATE_SECRET:
		gp_buf_printf(out, " %s", a->object);
		break;
	case GP_ACT_GRANT_MEMBERSHIP:
		gp_buf_printf(out, " %s to %s", a->object, a->role);
		break;
	case GP_ACT_REVOKE_PUBLIC:
		gp_buf_printf(out, " on %s", a->database);
		break;
	case GP_ACT_GRANT_CONNECT:
	case GP_ACT_APPLY_GRANTS:
	case GP_ACT_VERIFY_LOGIN:
		gp_buf_printf(out, " %s on %s", a->role, a->database);
		break;
	case GP_ACT_CREATE_DATABASE:
	case GP_ACT_ALTER_DATABASE_OWNER:
		gp_buf_printf(out, " %s", a->database);
		break;
	default:
		gp_buf_printf(out, " %s", a->role);
		break;
	}
	gp_buf_printf(out, " (%s)", gp_why_to_string(a->why));
	if (a->detail)
		gp_buf_printf(out, ": %s", a->detail);
	return out->oom ? -ENOMEM : 0;
}

static void
format_entry_text(const struct gp_entry_plan *ep, const struct gp_entry *e, struct gp_buf *out)
{
	gp_buf_printf(out, "  %s (%s/%s, %s): ", e->key, e->database ? e->database : "?",
		      e->username ? e->username : "?", gp_access_to_string(e->access));
	if (ep->held) {
		gp_buf_printf(out, "held [%s]: %s\n", gp_hold_to_string(e->hold),
			      e->reason ? e->reason : "");
		return;
	}
	if (ep->waiting) {
		gp_buf_printf(out, "%s\n", ep->note ? ep->note : "failed, waiting for its retry time");
		return;
	}
	if (ep->n_changes == 0 && ep->from == ep->to)
		gp_buf_printf(out, "%s, no changes\n", gp_state_to_string(ep->to));
	else
		gp_buf_printf(out, "%s -> %s, %zu change%s\n", gp_state_to_string(ep->from),
			      gp_state_to_string(ep->to), ep->n_changes,
			      ep->n_changes == 1 ? "" : "s");
	for (size_t j = 0; j < ep->n_actions; j++) {
		gp_buf_puts(out, ep->actions[j].why == GP_WHY_CHECK ? "    ? " : "    + ");
		gp_action_describe(&ep->actions[j], out);
		gp_buf_putc(out, '\n');
	}
}

int
gp_plan_format_text(const struct gp_plan *p, const struct gp_desired *d, struct gp_buf *out)
{
	gp_buf_printf(out, "env %s: %zu entr%s, %zu change%s\n", p->env, p->n,
		      p->n == 1 ? "y" : "ies", p->n_changes, p->n_changes == 1 ? "" : "s");
	for (size_t i = 0; i < p->n; i++)
		format_entry_text(&p->v[i], &d->v[p->v[i].entry], out);
	for (size_t i = 0; i < p->orphans.n; i++)
		gp_buf_printf(out, "  orphaned %s: no entry in the inputs; kept, never removed\n",
			      p->orphans.v[i]);
	return out->oom ? -ENOMEM : 0;
}

static cJSON *
action_json(const struct gp_action *a)
{
	cJSON *j = cJSON_CreateObject();

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "action", gp_action_kind_to_string(a->kind));
	cJSON_AddStringToObject(j, "why", gp_why_to_string(a->why));
	a->database ? cJSON_AddStringToObject(j, "database", a->database)
		    : cJSON_AddNullToObject(j, "database");
	a->role ? cJSON_AddStringToObject(j, "role", a->role) : cJSON_AddNullToObject(j, "role");
	a->object ? cJSON_AddStringToObject(j, "object", a->object)
		  : cJSON_AddNullToObject(j, "object");
	a->detail ? cJSON_AddStringToObject(j, "detail", a->detail)
		  : cJSON_AddNullToObject(j, "detail");
	return j;
}

static cJSON *
entry_json(const struct gp_entry_plan *ep, const struct gp_entry *e)
{
	cJSON *j = cJSON_CreateObject(), *acts;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "key", e->key);
	e->database ? cJSON_AddStringToObject(j, "database", e->database)
		    : cJSON_AddNullToObject(j, "database");
	e->username ? cJSON_AddStringToObject(j, "username", e->username)
		    : cJSON_AddNullToObject(j, "username");
	cJSON_AddStringToObject(j, "access", gp_access_to_string(e->access));
	cJSON_AddStringToObject(j, "from", gp_state_to_string(ep->from));
	cJSON_AddStringToObject(j, "to", gp_state_to_string(ep->to));
	cJSON_AddBoolToObject(j, "held", ep->held);
	cJSON_AddBoolToObject(j, "waiting", ep->waiting);
	ep->note ? cJSON_AddStringToObject(j, "note", ep->note) : cJSON_AddNullToObject(j, "note");
	cJSON_AddStringToObject(j, "hold", gp_hold_to_string(e->hold));
	e->reason ? cJSON_AddStringToObject(j, "reason", e->reason)
		  : cJSON_AddNullToObject(j, "reason");
	cJSON_AddNumberToObject(j, "changes", (double)ep->n_changes);
	acts = cJSON_AddArrayToObject(j, "actions");
	for (size_t k = 0; acts && k < ep->n_actions; k++)
		cJSON_AddItemToArray(acts, action_json(&ep->actions[k]));
	return j;
}

cJSON *
gp_plan_to_json(const struct gp_plan *p, const struct gp_desired *d)
{
	cJSON *j = cJSON_CreateObject(), *entries, *orphans;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "env", p->env);
	cJSON_AddNullToObject(j, "error");
	cJSON_AddNumberToObject(j, "changes", (double)p->n_changes);
	entries = cJSON_AddArrayToObject(j, "entries");
	for (size_t i = 0; entries && i < p->n; i++)
		cJSON_AddItemToArray(entries, entry_json(&p->v[i], &d->v[p->v[i].entry]));
	orphans = cJSON_AddArrayToObject(j, "orphans");
	for (size_t i = 0; orphans && i < p->orphans.n; i++)
		cJSON_AddItemToArray(orphans, cJSON_CreateString(p->orphans.v[i]));
	return j;
}

int
gp_plan_format_json(const struct gp_plan *p, const struct gp_desired *d, struct gp_buf *out)
{
	cJSON *j = gp_plan_to_json(p, d);
	char *s;
	int r;

	if (!j)
		return -ENOMEM;
	s = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	if (!s)
		return -ENOMEM;
	r = gp_buf_puts(out, s);
	free(s);
	return r;
}
