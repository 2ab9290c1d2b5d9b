/*
 * state_store.c — loads and saves an environment's lifecycle records (state_store.h).
 *
 * It joins fileio (bytes on disk, atomically) with lib/state.c (bytes ↔ records) and turns
 * failures into one message naming the file. It does not decide anything about the records,
 * does not lock (one pass per environment at a time is the loop's guarantee, and across
 * bastions the PostgreSQL advisory lock is), does not keep backups and never logs.
 */
#include "state_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include "fileio.h"

#include <stdio.h>

/* Sets *ret_err to "path: strerror(-r)" and returns r. */
static int
fail_errno(char **ret_err, const char *path, int r)
{
	char msg[256];

	if (ret_err) {
		/* GNU strerror_r: thread-safe (passes run on the thread pool), returns the text. */
		const char *e = strerror_r(-r, msg, sizeof(msg));

		if (asprintf(ret_err, "%s: %s", path, e) < 0)
			*ret_err = NULL;
	}
	return r;
}

/* env names a file: it must not reach outside state_dir. */
static int
fail_env(char **ret_err, const char *state_dir, const char *env)
{
	if (ret_err && asprintf(ret_err, "%s: invalid environment name \"%s\"",
				state_dir ? state_dir : "(state_dir unset)", env ? env : "") < 0)
		*ret_err = NULL;
	return -EINVAL;
}

static int
fail_diags(char **ret_err, const struct gp_diags *d, int r)
{
	struct gp_buf b = {0};

	if (!ret_err)
		return r;
	for (size_t i = 0; i < d->n; i++) {
		if (i > 0)
			gp_buf_putc(&b, '\n');
		gp_diag_format(&d->v[i], &b);
	}
	*ret_err = gp_buf_steal(&b);
	return r;
}

static bool
env_is_name(const char *env)
{
	return !gp_isempty(env) && !strchr(env, '/') && strcmp(env, ".") != 0 &&
	       strcmp(env, "..") != 0;
}

static char *
state_path(const char *state_dir, const char *env)
{
	_cleanup_free_ char *name = NULL;

	if (asprintf(&name, "%s%s", env, GPD_STATE_FILE_SUFFIX) < 0)
		return NULL;
	return gpd_path_join(state_dir, name);
}

int
gpd_state_load(const char *state_dir, const char *env, struct gp_state_file **ret, char **ret_err)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = NULL;
	_cleanup_free_ char *path = NULL, *buf = NULL;
	struct gp_diags diags = {0};
	size_t len;
	int r;

	if (gp_isempty(state_dir) || !env_is_name(env))
		return fail_env(ret_err, state_dir, env);
	path = state_path(state_dir, env);
	if (!path)
		return fail_errno(ret_err, state_dir, -ENOMEM);
	r = gpd_read_file(path, GPD_STATE_MAX_SIZE, &buf, &len);
	if (r == -ENOENT) {
		s = gp_state_file_new(env);
		if (!s)
			return fail_errno(ret_err, path, -ENOMEM);
		*ret = TAKE_PTR(s);
		return 0;
	}
	if (r < 0)
		return fail_errno(ret_err, path, r);
	r = gp_state_parse(buf, len, path, &s, &diags);
	if (r == 0 && !gp_streq(s->env, env)) {
		/* A copied or misnamed file: using it would apply another environment's records. */
		gp_diag_error(&diags, -EINVAL, path, 0, 0,
			      "holds the records of environment \"%s\", expected \"%s\"", s->env,
			      env);
		r = -EINVAL;
	}
	if (r < 0) {
		r = diags.n > 0 ? fail_diags(ret_err, &diags, r) : fail_errno(ret_err, path, r);
		gp_diags_release(&diags);
		return r;
	}
	gp_diags_release(&diags);
	*ret = TAKE_PTR(s);
	return 0;
}

int
gpd_state_save(const char *state_dir, const struct gp_state_file *s, char **ret_err)
{
	_cleanup_free_ char *path = NULL;
	struct gp_buf out = {0};
	int r;

	if (gp_isempty(state_dir) || !env_is_name(s->env))
		return fail_env(ret_err, state_dir, s->env);
	path = state_path(state_dir, s->env);
	if (!path)
		return fail_errno(ret_err, state_dir, -ENOMEM);
	r = gpd_mkdir_p(state_dir, 0750);
	if (r < 0)
		return fail_errno(ret_err, state_dir, r);
	r = gp_state_render(s, &out);
	if (r == -EINVAL) {
		gp_buf_release(&out);
		/* A bug upstream; keeping the old file is better than one that cannot be read. */
		if (ret_err && asprintf(ret_err, "%s: not written: %s", path,
					"a record lacks a valid, unique key or state") < 0)
			*ret_err = NULL;
		return r;
	}
	if (r == 0)
		r = gpd_write_file_atomic(path, out.p, out.len, 0640);
	gp_buf_release(&out);
	if (r < 0)
		return fail_errno(ret_err, path, r);
	return 0;
}

