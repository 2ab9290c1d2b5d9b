/*
 * routing.c — request contracts in the join and their approval routes (routing.h).
 *
 * Runs after the join of tfvars and catalog has made and checked its entries, and before the
 * gates: a contract only adds holds and facts (contract, route, missing approvals) to the
 * entries of its database. Deliberately not here: reading contracts and their rules
 * (inputs/contract.c), adding the entry of a contract nobody else describes (plan/join.c,
 * which makes every entry), and holding an entry for its route (plan/gates.c).
 *
 * Every input value shown in a reason or diagnostic goes through gp_quote() (base/quote.h).
 */
#include "plan/routing.h"

#include <stdio.h>

#include "plan/gates.h"

/* ---------------------------------------------------------------------------------------
 * Routes
 */

/* The value a route's condition reads: the entry's environment and risk, else the contract's. */
static const char *
route_value(const struct gp_contract *c, const char *env, const struct gp_entry *e,
	    enum gp_req_field f)
{
	if (f == GP_REQ_ENVIRONMENT)
		return env;
	if (f == GP_REQ_RISK)
		return gp_risk_to_string(e->risk);
	return gp_contract_get(c, f);
}

static bool
route_holds(const struct gp_schema_route *rt, const struct gp_contract *c, const char *env,
	    const struct gp_entry *e)
{
	for (size_t i = 0; i < rt->n_cond; i++) {
		const struct gp_schema_cond *w = &rt->cond[i];
		const char *v = route_value(c, env, e, w->field);

		if (w->op == GP_SCHEMA_DEFINED ? (v != NULL) != w->defined
					       : !v || !gp_strv_contains(&w->values, v))
			return false;
	}
	return true;
}

const struct gp_schema_route *
gp_route_select(const struct gp_schema *s, const struct gp_contract *c, const char *env,
		const struct gp_entry *e)
{
	for (size_t i = 0; i < s->n_routes; i++)
		if (route_holds(&s->routes[i], c, env, e))
			return &s->routes[i];
	return NULL;
}

int
gp_route_missing(const struct gp_schema_route *rt, const struct gp_strv *approvals,
		 struct gp_buf *out)
{
	int n = 0;

	for (size_t i = 0; i < rt->reviewers.n; i++)
		if (!gp_strv_contains(approvals, rt->reviewers.v[i]))
			gp_buf_printf(out, "%s%s", n++ ? ", " : "", rt->reviewers.v[i]);
	return out->oom ? -ENOMEM : n;
}

/* ---------------------------------------------------------------------------------------
 * The contract step of the join
 */

struct cj {
	const struct gp_contract_join *in;
	struct gp_desired *d;
	struct gp_diags *diags;
	size_t *by_db; /* entry indices sorted by database */
	size_t n_by_db;
	const struct gp_catalog_entry **cat; /* the environment's catalog entries, by database */
	size_t n_cat;
};

static const char *
contract_db(const struct gp_contract *c)
{
	return c->parsed ? c->f[GP_REQ_DATABASE_NAME].v : c->salvaged_db;
}

static int
cmp_entry_db(const void *a, const void *b, void *userdata)
{
	const struct gp_desired *d = userdata;
	const char *x = d->v[*(const size_t *)a].database, *y = d->v[*(const size_t *)b].database;

	return strcmp(x, y);
}

/* The entries of database db, in by_db: [*ret_lo, return value). */
static size_t
entries_of(const struct cj *j, const char *db, size_t *ret_lo)
{
	size_t lo = 0, hi = j->n_by_db, end;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(j->d->v[j->by_db[mid]].database, db) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < j->n_by_db && gp_streq(j->d->v[j->by_db[end]].database, db); end++)
		;
	*ret_lo = lo;
	return end;
}

static int
cmp_cat_db(const void *a, const void *b)
{
	return strcmp((*(const struct gp_catalog_entry *const *)a)->database.v,
		      (*(const struct gp_catalog_entry *const *)b)->database.v);
}

/* The catalog entry of db in this environment (one at most: YAML keys are unique). */
static const struct gp_catalog_entry *
catalog_of(const struct cj *j, const char *db)
{
	struct gp_catalog_entry k = {.database.v = (char *)db};
	const struct gp_catalog_entry *kp = &k, *const *hit;

	if (!j->n_cat)
		return NULL;
	hit = bsearch(&kp, j->cat, j->n_cat, sizeof(*j->cat), cmp_cat_db);
	return hit ? *hit : NULL;
}

/* Holds every entry of db with h and reason (gp_entry_hold(): the first reason stands). */
static int
hold_db(struct cj *j, const char *db, enum gp_hold h, const char *reason)
{
	size_t lo, hi = entries_of(j, db, &lo);
	int r = 0;

	for (size_t k = lo; r >= 0 && k < hi; k++)
		r = gp_entry_hold(&j->d->v[j->by_db[k]], h, reason);
	return r;
}

