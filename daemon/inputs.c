/*
 * inputs.c — reads the checkout's files and hands them to lib/'s parsers.
 *
 * What a missing or broken file means is decided here: a catalog or enums file that does not
 * parse makes every environment unknown; a tfvars file that does not parse makes its
 * environment unknown. Never an empty desired state from a file we could not read.
 * Deliberately not here: joining and validation (lib/plan/join.c, lib/plan/gates.c), git sync (daemon loop).
 */
#include "inputs.h"
#include "model/names.h"

#include <stdio.h>

#include "fileio.h"
#include "inputs/lint.h"

/* A file name for diagnostics: relative to the checkout when inside it. */
static const char *
display_name(const char *repo, const char *path)
{
	size_t n = strlen(repo);

	while (n > 1 && repo[n - 1] == '/')
		n--;
	if (strncmp(path, repo, n) == 0 && path[n] == '/')
		return path + n + 1;
	return path;
}

static char *
resolve(const char *repo, const char *p)
{
	return p[0] == '/' ? strdup(p) : gpd_path_join(repo, p);
}

/* Reads an input file. A missing file is -ENOENT without a diagnostic: the caller decides
 * what absence means; any other failure is a diagnostic. */
static int
read_input(const char *path, const char *name, char **buf, size_t *len, struct gp_diags *diags)
{
	int r = gpd_read_file(path, GPD_MAX_INPUT_SIZE, buf, len);

	if (r < 0 && r != -ENOENT)
		gp_diag_error(diags, r, name, 0, 0, "cannot read: %s", strerror(-r));
	return r;
}

typedef int (*parse_fn)(const char *buf, size_t len, const char *name, struct gp_doc **ret,
			struct gp_diags *diags);

/* Reads and parses one input file. Returns 0, -ENOENT (missing), or -EINVAL/-errno. */
static int
parse_input(const char *repo, const char *path, parse_fn parse, struct gp_doc **ret,
	    struct gp_diags *diags)
{
	_cleanup_free_ char *buf = NULL;
	const char *name = display_name(repo, path);
	size_t len;
	int r = read_input(path, name, &buf, &len, diags);

	return r < 0 ? r : parse(buf, len, name, ret, diags);
}

/* A YAML input file; an empty one is an error (it would read as "nothing"). */
static int
load_yaml(const char *repo, const char *path, struct gp_doc **ret, struct gp_diags *diags)
{
	int r = parse_input(repo, path, gp_yaml_parse, ret, diags);

	if (r >= 0 && !(*ret)->root) {
		gp_doc_free(*ret);
		gp_diag_error(diags, -EINVAL, display_name(repo, path), 1, 1, "file is empty");
		return -EINVAL;
	}
	return r;
}

static int
load_catalog(const char *repo, const char *path, struct gpd_repo_inputs *in)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	int r = load_yaml(repo, path, &doc, &in->diags);

	if (r == -ENOENT) {
		gp_diag_error(&in->diags, r, display_name(repo, path), 0, 0,
			      "catalog not found: every environment is skipped");
		return r;
	}
	if (r < 0)
		return r;
	return gp_catalog_extract(doc, &in->catalog, &in->diags);
}

static int
load_enums(const char *repo, const char *path, struct gpd_repo_inputs *in)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	int r = load_yaml(repo, path, &doc, &in->diags);

	if (r == -ENOENT)
		return 0; /* optional: the built-in lists apply */
	if (r < 0)
		return r;
	return gp_enums_extract(doc, &in->enums, &in->diags);
}

int
gpd_inputs_load(const char *repo, const char *catalog, const char *enums,
		struct gpd_repo_inputs *in)
{
	_cleanup_free_ char *cpath = resolve(repo, catalog);
	_cleanup_free_ char *epath = resolve(repo, enums);
	int r;

	*in = (struct gpd_repo_inputs){0};
	if (!cpath || !epath)
		return -ENOMEM;
	r = gp_enums_init_default(&in->enums);
	if (r < 0)
		return r;
	gpd_git_head(repo, &in->commit);
	if (load_enums(repo, epath, in) < 0)
		in->failed = true;
	if (load_catalog(repo, cpath, in) < 0)
		in->failed = true;
	if (in->catalog && !in->failed)
		gp_catalog_validate(in->catalog, &in->enums, &in->diags);
	return 0;
}

void
gpd_inputs_release(struct gpd_repo_inputs *in)
{
	free(in->commit);
	gp_catalog_free(in->catalog);
	gp_enums_release(&in->enums);
	gp_diags_release(&in->diags);
	*in = (struct gpd_repo_inputs){0};
}

static int
parse_tfvars(const char *repo, const char *path, enum gp_mode mode, struct gp_tfvars **ret,
	     struct gp_diags *diags)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	int r = parse_input(repo, path, gp_hcl_parse, &doc, diags);

	if (r < 0)
		return r;
	return gp_tfvars_extract(doc, mode, ret, diags);
}

static char *
tfvars_path(const char *repo, const char *env, bool coupled)
{
	struct gp_buf b = {0};

	gp_buf_printf(&b, "%s/envs/%s%s/terraform.tfvars", repo, env, coupled ? "" : "-rds");
	return gp_buf_steal(&b);
}

int
gpd_inputs_tfvars(const char *repo, const char *env, enum gp_mode mode, struct gp_tfvars **ret,
		  struct gp_diags *diags)
{
	_cleanup_free_ char *coupled = tfvars_path(repo, env, true);
	_cleanup_free_ char *standalone = tfvars_path(repo, env, false);
	_cleanup_(gp_tfvars_freep) struct gp_tfvars *t = NULL;
	int r;

