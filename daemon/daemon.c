/*
 * daemon.c — the long-running service (DESIGN §7): one libuv loop that owns every timer,
 * signal, file watch and child process, and runs reconcile passes on the thread pool.
 *
 * Triggers: the interval timer (with jitter), changes in the checkout (fs events, debounced),
 * SIGHUP (after reloading the config), and per-environment retry timers. Passes are
 * level-triggered: each one re-reads everything, so a trigger that arrives while an
 * environment's pass runs only sets a flag, and one follow-up pass covers it. With
 * repository.sync, a trigger first runs `git fetch` + fast-forward (never while a pass reads
 * the checkout), then the passes.
 *
 * systemd: READY=1 once the config is loaded and the loop runs, STATUS= after each pass,
 * RELOADING=1 (with MONOTONIC_USEC) and READY=1 around a reload, STOPPING=1 on shutdown,
 * WATCHDOG=1 at half WATCHDOG_USEC while the loop turns and running passes make progress
 * (a pass in which no statement, connection or Secrets Manager call ended for
 * reconcile.stall_timeout is stuck: the pings stop and systemd restarts the service). A long
 * pass that progresses is never killed for being long.
 *
 * Shutdown (SIGTERM, SIGINT): no new pass or step starts; a running step finishes or hits its
 * timeout (statement_timeout, the Secrets Manager call timeout); the pass flushes audit and
 * state; then every handle is closed and the process exits 0.
 *
 * High availability: a pass acts only while this process holds the environment's PostgreSQL
 * session advisory lock, on a connection kept open between passes (ha.c).
 *
 * Deliberately not here: what a pass does (pass.c), metrics text (metrics.c), the lock
 * (ha.c), git (gitsync.c).
 */
#include "daemon.h"
#include "model/names.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "fileio.h"
#include "gitsync.h"
#include "ha.h"
#include "inputs.h"
#include "log.h"
#include "metrics.h"
#include "pass.h"
#include "pg.h"
#include "state_store.h"
#include "sm.h"

/* A commit touches many files: one pass this long after the last touch, but never later than
 * GPD_DEBOUNCE_MAX_MS after the first, so that a busy checkout cannot postpone passes. */
#define GPD_DEBOUNCE_MS 250
#define GPD_DEBOUNCE_MAX_MS 1000
#define GPD_MAX_WATCHES 32

struct cfgref {
	struct gp_config *cfg;
	unsigned refs;            /* touched on the loop thread only */
	unsigned long generation; /* 1, 2, ... in the order of loading */
};

struct daemon;

enum watch_kind {
	WATCH_TREE,   /* a directory of the working tree: any change counts */
	WATCH_GITDIR, /* .git: only HEAD and packed-refs count (not FETCH_HEAD, index, logs) */
	WATCH_REFS,   /* .git/refs/heads: a branch moved */
	WATCH_REQUESTS, /* state_dir: only <env>.requests.json counts (gprdsd rotate, retry) */
};

/* Heap-allocated: a closing handle must stay valid until its close callback, and watches are
 * re-created (after each burst of changes) while the old ones are still closing. */
struct watch {
	uv_fs_event_t h;
	struct daemon *d;
	enum watch_kind kind;
	char path[];
};

struct envrun {
	struct daemon *d;
	struct gpd_env_metrics m; /* counters and the last pass's figures (metrics.h) */
	char name[16];
	uv_work_t work;
	uv_timer_t retry;
	struct cfgref *cfg; /* the snapshot the running pass uses */
	struct gpd_ha ha;   /* worker-thread owned while a pass runs */
	struct gpd_pass_cache cache; /* likewise */
	unsigned long cache_generation; /* of the configuration the cache was built with */
	struct gpd_pass_result res;
	char run_id[13];
	char commit[41];     /* of the checkout the running pass read */
	int64_t started_at;  /* wall clock of the running pass (its "now") */
	uint64_t started_ms; /* monotonic start of the running pass, 0 when idle */
	bool running, again, configured;
	int pass_rc;
};