int
gpd_state_file_id(const char *state_dir, const char *env, struct gpd_file_id *id)
{
	_cleanup_free_ char *path = NULL;

	if (gp_isempty(state_dir) || !env_is_name(env))
		return -EINVAL;
	path = state_path(state_dir, env);
	return path ? gpd_file_id(path, id) : -ENOMEM;
}

/* ---------------------------------------------------------------------------------------
 * Requests
 */

static char *
env_file(const char *state_dir, const char *env, const char *suffix)
{
	_cleanup_free_ char *name = NULL;

	if (asprintf(&name, "%s%s", env, suffix) < 0)
		return NULL;
	return gpd_path_join(state_dir, name);
}

int
gpd_requests_load(const char *state_dir, const char *env, struct gp_requests *ret,
		  char **ret_err)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	struct gp_diags diags = {0};
	size_t len;
	int r;

	*ret = (struct gp_requests){0};
	if (gp_isempty(state_dir) || !env_is_name(env))
		return fail_env(ret_err, state_dir, env);
	path = env_file(state_dir, env, GPD_REQUESTS_FILE_SUFFIX);
	if (!path)
		return fail_errno(ret_err, state_dir, -ENOMEM);
	r = gpd_read_file(path, GPD_STATE_MAX_SIZE, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return fail_errno(ret_err, path, r);
	r = gp_requests_parse(buf, len, path, ret, &diags);
	if (r < 0)
		r = fail_diags(ret_err, &diags, r);
	gp_diags_release(&diags);
	return r;
}

typedef int (*requests_edit_fn)(struct gp_requests *req, const void *arg);

/* Load, edit and write the requests file of env under an exclusive flock(). */
static int
requests_update(const char *state_dir, const char *env, requests_edit_fn edit, const void *arg,
		char **ret_err)
{
	_cleanup_free_ char *path = env_file(state_dir, env, GPD_REQUESTS_FILE_SUFFIX);
	_cleanup_free_ char *lock = env_file(state_dir, env, ".requests.lock");
	_cleanup_(gp_buf_release) struct gp_buf out = {0};
	struct gp_requests req = {0};
	int fd, r;

	if (!path || !lock)
		return fail_errno(ret_err, state_dir, -ENOMEM);
	r = gpd_mkdir_p(state_dir, 0750);
	if (r < 0)
		return fail_errno(ret_err, state_dir, r);
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		return fail_errno(ret_err, lock, r);
	}
	r = gpd_requests_load(state_dir, env, &req, ret_err);
	if (r >= 0)
		r = edit(&req, arg);
	if (r >= 0)
		r = gp_requests_render(&req, env, &out);
	if (r >= 0 && (r = gpd_write_file_atomic(path, out.p, out.len, 0640)) < 0)
		fail_errno(ret_err, path, r);
	gp_requests_release(&req);
	close(fd);
	return r;
}

struct add_arg {
	const struct gp_strv *keys;
	int64_t at;
	const char *by;
	const struct gp_state_file *s;
	bool retry; /* retry requests, else rotate requests */
};

static int
edit_add(struct gp_requests *req, const void *arg)
{
	const struct add_arg *a = arg;
	int r = 0;

	for (size_t i = 0; r >= 0 && i < a->keys->n; i++) {
		const char *key = a->keys->v[i];
		const struct gp_record *rec = gp_state_find((struct gp_state_file *)a->s, key);

		r = a->retry ? gp_requests_add_retry(req, key, a->at, a->by)
			     : gp_requests_add_rotate(req, key, a->at, a->by,
						      rec ? rec->current_version : NULL);
	}
	if (r >= 0)
		gp_requests_prune(req, a->s);
	return r;
}

struct confirm_arg {
	int64_t at;
	const char *by;
};

static int
edit_confirm(struct gp_requests *req, const void *arg)
{
	const struct confirm_arg *a = arg;
	char *by = gp_strdup0(a->by);

	if (a->by && !by)
		return -ENOMEM;
	free(req->confirm_by);
	req->confirm_by = by;
	req->confirm_at = a->at;
	return 0;
}

int
gpd_requests_confirm(const char *state_dir, const char *env, int64_t at, const char *by,
		     char **ret_err)
{
	struct confirm_arg a = {at, by};

	return requests_update(state_dir, env, edit_confirm, &a, ret_err);
}

int
gpd_requests_add_rotate(const char *state_dir, const char *env, const struct gp_strv *keys,
			int64_t at, const char *by, const struct gp_state_file *s, char **ret_err)
{
	struct add_arg a = {keys, at, by, s, false};

	return requests_update(state_dir, env, edit_add, &a, ret_err);
}

int
gpd_requests_add_retry(const char *state_dir, const char *env, const struct gp_strv *keys,
		       int64_t at, const char *by, const struct gp_state_file *s, char **ret_err)
{
	struct add_arg a = {keys, at, by, s, true};

	return requests_update(state_dir, env, edit_add, &a, ret_err);
}
