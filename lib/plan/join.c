/*
 * join.c — the join of one environment's tfvars entries with the catalog into its desired
 * state (DESIGN §1.3), with the naming rules of §1.4 (join.h).
 *
 * The join runs in steps over one working array (struct join): create an entry per tfvars
 * member and per catalog-only database, validate each entry, find conflicts (usernames claimed
 * twice, databases with zero or two owners, catalog username ≠ owner username), carry an
 * owner's hold over to the other entries of its database, warn about entries without catalog
 * entry, join the request contracts (plan/routing.c), apply the gates (plan/gates.c), sort. Every problem holds only the entries involved;
 * nothing here fails the environment as a whole.
 *
 * Deliberately not here: reading or parsing files (inputs arrive parsed), deciding that an
 * environment's desired state is unknown (the caller does that on a parse error, before the
 * join), the wording of catalog problems (inputs/lint.c, shared with `validate`), the gates
 * themselves (plan/gates.c), and removing anything (a catalog asking for decommissioning only
 * gets the entry held with GP_HOLD_DECOMMISSION for the decommissioning code).
 *
 * Every input value shown in a reason or diagnostic goes through gp_quote() (base/quote.h),
 * so a hostile name cannot forge log lines, terminal escapes or GitHub annotations.
 */
#include "plan/join.h"

#include "base/quote.h"
#include "inputs/lint.h"
#include "model/names.h"
#include "plan/gates.h"
#include "plan/routing.h"

/* ---------------------------------------------------------------------------------------
 * The join's working state
 */

/* Where each entry of d->v came from; index-aligned with d->v until the final sort. */
struct join_src {
	const struct gp_tfvars_entry *tf;   /* NULL: catalog-only entry */
	const struct gp_catalog_entry *cat; /* NULL: no catalog entry for this env */
	bool access_ok;			    /* access_level parsed (else stored as reader) */
};

/*
 * Entries that share a value (a username, a database) are linked into groups once, in
 * O(n log n), so that the checks below walk a group instead of scanning all entries for each
 * one: at a thousand entries the scans were most of the daemon's CPU per pass.
 */
#define NO_NEXT SIZE_MAX

struct groups {
	size_t *next; /* next entry of the same group, in index order, or NO_NEXT */
	bool *first;  /* the entry is the first (lowest index) of its group */
};

struct join {
	const struct gp_join_input *in;
	struct gp_diags *diags;
	struct gp_desired *d;
	struct join_src *src;
	const char *tf_file;
	const char *cat_file;
	struct groups users, dbs;
	/* Sorted lookups, so that joining N entries is O(N log N) (index_inputs()). */
	const struct gp_catalog_entry **cat_by_db; /* this env's catalog entries, by database */
	size_t n_cat;
	const char **tf_dbs, **tf_keys; /* the tfvars' databases and keys, sorted */
	size_t n_tf_dbs, n_tf_keys;
	/* The entries joined with each catalog entry (validate_entries()): the first one by the
	 * catalog entry's index, the next ones linked in index order; NO_NEXT ends a list. */
	size_t *cat_first, *cat_next;
};

/* Position of a tfvars field, falling back to the member's key when the field is absent. */
static struct gp_pos
tf_pos(const struct join *j, const struct gp_tfvars_entry *tf, const struct gp_field *f)
{
	if (f && f->line)
		return (struct gp_pos){j->tf_file, f->line, f->col};
	return (struct gp_pos){j->tf_file, tf->key.line, tf->key.col};
}

/* Where an entry stands: its tfvars key, else its catalog database key, else its contract's
 * databaseName. */
static struct gp_pos
entry_pos(const struct join *j, size_t i)
{
	const struct gp_entry *e = &j->d->v[i];

	if (j->src[i].tf)
		return tf_pos(j, j->src[i].tf, NULL);
	if (j->src[i].cat)
		return gp_catalog_pos(j->cat_file, j->src[i].cat, NULL);
	return (struct gp_pos){e->file, e->line, e->col};
}

/* The diagnostics from index `from` on concern entry i. Its key is also its key in the file
 * they point into: the tfvars for a tfvars entry, the catalog (the database) for a
 * catalog-only one. */
static int
entry_context(struct join *j, size_t i, size_t from)
{
	return gp_diags_set_context(j->diags, from, NULL, j->d->v[i].key);
}

/*
 * Holds entry i with a formatted reason (unless it is held already: gp_entry_hold()) and
 * reports it as an error at p.
 */
static int reject(struct join *j, size_t i, enum gp_hold h, const struct gp_pos *p, const char *fmt,
		  ...) _printf_(5, 6);

static int
reject(struct join *j, size_t i, enum gp_hold h, const struct gp_pos *p, const char *fmt, ...)
{
	_cleanup_(gp_buf_release) struct gp_buf b = {0};
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gp_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r < 0)
		return r;
	r = gp_entry_hold(&j->d->v[i], h, b.p);
	if (r >= 0)
		r = gp_pos_error(j->diags, p, "%s", b.p);
	return r < 0 ? r : entry_context(j, i, j->diags->n - 1);
}