struct daemon {
	uv_loop_t *loop;
	const struct gpd_cli *cli;
	struct cfgref *cfg;
	uv_timer_t tick, debounce, watchdog;
	uv_signal_t sighup, sigterm, sigint;
	struct watch *watches[GPD_MAX_WATCHES];
	size_t n_watches;
	uint64_t changes_since_ms; /* first fs event of the burst being debounced, 0: none */
	struct gpd_gitsync sync;
	bool sync_wanted;
	bool reload_failed; /* the last reload was refused: STATUS= says so until one works */
	struct envrun envs[5];
	atomic_bool stop;
	bool closed;
	unsigned long progress_mark; /* steps ended (watchdog_cb) at the last watchdog tick... */
	uint64_t progress_ms;	     /* ... and when it last moved */
	bool stall_logged;
	int exit_code;
};

static void start_passes(struct daemon *d, const char *why);
static void start_env(struct envrun *er);
static void maybe_sync(struct daemon *d);
static void maybe_finish(struct daemon *d);

static uint64_t
mono_ms(void)
{
	return uv_hrtime() / 1000000;
}

static struct cfgref *
cfgref_new(struct gp_config *cfg)
{
	static unsigned long generations;
	struct cfgref *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;

	c->cfg = cfg;
	c->refs = 1;
	c->generation = ++generations;
	return c;
}

static void
cfgref_put(struct cfgref *c)
{
	if (c && --c->refs == 0) {
		gp_config_free(c->cfg);
		free(c);
	}
}

static bool
any_running(const struct daemon *d)
{
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++)
		if (d->envs[i].running)
			return true;
	return false;
}

/* ---------------------------------------------------------------------------------------
 * Passes on the thread pool
 */

static void
work_cb(uv_work_t *w)
{
	struct envrun *er = w->data;
	const struct gp_config *cfg = er->cfg->cfg;
	struct gpd_pass_opts o = {
		.cfg = cfg,
		.env = gp_config_env(cfg, er->name),
		.cache = &er->cache,
		.mode = GPD_PASS_APPLY,
		.run_id = er->run_id,
		.stop = &er->d->stop,
		.now = er->started_at,
		.ha = &er->ha,
		.lazy_state = true,
	};

	/* The environment's settings take part in the join: a reload starts afresh. */
	if (er->cache_generation != er->cfg->generation) {
		gpd_pass_cache_clear(&er->cache);
		er->cache_generation = er->cfg->generation;
	}
	er->pass_rc = gpd_pass_run(&o, &er->res);
	snprintf(er->commit, sizeof(er->commit), "%s", er->res.commit);
	/* libpq and libcurl leave OpenSSL state (DRBG, error queue) in this pool thread; the
	 * pool's threads outlive OpenSSL's exit-time cleanup, so it would never be freed. */
	OPENSSL_thread_stop();
}

/* One line: "dev: 12 active, 0 pending, 1 failed (reason), last pass 3s ago; test: standby" */
static void
notify_status(struct daemon *d)
{
	const char *sync = gpd_gitsync_problem(&d->sync);
	struct gp_buf b = {0};
	bool first = true;

	if (d->reload_failed)
		gp_buf_printf(&b, "reload of %s failed, running the previous configuration; ",
			      d->cli->config);
	if (sync && d->cfg->cfg->repository.sync.enabled)
		gp_buf_printf(&b, "repository sync failing (%s); ", sync);
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++) {
		const struct envrun *er = &d->envs[i];

		if (!er->configured)
			continue;
		if (!first)
			gp_buf_puts(&b, "; ");
		first = false;
		gpd_metrics_status_line(er->name, &er->m, &b);
	}
	sd_notifyf(0, "STATUS=%s", b.p ? b.p : "no environment configured");
	gp_buf_release(&b);
}

static size_t
collect_metrics(struct daemon *d, const char **names, const struct gpd_env_metrics **ms)
{
	size_t n = 0;

	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++) {
		if (!d->envs[i].configured)
			continue;
		names[n] = d->envs[i].name;
		ms[n++] = &d->envs[i].m;
	}
	return n;
}

static void
write_runtime(struct daemon *d, bool stopped)
{
	const struct gp_config *cfg = d->cfg->cfg;
	const struct gpd_env_metrics *ms[ELEMENTSOF(d->envs)];
	const char *names[ELEMENTSOF(d->envs)];
	size_t n = collect_metrics(d, names, ms);
	int r = gpd_runtime_write(cfg->state_dir, names, ms, n, stopped);

	if (r < 0)
		gpd_log_warning(NULL, "cannot write the runtime file in %s: %s", cfg->state_dir,
				strerror(-r));
}

