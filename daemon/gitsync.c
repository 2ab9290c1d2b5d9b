/*
 * gitsync.c — `git fetch <remote> <branch>` then `git merge --ff-only FETCH_HEAD`, as child
 * processes of the loop, each bounded by repository.sync.timeout.
 *
 * The child gets a clean environment (PATH, HOME, LC_ALL=C, no prompts), so that neither the
 * service's environment nor an interactive credential helper can change what git does.
 * Deliberately not here: any way of resolving a diverged checkout; that is a human's call.
 */
#include "gitsync.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static void run_step(struct gpd_gitsync *s);

void
gpd_gitsync_init(struct gpd_gitsync *s)
{
	*s = (struct gpd_gitsync){0};
}

static void
finish(struct gpd_gitsync *s, int r)
{
	s->running = false;
	if (s->done)
		s->done(s, r);
}

static void
on_closed(uv_handle_t *h)
{
	struct gpd_gitsync *s = h->data;
	const char *what = s->step == 0 ? "git fetch" : "git merge --ff-only";
	bool ok;

	if (--s->open_handles > 0)
		return;
	uv_timer_stop(&s->timer);
	ok = !s->timed_out && s->exit_status == 0 && s->term_signal == 0;
	if (!ok) {
		/* git's own words say why (not a fast-forward, unreachable remote, ...). */
		while (s->output.len && (s->output.p[s->output.len - 1] == '\n'))
			s->output.p[--s->output.len] = '\0';
		gpd_log_error(NULL, "repository sync failed: %s %s%s%s; using the last good checkout",
			      what, s->timed_out ? "timed out" : "failed", s->output.len ? ": " : "",
			      s->output.len ? s->output.p : "");
		gp_buf_release(&s->output);
		finish(s, -EIO);
		return;
	}
	gp_buf_release(&s->output);
	if (s->step == 0 && !s->cancelled) {
		s->step = 1;
		run_step(s);
		return;
	}
	finish(s, s->cancelled ? -ECANCELED : 0);
}

static void
on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
	struct gpd_gitsync *s = p->data;

	s->exit_status = exit_status;
	s->term_signal = term_signal;
	uv_close((uv_handle_t *)p, on_closed);
}

static void
on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char scratch[4096];

	buf->base = scratch;
	buf->len = sizeof(scratch);
}

static void
on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	struct gpd_gitsync *s = st->data;

	if (n > 0 && s->output.len < 8192)
		gp_buf_append(&s->output, buf->base, (size_t)n);
	if (n < 0)
		uv_close((uv_handle_t *)st, on_closed);
}

static void
on_timeout(uv_timer_t *t)
{
	struct gpd_gitsync *s = t->data;

	s->timed_out = true;
	uv_process_kill(&s->proc, SIGKILL);
}

static void
run_step(struct gpd_gitsync *s)
{
	char *fetch[] = {"git", "-C", s->repo, "fetch", "--quiet", "--no-tags", s->remote,
			 s->branch, NULL};
	char *merge[] = {"git", "-C", s->repo, "merge", "--ff-only", "--quiet", "FETCH_HEAD", NULL};
	char home[4200];
	char *env[] = {"PATH=/usr/local/bin:/usr/bin:/bin", home, "LC_ALL=C",
		       "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/false", "GIT_MERGE_AUTOEDIT=no",
		       NULL};
	uv_stdio_container_t stdio[3];
	uv_process_options_t o = {0};
	int r;

	snprintf(home, sizeof(home), "HOME=%s", getenv("HOME") ? getenv("HOME") : "/");
	s->timed_out = false;
	s->exit_status = 0;
	s->term_signal = 0;
	uv_pipe_init(s->loop, &s->out, 0);
	uv_pipe_init(s->loop, &s->err, 0);
	s->out.data = s;
	s->err.data = s;
	stdio[0] = (uv_stdio_container_t){.flags = UV_IGNORE};
	stdio[1] = (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
					  .data.stream = (uv_stream_t *)&s->out};
	stdio[2] = (uv_stdio_container_t){.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE,
					  .data.stream = (uv_stream_t *)&s->err};
	o.file = "git";
	o.args = s->step == 0 ? fetch : merge;
	o.env = env;
	o.stdio = stdio;
	o.stdio_count = 3;
	o.exit_cb = on_exit_cb;
	s->proc.data = s;
	r = uv_spawn(s->loop, &s->proc, &o);
	if (r < 0) {
		gpd_log_error(NULL, "repository sync: cannot run git: %s", uv_strerror(r));
		uv_close((uv_handle_t *)&s->out, NULL);
		uv_close((uv_handle_t *)&s->err, NULL);
		uv_close((uv_handle_t *)&s->proc, NULL);
		finish(s, r);
		return;
	}
	s->open_handles = 3;
	uv_read_start((uv_stream_t *)&s->out, on_alloc, on_read);
	uv_read_start((uv_stream_t *)&s->err, on_alloc, on_read);
	uv_timer_start(&s->timer, on_timeout, s->timeout_ms ? s->timeout_ms : 60000, 0);
}

static int
copy_config(struct gpd_gitsync *s, const struct gp_config *cfg)
{
	free(s->repo);
	free(s->remote);
	free(s->branch);
	s->repo = strdup(cfg->repository.path);
	s->remote = strdup(cfg->repository.sync.remote ? cfg->repository.sync.remote : "origin");
	s->branch = strdup(cfg->repository.sync.branch ? cfg->repository.sync.branch : "main");
	s->timeout_ms = cfg->repository.sync.timeout_ms;
	return s->repo && s->remote && s->branch ? 0 : -ENOMEM;
}

int
gpd_gitsync_start(struct gpd_gitsync *s, uv_loop_t *loop, const struct gp_config *cfg,
		  gpd_gitsync_done_fn done, void *userdata)
{
	int r;

	if (s->running)
		return 0; /* the running sync's completion starts the passes */
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
	if (s->running) {
		s->cancelled = true;
		uv_process_kill(&s->proc, SIGKILL);
	}
}

void
gpd_gitsync_close(struct gpd_gitsync *s)
{
	if (s->inited && !uv_is_closing((uv_handle_t *)&s->timer))
		uv_close((uv_handle_t *)&s->timer, NULL);
	free(s->repo);
	free(s->remote);
	free(s->branch);
	s->repo = s->remote = s->branch = NULL;
}
