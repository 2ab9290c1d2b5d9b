/*
 * inputs.c — reads the checkout's files, as the manifest (inputs/manifest.h) lists them, hands
 * them to lib/'s parsers and the join, and keeps the daemon's desired state while its files
 * stay the same.
 *
 * What a missing or broken file means is decided here: a catalog, enums or request schema file
 * that does not parse makes every environment unknown; a tfvars file that does not parse makes
 * its environment unknown; a request contract that does not parse is an error that describes
 * no entry. Never an empty desired state from a file we could not read.
 * Deliberately not here: which files there are (inputs/manifest.c), the join and validation
 * rules (plan/join.c, plan/gates.c), logging (the caller logs the diagnostics), git sync
 * (daemon loop).
 */
#include "inputs.h"

#include <assert.h>
#include <dirent.h>
#include <stdio.h>

#include "fileio.h"
#include "inputs/lint.h"
#include "plan/join.h"

/*
 * Reads input file f from beneath the checkout (fileio.h: regular files only, never blocking,
 * never through a link that leads out). A missing file is -ENOENT without a diagnostic: the
 * caller decides what absence means; any other failure is a diagnostic naming f, and counts
 * as a file that does not parse.
 */
static int
read_input(const struct gp_manifest *m, const struct gp_input_file *f, char **buf, size_t *len,
	   struct gp_diags *diags)
{
	mode_t type = 0;
	int r = gpd_read_input(m->repo, f->path, GPD_MAX_INPUT_SIZE, buf, len, &type);

	if (r == -GPD_ENOTREG)
		gp_diag_error(diags, r, f->path, 0, 0, "cannot read: it is %s, not a regular file",
			      gpd_file_type_name(type));
	else if (r == -EXDEV)
		gp_diag_error(diags, r, f->path, 0, 0,
			      "cannot read: it leads outside the checkout (through a symbolic "
			      "link or \"..\")");
	else if (r < 0 && r != -ENOENT)
		gp_diag_error(diags, r, f->path, 0, 0, "cannot read: %s", strerror(-r));
	return r;
}

typedef int (*parse_fn)(const char *buf, size_t len, const char *name, struct gp_doc **ret,
			struct gp_diags *diags);

/* Reads and parses one input file, named in diagnostics by its manifest path (relative to the
 * checkout). Returns 0, -ENOENT (missing), or -EINVAL/-errno. */
static int
parse_input(const struct gp_manifest *m, const struct gp_input_file *f, parse_fn parse,
	    struct gp_doc **ret, struct gp_diags *diags)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r = read_input(m, f, &buf, &len, diags);

	return r < 0 ? r : parse(buf, len, f->path, ret, diags);
}

/* A YAML input file; an empty one is an error (it would read as "nothing"). */
static int
load_yaml(const struct gp_manifest *m, const struct gp_input_file *f, struct gp_doc **ret,
	  struct gp_diags *diags)
{
	int r = parse_input(m, f, gp_yaml_parse, ret, diags);

	if (r >= 0 && !(*ret)->root) {
		gp_doc_free(*ret);
		*ret = NULL; /* the caller's cleanup frees it otherwise, a second time */
		gp_diag_error(diags, -EINVAL, f->path, 1, 1, "file is empty");
		return -EINVAL;
	}
	return r;
}

/* The catalog (required), the enums or the request schema (optional: absent, the built-in
 * lists and rules apply). */
static int
load_shared(const struct gp_manifest *m, const struct gp_input_file *f,
	    struct gpd_repo_inputs *in)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	int r = load_yaml(m, f, &doc, &in->diags);

	if (r == -ENOENT && !f->required)
		return 0;
	if (r == -ENOENT) {
		_cleanup_free_ char *full = gp_manifest_path(m, f);

		gp_diag_error(&in->diags, r, f->path, 0, 0,
			      "%s not found at %s: every environment is skipped",
			      gp_input_role_to_string(f->role), full ? full : f->path);
	}
	if (r < 0)
		return r;
	if (f->role == GP_INPUT_CATALOG)
		return gp_catalog_extract(doc, &in->catalog, &in->diags);
	if (f->role == GP_INPUT_REQUEST_SCHEMA) {
		struct gp_schema *s = NULL;

		r = gp_schema_extract(doc, &s, &in->diags);
		if (r >= 0) {
			gp_schema_free(in->schema);
			in->schema = s;
		}
		return r;
	}
	return gp_enums_extract(doc, &in->enums, &in->diags);
}

