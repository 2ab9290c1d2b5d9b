/*
 * model/observed.c — constructor, destructor, sorting and lookups of the observed state.
 * Filling it is the daemon's business (pg_observe.c, sm.c).
 */
#include "model/observed.h"

#include <stdlib.h>

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
	free(s->previous_version);
	if (s->value_json) {
		explicit_bzero(s->value_json, strlen(s->value_json));
		free(s->value_json);
	}
	if (s->pending_value_json) {
		explicit_bzero(s->pending_value_json, strlen(s->pending_value_json));
		free(s->pending_value_json);
	}
}

static void
login_release(struct gp_obs_login *l)
{
	free(l->role);
	free(l->version);
	free(l->code);
	free(l->message);
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
		free(o->roles[i].set_role);
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
	for (size_t i = 0; i < o->n_logins; i++)
		login_release(&o->logins[i]);
	free(o->logins);
	for (size_t i = 0; i < o->n_deleted; i++)
		secret_release(&o->deleted[i]);
	free(o->deleted);
	for (size_t i = 0; i < o->n_deps; i++) {
		free(o->deps[i].role);
		free(o->deps[i].database);
	}
	free(o->deps);
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

static int cmp_login(const void *a, const void *b);

/* Sorts v and keeps one of each name: overlapping prefixes (a former secret.name's and the
 * current one's, checks.h) list a secret twice. */
static void
sort_secrets(struct gp_obs_secret *v, size_t *n)
{
	size_t k = 0;

	if (*n < 2)
		return;
	qsort(v, *n, sizeof(*v), cmp_secret);
	for (size_t i = 0; i < *n; i++) {
		if (k && strcmp(v[k - 1].name, v[i].name) == 0)
			secret_release(&v[i]);
		else
			v[k++] = v[i];
	}
	*n = k;
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
	sort_secrets(o->secrets, &o->n_secrets);
	if (o->n_logins)
		qsort(o->logins, o->n_logins, sizeof(*o->logins), cmp_login);
	gp_strv_sort(&o->access_checked);
	/* deps come sorted from their query (ORDER BY role, database) */
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


static int
cmp_login(const void *a, const void *b)
{
	return cmp_str(((const struct gp_obs_login *)a)->role,
		       ((const struct gp_obs_login *)b)->role);
}

const struct gp_obs_login *
gp_observed_login(const struct gp_observed *o, const char *role)
{
	struct gp_obs_login k = {.role = (char *)role};

	if (!o || !role || !o->n_logins)
		return NULL;
	return bsearch(&k, o->logins, o->n_logins, sizeof(k), cmp_login);
}

int
gp_observed_add_login(struct gp_observed *o, const char *role, const char *version, bool ok,
		      const char *code, const char *message)
{
	struct gp_obs_login *v = realloc(o->logins, (o->n_logins + 1) * sizeof(*v)), *l;

	if (!v)
		return -ENOMEM;
	o->logins = v;
	l = &v[o->n_logins];
	*l = (struct gp_obs_login){.role = gp_strdup0(role), .version = gp_strdup0(version),
				   .ok = ok, .code = gp_strdup0(code),
				   .message = gp_strdup0(message)};
	if (!l->role || (version && !l->version) || (code && !l->code) ||
	    (message && !l->message)) {
		login_release(l);
		return -ENOMEM;
	}
	o->n_logins++;
	return 0;
}

int
gp_observed_split_deleted(struct gp_observed *o)
{
	size_t n = 0, k = 0;
	struct gp_obs_secret *v;

	for (size_t i = 0; i < o->n_secrets; i++)
		n += o->secrets[i].deleted != 0;
	if (!n)
		return 0;
	v = realloc(o->deleted, (o->n_deleted + n) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	o->deleted = v;
	for (size_t i = 0; i < o->n_secrets; i++) {
		if (o->secrets[i].deleted)
			o->deleted[o->n_deleted++] = o->secrets[i];
		else
			o->secrets[k++] = o->secrets[i];
	}
	o->n_secrets = k;
	sort_secrets(o->deleted, &o->n_deleted);
	return 0;
}

const struct gp_obs_secret *
gp_observed_deleted(const struct gp_observed *o, const char *name)
{
	struct gp_obs_secret k = {.name = (char *)name};

	if (!o || !name || !o->n_deleted)
		return NULL;
	return bsearch(&k, o->deleted, o->n_deleted, sizeof(k), cmp_secret);
}