static int conflict(struct cj *j, const struct gp_contract *c, enum gp_req_field f,
		    const char *fmt, ...) _printf_(4, 5);

/* One error at field f of c, and the database's entries held with it as reason. */
static int
conflict(struct cj *j, const struct gp_contract *c, enum gp_req_field f, const char *fmt, ...)
{
	_cleanup_(gp_buf_release) struct gp_buf b = {0};
	struct gp_pos p = gp_contract_pos(c, f);
	va_list ap;
	int r;

	va_start(ap, fmt);
	gp_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (b.oom)
		return -ENOMEM;
	r = gp_pos_error(j->diags, &p, "%s", b.p);
	return r < 0 ? r : hold_db(j, contract_db(c), GP_HOLD_CONFLICT, b.p);
}

/* A second contract for one database: neither may decide its route. */
static int
check_duplicate(struct cj *j, const struct gp_contract *c, size_t i)
{
	const char *db = contract_db(c);
	char q[GP_QUOTE_BUF];

	for (size_t k = 0; k < i; k++) {
		const struct gp_contract *o = &j->in->contracts->v[k];
		struct gp_pos p = gp_contract_pos(o, GP_REQ_DATABASE_NAME);

		if (!gp_streq(contract_db(o), db))
			continue;
		return conflict(j, c, GP_REQ_DATABASE_NAME,
				"database %s is requested by two contracts: %s and %s (%s:%u:%u)",
				gp_quote(q, db), gp_contract_name(c), gp_contract_name(o), p.file,
				p.line, p.col) < 0
			       ? -ENOMEM
			       : 1;
	}
	return 0;
}

/* The owner entry of db that the tfvars define, or NULL. */
static const struct gp_entry *
tfvars_owner(const struct cj *j, const char *db)
{
	size_t lo, hi = entries_of(j, db, &lo);

	for (size_t k = lo; k < hi; k++) {
		const struct gp_entry *e = &j->d->v[j->by_db[k]];

		if (e->has_tfvars && e->access == GP_ACCESS_OWNER)
			return e;
	}
	return NULL;
}

/* A catalog value the contract states differently; 1 when it held the entries. */
static int
differs_from_catalog(struct cj *j, const struct gp_contract *c, enum gp_req_field f,
		     const struct gp_field *cf, const char *what)
{
	const struct gp_contract_value *cv = &c->f[f];
	char qa[GP_QUOTE_BUF], qb[GP_QUOTE_BUF];
	int r;

	if (!cv->present || !cf->v || gp_streq(cv->v, cf->v))
		return 0;
	r = conflict(j, c, f, "contract %s says %s%s %s, the catalog's %s says %s (%s:%u:%u)",
		     gp_contract_name(c), cv->section, gp_req_field_key(f), gp_quote(qa, cv->v),
		     what, gp_quote(qb, cf->v), j->in->cat_file ? j->in->cat_file : "catalog",
		     cf->line, cf->col);
	return r < 0 ? r : 1;
}

/*
 * Username, risk and size as the tfvars and the catalog have them. The username is compared
 * with the owner entry of the tfvars when there is one (the join already compares that with
 * the catalog's), else with the catalog's: one disagreement, one message.
 */
static int
check_agreement(struct cj *j, const struct gp_contract *c)
{
	const char *db = contract_db(c), *user = gp_contract_get(c, GP_REQ_USERNAME);
	const struct gp_entry *owner = tfvars_owner(j, db);
	const struct gp_catalog_entry *cat = catalog_of(j, db);
	char qa[GP_QUOTE_BUF], qb[GP_QUOTE_BUF], qk[GP_QUOTE_BUF];
	int r = 0;

	if (owner && owner->username && !gp_streq(owner->username, user))
		return conflict(j, c, GP_REQ_USERNAME,
				"contract %s says spec.username %s, the tfvars owner entry %s "
				"says %s (%s:%u:%u)",
				gp_contract_name(c), gp_quote(qa, user), gp_quote(qk, owner->key),
				gp_quote(qb, owner->username), owner->file ? owner->file : "tfvars",
				owner->line, owner->col) < 0
			       ? -ENOMEM
			       : 1;
	if (!cat)
		return 0;
	if (!owner)
		r = differs_from_catalog(j, c, GP_REQ_USERNAME, &cat->username,
					 "configuration.username");
	if (r == 0)
		r = differs_from_catalog(j, c, GP_REQ_RISK, &cat->risk, "metadata.risk");
	if (r == 0)
		r = differs_from_catalog(j, c, GP_REQ_SIZE, &cat->size_tier,
					 "configuration.size_tier");
	return r;
}