static int
read_shared(const struct gp_manifest *m, struct gpd_repo_inputs *in)
{
	int r;

	*in = (struct gpd_repo_inputs){0};
	r = gp_enums_init_default(&in->enums);
	if (r >= 0)
		r = gp_schema_new_default(&in->schema);
	if (r < 0) {
		gp_enums_release(&in->enums);
		return r;
	}
	for (size_t i = 0; i < ELEMENTSOF(m->shared); i++)
		if (load_shared(m, &m->shared[i], in) < 0)
			in->failed = true;
	if (in->catalog && !in->failed)
		gp_catalog_validate(in->catalog, &in->enums, &in->diags);
	return 0;
}

int
gpd_inputs_load(const struct gp_manifest *m, struct gpd_repo_inputs *in)
{
	_cleanup_free_ char *commit = NULL;
	int r;

	gpd_git_head(m->repo, &commit);
	r = read_shared(m, in);
	if (r >= 0)
		in->commit = TAKE_PTR(commit);
	return r;
}

void
gpd_inputs_release(struct gpd_repo_inputs *in)
{
	free(in->commit);
	gp_catalog_free(in->catalog);
	gp_enums_release(&in->enums);
	gp_schema_free(in->schema);
	gp_diags_release(&in->diags);
	*in = (struct gpd_repo_inputs){0};
}

static int
parse_tfvars(const struct gp_manifest *m, const struct gp_input_file *f, struct gp_tfvars **ret,
	     struct gp_diags *diags)
{
	_cleanup_(gp_doc_freep) struct gp_doc *doc = NULL;
	int r = parse_input(m, f, gp_hcl_parse, &doc, diags);

	if (r < 0)
		return r;
	return gp_tfvars_extract(doc, gp_input_role_tfvars_mode(f->role), ret, diags);
}

/* Neither layout applies; the diagnostic names the last file tried. */
static int
no_tfvars(const struct gp_manifest_env *e, const struct gp_input_file *last,
	  struct gp_diags *diags)
{
	_cleanup_free_ char *standalone =
		gp_manifest_tfvars_path(GP_INPUT_TFVARS_STANDALONE, e->name);
	_cleanup_free_ char *coupled = gp_manifest_tfvars_path(GP_INPUT_TFVARS_COUPLED, e->name);

	if (!standalone || !coupled)
		return -ENOMEM;
	gp_diag_error(diags, -ENOENT, last ? last->path : NULL, 0, 0,
		      "environment %s has no inputs: neither %s nor %s with rds_config.enabled = "
		      "true",
		      e->name, standalone, coupled);
	return -ENOENT;
}

/* The first of e's tfvars files that applies: a required one when it exists, an optional one
 * when it exists and enables its application databases (a standalone file always does).
 * None: -ENOENT, with a diagnostic unless none_ok. */
static int
read_tfvars(const struct gp_manifest *m, const struct gp_manifest_env *e, bool none_ok,
	    struct gp_tfvars **ret, struct gp_diags *diags)
{
	const struct gp_input_file *last = NULL;

	for (size_t i = 0; i < e->n; i++) {
		const struct gp_input_file *f = &e->files[i];
		_cleanup_(gp_tfvars_freep) struct gp_tfvars *t = NULL;
		int r;

		if (gp_input_role_tfvars_mode(f->role) == GP_MODE_AUTO)
			continue; /* the catalog or the enums */
		last = f;
		r = parse_tfvars(m, f, &t, diags);
		if (r == -ENOENT && f->required)
			break;
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		if (f->required || t->rds_enabled) {
			*ret = TAKE_PTR(t);
			return 0;
		}
	}
	return none_ok ? -ENOENT : no_tfvars(e, last, diags);
}

/* ---- request contracts: a directory of files ---- */

#define MAX_CONTRACTS 10000

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool
contract_file_name(const char *n)
{
	size_t len = strlen(n);

	return n[0] != '.' && ((len > 5 && strcmp(n + len - 5, ".yaml") == 0) ||
			       (len > 4 && strcmp(n + len - 4, ".yml") == 0));
}

