/*
 * manifest.c — the input files of each environment, computed from the configuration
 * (DESIGN §1): names, roles and whether each file must exist.
 *
 * Only names are computed here. Reading the files, and deciding what a missing or broken one
 * means for a pass, is daemon/inputs.c's business; which directories to watch is the daemon
 * loop's. Both take the list from here, so the layout of the checkout is spelled once: in
 * the role table below.
 */
#include "inputs/manifest.h"

#include "model/names.h"

static const struct role {
	const char *name;
	const char *layout; /* where it lies in the checkout, {env} expanded */
	enum gp_mode shape; /* tfvars: how gp_tfvars_extract() reads it; AUTO: not tfvars */
	bool dir;           /* a directory of files */
} roles[_GP_INPUT_ROLE_MAX] = {
	[GP_INPUT_CATALOG] = {"catalog", NULL, GP_MODE_AUTO, false},
	[GP_INPUT_ENUMS] = {"enums", NULL, GP_MODE_AUTO, false},
	[GP_INPUT_TFVARS_COUPLED] = {"tfvars-coupled", "envs/{env}/terraform.tfvars",
				     GP_MODE_COUPLED, false},
	[GP_INPUT_TFVARS_STANDALONE] = {"tfvars-standalone", "envs/{env}-rds/terraform.tfvars",
					GP_MODE_STANDALONE, false},
	[GP_INPUT_REQUEST_SCHEMA] = {"request-schema", "schemas/requests/rds.schema.yaml",
				     GP_MODE_AUTO, false},
	[GP_INPUT_CONTRACTS] = {"contracts", "docs/20-contracts/rds-requests/{env}", GP_MODE_AUTO,
				true},
};

const char *
gp_input_role_to_string(enum gp_input_role r)
{
	return (size_t)r < ELEMENTSOF(roles) ? roles[r].name : NULL;
}

enum gp_mode
gp_input_role_tfvars_mode(enum gp_input_role r)
{
	return (size_t)r < ELEMENTSOF(roles) ? roles[r].shape : GP_MODE_AUTO;
}

bool
gp_input_role_is_dir(enum gp_input_role r)
{
	return (size_t)r < ELEMENTSOF(roles) && roles[r].dir;
}

char *
gp_manifest_tfvars_path(enum gp_input_role r, const char *env)
{
	if ((size_t)r >= ELEMENTSOF(roles) || !roles[r].layout || !env ||
	    !strstr(roles[r].layout, "{env}"))
		return NULL;
	return gp_name_expand(roles[r].layout, env, NULL);
}

/* path relative to repo when it lies inside it, else path as it is (a new string). Trailing
 * slashes of repo do not count: "/srv/repo/" holds "/srv/repo/x". */
static char *
relative_to(const char *repo, const char *path)
{
	size_t n = strlen(repo);

	while (n > 1 && repo[n - 1] == '/')
		n--;
	if (n > 0 && strncmp(path, repo, n) == 0 && path[n] == '/')
		return strdup(path + n + 1);
	return strdup(path);
}

char *
gp_manifest_path(const struct gp_manifest *m, const struct gp_input_file *f)
{
	size_t n = strlen(m->repo);

	if (f->path[0] == '/' || n == 0)
		return strdup(f->path);
	return gp_strprintf("%s%s%s", m->repo, m->repo[n - 1] == '/' ? "" : "/", f->path);
}

/* Appends a file to e; path is taken over (NULL: out of memory, reported here). */
static int
add_file(struct gp_manifest_env *e, enum gp_input_role role, bool required, char *path)
{
	e->files[e->n++] = (struct gp_input_file){.role = role, .required = required, .path = path};
	return path ? 0 : -ENOMEM;
}

