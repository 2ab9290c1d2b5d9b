/*
 * enums.c — the allowed values of catalog fields: built in, or read from the platform's
 * schemas/metadata/enums.yaml (DESIGN §1.2).
 *
 * A list in the file replaces the built-in one; a key the file lacks keeps the built-in list,
 * so an enums.yaml that predates a field does not switch off its check. Each key may hold a
 * plain list or a mapping with a `values:` list (the file uses both forms). Values gprdsd has
 * no meaning for (a risk or size outside its enums) are accepted with a warning: validation
 * rejects entries that use them. Checking catalog entries against the lists is the job of
 * inputs/lint.c (and of plan/join.c, which calls it), not this file's.
 */
#include "inputs/enums.h"
#include "model/names.h"

#include "base/doc.h"

#include <stddef.h>

static const char *const builtin_risks[] = {"none", "low", "medium", "high", "access", NULL};
static const char *const builtin_sizes[] = {"small", "medium", "large", "xlarge", NULL};
static const char *const builtin_statuses[] = {
	"pending", "approved", "provisioning", "active", "failed", "decommissioning",
	"decommissioned", NULL};

static const struct enum_list {
	const char *path;                  /* dotted path of the key in enums.yaml */
	const char *what;                  /* for messages */
	size_t offset;                     /* struct gp_strv in struct gp_enums */
	const char *const *builtin;        /* NULL: empty, meaning any value */
} enum_lists[] = {
	{"environments", "environment", offsetof(struct gp_enums, environments),
	 gp_environments},
	{"owners", "owner", offsetof(struct gp_enums, owners), NULL},
	{"domains", "domain", offsetof(struct gp_enums, domains), NULL},
	{"risk_profile_security_risk", "risk", offsetof(struct gp_enums, risks), builtin_risks},
	{"rds.instance_sizes", "size tier", offsetof(struct gp_enums, sizes), builtin_sizes},
	{"rds.request_status", "status", offsetof(struct gp_enums, statuses), builtin_statuses},
};

static struct gp_strv *
list_of(struct gp_enums *e, const struct enum_list *l)
{
	return (struct gp_strv *)((char *)e + l->offset);
}

static bool
in_list(const char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (strcmp(*v, s) == 0)
			return true;
	return false;
}

const struct gp_strv *
gp_enums_list(const struct gp_enums *e, const char *key)
{
	for (size_t i = 0; key && i < ELEMENTSOF(enum_lists); i++)
		if (strcmp(enum_lists[i].path, key) == 0)
			return list_of((struct gp_enums *)e, &enum_lists[i]);
	return NULL;
}

int
gp_enums_init_default(struct gp_enums *e)
{
	*e = (struct gp_enums){0};
	for (size_t i = 0; i < ELEMENTSOF(enum_lists); i++) {
		const char *const *v = enum_lists[i].builtin;

		for (; v && *v; v++) {
			if (gp_strv_push(list_of(e, &enum_lists[i]), *v) < 0) {
				gp_enums_release(e);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

void
gp_enums_release(struct gp_enums *e)
{
	for (size_t i = 0; i < ELEMENTSOF(enum_lists); i++)
		gp_strv_release(list_of(e, &enum_lists[i]));
	e->from_file = false;
}

/* Follows a dotted path through mappings; NULL when any step is missing. */
static const struct gp_node *
lookup(const struct gp_node *root, const char *path)
{
	char step[64];
	const char *dot;

	while (root && (dot = strchr(path, '.'))) {
		size_t n = (size_t)(dot - path);

		if (n >= sizeof(step))
			return NULL;
		memcpy(step, path, n);
		step[n] = '\0';
		root = gp_node_get(root, step);
		path = dot + 1;
	}
	return gp_node_get(root, path);
}

static int
read_item(const struct gp_doc *doc, const struct enum_list *l, const struct gp_node *it,
	  struct gp_strv *sv, struct gp_diags *diags)
{
	if (it->kind != GP_NODE_STRING || it->len == 0)
		return gp_diag_error(diags, -EINVAL, doc->name, it->line, it->col,
				     "%s values must be non-empty strings", l->path);
	if (gp_strv_contains(sv, it->str))
		return 0;
	if (l->builtin && !in_list(l->builtin, it->str))
		gp_diag_warning(diags, doc->name, it->line, it->col,
				"%s \"%s\" is not known to gprdsd; entries that use it will be "
				"rejected",
				l->what, it->str);
	return gp_strv_push(sv, it->str);
}

/* Replaces *sv with the list found at l->path (a list, or a mapping with `values:`). */
static int
read_list(const struct gp_doc *doc, const struct enum_list *l, const struct gp_node *n,
	  struct gp_strv *sv, struct gp_diags *diags)
{
	struct gp_strv fresh = {0};
	int r = 0;

	if (n->kind == GP_NODE_OBJECT && gp_node_get(n, "values"))
		n = gp_node_get(n, "values");
	if (n->kind != GP_NODE_LIST)
		return gp_diag_error(diags, -EINVAL, doc->name, n->line, n->col,
				     "%s must be a list of values or a mapping with a \"values\" "
				     "list",
				     l->path);
	for (size_t i = 0; i < n->n && r >= 0; i++)
		r = read_item(doc, l, n->items[i], &fresh, diags);
	if (r < 0) {
		gp_strv_release(&fresh);
		return r;
	}
	gp_strv_release(sv);
	*sv = fresh;
	return 0;
}

/*
 * e must be zeroed or initialised (gp_enums_init_default() or an earlier extract): on success
 * its lists are replaced by the built-in lists overridden by the file; on error it is untouched.
 */
int
gp_enums_extract(const struct gp_doc *doc, struct gp_enums *e, struct gp_diags *diags)
{
	struct gp_enums n;
	size_t errors = diags->errors;
	int r;

	if (doc->root && doc->root->kind != GP_NODE_OBJECT) {
		r = gp_diag_error(diags, -EINVAL, doc->name, doc->root->line, doc->root->col,
				  "expected a mapping of enum names to values");
		return r < 0 ? r : -EINVAL;
	}
	r = gp_enums_init_default(&n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(enum_lists) && r >= 0; i++) {
		const struct gp_node *v = lookup(doc->root, enum_lists[i].path);

		if (v)
			r = read_list(doc, &enum_lists[i], v, list_of(&n, &enum_lists[i]), diags);
	}
	if (r >= 0 && diags->errors > errors)
		r = -EINVAL;
	if (r < 0) {
		gp_enums_release(&n);
		return r;
	}
	n.from_file = true;
	gp_enums_release(e);
	*e = n;
	return 0;
}