/*
 * Holds entry i with reason (unless it is held already) as a consequence of a problem
 * reported as an error elsewhere: one note at p says why ("held: ..."), not another error.
 */
static int consequence(struct join *j, size_t i, enum gp_hold h, const struct gp_pos *p,
		       const char *reason, const char *fmt, ...) _printf_(6, 7);

static int
consequence(struct join *j, size_t i, enum gp_hold h, const struct gp_pos *p, const char *reason,
	    const char *fmt, ...)
{
	size_t n_before = j->diags->n;
	va_list ap;
	int r;

	r = gp_entry_hold(&j->d->v[i], h, reason);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	r = gp_diags_vadd(j->diags, GP_SEV_NOTE, 0, p->file, p->line, p->col, fmt, ap);
	va_end(ap);
	return r < 0 ? r : entry_context(j, i, n_before);
}

/* Holds every entry joined with catalog entry cat as invalid, with reason. */
static int
hold_catalog_entries(struct join *j, const struct gp_catalog_entry *cat, const char *reason)
{
	size_t first = j->cat_first[cat - j->in->catalog->v];
	int r = 0;

	for (size_t i = first; r >= 0 && i != NO_NEXT; i = j->cat_next[i])
		r = gp_entry_hold(&j->d->v[i], GP_HOLD_INVALID, reason);
	return r;
}

/*
 * A problem of a catalog entry concerns every entry of its database: lint.c added one error
 * at the catalog position (not one per entry, which would repeat it); every such entry is held
 * with it, for each error added since diags held n_before, in order. A shape problem that
 * catalog.c reported (cat->invalid) comes first, and is not reported again.
 */
