/*
 * gitsync.c — `git fetch <remote> <branch>` then `git merge --ff-only FETCH_HEAD`, as child
 * processes of the loop, each bounded by repository.sync.timeout.
 *
 * The child gets a clean environment (PATH, HOME, LC_ALL=C, no prompts, no editor), so that
 * neither the service's environment nor an interactive credential helper can change what git
 * does, and its stdin is /dev/null. --ff-only makes git refuse, rather than merge, when the
 * checkout has commits the remote lacks or the remote's history was rewritten; git also
 * refuses when local changes are in the way. Either way the checkout stays as it was.
 *
 * Deliberately not here: any way of resolving a diverged checkout (reset, rebase, stash);
 * that is a human's call.
 */
#include "gitsync.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

#define GPD_GITSYNC_OUTPUT_MAX 4096

static void run_step(struct gpd_gitsync *s);

void
gpd_gitsync_init(struct gpd_gitsync *s)
{
	*s = (struct gpd_gitsync){0};
}

static void
finish(struct gpd_gitsync *s, int r)
{
	gpd_gitsync_done_fn done = s->done;

	s->running = false;
	if (done && !s->closing)
		done(s, r);
}

/* git's last words, on one line: "fatal: Not possible to fast-forward, aborting." */
static const char *
git_said(struct gpd_gitsync *s)
{
	while (s->output.len &&
	       (s->output.p[s->output.len - 1] == '\n' || s->output.p[s->output.len - 1] == '\r'))
		s->output.p[--s->output.len] = '\0';
	for (size_t i = 0; i < s->output.len; i++)
		if (s->output.p[i] == '\n')
			s->output.p[i] = ' ';
	return s->output.len ? s->output.p : "(no output)";
}

/*
 * Logged as an error when it is new; the same failure again (every interval until a human
 * resolves it) is logged at debug level, and STATUS= keeps saying it.
 */
static void
log_failure(struct gpd_gitsync *s)
{
	const char *how = s->timed_out ? "timed out" : "failed";
	char said[sizeof(s->last_said)];
	int prio;

	snprintf(said, sizeof(said), "%d %s %s", s->step, how, git_said(s));
	prio = strcmp(said, s->last_said) == 0 ? LOG_DEBUG : LOG_ERR;
	memcpy(s->last_said, said, sizeof(said));
	if (s->step == 0) {
		snprintf(s->problem, sizeof(s->problem), "git fetch %s %s %s", s->remote, s->branch,
			 how);
		gpd_log(prio, NULL, NULL,
			"repository sync: git fetch %s %s %s: %s; passes use the last good "
			"checkout",
			s->remote, s->branch, how, git_said(s));
		return;
	}
	snprintf(s->problem, sizeof(s->problem), "cannot fast-forward to %s/%s", s->remote,
		 s->branch);
	gpd_log(prio, NULL, NULL,
		"repository sync: the checkout %s cannot be fast-forwarded to %s/%s (local "
		"commits, rewritten remote history or local changes in the way); it was left as it "
		"is, nothing was merged or reset, and passes use the last good checkout. git merge "
		"--ff-only %s: %s",
		s->repo, s->remote, s->branch, how, git_said(s));
}

static void
log_success(struct gpd_gitsync *s)
{
	if (s->problem[0])
		gpd_log_info(NULL, "repository sync works again: %s is at %s/%s", s->repo,
			     s->remote, s->branch);
	s->problem[0] = '\0';
	s->last_said[0] = '\0';
}

const char *
gpd_gitsync_problem(const struct gpd_gitsync *s)
{
	return s->problem[0] ? s->problem : NULL;
}

static void
on_closed(uv_handle_t *h)
{
	struct gpd_gitsync *s = h->data;

	if (--s->open_handles > 0)
		return;
	s->pgid = 0; /* the step is over: nothing of it is killed any more */
	if (!s->closing)
		uv_timer_stop(&s->timer);
	if (s->spawn_error < 0) {
		int r = s->spawn_error;

		s->spawn_error = 0;
		gp_buf_release(&s->output);
		finish(s, r);
		return;
	}
	if (s->cancelled || s->closing) {
		gp_buf_release(&s->output);
		finish(s, -ECANCELED);
		return;
	}
	if (s->timed_out || s->exit_status != 0 || s->term_signal != 0) {
		log_failure(s);
		gp_buf_release(&s->output);
		finish(s, -EIO);
		return;
	}
	gp_buf_release(&s->output);
	if (s->step == 0) {
		s->step = 1;
		run_step(s);
		return;
	}
	log_success(s);
	finish(s, 0);
}

static void
on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
	struct gpd_gitsync *s = p->data;

	s->exited = true;
	s->exit_status = exit_status;
	s->term_signal = term_signal;
	uv_close((uv_handle_t *)p, on_closed);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char scratch[4096]; /* loop thread only; consumed in on_read */

	buf->base = scratch;
	buf->len = sizeof(scratch);
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct gpd_gitsync *s = st->data;

	if (n > 0 && s->output.len < GPD_GITSYNC_OUTPUT_MAX)
		gp_buf_append(&s->output, buf->base, (size_t)n);
	if (n < 0 && !uv_is_closing((uv_handle_t *)st))
		uv_close((uv_handle_t *)st, on_closed);
}

/* Kills git and whatever it started (ssh, a credential helper: git runs in a process group
 * of its own), and closes the pipes, so that the step ends now. A reaped child's group id
 * stays reserved while members remain, so the group can still be named after git exited. */