/* The metrics file is rewritten atomically, so node_exporter never reads half of it. */
static void
write_metrics(struct daemon *d)
{
	const struct gp_config *cfg = d->cfg->cfg;
	const struct gpd_env_metrics *ms[ELEMENTSOF(d->envs)];
	const char *names[ELEMENTSOF(d->envs)];
	size_t n = collect_metrics(d, names, ms);
	struct gp_buf b = {0};
	int r;

	write_runtime(d, false);
	if (gp_isempty(cfg->metrics_file))
		return;
	r = gpd_metrics_render(names, ms, n, (int64_t)time(NULL), &b);
	if (r >= 0)
		r = gpd_write_file_atomic(cfg->metrics_file, b.p, b.len, 0644);
	if (r < 0)
		gpd_log_warning(NULL, "cannot write the metrics file %s: %s", cfg->metrics_file,
				strerror(-r));
	gp_buf_release(&b);
}

static void
retry_cb(uv_timer_t *t)
{
	struct envrun *er = t->data;

	start_env(er);
}

/*
 * The earliest retry of a failed entry gets a timer, so that it does not wait for the
 * interval. A retry that was already due when the pass began and is still pending is one the
 * plan chose not to make (a permanent error waits for a new commit): it gets no timer, or the
 * loop would spin.
 */
static void
schedule_retry(struct envrun *er)
{
	int64_t now = (int64_t)time(NULL), at = er->res.next_retry;

	if (!at || at <= er->started_at || atomic_load(&er->d->stop))
		return;
	uv_timer_start(&er->retry, retry_cb, at > now ? (uint64_t)(at - now) * 1000 : 0, 0);
}

static void
account_leadership(struct envrun *er)
{
	struct gpd_logctx c = {.env = er->name, .run = er->run_id};
	bool was_known = er->m.leader_known, was = er->m.leader;

	/* A pass that ended before it could ask (inputs, master secret, connection) says
	 * nothing about leadership: the previous answer stands. */
	if (!er->res.lock_asked)
		return;
	er->m.leader = er->ha.leader;
	er->m.leader_known = true;
	if (was_known && was == er->m.leader)
		return;
	if (er->m.leader)
		gpd_log(LOG_NOTICE, GPD_MID_LEADER_GAINED, &c,
			"%s: leader: this gprdsd holds the environment's lock and acts for it",
			er->name);
	else
		gpd_log(LOG_NOTICE, GPD_MID_LEADER_LOST, &c,
			"%s: standby: another gprdsd holds the environment's lock; this one waits "
			"and takes over when that one stops",
			er->name);
}

static void
log_pass(const struct envrun *er)
{
	const struct gpd_pass_result *res = &er->res;
	struct gpd_logctx c = {
		.env = er->name, .run = er->run_id, .commit = er->commit[0] ? er->commit : NULL};
	bool eventful = er->pass_rc < 0 || res->error < 0 || res->n_applied || res->n_errors;

	if (res->standby) {
		gpd_log_debug(&c, "standby: pass skipped (another gprdsd holds the lock)");
		return;
	}
	/* Quiet passes go to debug: one info line per environment per minute is noise. */
	gpd_log(eventful ? LOG_INFO : LOG_DEBUG, GPD_MID_PASS_FINISHED, &c,
		"pass %s: %zu active, %zu pending, %zu failed, %zu applied, %zu errors in %llums",
		er->pass_rc < 0 || res->error < 0 ? "failed" : "finished",
		res->by_state[GP_STATE_ACTIVE], res->by_state[GP_STATE_PENDING], res->n_failed,
		res->n_applied, res->n_errors, (unsigned long long)res->duration_ms);
}

/* An environment that left the config: its lock and figures go once no pass uses them. */
static void
forget_env(struct envrun *er)
{
	uv_timer_stop(&er->retry);
	gpd_ha_release(&er->ha);
	gpd_pass_cache_clear(&er->cache);
	gpd_metrics_release(&er->m);
	er->again = false;
}