static int
hold_catalog(struct join *j, const struct gp_catalog_entry *cat, size_t n_before)
{
	int r = gp_diags_set_context(j->diags, n_before, NULL, cat->database.v);

	if (r >= 0 && cat->invalid)
		r = hold_catalog_entries(j, cat, cat->invalid);
	for (size_t k = n_before; r >= 0 && k < j->diags->n; k++)
		r = hold_catalog_entries(j, cat, j->diags->v[k].message);
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Step 1: entries
 */

static int
cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_cat_db(const void *a, const void *b)
{
	return strcmp((*(const struct gp_catalog_entry *const *)a)->database.v,
		      (*(const struct gp_catalog_entry *const *)b)->database.v);
}

static int
index_inputs(struct join *j)
{
	const struct gp_catalog *c = j->in->catalog;
	const struct gp_tfvars *t = j->in->tfvars;

	j->cat_by_db = calloc((c ? c->n : 0) + 1, sizeof(*j->cat_by_db));
	j->tf_dbs = calloc((t ? t->n : 0) + 1, sizeof(*j->tf_dbs));
	j->tf_keys = calloc((t ? t->n : 0) + 1, sizeof(*j->tf_keys));
	if (!j->cat_by_db || !j->tf_dbs || !j->tf_keys)
		return -ENOMEM;
	for (size_t i = 0; c && i < c->n; i++)
		if (c->v[i].database.v && gp_streq(c->v[i].environment.v, j->in->env))
			j->cat_by_db[j->n_cat++] = &c->v[i];
	for (size_t i = 0; t && i < t->n; i++) {
		if (t->v[i].database.v)
			j->tf_dbs[j->n_tf_dbs++] = t->v[i].database.v;
		if (t->v[i].key.v)
			j->tf_keys[j->n_tf_keys++] = t->v[i].key.v;
	}
	qsort(j->cat_by_db, j->n_cat, sizeof(*j->cat_by_db), cmp_cat_db);
	qsort(j->tf_dbs, j->n_tf_dbs, sizeof(*j->tf_dbs), cmp_strp);
	qsort(j->tf_keys, j->n_tf_keys, sizeof(*j->tf_keys), cmp_strp);
	return 0;
}

static void
index_release(struct join *j)
{
	free(j->cat_by_db);
	free(j->tf_dbs);
	free(j->tf_keys);
}

static bool
in_sorted(const char *const *v, size_t n, const char *s)
{
	return s && n && bsearch(&s, v, n, sizeof(*v), cmp_strp);
}

static const struct gp_catalog_entry *
find_catalog(const struct join *j, const char *database)
{
	struct gp_catalog_entry k = {.database.v = (char *)database};
	const struct gp_catalog_entry *kp = &k, *const *hit;

	if (!database || !j->n_cat)
		return NULL;
	/* One catalog entry per database and environment: YAML mapping keys are unique. */
	hit = bsearch(&kp, j->cat_by_db, j->n_cat, sizeof(*j->cat_by_db), cmp_cat_db);
	return hit ? *hit : NULL;
}

static enum gp_risk
default_risk(const struct join *j)
{
	return j->in->env_config ? j->in->env_config->defaults.risk : GP_RISK_MEDIUM;
}

static char *
secret_name(const struct join *j, const char *key)
{
	const struct gp_env_config *ec = j->in->env_config;

	return gp_secret_name(ec ? ec->secret.name : NULL, j->in->env, key);
}

/* Under alternating rotation the entry has a second login role (DESIGN §4.4). */
static int
fill_alt(struct gp_entry *e)
{
	if (e->strategy != GP_STRATEGY_ALTERNATING || !e->username)
		return 0;
	e->alt_username = gp_alt_username(e->username);
	return e->alt_username ? 0 : -ENOMEM;
}

/* What every entry gets, tfvars-backed or catalog-only: catalog metadata or defaults. */
static int
fill_entry(struct join *j, size_t i)
{
	struct gp_entry *e = &j->d->v[i];
	const struct gp_catalog_entry *cat = j->src[i].cat;
	int v;

	e->risk = default_risk(j);
	e->size = GP_SIZE_SMALL;
	e->requested = GP_STATE_PENDING;
	/* Least privilege (DESIGN §3): CREATEDB only for owners, per defaults.createdb. */
	e->createdb = e->access == GP_ACCESS_OWNER &&
		      (j->in->env_config ? j->in->env_config->defaults.createdb : true);
	e->has_catalog = cat != NULL;
	e->secret_name = secret_name(j, e->key);
	e->strategy = j->in->env_config ? j->in->env_config->rotation.strategy
					: GP_STRATEGY_SINGLE;
	if (!e->secret_name)
		return -ENOMEM;
	if (!cat)
		return fill_alt(e);
	/* Values that do not parse keep the default; validation holds the entry for them. */
	if ((v = gp_risk_from_string(cat->risk.v)) >= 0)
		e->risk = (enum gp_risk)v;
	if ((v = gp_size_from_string(cat->size_tier.v)) >= 0)
		e->size = (enum gp_size)v;
	if ((v = gp_state_from_string(cat->status.v)) >= 0)
		e->requested = (enum gp_state)v;
	if ((v = gp_strategy_from_string(cat->rotation_strategy.v)) >= 0)
		e->strategy = (enum gp_strategy)v;
	if (cat->rotate_after.v)
		gp_time_parse_rfc3339(cat->rotate_after.v, &e->rotate_after);
	if (!gp_isempty(cat->decommission_confirm.v) &&
	    !(e->decommission_confirm = strdup(cat->decommission_confirm.v)))
		return -ENOMEM;
	if (!gp_isempty(cat->approved_by.v)) {
		e->approved_by = strdup(cat->approved_by.v);
		if (!e->approved_by)
			return -ENOMEM;
	}
	for (size_t k = 0; k < cat->approvers.n; k++)
		if (gp_strv_push(&e->approvals, cat->approvers.v[k]) < 0)
			return -ENOMEM;
	return fill_alt(e);
}

/* Claims the next slot of d->v, zeroed, so that gp_desired_free() can always clean up. */
static size_t
new_slot(struct join *j, const struct gp_tfvars_entry *tf, const struct gp_catalog_entry *cat)
{
	size_t i = j->d->n++;

	j->d->v[i] = (struct gp_entry){0};
	j->src[i] = (struct join_src){.tf = tf, .cat = cat, .access_ok = true};
	return i;
}

static int
add_tfvars_entry(struct join *j, const struct gp_tfvars_entry *tf)
{
	size_t i = new_slot(j, tf, find_catalog(j, tf->database.v));
	struct gp_entry *e = &j->d->v[i];
	int a;

	/* A member always has a key in HCL; "" keeps key non-NULL should one ever not. */
	e->key = strdup(tf->key.v ? tf->key.v : "");
	e->database = gp_strdup0(tf->database.v);
	e->username = gp_strdup0(tf->username.v);
	e->file = gp_strdup0(j->tf_file);
	if (!e->key || (tf->database.v && !e->database) || (tf->username.v && !e->username) ||
	    (j->tf_file && !e->file))
		return -ENOMEM;
	e->line = tf->key.line;
	e->col = tf->key.col;
	e->has_tfvars = true;
	e->access = GP_ACCESS_OWNER;
	/* An access_level that is misspelt or not a string is unknown, as an invalid one. */
	if (tf->access.reported) {
		j->src[i].access_ok = false;
		e->access = GP_ACCESS_READER;
	} else if (tf->access.v) {
		a = gp_access_from_string(tf->access.v);
		/* An unknown level is held as invalid; reader is the least harmful stand-in. */
		j->src[i].access_ok = a >= 0;
		e->access = a >= 0 ? (enum gp_access)a : GP_ACCESS_READER;
	}
	return fill_entry(j, i);
}

static bool
tfvars_has_database(const struct join *j, const char *database)
{
	return in_sorted(j->tf_dbs, j->n_tf_dbs, database);
}

static bool
tfvars_has_key(const struct join *j, const char *key)
{
	return in_sorted(j->tf_keys, j->n_tf_keys, key);
}

/*
 * An entry that has no tfvars entry yet: a catalog entry of this env (cat) or a request
 * contract (cat NULL) whose database no tfvars entry uses. Its key is the database name;
 * should that name already be an app key of this env, adding it would make two entries share
 * a key (and a state record), so it is left out with a warning instead.
 */
static int
add_pending_entry(struct join *j, const struct gp_catalog_entry *cat, const char *database,
		  const char *username, const struct gp_pos *p)
{
	struct gp_entry *e;
	size_t i;
	char q[GP_QUOTE_BUF];

	if (tfvars_has_key(j, database))
		return gp_pos_warning(j->diags, p,
				      "%s database %s has no tfvars entry and its name is the app "
				      "key of another entry; it is not tracked",
				      cat ? "catalog" : "requested", gp_quote(q, database));
	i = new_slot(j, NULL, cat);
	e = &j->d->v[i];
	e->key = strdup(database);
	e->database = strdup(database);
	e->username = gp_strdup0(username);
	e->owner_role = gp_strdup0(username);
	e->file = gp_strdup0(p->file);
	if (!e->key || !e->database || (username && (!e->username || !e->owner_role)) ||
	    (p->file && !e->file))
		return -ENOMEM;
	e->line = p->line;
	e->col = p->col;
	e->access = GP_ACCESS_OWNER;
	return fill_entry(j, i);
}

static int
add_catalog_entry(struct join *j, const struct gp_catalog_entry *cat)
{
	struct gp_pos p = gp_catalog_pos(j->cat_file, cat, NULL);

	return add_pending_entry(j, cat, cat->database.v, cat->username.v, &p);
}

/* A valid contract whose database neither the tfvars nor this env's catalog has. */
static int
add_contract_entry(struct join *j, const struct gp_contract *c)
{
	const char *db = gp_contract_get(c, GP_REQ_DATABASE_NAME);
	struct gp_pos p = gp_contract_pos(c, GP_REQ_DATABASE_NAME);

	if (!c->valid || !db || tfvars_has_database(j, db) || find_catalog(j, db))
		return 0;
	/* Two contracts for one database make one entry; routing.c holds it. */
	for (size_t i = 0; i < j->d->n; i++)
		if (!j->src[i].tf && !j->src[i].cat && gp_streq(j->d->v[i].database, db))
			return 0;
	return add_pending_entry(j, NULL, db, gp_contract_get(c, GP_REQ_USERNAME), &p);
}

static int
add_entries(struct join *j)
{
	const struct gp_tfvars *t = j->in->tfvars;
	const struct gp_catalog *c = j->in->catalog;
	int r = 0;

	for (size_t i = 0; r >= 0 && t && i < t->n; i++)
		r = add_tfvars_entry(j, &t->v[i]);
	for (size_t i = 0; r >= 0 && c && i < c->n; i++) {
		const struct gp_catalog_entry *cat = &c->v[i];

		/* The database is the YAML map key, never absent in practice; skip if it is. */
		if (!cat->database.v || !gp_streq(cat->environment.v, j->in->env) ||
		    tfvars_has_database(j, cat->database.v))
			continue;
		r = add_catalog_entry(j, cat);
	}
	for (size_t i = 0; r >= 0 && j->in->contracts && i < j->in->contracts->n; i++)
		r = add_contract_entry(j, &j->in->contracts->v[i]);
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Step 2: validation of each entry
 */

/* A name field of a tfvars entry against its rule. An absent field whose problem the tfvars
 * reader reported (a misspelt key, a value that is not a string) is not "missing" too. */
static int
check_name_field(struct join *j, size_t i, const char *what, const struct gp_field *f,
		 const char *(*check)(const char *), bool reserved, const struct gp_pos *p)
{
	const char *v = f->v, *why;
	char q[GP_QUOTE_BUF + 1];

	if (!v && f->reported)
		return 0;
	why = check(v);
	if (!why && reserved)
		why = gp_name_reserved_why(v, j->in->master_user, j->in->master_db);
	if (!why)
		return 0;
	return reject(j, i, GP_HOLD_INVALID, p, "%s %s%s", what, gp_quote_sp(q, v), why);
}

/*
 * The entry's secret name: within Secrets Manager's rules (the configuration is checked for
 * them, but not every caller has one), and not the master secret's, which would let an app
 * overwrite the master. An entry held already (a bad app key) is not reported twice.
 */
static int
check_secret_name(struct join *j, size_t i, const struct gp_pos *p)
{
	const struct gp_env_config *ec = j->in->env_config;
	const struct gp_entry *e = &j->d->v[i];
	_cleanup_free_ char *master =
		gp_master_secret_name(ec ? ec->master_secret : NULL, j->in->env);
	char q[GP_QUOTE_BUF], qn[GP_QUOTE_BUF];
	const char *bad;

	if (!master)
		return -ENOMEM;
	if (e->hold == GP_HOLD_NONE && (bad = gp_check_secret_name(e->secret_name)))
		return reject(j, i, GP_HOLD_INVALID, p, "app key %s gives the secret name %s, which %s",
			      gp_quote(q, e->key), gp_quote(qn, e->secret_name), bad);
	if (!gp_streq(e->secret_name, master))
		return 0;
	return reject(j, i, GP_HOLD_INVALID, p, "app key %s would name the master secret %s",
		      gp_quote(q, e->key), master);
}

static int
validate_tfvars_entry(struct join *j, size_t i)
{
	const struct gp_tfvars_entry *tf = j->src[i].tf;
	struct gp_pos pk = tf_pos(j, tf, &tf->key), pd = tf_pos(j, tf, &tf->database),
		      pu = tf_pos(j, tf, &tf->username), pa = tf_pos(j, tf, &tf->access);
	char q[GP_QUOTE_BUF];
	int r;

	/* Its shape problem was reported by the reader: held for it, not reported again. */
	r = tf->invalid ? gp_entry_hold(&j->d->v[i], GP_HOLD_INVALID, tf->invalid) : 0;
	if (r >= 0)
		r = check_name_field(j, i, "app key", &tf->key, gp_check_app_key, false, &pk);
	if (r >= 0)
		r = check_name_field(j, i, "database_name", &tf->database, gp_check_database_name,
				     true, &pd);
	if (r >= 0)
		r = check_name_field(j, i, "username", &tf->username, gp_check_username, true, &pu);
	if (r >= 0 && !j->src[i].access_ok && tf->access.v)
		r = reject(j, i, GP_HOLD_INVALID, &pa,
			   "access_level %s must be one of owner, editor, reader",
			   gp_quote(q, tf->access.v));
	if (r >= 0)
		r = check_secret_name(j, i, &pk);
	return r;
}

/*
 * The tfvars of a catalog-only entry do not exist yet; its own names must still be valid.
 * Worded and placed as `validate` reports them, with the master names known here.
 */
static int
validate_catalog_only_entry(struct join *j, size_t i)
{
	const struct gp_catalog_entry *cat = j->src[i].cat;
	size_t n_before = j->diags->n;
	int r;

	r = gp_catalog_names_check(j->cat_file, cat, j->in->master_user, j->in->master_db,
				   j->diags);
	if (r >= 0)
		r = hold_catalog(j, cat, n_before);
	if (r >= 0) {
		struct gp_pos p = entry_pos(j, i);

		r = check_secret_name(j, i, &p);
	}
	return r;
}

/* Links the entries of each catalog entry (struct join), in O(n): the checks of a catalog
 * entry then reach its entries without scanning all of them. */
static int
link_catalog(struct join *j)
{
	size_t n_cat = j->in->catalog ? j->in->catalog->n : 0;

	j->cat_first = malloc((n_cat + 1) * sizeof(*j->cat_first));
	j->cat_next = malloc((j->d->n + 1) * sizeof(*j->cat_next));
	if (!j->cat_first || !j->cat_next)
		return -ENOMEM;
	for (size_t k = 0; k < n_cat; k++)
		j->cat_first[k] = NO_NEXT;
	for (size_t i = j->d->n; i-- > 0;) {
		size_t k;

		j->cat_next[i] = NO_NEXT;
		if (!j->src[i].cat)
			continue;
		k = (size_t)(j->src[i].cat - j->in->catalog->v);
		j->cat_next[i] = j->cat_first[k];
		j->cat_first[k] = i;
	}
	return 0;
}

/* Enum values and requester format of one joined catalog entry. */
static int
validate_catalog_entry(struct join *j, const struct gp_catalog_entry *cat)
{
	size_t n_before = j->diags->n;
	int r;

	r = gp_catalog_values_check(j->cat_file, cat, j->in->enums, j->diags);
	return r >= 0 ? hold_catalog(j, cat, n_before) : r;
}

static int
validate_entries(struct join *j)
{
	const struct gp_catalog *c = j->in->catalog;
	int r = link_catalog(j);

	for (size_t i = 0; r >= 0 && i < j->d->n; i++) {
		struct gp_pos p = entry_pos(j, i);

		/* A contract's names were checked with the contract (inputs/contract.c). */
		r = j->src[i].tf    ? validate_tfvars_entry(j, i)
		    : j->src[i].cat ? validate_catalog_only_entry(j, i)
				    : check_secret_name(j, i, &p);
	}
	for (size_t i = 0; r >= 0 && c && i < c->n; i++)
		if (j->cat_first[i] != NO_NEXT)
			r = validate_catalog_entry(j, &c->v[i]);
	free(j->cat_first);
	free(j->cat_next);
	j->cat_first = j->cat_next = NULL;
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Step 3: conflicts
 */

static const char *
username_of(const struct join *j, size_t i)
{
	return j->src[i].tf ? j->d->v[i].username : NULL;
}

static const char *
database_of(const struct join *j, size_t i)
{
	return j->src[i].tf ? j->d->v[i].database : NULL;
}

struct sort_ctx {
	const struct join *j;
	const char *(*value)(const struct join *, size_t);
};

static int
cmp_value(const void *a, const void *b, void *userdata)
{
	const struct sort_ctx *c = userdata;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int r = strcmp(c->value(c->j, x), c->value(c->j, y));

	return r ? r : (x > y) - (x < y);
}

/* Links the entries whose value() is equal (entries without a value stay alone). */
static int
link_groups(const struct join *j, const char *(*value)(const struct join *, size_t),
	    struct groups *g)
{
	struct sort_ctx c = {j, value};
	_cleanup_free_ size_t *order = calloc(j->d->n + 1, sizeof(*order));
	size_t n = 0;

	g->next = calloc(j->d->n + 1, sizeof(*g->next));
	g->first = calloc(j->d->n + 1, sizeof(*g->first));
	if (!order || !g->next || !g->first)
		return -ENOMEM;
	for (size_t i = 0; i < j->d->n; i++) {
		g->next[i] = NO_NEXT;
		if (value(j, i))
			order[n++] = i;
	}
	qsort_r(order, n, sizeof(*order), cmp_value, &c);
	for (size_t k = 0; k < n; k++) {
		bool same_prev = k > 0 && strcmp(value(j, order[k - 1]), value(j, order[k])) == 0;

		g->first[order[k]] = !same_prev;
		if (same_prev)
			g->next[order[k - 1]] = order[k];
	}
	return 0;
}

static void
groups_release(struct groups *g)
{
	free(g->next);
	free(g->first);
}

static bool
same_username(const struct join *j, size_t a, size_t b)
{
	return j->src[a].tf && j->src[b].tf && j->d->v[a].username &&
	       gp_streq(j->d->v[a].username, j->d->v[b].username);
}

/* "\"a\", \"b\"": the keys of the entries of first's group for which match(j, first, i) holds. */
static int
list_keys(const struct join *j, size_t first, const struct groups *g,
	  bool (*match)(const struct join *, size_t, size_t), struct gp_buf *b, size_t *ret_n)
{
	char q[GP_QUOTE_BUF];
	size_t n = 0;

	for (size_t i = first; i != NO_NEXT; i = g->next[i])
		if (match(j, first, i))
			gp_buf_printf(b, "%s%s", n++ ? ", " : "", gp_quote(q, j->d->v[i].key));
	*ret_n = n;
	return b->oom ? -ENOMEM : 0;
}

/*
 * One role cannot serve two entries: every entry claiming a username that another tfvars
 * entry claims too is held. Catalog-only entries do not claim anything yet (they are not
 * provisioned), so they are left out rather than blocking live entries.
 */
static int
check_username_claims(struct join *j)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < j->d->n; i++) {
		_cleanup_(gp_buf_release) struct gp_buf keys = {0};
		char q[GP_QUOTE_BUF];
		size_t n, k;

		if (!j->users.first[i])
			continue; /* no username, or handled with the first entry that claims it */
		r = list_keys(j, i, &j->users, same_username, &keys, &n);
		for (k = i; r >= 0 && n > 1 && k != NO_NEXT; k = j->users.next[k]) {
			struct gp_pos p;

			p = tf_pos(j, j->src[k].tf, &j->src[k].tf->username);
			r = reject(j, k, GP_HOLD_CONFLICT, &p,
				   "username %s is claimed by %zu entries: %s",
				   gp_quote(q, j->d->v[i].username), n, keys.p);
		}
	}
	return r;
}

/* Entries of one database (tfvars-backed ones: catalog-only entries are alone on theirs). */
static bool
same_database(const struct join *j, size_t a, size_t b)
{
	return j->src[a].tf && j->src[b].tf && j->d->v[a].database &&
	       gp_streq(j->d->v[a].database, j->d->v[b].database);
}

static bool
is_owner(const struct join *j, size_t i)
{
	return j->src[i].access_ok && j->d->v[i].access == GP_ACCESS_OWNER;
}

static bool
same_database_owner(const struct join *j, size_t a, size_t b)
{
	return same_database(j, a, b) && is_owner(j, b);
}

static bool
is_hold_blocking(enum gp_hold h)
{
	return h == GP_HOLD_INVALID || h == GP_HOLD_CONFLICT;
}

/* The catalog's configuration.username names the database's owner (DESIGN §1.3). */
static int
check_catalog_username(struct join *j, size_t owner)
{
	const struct gp_catalog_entry *cat = j->src[owner].cat;
	const struct gp_entry *e = &j->d->v[owner];
	const struct gp_tfvars_entry *tf = j->src[owner].tf;
	struct gp_pos p = tf_pos(j, tf, &tf->username), pc;
	char qu[GP_QUOTE_BUF], qk[GP_QUOTE_BUF], qc[GP_QUOTE_BUF], qd[GP_QUOTE_BUF];

	if (!cat || !cat->username.v || !e->username || gp_streq(cat->username.v, e->username))
		return 0;
	pc = gp_catalog_pos(j->cat_file, cat, &cat->username);
	return reject(j, owner, GP_HOLD_CONFLICT, &p,
		      "username %s of owner entry %s differs from the catalog's "
		      "configuration.username %s for database %s (%s:%u:%u)",
		      gp_quote(qu, e->username), gp_quote(qk, e->key),
		      gp_quote(qc, cat->username.v), gp_quote(qd, e->database),
		      pc.file ? pc.file : "catalog", pc.line, pc.col);
}

/* The first entry of first's group whose access_level is unknown (reported as invalid): it
 * may be the owner the database lacks. NO_NEXT when there is none. */
static size_t
unknown_access(const struct join *j, size_t first)
{
	for (size_t i = first; i != NO_NEXT; i = j->dbs.next[i])
		if (!j->src[i].access_ok)
			return i;
	return NO_NEXT;
}

/*
 * Zero or several owner entries: nobody (or no single role) may create the database, so the
 * owners and every editor/reader entry on it are held. One mistake, one error: with several
 * owners, each owner is in error and the others are held as its consequence (a note); with
 * none, the first entry is in error and the others are held as a consequence, or every one
 * is, when an entry of the database has an invalid access_level (reported already, and
 * perhaps the owner).
 */
static int
reject_database(struct join *j, size_t first, size_t n_owners, const char *owner_keys)
{
	_cleanup_(gp_buf_release) struct gp_buf why = {0};
	size_t unsure = n_owners ? NO_NEXT : unknown_access(j, first);
	bool said = unsure != NO_NEXT;
	char q[GP_QUOTE_BUF], qu[GP_QUOTE_BUF];
	int r = 0;

	gp_quote(q, j->d->v[first].database);
	if (n_owners)
		gp_buf_printf(&why, "database %s has %zu owner entries: %s", q, n_owners,
			      owner_keys);
	else
		gp_buf_printf(&why, "no owner entry for database %s", q);
	if (why.oom)
		return -ENOMEM;
	for (size_t i = first; r >= 0 && i != NO_NEXT; i = j->dbs.next[i]) {
		struct gp_pos p;

		if (!j->src[i].access_ok)
			continue;
		p = tf_pos(j, j->src[i].tf, &j->src[i].tf->access);
		if (n_owners ? is_owner(j, i) : !said) {
			r = reject(j, i, GP_HOLD_CONFLICT, &p, "%s", why.p);
			said = true;
		} else if (j->d->v[i].hold == GP_HOLD_NONE) {
			r = consequence(j, i, GP_HOLD_CONFLICT, &p, why.p, "held: %s%s%s%s", why.p,
					unsure != NO_NEXT ? " (the access_level of " : "",
					unsure != NO_NEXT ? gp_quote(qu, j->d->v[unsure].key) : "",
					unsure != NO_NEXT ? " is invalid)" : "");
		}
	}
	return r;
}

/* Entry i is held because its owner entry o is: the reason says why o is, the note only that
 * it is, since o's own problem was reported at o. */
static int
owner_held(struct join *j, size_t i, const struct gp_entry *o, const struct gp_pos *p)
{
	_cleanup_(gp_buf_release) struct gp_buf reason = {0};
	char q[GP_QUOTE_BUF];

	gp_quote(q, o->key);
	if (gp_buf_printf(&reason, "owner entry %s is held: %s", q, o->reason) < 0)
		return -ENOMEM;
	return consequence(j, i, o->hold, p, reason.p, "held: its owner entry %s is %s", q,
			   o->hold == GP_HOLD_INVALID ? "invalid" : "in conflict");
}

/*
 * One owner: its username becomes every entry's owner_role, or, when the owner itself is held,
 * the others are held too — a reader must not be granted on a database nobody may create.
 */
static int
share_owner(struct join *j, size_t first, size_t owner)
{
	const struct gp_entry *o = &j->d->v[owner];
	bool blocked = is_hold_blocking(o->hold);
	int r = 0;

	for (size_t i = first; r >= 0 && i != NO_NEXT; i = j->dbs.next[i]) {
		struct gp_entry *e = &j->d->v[i];
		struct gp_pos p;

		p = entry_pos(j, i);
		if (!blocked) {
			free(e->owner_role);
			e->owner_role = gp_strdup0(o->username);
			r = e->owner_role || !o->username ? 0 : -ENOMEM;
		} else if (i != owner && e->hold == GP_HOLD_NONE) {
			r = owner_held(j, i, o, &p);
		}
	}
	return r;
}

static int
check_database(struct join *j, size_t first)
{
	_cleanup_(gp_buf_release) struct gp_buf owners = {0};
	size_t n_owners, owner = first;
	int r;

	r = list_keys(j, first, &j->dbs, same_database_owner, &owners, &n_owners);
	if (r < 0)
		return r;
	if (n_owners != 1)
		return reject_database(j, first, n_owners, owners.p);
	while (!same_database_owner(j, first, owner))
		owner = j->dbs.next[owner];
	r = check_catalog_username(j, owner);
	if (r < 0)
		return r;
	return share_owner(j, first, owner);
}

static int
check_databases(struct join *j)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < j->d->n; i++)
		if (j->dbs.first[i])
			r = check_database(j, i);
	return r;
}

