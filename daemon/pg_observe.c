/*
 * pg_observe.c — PostgreSQL's side of the observed state: four queries on the master
 * connection (master, roles, databases with their effective ACLs, memberships), then one
 * connection and one query per database whose in-database privileges are checked in this
 * pass. Catalog names are schema-qualified so that a search_path cannot redirect them.
 *
 * It reads; it changes nothing and decides nothing (plan/checks.h chooses the databases).
 */
#include "pg_int.h"

#include <stdio.h>

static const char master_sql[] =
	"SELECT current_user, r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user";

static const char roles_sql[] =
	"SELECT r.rolname, r.rolcanlogin, r.rolsuper, r.rolcreaterole, r.rolcreatedb,"
	" r.rolreplication, r.rolbypassrls, r.rolinherit,"
	" pg_catalog.shobj_description(r.oid, 'pg_authid'),"
	" (SELECT pg_catalog.substr(c, 6) FROM pg_catalog.pg_db_role_setting s,"
	"  pg_catalog.unnest(s.setconfig) c WHERE s.setdatabase = 0 AND s.setrole = r.oid"
	"  AND c LIKE 'role=%' LIMIT 1)"
	" FROM pg_catalog.pg_roles r WHERE r.rolname !~ '^pg_' ORDER BY 1";

/* One row per (database, grantee) of the effective ACL; a database whose ACL is empty has
 * one row with a NULL grantee. Grantee 0 is PUBLIC, written "". */
static const char databases_sql[] =
	"SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba),"
	" CASE WHEN a.grantee = 0 THEN '' ELSE pg_catalog.pg_get_userbyid(a.grantee) END,"
	" coalesce(bool_or(a.privilege_type = 'CONNECT'), false),"
	" coalesce(bool_or(a.privilege_type = 'TEMPORARY'), false),"
	" coalesce(bool_or(a.privilege_type = 'CREATE'), false)"
	" FROM pg_catalog.pg_database d"
	" LEFT JOIN LATERAL pg_catalog.aclexplode(coalesce(d.datacl,"
	" pg_catalog.acldefault('d', d.datdba))) a ON true"
	" WHERE NOT d.datistemplate"
	" GROUP BY d.datname, d.datdba, a.grantee ORDER BY d.datname COLLATE \"C\"";

static const char members_sql[] =
	"SELECT DISTINCT r.rolname, m.rolname FROM pg_catalog.pg_auth_members a"
	" JOIN pg_catalog.pg_roles r ON r.oid = a.roleid"
	" JOIN pg_catalog.pg_roles m ON m.oid = a.member ORDER BY 1, 2";

/*
 * In one database: for each wanted (role, level) that exists, whether it has exactly the
 * level's privileges. spec lists, per level and object kind (r: tables and the like, S:
 * sequences), the privileges that must be held and those that must not. A relation dropped
 * while we look has NULL privileges, which count as right.
 */
static const char access_sql[] =
	"WITH spec(level, kind, need, deny) AS (VALUES"
	" ('editor', 'r', '{SELECT,INSERT,UPDATE,DELETE}'::text[], '{}'::text[]),"
	" ('editor', 'S', '{USAGE,SELECT}', '{}'),"
	" ('reader', 'r', '{SELECT}', '{INSERT,UPDATE,DELETE,TRUNCATE}'),"
	" ('reader', 'S', '{SELECT}', '{USAGE,UPDATE}')),"
	" want AS (SELECT r.oid AS roid, r.rolname, w.level"
	"  FROM unnest($1::text[], $2::text[]) AS w(name, level)"
	"  JOIN pg_catalog.pg_roles r ON r.rolname = w.name),"
	" ns AS (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = 'public'),"
	" rel AS (SELECT c.oid, CASE c.relkind WHEN 'S' THEN 'S' ELSE 'r' END AS kind"
	"  FROM pg_catalog.pg_class c WHERE c.relnamespace = (SELECT oid FROM ns)"
	"  AND c.relkind IN ('r', 'v', 'm', 'p', 'f', 'S')),"
	" dacl AS (SELECT d.defaclobjtype::text AS kind, a.grantee, a.privilege_type"
	"  FROM pg_catalog.pg_default_acl d, pg_catalog.aclexplode(d.defaclacl) a"
	"  WHERE d.defaclrole = (SELECT datdba FROM pg_catalog.pg_database"
	"   WHERE datname = pg_catalog.current_database())"
	"  AND d.defaclnamespace = (SELECT oid FROM ns)),"
	" bad AS (SELECT DISTINCT w.roid, c.kind FROM want w"
	"  JOIN spec s ON s.level = w.level JOIN rel c ON c.kind = s.kind"
	"  WHERE EXISTS (SELECT 1 FROM unnest(s.need || s.deny) AS p(priv)"
	"   WHERE (p.priv = ANY (s.need)) <> coalesce(CASE c.kind"
	"    WHEN 'S' THEN pg_catalog.has_sequence_privilege(w.roid, c.oid, p.priv)"
	"    ELSE pg_catalog.has_table_privilege(w.roid, c.oid, p.priv) END,"
	"    p.priv = ANY (s.need))))"
	" SELECT w.rolname,"
	" coalesce(pg_catalog.has_schema_privilege(w.roid, (SELECT oid FROM ns), 'USAGE'), false),"
	" NOT EXISTS (SELECT 1 FROM bad b WHERE b.roid = w.roid AND b.kind = 'r'),"
	" NOT EXISTS (SELECT 1 FROM bad b WHERE b.roid = w.roid AND b.kind = 'S'),"
	" NOT EXISTS (SELECT 1 FROM spec s WHERE s.level = w.level AND ("
	"  NOT s.need <@ ARRAY(SELECT x.privilege_type FROM dacl x"
	"   WHERE x.kind = s.kind AND x.grantee = w.roid)"
	"  OR s.deny && ARRAY(SELECT x.privilege_type FROM dacl x"
	"   WHERE x.kind = s.kind AND x.grantee = w.roid)))"
	" FROM want w ORDER BY w.rolname";