static void
after_work_cb(uv_work_t *w, int status)
{
	struct envrun *er = w->data;
	struct daemon *d = er->d;
	bool written;

	er->running = false;
	er->started_ms = 0;
	gpd_metrics_account(&er->m, &er->res, er->pass_rc, (int64_t)time(NULL));
	account_leadership(er);
	log_pass(er);
	schedule_retry(er);
	written = er->res.state_written;
	gpd_pass_result_release(&er->res);
	cfgref_put(er->cfg);
	er->cfg = NULL;
	if (!er->configured)
		forget_env(er);
	else if (written)
		gpd_pass_cache_compact(&er->cache); /* no pass of er runs: the cache is ours */
	/* A pass over thousands of entries leaves megabytes free in the pool threads' malloc
	 * arenas; hand them back, the daemon idles most of the time. */
	if (!any_running(d))
		malloc_trim(0);
	/* Files first: whoever reacts to STATUS= finds the metrics and runtime files current. */
	write_metrics(d);
	notify_status(d);
	if (atomic_load(&d->stop)) {
		maybe_finish(d);
		return;
	}
	if (er->again) {
		er->again = false;
		start_env(er);
	}
	maybe_sync(d);
}

static void
start_env(struct envrun *er)
{
	struct daemon *d = er->d;
	struct gpd_logctx c = {.env = er->name};
	int r;

	if (atomic_load(&d->stop) || !er->configured)
		return;
	if (er->running) {
		er->again = true; /* merged: one follow-up pass covers every trigger */
		return;
	}
	if (d->sync.running)
		return; /* git is moving the checkout; sync_done() starts every environment */
	uv_timer_stop(&er->retry); /* this pass is the retry */
	gpd_run_id(er->run_id);
	c.run = er->run_id;
	er->cfg = d->cfg;
	er->cfg->refs++;
	er->work.data = er;
	er->running = true;
	er->commit[0] = '\0';
	er->started_at = (int64_t)time(NULL);
	er->started_ms = mono_ms();
	gpd_log_debug(&c, "pass started");
	r = uv_queue_work(d->loop, &er->work, work_cb, after_work_cb);
	if (r < 0) {
		er->running = false;
		cfgref_put(er->cfg);
		er->cfg = NULL;
		gpd_log_error(&c, "cannot start a pass: %s", uv_strerror(r));
	}
}

static void
start_all(struct daemon *d)
{
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++)
		start_env(&d->envs[i]);
}

static void
sync_done(struct gpd_gitsync *s, int r)
{
	struct daemon *d = s->userdata;

	/* A failed sync was logged by gitsync.c; the passes use the last good checkout. */
	start_all(d);
}

/* The checkout is only moved while no pass reads it; a request that finds passes running
 * waits for the last of them to finish (after_work_cb calls back here). */
static void
maybe_sync(struct daemon *d)
{
	int r;

	if (!d->sync_wanted || d->sync.running || any_running(d) || atomic_load(&d->stop))
		return;
	d->sync_wanted = false;
	r = gpd_gitsync_start(&d->sync, d->loop, d->cfg->cfg, sync_done, d);
	if (r < 0 && r != -EBUSY) {
		gpd_log_error(NULL, "repository sync: cannot start: %s", strerror(-r));
		start_all(d);
	}
}

static void
start_passes(struct daemon *d, const char *why)
{
	if (atomic_load(&d->stop))
		return;
	gpd_log_debug(NULL, "reconcile requested: %s", why);
	if (d->cfg->cfg->repository.sync.enabled) {
		d->sync_wanted = true;
		maybe_sync(d);
		return;
	}
	start_all(d);
}

/* ---------------------------------------------------------------------------------------
 * Triggers
 */

static void tick_cb(uv_timer_t *t);

static void
arm_tick(struct daemon *d)
{
	const struct gp_config *cfg = d->cfg->cfg;
	uint64_t base = cfg->reconcile.interval_ms ? cfg->reconcile.interval_ms : 60000;
	uint64_t span =
		base * (cfg->reconcile.jitter_pct > 100 ? 100 : cfg->reconcile.jitter_pct) / 100;
	uint64_t r = 0;

	/* Jitter spreads two bastions (and many environments) over the interval. */
	if (span)
		r = (uint64_t)rand() % (2 * span + 1);
	uv_timer_start(&d->tick, tick_cb, base - span + r, 0);
}

static void
tick_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;

	start_passes(d, "interval");
	arm_tick(d);
}

static void setup_watches(struct daemon *d);

static void
debounce_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;

	d->changes_since_ms = 0;
	/* Directories may have appeared or been replaced (a checkout of another branch). */
	setup_watches(d);
	start_passes(d, "checkout changed");
}