/* ---------------------------------------------------------------------------------------
 * Step 4: warnings (the gates follow: plan/gates.c)
 */

/* Real repositories have tfvars entries without catalog entry: they proceed, with defaults. */
static int
warn_no_catalog(struct join *j)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < j->d->n; i++) {
		_cleanup_(gp_buf_release) struct gp_buf b = {0};
		struct gp_entry *e = &j->d->v[i];
		struct gp_pos p = entry_pos(j, i);
		char qd[GP_QUOTE_BUF], qe[GP_QUOTE_BUF];

		if (!j->src[i].tf || j->src[i].cat || e->hold != GP_HOLD_NONE)
			continue;
		gp_buf_printf(&b,
			      "no catalog entry for database %s in %s; provisioning with defaults "
			      "(risk %s, size %s)",
			      gp_quote(qd, e->database), gp_escape(qe, j->in->env, false),
			      gp_risk_to_string(e->risk), gp_size_to_string(e->size));
		free(e->reason);
		e->reason = gp_buf_steal(&b);
		r = e->reason ? gp_pos_warning(j->diags, &p, "%s", e->reason) : -ENOMEM;
	}
	return r;
}

/* ---------------------------------------------------------------------------------------
 * The join
 */

static int
join_contracts(struct join *j)
{
	struct gp_contract_join cj = {
		.env = j->in->env,
		.contracts = j->in->contracts,
		.schema = j->in->schema,
		.catalog = j->in->catalog,
		.cat_file = j->cat_file,
	};

	return j->in->schema ? gp_join_contracts(j->d, &cj, j->diags) : 0;
}