/*
 * The paths (relative to the checkout, as diagnostics show them) of the contract files in
 * directory f, sorted. An absent directory has none. Each file is opened later as every
 * input is (beneath the checkout, regular files only), so a name listed here that is not a
 * regular file becomes a diagnostic then.
 */
static int
list_contracts(const struct gp_manifest *m, const struct gp_input_file *f, struct gp_strv *out)
{
	_cleanup_free_ char *dir = gp_manifest_path(m, f);
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
	while (r >= 0 && (de = readdir(d)) && out->n < MAX_CONTRACTS) {
		_cleanup_free_ char *path = NULL;

		if (!contract_file_name(de->d_name))
			continue;
		path = gpd_path_join(f->path, de->d_name);
		r = path ? gp_strv_push(out, path) : -ENOMEM;
	}
	closedir(d);
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), cmp_name);
	return r;
}

/* The contracts directory of e, or NULL. */
static const struct gp_input_file *
contracts_dir(const struct gp_manifest_env *e)
{
	for (size_t i = 0; i < e->n; i++)
		if (gp_input_role_is_dir(e->files[i].role))
			return &e->files[i];
	return NULL;
}

/* Reads and checks every contract of e (their problems go to diags). 0 or -ENOMEM. */
static int
read_contracts(const struct gp_manifest *m, const struct gp_manifest_env *e,
	       const struct gpd_repo_inputs *shared, struct gp_contracts *cs,
	       struct gp_diags *diags)
{
	const struct gp_input_file *dir = contracts_dir(e);
	_cleanup_(gp_strv_release) struct gp_strv names = {0};
	int r = dir ? list_contracts(m, dir, &names) : 0;

	if (r < 0 && r != -ENOMEM)
		gp_diag_error(diags, r, dir->path, 0, 0, "cannot list the contracts: %s",
			      strerror(-r));
	for (size_t i = 0; r >= 0 && i < names.n; i++) {
		const struct gp_input_file f = {dir->role, false, names.v[i]};
		_cleanup_free_ char *buf = NULL;
		size_t len;

		if (read_input(m, &f, &buf, &len, diags) < 0)
			continue;
		r = gp_contracts_read(cs, buf, len, f.path, e->name, shared->schema,
				      &shared->enums, diags);
	}
	return r == -ENOMEM ? r : 0;
}

static int say_why(struct gpd_load_res *res, int r, const char *fmt, ...) _printf_(3, 4);

/* Says why the environment has no desired state; returns r. */
static int
say_why(struct gpd_load_res *res, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(res->why, sizeof(res->why), fmt, ap);
	va_end(ap);
	return r;
}

/* Joins the environment's tfvars with shared inputs that were read. */
static int
join(const struct gpd_load_req *req, const struct gp_manifest_env *e,
     const struct gpd_repo_inputs *shared, struct gpd_load_res *res, struct gp_diags *diags)
{
	_cleanup_(gp_tfvars_freep) struct gp_tfvars *t = NULL;
	_cleanup_(gp_contracts_release) struct gp_contracts cs = {0};
	struct gp_join_input in;
	int r;

	if (shared->failed)
		return say_why(res, -EINVAL, "%s", GPD_INPUTS_SHARED_FAILED);
	r = read_tfvars(req->manifest, e, req->none_ok, &t, diags);
	if (r >= 0 || (r == -ENOENT && req->none_ok)) {
		int rc = read_contracts(req->manifest, e, shared, &cs, diags);

		if (rc < 0)
			return say_why(res, rc, "cannot read the contracts: %s", strerror(-rc));
	}
	if (r == -ENOENT && req->none_ok && cs.n == 0) {
		res->none = true;
		return 0;
	}
	if (r == -ENOENT && req->none_ok)
		r = 0; /* contracts without tfvars: joined with none */
	if (r < 0)
		return say_why(res, r, "%s",
			       r == -ENOENT ? "its tfvars file is missing"
			       : r == -EXDEV || r == -GPD_ENOTREG
				       ? "its tfvars file cannot be read"
				       : "its tfvars file does not parse");
	in = (struct gp_join_input){
		.env = e->name,
		.env_config = req->env_config,
		.tfvars = t,
		.catalog = shared->catalog,
		.enums = &shared->enums,
		.contracts = &cs,
		.schema = shared->schema,
		.master_user = req->master_user,
		.master_db = req->master_db,
	};
	r = gp_desired_build(&in, &res->desired, diags);
	if (r < 0)
		return say_why(res, r, "cannot build the desired state: %s", strerror(-r));
	return 0;
}