static bool
relevant_change(const struct watch *w, const char *filename)
{
	size_t n = filename ? strlen(filename) : 0;

	if (!filename)
		return true; /* the kernel did not say which: assume it matters */
	if (n > 5 && strcmp(filename + n - 5, ".lock") == 0)
		return false; /* git writes x.lock, then renames it to x: the rename counts */
	switch (w->kind) {
	case WATCH_GITDIR:
		return strcmp(filename, "HEAD") == 0 || strcmp(filename, "packed-refs") == 0;
	case WATCH_TREE:
		return strcmp(filename, ".git") != 0;
	case WATCH_REQUESTS:
		return n > strlen(GPD_REQUESTS_FILE_SUFFIX) &&
		       strcmp(filename + n - strlen(GPD_REQUESTS_FILE_SUFFIX),
			      GPD_REQUESTS_FILE_SUFFIX) == 0;
	default:
		return true;
	}
}

static void
fs_event_cb(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct watch *w = h->data;
	struct daemon *d = w->d;
	uint64_t now = mono_ms(), delay = GPD_DEBOUNCE_MS;

	if (status < 0 || !relevant_change(w, filename) || atomic_load(&d->stop))
		return;
	if (!d->changes_since_ms)
		d->changes_since_ms = now;
	if (now + delay > d->changes_since_ms + GPD_DEBOUNCE_MAX_MS)
		delay = d->changes_since_ms + GPD_DEBOUNCE_MAX_MS > now
				? d->changes_since_ms + GPD_DEBOUNCE_MAX_MS - now
				: 0;
	uv_timer_start(&d->debounce, debounce_cb, delay, 0);
}

static void
watch_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
close_watches(struct daemon *d)
{
	for (size_t i = 0; i < d->n_watches; i++)
		uv_close((uv_handle_t *)&d->watches[i]->h, watch_closed);
	d->n_watches = 0;
}

static void
add_watch(struct daemon *d, const char *path, enum watch_kind kind)
{
	size_t len = strlen(path);
	struct watch *w;

	if (d->n_watches >= GPD_MAX_WATCHES || !gpd_file_exists(path))
		return;
	for (size_t i = 0; i < d->n_watches; i++)
		if (strcmp(d->watches[i]->path, path) == 0)
			return;
	w = calloc(1, sizeof(*w) + len + 1);
	if (!w)
		return;
	memcpy(w->path, path, len + 1);
	w->d = d;
	w->kind = kind;
	uv_fs_event_init(d->loop, &w->h);
	w->h.data = w;
	if (uv_fs_event_start(&w->h, fs_event_cb, path, 0) < 0) {
		uv_close((uv_handle_t *)&w->h, watch_closed);
		return;
	}
	d->watches[d->n_watches++] = w;
}

/* The nearest existing directory of path: a watch there sees the missing part appear. */
static void
add_tree_watch(struct daemon *d, const char *root, const char *path)
{
	char buf[4096];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	while (!gpd_file_exists(buf) && strlen(buf) > strlen(root) && (slash = strrchr(buf, '/')))
		*slash = '\0';
	add_watch(d, buf, WATCH_TREE);
}

/* The directory of one input file (a directory input: itself), or the nearest one that
 * exists. */
static void
add_input_watch(struct daemon *d, const struct gp_manifest *m, const struct gp_input_file *f)
{
	_cleanup_free_ char *path = gp_manifest_path(m, f);
	char *slash = path ? strrchr(path, '/') : NULL;

	if (!slash)
		return;
	if (!gp_input_role_is_dir(f->role))
		*slash = '\0';
	add_tree_watch(d, m->repo, path);
}

/* The directories holding every input file of the manifest (inputs/manifest.h), and git's
 * HEAD and branch refs so that commits (and a sync's fast-forward) are seen. Non-recursive
 * (inotify): only these directories. */
static void
setup_watches(struct daemon *d)
{
	const struct gp_config *cfg = d->cfg->cfg;
	const char *repo = cfg->repository.path;
	_cleanup_(gp_manifest_freep) struct gp_manifest *m = NULL;
	char path[4096];

	close_watches(d);
	add_watch(d, repo, WATCH_TREE);
	snprintf(path, sizeof(path), "%s/.git", repo);
	add_watch(d, path, WATCH_GITDIR);
	snprintf(path, sizeof(path), "%s/.git/refs/heads", repo);
	add_watch(d, path, WATCH_REFS);
	/* The state directory is the daemon's; made here so that a request can wake it even
	 * before its first pass wrote anything. */
	gpd_mkdir_p(cfg->state_dir, 0750);
	add_watch(d, cfg->state_dir, WATCH_REQUESTS);
	if (gp_manifest_new(cfg, &m) < 0)
		return; /* out of memory: the interval still brings every pass */
	for (size_t i = 0; i < m->n_envs; i++)
		for (size_t j = 0; j < m->envs[i].n; j++)
			add_input_watch(d, m, &m->envs[i].files[j]);
}