/* The shared files, then the tfvars layouts of mode: auto tries the coupled file first. */
static int
add_env(struct gp_manifest *m, const char *name, enum gp_mode mode)
{
	struct gp_manifest_env *e = &m->envs[m->n_envs++];
	int r = 0;

	e->name = strdup(name);
	e->mode = mode;
	if (!e->name)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(m->shared) && r >= 0; i++)
		r = add_file(e, m->shared[i].role, m->shared[i].required,
			     strdup(m->shared[i].path));
	if (r >= 0 && mode != GP_MODE_STANDALONE)
		r = add_file(e, GP_INPUT_TFVARS_COUPLED, mode == GP_MODE_COUPLED,
			     gp_manifest_tfvars_path(GP_INPUT_TFVARS_COUPLED, name));
	if (r >= 0 && mode != GP_MODE_COUPLED)
		r = add_file(e, GP_INPUT_TFVARS_STANDALONE, mode == GP_MODE_STANDALONE,
			     gp_manifest_tfvars_path(GP_INPUT_TFVARS_STANDALONE, name));
	if (r >= 0)
		r = add_file(e, GP_INPUT_CONTRACTS, false,
			     gp_manifest_tfvars_path(GP_INPUT_CONTRACTS, name));
	return r;
}

/* A manifest with its shared files and room for n_envs environments; NULL on ENOMEM. The
 * enums come first: the request schema names their lists, the catalog is checked against
 * them. */
static struct gp_manifest *
manifest_alloc(const char *repo, const char *catalog, const char *enums, size_t n_envs)
{
	_cleanup_(gp_manifest_freep) struct gp_manifest *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->repo = strdup(repo);
	m->envs = calloc(n_envs ? n_envs : 1, sizeof(*m->envs));
	m->shared[0] = (struct gp_input_file){GP_INPUT_ENUMS, false, relative_to(repo, enums)};
	m->shared[1] = (struct gp_input_file){GP_INPUT_REQUEST_SCHEMA, false,
					      strdup(roles[GP_INPUT_REQUEST_SCHEMA].layout)};
	m->shared[2] = (struct gp_input_file){GP_INPUT_CATALOG, true, relative_to(repo, catalog)};
	if (!m->repo || !m->envs || !m->shared[0].path || !m->shared[1].path ||
	    !m->shared[2].path)
		return NULL;
	return TAKE_PTR(m);
}

/* Hands m over when every environment was added. */
static int
manifest_done(struct gp_manifest **m, int r, struct gp_manifest **ret)
{
	if (!*m || r < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(*m);
	return 0;
}

int
gp_manifest_new(const struct gp_config *cfg, struct gp_manifest **ret)
{
	_cleanup_(gp_manifest_freep) struct gp_manifest *m = NULL;
	int r = 0;

	if (!cfg->repository.path || !cfg->repository.catalog || !cfg->repository.enums)
		return -EINVAL;
	m = manifest_alloc(cfg->repository.path, cfg->repository.catalog, cfg->repository.enums,
			   cfg->n_envs);
	for (size_t i = 0; m && i < cfg->n_envs && r >= 0; i++)
		r = add_env(m, cfg->envs[i].name, cfg->envs[i].mode);
	return manifest_done(&m, r, ret);
}

int
gp_manifest_new_default(const char *repo, struct gp_manifest **ret)
{
	_cleanup_(gp_manifest_freep) struct gp_manifest *m = NULL;
	int r = 0;

	m = manifest_alloc(repo, GP_DEFAULT_CATALOG, GP_DEFAULT_ENUMS, GP_N_ENVIRONMENTS);
	for (size_t i = 0; m && i < GP_N_ENVIRONMENTS && r >= 0; i++)
		r = add_env(m, gp_environments[i], GP_MODE_AUTO);
	return manifest_done(&m, r, ret);
}

void
gp_manifest_free(struct gp_manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_envs; i++) {
		for (size_t j = 0; j < m->envs[i].n; j++)
			free(m->envs[i].files[j].path);
		free(m->envs[i].name);
	}
	for (size_t i = 0; i < ELEMENTSOF(m->shared); i++)
		free(m->shared[i].path);
	free(m->envs);
	free(m->repo);
	free(m);
}

const struct gp_manifest_env *
gp_manifest_env(const struct gp_manifest *m, const char *name)
{
	for (size_t i = 0; i < m->n_envs; i++)
		if (strcmp(m->envs[i].name, name) == 0)
			return &m->envs[i];
	return NULL;
}