static const char *
str0(const char *s)
{
	return s ? s : "";
}

/* Owner entries first (plans create databases before granting on them), then database, key. */
static int
entry_cmp(const void *a, const void *b)
{
	const struct gp_entry *x = a, *y = b;
	int ox = x->access != GP_ACCESS_OWNER, oy = y->access != GP_ACCESS_OWNER;
	int r;

	if (ox != oy)
		return ox - oy;
	r = strcmp(str0(x->database), str0(y->database));
	if (r)
		return r;
	return strcmp(str0(x->key), str0(y->key));
}

static int
join_run(struct join *j)
{
	int r;

	r = index_inputs(j);
	if (r >= 0)
		r = add_entries(j);
	if (r >= 0)
		r = validate_entries(j);
	if (r >= 0)
		r = link_groups(j, username_of, &j->users);
	if (r >= 0)
		r = link_groups(j, database_of, &j->dbs);
	if (r >= 0)
		r = check_username_claims(j);
	if (r >= 0)
		r = check_databases(j);
	groups_release(&j->users);
	groups_release(&j->dbs);
	index_release(j);
	if (r >= 0)
		r = warn_no_catalog(j);
	if (r >= 0)
		r = join_contracts(j);
	if (r >= 0)
		r = gp_gates_apply(j->d, j->in->env_config);
	return r;
}