static void
watchdog_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;
	uint64_t now = mono_ms();
	/* Every step ends within its own bound (statement_timeout, connect_timeout, the Secrets
	 * Manager timeout and retries): a pass that ends none for stall_timeout hangs. */
	unsigned long mark = gpd_pg_statements() + gpd_pg_connections() + gpd_sm_calls_ended();
	uint64_t stall_ms = d->cfg->cfg->reconcile.stall_timeout_ms;

	if (mark != d->progress_mark || !d->progress_ms) {
		d->progress_mark = mark;
		d->progress_ms = now;
	}
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++) {
		const struct envrun *er = &d->envs[i];
		uint64_t since = er->started_ms > d->progress_ms ? er->started_ms : d->progress_ms;

		if (!er->running || now - since <= stall_ms)
			continue;
		if (!d->stall_logged) {
			struct gpd_logctx c = {.env = er->name, .run = er->run_id};

			gpd_log_error(
				&c,
				"pass running for %llus without progress (no SQL statement, "
				"connection or Secrets Manager call ended) for %llus: it hangs; "
				"watchdog pings stop so that systemd restarts gprdsd",
				(unsigned long long)(now - er->started_ms) / 1000,
				(unsigned long long)(now - since) / 1000);
			d->stall_logged = true;
		}
		return;
	}
	d->stall_logged = false;
	sd_notify(0, "WATCHDOG=1");
}

/* ---------------------------------------------------------------------------------------
 * Configuration, reload, shutdown
 */

static int
apply_config(struct daemon *d, struct gp_config *cfg)
{
	struct cfgref *ref = cfgref_new(cfg);

	if (!ref) {
		gp_config_free(cfg);
		return -ENOMEM;
	}
	cfgref_put(d->cfg);
	d->cfg = ref;
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++) {
		struct envrun *er = &d->envs[i];

		er->configured =
			gp_config_env(cfg, er->name) && gpd_cli_env_selected(d->cli, er->name);
		if (!er->configured && !er->running)
			forget_env(er);
	}
	setup_watches(d);
	return 0;
}

static void
reload(struct daemon *d)
{
	struct gp_config *cfg = NULL;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading %s",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
			   (unsigned long long)ts.tv_nsec / 1000,
		   d->cli->config);
	/* parse → validate → swap: the running config is untouched until the new one is whole. */
	d->reload_failed = true;
	if (gpd_config_load(d->cli->config, &cfg) < 0) {
		gpd_log_error(NULL,
			      "reload of %s failed (errors above): keeping the previous "
			      "configuration",
			      d->cli->config);
	} else if (gpd_cli_log_setup(d->cli, cfg) < 0) {
		gp_config_free(cfg);
		gpd_log_error(NULL,
			      "reload of %s failed: bad log settings; keeping the previous "
			      "configuration",
			      d->cli->config);
	} else if (apply_config(d, cfg) >= 0) {
		d->reload_failed = false;
		arm_tick(d);
		gpd_log(LOG_NOTICE, GPD_MID_CONFIG_RELOADED, NULL, "configuration reloaded from %s",
			d->cli->config);
	}
	sd_notifyf(0, "READY=1\nSTATUS=%s; passes running",
		   d->reload_failed ? "reload failed, running the previous configuration"
				    : "configuration reloaded");
	start_passes(d, "SIGHUP");
}

static void
sighup_cb(uv_signal_t *s, int signum)
{
	reload(s->data);
}

static void
close_all(struct daemon *d)
{
	uv_close((uv_handle_t *)&d->tick, NULL);
	uv_close((uv_handle_t *)&d->debounce, NULL);
	uv_close((uv_handle_t *)&d->watchdog, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++) {
		uv_close((uv_handle_t *)&d->envs[i].retry, NULL);
		gpd_ha_release(&d->envs[i].ha);
		gpd_pass_cache_clear(&d->envs[i].cache);
	}
	close_watches(d);
	gpd_gitsync_close(&d->sync);
}