static void
kill_step(struct gpd_gitsync *s)
{
	if (s->pgid > 0)
		uv_kill(-s->pgid, SIGKILL);
	if (!uv_is_closing((uv_handle_t *)&s->out))
		uv_close((uv_handle_t *)&s->out, on_closed);
	if (!uv_is_closing((uv_handle_t *)&s->err))
		uv_close((uv_handle_t *)&s->err, on_closed);
}

static void
on_timeout(uv_timer_t *t)
{
	struct gpd_gitsync *s = t->data;

	s->timed_out = true;
	kill_step(s);
}

static int
spawn(struct gpd_gitsync *s, char **args)
{
	char home[4200];
	char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin",
		       home,
		       "LC_ALL=C",
		       "GIT_TERMINAL_PROMPT=0",
		       "GIT_ASKPASS=/bin/false",
		       "SSH_ASKPASS=/bin/false",
		       "GIT_MERGE_AUTOEDIT=no",
		       "GIT_EDITOR=:",
		       NULL};
	uv_stdio_container_t stdio[3] = {
		{.flags = UV_IGNORE},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&s->out},
		{.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&s->err},
	};
	uv_process_options_t o = {
		.file = "git",
		.args = args,
		.env = env,
		.stdio = stdio,
		.stdio_count = 3,
		.exit_cb = on_exit_cb,
		.flags = UV_PROCESS_DETACHED, /* setsid(): its own process group, see kill_step() */
	};

	snprintf(home, sizeof(home), "HOME=%s", getenv("HOME") ? getenv("HOME") : "/");
	s->proc.data = s;
	return uv_spawn(s->loop, &s->proc, &o);
}

static void
run_step(struct gpd_gitsync *s)
{
	char *fetch[] = {"git",	      "-C",	 s->repo,   "fetch", "--quiet",
			 "--no-tags", s->remote, s->branch, NULL};
	char *merge[] = {"git",	    "-C",	 s->repo,      "merge", "--ff-only",
			 "--quiet", "--no-edit", "FETCH_HEAD", NULL};
	int r;

	s->timed_out = s->exited = false;
	s->exit_status = 0;
	s->term_signal = 0;
	uv_pipe_init(s->loop, &s->out, 0);
	uv_pipe_init(s->loop, &s->err, 0);
	s->out.data = s->err.data = s;
	r = spawn(s, s->step == 0 ? fetch : merge);
	if (r < 0) {
		/* The handles were initialised all the same and must be closed. */
		gpd_log_error(NULL, "repository sync: cannot run git: %s", uv_strerror(r));
		s->exited = true;
		s->spawn_error = r; /* already logged: on_closed only reports the end */
		s->open_handles = 3;
		uv_close((uv_handle_t *)&s->proc, on_closed);
		uv_close((uv_handle_t *)&s->out, on_closed);
		uv_close((uv_handle_t *)&s->err, on_closed);
		return;
	}
	s->open_handles = 3;
	s->pgid = s->proc.pid;
	uv_read_start((uv_stream_t *)&s->out, on_alloc, on_read);
	uv_read_start((uv_stream_t *)&s->err, on_alloc, on_read);
	uv_timer_start(&s->timer, on_timeout, s->timeout_ms ? s->timeout_ms : 60000, 0);
}

static int
copy_config(struct gpd_gitsync *s, const struct gp_config *cfg)
{
	char *repo = strdup(cfg->repository.path);
	char *remote = strdup(!gp_isempty(cfg->repository.sync.remote) ? cfg->repository.sync.remote
								       : "origin");
	char *branch = strdup(!gp_isempty(cfg->repository.sync.branch) ? cfg->repository.sync.branch
								       : "main");

	if (!repo || !remote || !branch) {
		free(repo);
		free(remote);
		free(branch);
		return -ENOMEM;
	}
	free(s->repo);
	free(s->remote);
	free(s->branch);
	s->repo = repo;
	s->remote = remote;
	s->branch = branch;
	s->timeout_ms = cfg->repository.sync.timeout_ms;
	return 0;
}

int
gpd_gitsync_start(struct gpd_gitsync *s, uv_loop_t *loop, const struct gp_config *cfg,
		  gpd_gitsync_done_fn done, void *userdata)
{
	int r;

	if (s->closing)
		return -ECANCELED;
	if (s->running)
		return -EBUSY;
	if (!s->inited) {
		s->loop = loop;
		uv_timer_init(loop, &s->timer);
		s->timer.data = s;
		s->inited = true;
	}
	r = copy_config(s, cfg);
	if (r < 0)
		return r;
	s->done = done;
	s->userdata = userdata;
	s->running = true;
	s->cancelled = false;
	s->step = 0;
	run_step(s);
	return 0;
}

void
gpd_gitsync_cancel(struct gpd_gitsync *s)
{
	s->done = NULL;
	if (s->running && s->open_handles > 0) {
		s->cancelled = true;
		kill_step(s);
	}
}

static void
free_settings(struct gpd_gitsync *s)
{
	free(s->repo);
	free(s->remote);
	free(s->branch);
	s->repo = s->remote = s->branch = NULL;
}

static void
on_timer_closed(uv_handle_t *h)
{
	free_settings(h->data);
}

void
gpd_gitsync_close(struct gpd_gitsync *s)
{
	if (s->closing)
		return;
	gpd_gitsync_cancel(s);
	s->closing = true;
	if (s->inited)
		uv_close((uv_handle_t *)&s->timer, on_timer_closed);
	else
		free_settings(s);
}