int
gp_desired_build(const struct gp_join_input *in, struct gp_desired **ret, struct gp_diags *diags)
{
	_cleanup_(gp_desired_freep) struct gp_desired *d = NULL;
	_cleanup_free_ struct join_src *src = NULL;
	struct join j;
	size_t cap;
	int r;

	if (!in || !in->env || !ret || !diags)
		return -EINVAL;
	/* Each tfvars member, catalog entry and contract makes at most one entry. */
	cap = (in->tfvars ? in->tfvars->n : 0) + (in->catalog ? in->catalog->n : 0) +
	      (in->contracts ? in->contracts->n : 0) + 1;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->env = strdup(in->env);
	d->v = calloc(cap, sizeof(*d->v));
	src = calloc(cap, sizeof(*src));
	if (!d->env || !d->v || !src)
		return -ENOMEM;
	j = (struct join){
		.in = in,
		.diags = diags,
		.d = d,
		.src = src,
		.tf_file = in->tfvars ? in->tfvars->file : NULL,
		.cat_file = in->catalog ? in->catalog->file : NULL,
	};
	r = join_run(&j);
	if (r < 0)
		return r;
	qsort(d->v, d->n, sizeof(*d->v), entry_cmp);
	*ret = TAKE_PTR(d);
	return 0;
}