/* Called when stopping: once no pass runs any more, everything is closed and the loop ends. */
static void
maybe_finish(struct daemon *d)
{
	if (any_running(d) || d->closed)
		return;
	d->closed = true;
	write_runtime(d, true);
	close_all(d);
}

static void
sigterm_cb(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (atomic_exchange(&d->stop, true)) {
		gpd_log_info(NULL, "%s again: still waiting for the running step to finish",
			     strsignal(signum));
		return;
	}
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: waiting for running steps to finish");
	gpd_log_info(NULL, "stopping on %s: no new steps start; the running ones finish",
		     strsignal(signum));
	uv_timer_stop(&d->tick);
	uv_timer_stop(&d->debounce);
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++)
		uv_timer_stop(&d->envs[i].retry);
	gpd_gitsync_cancel(&d->sync);
	maybe_finish(d);
}

static void
init_timer(struct daemon *d, uv_timer_t *t, void *data)
{
	uv_timer_init(d->loop, t);
	t->data = data;
}

static void
init_signal(struct daemon *d, uv_signal_t *s, uv_signal_cb cb, int signum)
{
	uv_signal_init(d->loop, s);
	s->data = d;
	uv_signal_start(s, cb, signum);
}

static void
init_handles(struct daemon *d)
{
	uint64_t wd_usec = 0;

	init_timer(d, &d->tick, d);
	init_timer(d, &d->debounce, d);
	init_timer(d, &d->watchdog, d);
	init_signal(d, &d->sighup, sighup_cb, SIGHUP);
	init_signal(d, &d->sigterm, sigterm_cb, SIGTERM);
	init_signal(d, &d->sigint, sigterm_cb, SIGINT);
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++) {
		struct envrun *er = &d->envs[i];

		er->d = d;
		snprintf(er->name, sizeof(er->name), "%s", gp_environments[i]);
		init_timer(d, &er->retry, er);
	}
	gpd_gitsync_init(&d->sync);
	/* WATCHDOG_USEC (and WATCHDOG_PID, when set, must be our pid): unset afterwards so
	 * that no child believes it is watched. */
	if (sd_watchdog_enabled(1, &wd_usec) > 0 && wd_usec > 0)
		uv_timer_start(&d->watchdog, watchdog_cb, 0, wd_usec / 2000 ? wd_usec / 2000 : 1);
}

/* READY=1 from inside the loop: the config is loaded and the loop really runs. */
static void
ready_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;

	write_runtime(d, false); /* `gprdsd status` says "starting" during a long first pass */
	sd_notify(0, "READY=1\nSTATUS=started; first pass running");
	start_passes(d, "start");
	arm_tick(d);
}

static void
release_all(struct daemon *d)
{
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++)
		gpd_metrics_release(&d->envs[i].m);
	cfgref_put(d->cfg);
	d->cfg = NULL;
}

int
gpd_daemon_main(const struct gpd_cli *cli)
{
	struct daemon d = {.cli = cli};
	struct gp_config *cfg = NULL;
	int r;

	/* One malloc arena for every thread. What a pass keeps for the next one (desired state,
	 * records) is then not spread over the arenas of several pool threads, pinning pages in
	 * each: measured after a pass over 1000 entries, 1.3 MiB less resident memory. Passes
	 * seldom run at the same time, so the shared arena's lock is not contended. */
	mallopt(M_ARENA_MAX, 1);
	if (gpd_config_load(cli->config, &cfg) < 0)
		return 2;
	if (gpd_cli_check_envs(cli, cfg) < 0 || gpd_cli_log_setup(cli, cfg) < 0) {
		gp_config_free(cfg);
		return 2;
	}
	srand((unsigned)(time(NULL) ^ getpid()));
	d.loop = uv_default_loop();
	gp_cancel_watch(&d.stop); /* a 40 MB catalog's parse ends on SIGTERM too */
	init_handles(&d);
	if (apply_config(&d, cfg) < 0)
		return 1;
	gpd_log_info(NULL, "gprdsd %s started with %s", GPRDSD_VERSION, cli->config);
	uv_timer_start(&d.tick, ready_cb, 0, 0);
	r = uv_run(d.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(d.loop) < 0)
		gpd_log_warning(NULL, "the event loop still had open handles at exit");
	release_all(&d);
	gpd_log_info(NULL, "stopped");
	return r < 0 ? 1 : d.exit_code;
}
