/*
 * tfvars.c — reads the application databases out of a parsed terraform.tfvars document
 * (hcl.c builds the tree): top-level `application_databases` in standalone mode, or
 * `rds_config = { enabled, application_databases }` in coupled mode.
 *
 * It checks shape only: each member must be an object whose database_name and username are
 * strings (access_level optional). A bad member is reported with its position and still
 * returned with the fields it has, so that validation can hold back that one entry and let
 * the others proceed. Names are not checked here (plan/join.c does), and every attribute other
 * than the ones above is ignored: the file also configures the rest of the platform.
 */
#include "inputs/tfvars.h"

#include "base/doc.h"

struct extract {
	const char *file;
	const char *path; /* "application_databases" or "rds_config.application_databases" */
	struct gp_diags *diags;
};

/* Entry key for a message: printable, bounded (keys are not validated yet). */
static void
key_text(char *out, size_t size, const char *key)
{
	size_t o = 0;

	for (; *key && o + 4 < size; key++)
		out[o++] = (unsigned char)*key < 0x20 || *key == 0x7f ? '?' : *key;
	if (*key)
		for (int k = 0; k < 3; k++)
			out[o++] = '.';
	out[o] = '\0';
}

/* A shape error of the document as a whole, at node n: the extraction fails with -EINVAL. */
static int document_error(struct extract *x, const struct gp_node *n, const char *fmt, ...)
	_printf_(3, 4);

static int
document_error(struct extract *x, const struct gp_node *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = gp_diags_vadd(x->diags, GP_SEV_ERROR, -EINVAL, x->file, n->line, n->col, fmt, ap);
	va_end(ap);
	return r < 0 ? r : -EINVAL;
}

/* One string field of member m (whose value is an object); a missing one is reported at m. */
static int
extract_field(struct extract *x, const struct gp_member *m, const char *name, bool required,
	      struct gp_field *f)
{
	const struct gp_node *v = gp_node_get(m->value, name);
	char text[80];

	key_text(text, sizeof(text), m->key);
	/* null is how HCL spells "not set": an optional field then takes its default. */
	if (!v || (!required && v->kind == GP_NODE_NULL)) {
		if (!required)
			return 0;
		return gp_diag_error(x->diags, -EINVAL, x->file, m->line, m->col,
				     "%s entry \"%s\": %s is missing", x->path, text, name);
	}
	if (v->kind != GP_NODE_STRING)
		return gp_diag_error(x->diags, -EINVAL, x->file, v->line, v->col,
				     "%s entry \"%s\": %s must be a string, found %s", x->path,
				     text, name, gp_node_kind_to_string(v->kind));
	return gp_field_set(f, v->str, v->line, v->col);
}

static int
extract_entry(struct extract *x, const struct gp_member *m, struct gp_tfvars_entry *e)
{
	const struct gp_node *v = m->value;
	char text[80];
	int r;

	r = gp_field_set(&e->key, m->key, m->line, m->col);
	if (r < 0)
		return r;
	if (v->kind != GP_NODE_OBJECT) {
		key_text(text, sizeof(text), m->key);
		return gp_diag_error(x->diags, -EINVAL, x->file, v->line, v->col,
				     "%s entry \"%s\" must be an object with database_name and "
				     "username, found %s",
				     x->path, text, gp_node_kind_to_string(v->kind));
	}
	r = extract_field(x, m, "database_name", true, &e->database);
	if (r >= 0)
		r = extract_field(x, m, "username", true, &e->username);
	if (r >= 0)
		r = extract_field(x, m, "access_level", false, &e->access);
	return r;
}

/* apps: the application_databases member, or NULL when there is none (an empty list). */
static int
extract_apps(struct extract *x, const struct gp_member *apps, struct gp_tfvars *t)
{
	const struct gp_node *v = apps ? apps->value : NULL;
	int r;

	if (!v)
		return 0;
	if (v->kind != GP_NODE_OBJECT)
		return document_error(
			x, v,
			"%s must be an object (app key = { database_name, username }), "
			"found %s",
			x->path, gp_node_kind_to_string(v->kind));
	if (v->n == 0)
		return 0;
	t->v = calloc(v->n, sizeof(*t->v));
	if (!t->v)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++) {
		t->n++;
		r = extract_entry(x, &v->members[i], &t->v[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Coupled mode: rds_config.enabled decides. A non-bool enabled is an error for the whole
 * document: whether the environment is coupled at all is then unknown, and guessing either
 * way could read the wrong file as the desired state.
 */
static int
extract_coupled(struct extract *x, const struct gp_node *root, struct gp_tfvars *t)
{
	const struct gp_node *rds = gp_node_get(root, "rds_config");
	const struct gp_node *en;

	if (!rds)
		return 0;
	if (rds->kind != GP_NODE_OBJECT)
		return document_error(x, rds, "rds_config must be an object, found %s",
				      gp_node_kind_to_string(rds->kind));
	/* null is HCL's "not set", like a missing attribute: the variable's default, false. */
	en = gp_node_get(rds, "enabled");
	if (en && en->kind != GP_NODE_BOOL && en->kind != GP_NODE_NULL)
		return document_error(x, en, "rds_config.enabled must be true or false, found %s",
				      gp_node_kind_to_string(en->kind));
	t->rds_enabled = en && en->kind == GP_NODE_BOOL && en->b;
	/* Entries of a disabled rds_config are not the desired state of anything: skip them. */
	if (!t->rds_enabled)
		return 0;
	return extract_apps(x, gp_node_member(rds, "application_databases"), t);
}

int
gp_tfvars_extract(const struct gp_doc *doc, enum gp_mode mode, struct gp_tfvars **ret,
		  struct gp_diags *diags)
{
	_cleanup_(gp_tfvars_freep) struct gp_tfvars *t = NULL;
	struct extract x = {.file = doc->name, .diags = diags};
	int r;

	if (mode != GP_MODE_STANDALONE && mode != GP_MODE_COUPLED)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->file = gp_strdup0(doc->name);
	if (doc->name && !t->file)
		return -ENOMEM;
	t->mode = mode;
	if (mode == GP_MODE_STANDALONE) {
		x.path = "application_databases";
		t->rds_enabled = true;
		r = extract_apps(&x, gp_node_member(doc->root, "application_databases"), t);
	} else {
		x.path = "rds_config.application_databases";
		r = extract_coupled(&x, doc->root, t);
	}
	if (r < 0)
		return r;
	/* Member shape errors are in diags; the entries are still returned (see model.h). */
	*ret = TAKE_PTR(t);
	return 0;
}

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