static int
observe_master(PGconn *c, struct gp_observed *o, struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = gpd_pg__query(c, master_sql, &res, err);

	if (r < 0)
		return r;
	if (PQntuples(res) != 1)
		return gpd_pg__err_set(err, -EIO, "", false, "current user not found in pg_roles");
	if (gpd_pg__value_dup(res, 0, 0, &o->master_user) < 0)
		return gpd_pg__oom(err);
	o->master_superuser = gpd_pg__value_bool(res, 0, 1);
	return 0;
}

static int
observe_roles(PGconn *c, struct gp_observed *o, struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = gpd_pg__query(c, roles_sql, &res, err), n;

	if (r < 0)
		return r;
	n = PQntuples(res);
	o->roles = calloc(n ? (size_t)n : 1, sizeof(*o->roles));
	if (!o->roles)
		return gpd_pg__oom(err);
	o->n_roles = (size_t)n;
	for (int i = 0; i < n; i++) {
		struct gp_obs_role *x = &o->roles[i];

		if (gpd_pg__value_dup(res, i, 0, &x->name) < 0 ||
		    gpd_pg__value_dup(res, i, 8, &x->comment) < 0 ||
		    gpd_pg__value_dup(res, i, 9, &x->set_role) < 0)
			return gpd_pg__oom(err);
		x->login = gpd_pg__value_bool(res, i, 1);
		x->superuser = gpd_pg__value_bool(res, i, 2);
		x->createrole = gpd_pg__value_bool(res, i, 3);
		x->createdb = gpd_pg__value_bool(res, i, 4);
		x->replication = gpd_pg__value_bool(res, i, 5);
		x->bypassrls = gpd_pg__value_bool(res, i, 6);
		x->inherit = gpd_pg__value_bool(res, i, 7);
	}
	return 0;
}

/* Rows [from, to) of databases_sql are one database. */
static int
database_fill(struct gp_obs_database *db, const PGresult *res, int from, int to)
{
	if (gpd_pg__value_dup(res, from, 0, &db->name) < 0 || gpd_pg__value_dup(res, from, 1, &db->owner) < 0)
		return -ENOMEM;
	db->grants = calloc((size_t)(to - from), sizeof(*db->grants));
	if (!db->grants)
		return -ENOMEM;
	for (int i = from; i < to; i++) {
		struct gp_obs_grant *g = &db->grants[db->n_grants];

		if (PQgetisnull(res, i, 2))
			continue; /* empty ACL: nobody holds anything */
		if (gpd_pg__value_dup(res, i, 2, &g->grantee) < 0)
			return -ENOMEM;
		db->n_grants++;
		g->connect = gpd_pg__value_bool(res, i, 3);
		g->temporary = gpd_pg__value_bool(res, i, 4);
		g->create = gpd_pg__value_bool(res, i, 5);
	}
	return 0;
}

