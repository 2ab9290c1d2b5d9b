/*
 * model.c — enum string tables, constructors/destructors and lookups for the model values.
 *
 * Parsing of inputs lives in tfvars.c, catalog.c and enums.c; the join in validate.c; the
 * state file codec in state.c. This file holds only what every one of them shares.
 */
#include "model.h"

#include <stdlib.h>

static int
lookup(const char *const *table, size_t n, const char *s)
{
	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (table[i] && strcmp(table[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

#define DEFINE_ENUM_STRINGS(name, type, max, ...)                                                  \
	static const char *const name##_table[max] = {__VA_ARGS__};                                \
	const char *name##_to_string(type v)                                                       \
	{                                                                                          \
		return (size_t)v < (size_t)(max) ? name##_table[v] : NULL;                         \
	}                                                                                          \
	int name##_from_string(const char *s)                                                      \
	{                                                                                          \
		return lookup(name##_table, (size_t)(max), s);                                     \
	}

DEFINE_ENUM_STRINGS(gp_access, enum gp_access, _GP_ACCESS_MAX, [GP_ACCESS_OWNER] = "owner",
		    [GP_ACCESS_EDITOR] = "editor", [GP_ACCESS_READER] = "reader")
DEFINE_ENUM_STRINGS(gp_risk, enum gp_risk, _GP_RISK_MAX, [GP_RISK_NONE] = "none",
		    [GP_RISK_LOW] = "low", [GP_RISK_MEDIUM] = "medium", [GP_RISK_HIGH] = "high",
		    [GP_RISK_ACCESS] = "access")
DEFINE_ENUM_STRINGS(gp_size, enum gp_size, _GP_SIZE_MAX, [GP_SIZE_SMALL] = "small",
		    [GP_SIZE_MEDIUM] = "medium", [GP_SIZE_LARGE] = "large",
		    [GP_SIZE_XLARGE] = "xlarge")
DEFINE_ENUM_STRINGS(gp_state, enum gp_state, _GP_STATE_MAX, [GP_STATE_PENDING] = "pending",
		    [GP_STATE_APPROVED] = "approved", [GP_STATE_PROVISIONING] = "provisioning",
		    [GP_STATE_ACTIVE] = "active", [GP_STATE_FAILED] = "failed",
		    [GP_STATE_DECOMMISSIONING] = "decommissioning",
		    [GP_STATE_DECOMMISSIONED] = "decommissioned")
DEFINE_ENUM_STRINGS(gp_mode, enum gp_mode, _GP_MODE_MAX, [GP_MODE_AUTO] = "auto",
		    [GP_MODE_STANDALONE] = "standalone", [GP_MODE_COUPLED] = "coupled")

const char *
gp_size_instance_class(enum gp_size s)
{
	static const char *const classes[_GP_SIZE_MAX] = {
		[GP_SIZE_SMALL] = "db.t3.micro",
		[GP_SIZE_MEDIUM] = "db.t3.small",
		[GP_SIZE_LARGE] = "db.t3.medium",
		[GP_SIZE_XLARGE] = "db.r6g.large",
	};
	return (size_t)s < _GP_SIZE_MAX ? classes[s] : NULL;
}

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

void
gp_field_release(struct gp_field *f)
{
	free(f->v);
	*f = (struct gp_field){0};
}

int
gp_field_set(struct gp_field *f, const char *v, unsigned line, unsigned col)
{
	char *d = NULL;

	if (v) {
		d = strdup(v);
		if (!d)
			return -ENOMEM;
	}
	free(f->v);
	f->v = d;
	f->line = line;
	f->col = col;
	return 0;
}

/* ---- desired ---- */

static void
entry_release(struct gp_entry *e)
{
	free(e->key);
	free(e->database);
	free(e->username);
	free(e->approved_by);
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

/* ---- observed ---- */

struct gp_observed *
gp_observed_new(void)
{
	return calloc(1, sizeof(struct gp_observed));
}

static void
secret_release(struct gp_obs_secret *s)
{
	free(s->name);
	free(s->arn);
	free(s->current_version);
	free(s->pending_version);
	if (s->value_json) {
		explicit_bzero(s->value_json, strlen(s->value_json));
		free(s->value_json);
	}
}

void
gp_observed_free(struct gp_observed *o)
{
	if (!o)
		return;
	free(o->master_user);
	for (size_t i = 0; i < o->n_roles; i++) {
		free(o->roles[i].name);
		free(o->roles[i].comment);
	}
	free(o->roles);
	for (size_t i = 0; i < o->n_databases; i++) {
		struct gp_obs_database *db = &o->databases[i];

		free(db->name);
		free(db->owner);
		for (size_t j = 0; j < db->n_grants; j++)
			free(db->grants[j].grantee);
		free(db->grants);
	}
	free(o->databases);
	for (size_t i = 0; i < o->n_members; i++) {
		free(o->members[i].role);
		free(o->members[i].member);
	}
	free(o->members);
	for (size_t i = 0; i < o->n_access; i++) {
		free(o->access[i].database);
		free(o->access[i].role);
	}
	free(o->access);
	for (size_t i = 0; i < o->n_secrets; i++)
		secret_release(&o->secrets[i]);
	free(o->secrets);
	gp_strv_release(&o->access_checked);
	free(o);
}

static int
cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int
cmp_role(const void *a, const void *b)
{
	return cmp_str(((const struct gp_obs_role *)a)->name, ((const struct gp_obs_role *)b)->name);
}

static int
cmp_database(const void *a, const void *b)
{
	return cmp_str(((const struct gp_obs_database *)a)->name,
		       ((const struct gp_obs_database *)b)->name);
}

static int
cmp_grant(const void *a, const void *b)
{
	return cmp_str(((const struct gp_obs_grant *)a)->grantee,
		       ((const struct gp_obs_grant *)b)->grantee);
}

static int
cmp_member(const void *a, const void *b)
{
	const struct gp_obs_membership *x = a, *y = b;
	int r = cmp_str(x->role, y->role);

	return r ? r : cmp_str(x->member, y->member);
}

static int
cmp_access(const void *a, const void *b)
{
	const struct gp_obs_dbaccess *x = a, *y = b;
	int r = cmp_str(x->database, y->database);

	return r ? r : cmp_str(x->role, y->role);
}

static int
cmp_secret(const void *a, const void *b)
{
	return cmp_str(((const struct gp_obs_secret *)a)->name,
		       ((const struct gp_obs_secret *)b)->name);
}

void
gp_observed_sort(struct gp_observed *o)
{
	if (o->n_roles)
		qsort(o->roles, o->n_roles, sizeof(*o->roles), cmp_role);
	if (o->n_databases)
		qsort(o->databases, o->n_databases, sizeof(*o->databases), cmp_database);
	for (size_t i = 0; i < o->n_databases; i++)
		if (o->databases[i].n_grants)
			qsort(o->databases[i].grants, o->databases[i].n_grants,
			      sizeof(*o->databases[i].grants), cmp_grant);
	if (o->n_members)
		qsort(o->members, o->n_members, sizeof(*o->members), cmp_member);
	if (o->n_access)
		qsort(o->access, o->n_access, sizeof(*o->access), cmp_access);
	if (o->n_secrets)
		qsort(o->secrets, o->n_secrets, sizeof(*o->secrets), cmp_secret);
}

const struct gp_obs_role *
gp_observed_role(const struct gp_observed *o, const char *name)
{
	struct gp_obs_role k = {.name = (char *)name};

	if (!o || !name || !o->n_roles)
		return NULL;
	return bsearch(&k, o->roles, o->n_roles, sizeof(k), cmp_role);
}

const struct gp_obs_database *
gp_observed_database(const struct gp_observed *o, const char *name)
{
	struct gp_obs_database k = {.name = (char *)name};

	if (!o || !name || !o->n_databases)
		return NULL;
	return bsearch(&k, o->databases, o->n_databases, sizeof(k), cmp_database);
}

struct gp_obs_secret *
gp_observed_secret_mut(struct gp_observed *o, const char *name)
{
	struct gp_obs_secret k = {.name = (char *)name};

	if (!o || !name || !o->n_secrets)
		return NULL;
	return bsearch(&k, o->secrets, o->n_secrets, sizeof(k), cmp_secret);
}

const struct gp_obs_secret *
gp_observed_secret(const struct gp_observed *o, const char *name)
{
	return gp_observed_secret_mut((struct gp_observed *)o, name);
}

bool
gp_observed_is_member(const struct gp_observed *o, const char *role, const char *member)
{
	struct gp_obs_membership k = {.role = (char *)role, .member = (char *)member};

	if (!o || !role || !member || !o->n_members)
		return false;
	return bsearch(&k, o->members, o->n_members, sizeof(k), cmp_member) != NULL;
}

const struct gp_obs_dbaccess *
gp_observed_access(const struct gp_observed *o, const char *db, const char *role)
{
	struct gp_obs_dbaccess k = {.database = (char *)db, .role = (char *)role};

	if (!o || !db || !role || !o->n_access)
		return NULL;
	return bsearch(&k, o->access, o->n_access, sizeof(k), cmp_access);
}

/* ---- lifecycle records ---- */

struct gp_state_file *
gp_state_file_new(const char *env)
{
	struct gp_state_file *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->env = gp_strdup0(env);
	if (env && !s->env) {
		free(s);
		return NULL;
	}
	return s;
}

void
gp_record_release(struct gp_record *r)
{
	free(r->key);
	free(r->database);
	free(r->username);
	free(r->reason);
	free(r->last_commit);
	free(r->verified_version);
	*r = (struct gp_record){0};
}

void
gp_state_file_free(struct gp_state_file *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		gp_record_release(&s->v[i]);
	free(s->v);
	free(s->env);
	free(s->last_error);
	free(s);
}

static bool
dup_str(char **dst, const char *src)
{
	*dst = gp_strdup0(src);
	return !src || *dst;
}

struct gp_state_file *
gp_state_file_dup(const struct gp_state_file *s)
{
	struct gp_state_file *c = gp_state_file_new(s->env);
	bool ok = c && dup_str(&c->last_error, s->last_error);

	if (ok && s->n && !(c->v = calloc(s->n, sizeof(*c->v))))
		ok = false;
	for (size_t i = 0; ok && i < s->n; i++) {
		const struct gp_record *r = &s->v[i];
		struct gp_record *d = &c->v[c->n++];

		*d = *r;
		d->key = d->database = d->username = d->reason = d->last_commit = NULL;
		d->verified_version = NULL;
		ok = dup_str(&d->key, r->key) && dup_str(&d->database, r->database) &&
		     dup_str(&d->username, r->username) && dup_str(&d->reason, r->reason) &&
		     dup_str(&d->last_commit, r->last_commit) &&
		     dup_str(&d->verified_version, r->verified_version);
	}
	if (!ok) {
		gp_state_file_free(c);
		return NULL;
	}
	c->last_pass = s->last_pass;
	c->last_success = s->last_success;
	return c;
}

static int
cmp_record(const void *a, const void *b)
{
	return cmp_str(((const struct gp_record *)a)->key, ((const struct gp_record *)b)->key);
}

struct gp_record *
gp_state_find(struct gp_state_file *s, const char *key)
{
	struct gp_record k = {.key = (char *)key};

	if (!s || !key || !s->n)
		return NULL;
	return bsearch(&k, s->v, s->n, sizeof(k), cmp_record);
}

int
gp_state_upsert(struct gp_state_file *s, const char *key, int64_t now, struct gp_record **ret)
{
	struct gp_record *r = gp_state_find(s, key), *v;
	char *k;
	size_t i;

	if (r) {
		*ret = r;
		return 0;
	}
	k = strdup(key);
	if (!k)
		return -ENOMEM;
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v) {
		free(k);
		return -ENOMEM;
	}
	s->v = v;
	/* Keep the array sorted: find the insertion point. */
	for (i = 0; i < s->n && strcmp(s->v[i].key, key) < 0; i++)
		;
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*v));
	s->v[i] = (struct gp_record){.key = k, .state = GP_STATE_PENDING, .since = now};
	s->n++;
	*ret = &s->v[i];
	return 0;
}

/* ---- inputs ---- */

void
gp_tfvars_free(struct gp_tfvars *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		gp_field_release(&t->v[i].key);
		gp_field_release(&t->v[i].database);
		gp_field_release(&t->v[i].username);
		gp_field_release(&t->v[i].access);
	}
	free(t->v);
	free(t->file);
	free(t);
}