/* No tfvars entry yet: said once per contract (the gate holds its entries pending). */
static int
warn_no_tfvars(struct cj *j, const struct gp_contract *c)
{
	struct gp_pos p = gp_contract_pos(c, GP_REQ_DATABASE_NAME);
	size_t lo, hi = entries_of(j, contract_db(c), &lo);
	char q[GP_QUOTE_BUF];

	for (size_t k = lo; k < hi; k++)
		if (j->d->v[j->by_db[k]].has_tfvars)
			return 0;
	return gp_pos_warning(j->diags, &p,
			      "contract %s requests database %s in %s, which no tfvars entry has: "
			      "it stays pending (no tfvars entry)",
			      gp_contract_name(c), gp_quote(q, contract_db(c)), j->in->env);
}

/* What the contract tells its entries: itself, risk and size (no catalog), route. */
static int
describe_entry(struct cj *j, const struct gp_contract *c, struct gp_entry *e)
{
	const struct gp_schema_route *rt;
	_cleanup_(gp_buf_release) struct gp_buf missing = {0};
	int v, n;

	if (!e->has_catalog && (v = gp_risk_from_string(gp_contract_get(c, GP_REQ_RISK))) >= 0)
		e->risk = (enum gp_risk)v;
	if (!e->has_catalog && (v = gp_size_from_string(gp_contract_get(c, GP_REQ_SIZE))) >= 0)
		e->size = (enum gp_size)v;
	free(e->contract);
	e->contract = strdup(gp_contract_name(c));
	if (!e->contract)
		return -ENOMEM;
	/* A database with two contracts is described by each (check_duplicate() holds it). */
	free(e->route);
	free(e->approvals_missing);
	e->route = e->approvals_missing = NULL;
	rt = gp_route_select(j->in->schema, c, j->in->env, e);
	if (!rt)
		return 0;
	e->route = strdup(rt->tier);
	n = gp_route_missing(rt, &e->approvals, &missing);
	if (!e->route || n < 0)
		return -ENOMEM;
	if (n > 0 && !(e->approvals_missing = gp_buf_steal(&missing)))
		return -ENOMEM;
	return 0;
}

static int
join_contract(struct cj *j, size_t i)
{
	const struct gp_contract *c = &j->in->contracts->v[i];
	const char *db = contract_db(c);
	char reason[1024];
	size_t lo, hi;
	int r;

	if (!db)
		return 0; /* describes no entry; its problems are reported */
	if (!c->valid) {
		snprintf(reason, sizeof(reason), "contract %s is invalid: %s", c->file,
			 c->problem ? c->problem : "see gprdsd validate");
		return hold_db(j, db, GP_HOLD_INVALID, reason);
	}
	r = check_duplicate(j, c, i);
	if (r == 0)
		r = check_agreement(j, c);
	if (r == 0)
		r = warn_no_tfvars(j, c);
	hi = entries_of(j, db, &lo);
	for (size_t k = lo; r >= 0 && k < hi; k++)
		r = describe_entry(j, c, &j->d->v[j->by_db[k]]);
	return r < 0 ? r : 0;
}

/* The sorted lookups: entries and this environment's catalog entries, by database. */
static int
index_cj(struct cj *j)
{
	const struct gp_catalog *c = j->in->catalog;

	j->by_db = calloc(j->d->n + 1, sizeof(*j->by_db));
	j->cat = calloc((c ? c->n : 0) + 1, sizeof(*j->cat));
	if (!j->by_db || !j->cat)
		return -ENOMEM;
	for (size_t i = 0; i < j->d->n; i++)
		if (j->d->v[i].database)
			j->by_db[j->n_by_db++] = i;
	qsort_r(j->by_db, j->n_by_db, sizeof(*j->by_db), cmp_entry_db, j->d);
	for (size_t i = 0; c && i < c->n; i++)
		if (c->v[i].database.v && gp_streq(c->v[i].environment.v, j->in->env))
			j->cat[j->n_cat++] = &c->v[i];
	qsort(j->cat, j->n_cat, sizeof(*j->cat), cmp_cat_db);
	return 0;
}

int
gp_join_contracts(struct gp_desired *d, const struct gp_contract_join *in, struct gp_diags *diags)
{
	struct cj j = {.in = in, .d = d, .diags = diags};
	int r;

	if (!in->contracts || !in->contracts->n)
		return 0;
	r = index_cj(&j);
	for (size_t i = 0; r >= 0 && i < in->contracts->n; i++)
		r = join_contract(&j, i);
	free(j.by_db);
	free(j.cat);
	return r;
}