static int
observe_databases(PGconn *c, struct gp_observed *o, struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = gpd_pg__query(c, databases_sql, &res, err), n;

	if (r < 0)
		return r;
	n = PQntuples(res);
	o->databases = calloc(n ? (size_t)n : 1, sizeof(*o->databases));
	if (!o->databases)
		return gpd_pg__oom(err);
	for (int i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && gp_streq(PQgetvalue(res, j, 0), PQgetvalue(res, i, 0));
		     j++)
			;
		/* Counted before filling, so that a half-filled entry is still freed. */
		o->n_databases++;
		if (database_fill(&o->databases[o->n_databases - 1], res, i, j) < 0)
			return gpd_pg__oom(err);
	}
	return 0;
}

static int
observe_members(PGconn *c, struct gp_observed *o, struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	int r = gpd_pg__query(c, members_sql, &res, err), n;

	if (r < 0)
		return r;
	n = PQntuples(res);
	o->members = calloc(n ? (size_t)n : 1, sizeof(*o->members));
	if (!o->members)
		return gpd_pg__oom(err);
	o->n_members = (size_t)n;
	for (int i = 0; i < n; i++)
		if (gpd_pg__value_dup(res, i, 0, &o->members[i].role) < 0 ||
		    gpd_pg__value_dup(res, i, 1, &o->members[i].member) < 0)
			return gpd_pg__oom(err);
	return 0;
}

/* An entry whose in-database privileges are observed (and later applied). */
static bool
access_wanted(const struct gp_entry *e)
{
	return e->hold == GP_HOLD_NONE && e->access != GP_ACCESS_OWNER && e->database &&
	       e->username;
}

static bool
database_exists(const struct gp_observed *o, const char *name)
{
	for (size_t i = 0; i < o->n_databases; i++)
		if (gp_streq(o->databases[i].name, name))
			return true;
	return false;
}

static int
access_append(struct gp_observed *o, const char *db, const PGresult *res)
{
	int n = PQntuples(res);
	struct gp_obs_dbaccess *v;

	v = realloc(o->access, (o->n_access + (size_t)n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	o->access = v;
	for (int i = 0; i < n; i++) {
		struct gp_obs_dbaccess *x = &o->access[o->n_access++];

		*x = (struct gp_obs_dbaccess){0};
		if (gpd_pg__value_dup(res, i, 0, &x->role) < 0 || !(x->database = strdup(db)))
			return -ENOMEM;
		x->schema_usage = gpd_pg__value_bool(res, i, 1);
		x->tables_ok = gpd_pg__value_bool(res, i, 2);
		x->sequences_ok = gpd_pg__value_bool(res, i, 3);
		x->defaults_ok = gpd_pg__value_bool(res, i, 4);
	}
	return 0;
}

/* The roles and levels of db's editor/reader entries, as two text[] parameter values. */
static int
access_params(const struct gp_desired *d, const char *db, struct gp_buf *names,
	      struct gp_buf *levels)
{
	struct gp_strv nv = {0}, lv = {0};
	int r = 0;

	for (size_t i = 0; i < d->n && r >= 0; i++) {
		const struct gp_entry *e = &d->v[i];

		if (!access_wanted(e) || !gp_streq(e->database, db))
			continue;
		r = gp_strv_push(&nv, e->username);
		if (r >= 0)
			r = gp_strv_push(&lv, gp_access_to_string(e->access));
	}
	if (r >= 0)
		r = gpd_pg__text_array(names, (const char *const *)nv.v, nv.n);
	if (r >= 0)
		r = gpd_pg__text_array(levels, (const char *const *)lv.v, lv.n);
	gp_strv_release(&nv);
	gp_strv_release(&lv);
	return r;
}

static int
observe_access_db(const struct gpd_pg_target *t, const struct gp_desired *d, const char *db,
		  struct gp_observed *o, struct gpd_error *err)
{
	_cleanup_pqfinish_ PGconn *c = NULL;
	_cleanup_pqclear_ PGresult *res = NULL;
	struct gp_buf names = {0}, levels = {0};
	const char *params[2];
	int r;

	r = access_params(d, db, &names, &levels);
	if (r >= 0) {
		r = gpd_pg__connect_as(t, t->user, t->password, db, &c, err);
		/* Cannot enter (privilege, pg_hba) or dropped meanwhile: see gpd_pg_observe(). */
		if (r == -EACCES || r == -ENOENT) {
			memset(err, 0, sizeof(*err));
			r = 1;
		}
	} else {
		r = gpd_pg__oom(err);
	}
	if (r == 0) {
		params[0] = names.p;
		params[1] = levels.p;
		r = gpd_pg__exec_params(c, access_sql, 2, params, &res, err);
	}
	if (r == 0 && access_append(o, db, res) < 0)
		r = gpd_pg__oom(err);
	/* Checked, even when master could not enter: no rows then means "plan APPLY_GRANTS". */
	if (r >= 0 && gp_strv_push(&o->access_checked, db) < 0)
		r = gpd_pg__oom(err);
	gp_buf_release(&names);
	gp_buf_release(&levels);
	return r < 0 ? r : 0;
}

static int
observe_access(const struct gpd_pg_target *t, const struct gp_desired *d,
	       const struct gp_strv *check_dbs, struct gp_observed *o, struct gpd_error *err)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct gp_entry *e = &d->v[i];
		int r;

		if (!access_wanted(e) || !database_exists(o, e->database) ||
		    (check_dbs && !gp_strv_has(check_dbs, e->database)) ||
		    gp_strv_contains(&o->access_checked, e->database))
			continue;
		r = observe_access_db(t, d, e->database, o, err);
		if (r < 0)
			return r;
	}
	return 0;
}