/* Reads the shared files for this environment alone; their diagnostics count only when they
 * make it unknown. */
static int
read_and_join(const struct gpd_load_req *req, const struct gp_manifest_env *e,
	      struct gpd_load_res *res, struct gp_diags *diags)
{
	struct gpd_repo_inputs shared;
	int r = read_shared(req->manifest, &shared);

	if (r < 0)
		say_why(res, r, "cannot read the inputs: %s", strerror(-r));
	else if (shared.failed)
		gp_diags_move(diags, &shared.diags);
	if (r >= 0)
		r = join(req, e, &shared, res, diags);
	gpd_inputs_release(&shared);
	return r;
}

/* What the desired state is built from: e's files as they are now, and the master user and
 * database (reserved names). The configuration is the caller's business. */
static int
inputs_key(const struct gpd_load_req *req, const struct gp_manifest_env *e,
	   uint8_t key[static 32])
{
	EVP_MD_CTX *md;
	int r = gpd_digest_begin(&md);

	if (r < 0)
		return r;
	for (size_t i = 0; i < e->n && r >= 0; i++) {
		_cleanup_(gp_strv_release) struct gp_strv names = {0};

		if (!gp_input_role_is_dir(e->files[i].role)) {
			r = gpd_digest_input(md, req->manifest->repo, e->files[i].path);
			continue;
		}
		/* A directory: the names of its contracts, then each one. */
		r = list_contracts(req->manifest, &e->files[i], &names);
		gpd_digest_u64(md, names.n);
		for (size_t k = 0; k < names.n && r >= 0; k++)
			r = gpd_digest_input(md, req->manifest->repo, names.v[k]);
	}
	gpd_digest_str(md, req->master_user);
	gpd_digest_str(md, req->master_db);
	if (r < 0) {
		EVP_MD_CTX_free(md);
		return r;
	}
	return gpd_digest_end(md, key);
}

/* Keeps a new desired state in place of the old one, when its inputs could be digested. */
static void
keep(const struct gpd_load_req *req, const uint8_t *key, struct gpd_load_res *res)
{
	gp_desired_free(*req->kept);
	*req->kept = NULL;
	if (!key)
		return;
	memcpy(req->key, key, 32);
	*req->kept = res->desired;
	res->kept = true;
}

int
gpd_inputs_load_desired(const struct gpd_load_req *req, struct gpd_load_res *res,
			struct gp_diags *diags)
{
	const struct gp_manifest_env *e = gp_manifest_env(req->manifest, req->env);
	uint8_t key[32];
	bool keyed = false;
	int r;

	assert(e && !(req->kept && req->shared));
	*res = (struct gpd_load_res){0};
	if (req->kept) {
		keyed = inputs_key(req, e, key) >= 0;
		if (keyed && *req->kept && memcmp(req->key, key, sizeof(key)) == 0) {
			res->desired = *req->kept;
			res->kept = true;
			return 0;
		}
	}
	if (req->shared)
		return join(req, e, req->shared, res, diags);
	r = read_and_join(req, e, res, diags);
	if (r >= 0 && req->kept)
		keep(req, keyed ? key : NULL, res);
	return r;
}

int
gpd_inputs_envs(const struct gp_manifest *m, struct gp_strv *envs)
{
	for (size_t i = 0; i < m->n_envs; i++) {
		const struct gp_manifest_env *e = &m->envs[i];
		bool found = false;

		for (size_t j = 0; j < e->n && !found; j++) {
			_cleanup_free_ char *path = gp_manifest_path(m, &e->files[j]);

			if (!path)
				return -ENOMEM;
			found = (gp_input_role_tfvars_mode(e->files[j].role) != GP_MODE_AUTO ||
				 gp_input_role_is_dir(e->files[j].role)) &&
				gpd_file_exists(path);
		}
		if (found && gp_strv_push(envs, e->name) < 0)
			return -ENOMEM;
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