	if (!coupled || !standalone)
		return -ENOMEM;
	if (mode != GP_MODE_STANDALONE) {
		r = parse_tfvars(repo, coupled, GP_MODE_COUPLED, &t, diags);
		if (r < 0 && r != -ENOENT)
			return r;
		if (r >= 0 && (t->rds_enabled || mode == GP_MODE_COUPLED)) {
			*ret = TAKE_PTR(t);
			return 0;
		}
		if (r == -ENOENT && mode == GP_MODE_COUPLED)
			goto missing;
	}
	r = parse_tfvars(repo, standalone, GP_MODE_STANDALONE, ret, diags);
	if (r != -ENOENT)
		return r;
missing:
	gp_diag_error(diags, -ENOENT, display_name(repo, mode == GP_MODE_COUPLED ? coupled : standalone),
		      0, 0,
		      "environment %s has no inputs: neither envs/%s-rds/terraform.tfvars nor "
		      "envs/%s/terraform.tfvars with rds_config.enabled = true",
		      env, env, env);
	return -ENOENT;
}

int
gpd_inputs_digest(EVP_MD_CTX *md, const char *repo, const char *catalog, const char *enums,
		  const char *env)
{
	_cleanup_free_ char *cpath = resolve(repo, catalog);
	_cleanup_free_ char *epath = resolve(repo, enums);
	_cleanup_free_ char *coupled = tfvars_path(repo, env, true);
	_cleanup_free_ char *standalone = tfvars_path(repo, env, false);
	const char *paths[] = {cpath, epath, coupled, standalone};
	int r;

	for (size_t i = 0; i < ELEMENTSOF(paths); i++) {
		if (!paths[i])
			return -ENOMEM;
		r = gpd_digest_file(md, paths[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int
gpd_inputs_envs(const char *repo, struct gp_strv *envs)
{
	for (size_t i = 0; i < GP_N_ENVIRONMENTS; i++) {
		_cleanup_free_ char *a = tfvars_path(repo, gp_environments[i], true);
		_cleanup_free_ char *b = tfvars_path(repo, gp_environments[i], false);
		int r;

		if (!a || !b)
			return -ENOMEM;
		if (!gpd_file_exists(a) && !gpd_file_exists(b))
			continue;
		r = gp_strv_push(envs, gp_environments[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- commit id, read from .git without running git ---- */

static int
read_trimmed(const char *path, char **ret)
{
	size_t len;
	int r = gpd_read_file(path, 1024 * 1024, ret, &len);

	if (r < 0)
		return r;
	while (len > 0 && ((*ret)[len - 1] == '\n' || (*ret)[len - 1] == '\r'))
		(*ret)[--len] = '\0';
	return 0;
}

static bool
is_hex40(const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 40;
}

static int
packed_ref(const char *gitdir, const char *ref, char **ret)
{
	_cleanup_free_ char *path = gpd_path_join(gitdir, "packed-refs");
	_cleanup_free_ char *buf = NULL;
	size_t len, rl = strlen(ref);
	char *line, *save = NULL;

	if (!path)
		return -ENOMEM;
	if (gpd_read_file(path, GPD_MAX_INPUT_SIZE, &buf, &len) < 0)
		return -ENOENT;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strlen(line) == 41 + rl && is_hex40(line) && line[40] == ' ' &&
		    strcmp(line + 41, ref) == 0) {
			*ret = strndup(line, 40);
			return *ret ? 0 : -ENOMEM;
		}
	}
	return -ENOENT;
}

static int
git_dir(const char *repo, char **ret)
{
	_cleanup_free_ char *dot = gpd_path_join(repo, ".git");
	_cleanup_free_ char *content = NULL;

	if (!dot)
		return -ENOMEM;
	/* A worktree or submodule has a .git file: "gitdir: <path>". */
	if (read_trimmed(dot, &content) >= 0 && strncmp(content, "gitdir: ", 8) == 0) {
		*ret = content[8] == '/' ? strdup(content + 8) : gpd_path_join(repo, content + 8);
		return *ret ? 0 : -ENOMEM;
	}
	*ret = TAKE_PTR(dot);
	return 0;
}

int
gpd_git_head(const char *repo, char **ret_commit)
{
	_cleanup_free_ char *gitdir = NULL, *head_path = NULL, *head = NULL, *ref_path = NULL;
	_cleanup_free_ char *commit = NULL;
	int r;

	r = git_dir(repo, &gitdir);
	if (r < 0)
		return r;
	head_path = gpd_path_join(gitdir, "HEAD");
	if (!head_path)
		return -ENOMEM;
	r = read_trimmed(head_path, &head);
	if (r < 0)
		return r;
	if (is_hex40(head)) {
		*ret_commit = TAKE_PTR(head);
		return 0;
	}
	if (strncmp(head, "ref: ", 5) != 0 || strstr(head, ".."))
		return -EINVAL;
	ref_path = gpd_path_join(gitdir, head + 5);
	if (!ref_path)
		return -ENOMEM;
	if (read_trimmed(ref_path, &commit) < 0 || !is_hex40(commit)) {
		free(commit);
		commit = NULL;
		r = packed_ref(gitdir, head + 5, &commit);
		if (r < 0)
			return r;
	}
	*ret_commit = TAKE_PTR(commit);
	return 0;
}