#define SWAP(a, b)                                                                                 \
	do {                                                                                       \
		__typeof__(a) _t = (a);                                                            \
		(a) = (b);                                                                         \
		(b) = _t;                                                                          \
	} while (0)

/* Exchanges the PostgreSQL half of two observations (the secrets stay where they are). */
static void
observed_swap_pg(struct gp_observed *a, struct gp_observed *b)
{
	SWAP(a->master_user, b->master_user);
	SWAP(a->master_superuser, b->master_superuser);
	SWAP(a->roles, b->roles);
	SWAP(a->n_roles, b->n_roles);
	SWAP(a->databases, b->databases);
	SWAP(a->n_databases, b->n_databases);
	SWAP(a->members, b->members);
	SWAP(a->n_members, b->n_members);
	SWAP(a->access, b->access);
	SWAP(a->n_access, b->n_access);
	SWAP(a->access_checked, b->access_checked);
}

int
gpd_pg_observe(PGconn *master, const struct gpd_pg_target *t, const struct gp_desired *d,
	       const struct gp_strv *check_dbs, struct gp_observed *obs, struct gpd_error *err)
{
	_cleanup_(gp_observed_freep) struct gp_observed *o = gp_observed_new();
	struct gpd_error dummy;
	int r;

	err = gpd_pg__err_or_dummy(err, &dummy);
	if (!o)
		return gpd_pg__oom(err);
	r = observe_master(master, o, err);
	if (r >= 0)
		r = observe_roles(master, o, err);
	if (r >= 0)
		r = observe_databases(master, o, err);
	if (r >= 0)
		r = observe_members(master, o, err);
	if (r >= 0 && d)
		r = observe_access(t, d, check_dbs, o, err);
	if (r < 0)
		return r;
	observed_swap_pg(obs, o);
	gp_observed_sort(obs);
	return 0;
}

/* Where the roles own objects or hold privileges, per database (not the cluster-wide
 * dependencies: a database's owner is one, and dropping the database ends it). */
static const char deps_sql[] =
	"SELECT DISTINCT r.rolname, d.datname FROM pg_catalog.pg_shdepend s"
	" JOIN pg_catalog.pg_roles r ON r.oid = s.refobjid"
	" JOIN pg_catalog.pg_database d ON d.oid = s.dbid"
	" WHERE s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass"
	" AND r.rolname = ANY ($1::text[]) ORDER BY 1, 2";

int
gpd_pg_observe_deps(PGconn *master, const struct gp_strv *roles, struct gp_observed *obs,
		    struct gpd_error *err)
{
	_cleanup_pqclear_ PGresult *res = NULL;
	_cleanup_(gp_buf_release) struct gp_buf arr = {0};
	const char *param;
	int r, n;

	if (!roles->n)
		return 0;
	r = gpd_pg__text_array(&arr, (const char *const *)roles->v, roles->n);
	if (r < 0)
		return gpd_pg__oom(err);
	param = arr.p;
	r = gpd_pg__exec_params(master, deps_sql, 1, &param, &res, err);
	if (r < 0)
		return r;
	n = PQntuples(res);
	obs->deps = calloc(n ? (size_t)n : 1, sizeof(*obs->deps));
	if (!obs->deps)
		return gpd_pg__oom(err);
	for (int i = 0; i < n; i++) {
		struct gp_obs_roledep *x = &obs->deps[obs->n_deps++];

		if (gpd_pg__value_dup(res, i, 0, &x->role) < 0 ||
		    gpd_pg__value_dup(res, i, 1, &x->database) < 0)
			return gpd_pg__oom(err);
	}
	return 0;
}
