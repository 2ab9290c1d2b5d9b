/*
 * daemon.c — the long-running service (DESIGN §7): one libuv loop that owns every timer,
 * signal, file watch and child process, and runs reconcile passes on the thread pool.
 *
 * Triggers: the interval timer (with jitter), changes in the checkout (fs events, debounced),
 * SIGHUP (after reloading the config), and per-environment retry timers. Passes are
 * level-triggered: each one re-reads everything, so a trigger that arrives while an
 * environment's pass runs only sets a flag, and one follow-up pass covers it.
 *
 * systemd: READY=1 once the loop runs, STATUS= after each pass, RELOADING=1/READY=1 around a
 * reload, STOPPING=1 on shutdown, WATCHDOG=1 only while no pass has overrun its deadline.
 *
 * High availability: a pass acts only while this process holds the environment's PostgreSQL
 * session advisory lock, on a connection kept open between passes (ha.c).
 *
 * Deliberately not here: what a pass does (pass.c), metrics text (metrics.c), HA (ha.c).
 */
#include "daemon.h"

#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <systemd/sd-daemon.h>
#include <uv.h>

#include "fileio.h"
#include "gitsync.h"
#include "ha.h"
#include "inputs.h"
#include "log.h"
#include "metrics.h"
#include "pass.h"

#define GPD_DEBOUNCE_MS 300
#define GPD_MAX_WATCHES 32

struct cfgref {
	struct gp_config *cfg;
	unsigned refs; /* touched on the loop thread only */
};

struct daemon;

struct envrun {
	struct daemon *d;
	struct gpd_env_metrics m; /* counters and the last pass's figures (metrics.h) */
	char name[16];
	uv_work_t work;
	uv_timer_t retry;
	struct cfgref *cfg; /* the snapshot the running pass uses */
	struct gpd_ha ha;   /* worker-thread owned while a pass runs */
	struct gpd_pass_result res;
	char run_id[13];
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
	uv_fs_event_t watches[GPD_MAX_WATCHES];
	size_t n_watches;
	struct gpd_gitsync sync;
	struct envrun envs[5];
	atomic_bool stop;
	uint64_t deadline_ms; /* a pass running longer than this stops the watchdog pings */
	int exit_code;
};

static const char *const env_slots[] = {"dev", "test", "staging", "prod", "ephemeral"};

static void start_passes(struct daemon *d, const char *why);

static uint64_t
mono_ms(void)
{
	return uv_hrtime() / 1000000;
}

static struct cfgref *
cfgref_new(struct gp_config *cfg)
{
	struct cfgref *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = cfg;
	c->refs = 1;
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

/* ---------------------------------------------------------------------------------------
 * Passes on the thread pool
 */

static bool
leader_cb(void *userdata, void *pgconn)
{
	struct envrun *er = userdata;

	return gpd_ha_check(&er->ha, er->name, pgconn);
}

static void
work_cb(uv_work_t *w)
{
	struct envrun *er = w->data;
	const struct gp_config *cfg = er->cfg->cfg;
	struct gpd_repo_inputs inputs;
	struct gpd_pass_opts o = {
		.cfg = cfg,
		.env = gp_config_env(cfg, er->name),
		.inputs = &inputs,
		.mode = GPD_PASS_APPLY,
		.run_id = er->run_id,
		.stop = &er->d->stop,
		.now = (int64_t)time(NULL),
		.leader = leader_cb,
		.leader_userdata = er,
	};

	er->pass_rc = gpd_inputs_load(cfg->repository.path, cfg->repository.catalog,
				      cfg->repository.enums, &inputs);
	if (er->pass_rc < 0)
		return;
	if (inputs.failed)
		for (size_t i = 0; i < inputs.diags.n; i++) {
			struct gp_buf b = {0};
			struct gpd_logctx c = {.env = er->name, .run = er->run_id,
					       .commit = inputs.commit};

			gp_diag_format(&inputs.diags.v[i], &b);
			gpd_log(LOG_ERR, GPD_MID_INPUT_ERROR, &c, "%s", b.p ? b.p : "?");
			gp_buf_release(&b);
		}
	er->pass_rc = gpd_pass_run(&o, &er->res);
	gpd_inputs_release(&inputs);
}

static void
notify_status(struct daemon *d)
{
	struct gp_buf b = {0};

	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++) {
		const struct envrun *er = &d->envs[i];

		if (!er->configured)
			continue;
		if (b.len)
			gp_buf_puts(&b, "; ");
		gpd_metrics_status_line(er->name, &er->m, (int64_t)time(NULL), &b);
	}
	sd_notifyf(0, "STATUS=%s", b.p ? b.p : "starting");
	gp_buf_release(&b);
}

static void
write_metrics(struct daemon *d)
{
	const struct gp_config *cfg = d->cfg->cfg;
	const struct gpd_env_metrics *ms[ELEMENTSOF(d->envs)];
	const char *names[ELEMENTSOF(d->envs)];
	struct gp_buf b = {0};
	size_t n = 0;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++) {
		if (!d->envs[i].configured)
			continue;
		names[n] = d->envs[i].name;
		ms[n++] = &d->envs[i].m;
	}
	r = gpd_runtime_write(cfg->state_dir, names, ms, n);
	if (r < 0)
		gpd_log_warning(NULL, "cannot write the runtime file in %s: %s", cfg->state_dir,
				strerror(-r));
	if (gp_isempty(cfg->metrics_file))
		return;
	gpd_metrics_render(names, ms, n, &b);
	r = b.oom ? -ENOMEM : gpd_write_file_atomic(cfg->metrics_file, b.p, b.len, 0644);
	if (r < 0)
		gpd_log_warning(NULL, "cannot write the metrics file %s: %s", cfg->metrics_file,
				strerror(-r));
	gp_buf_release(&b);
}

static void maybe_finish(struct daemon *d);
static void start_env(struct envrun *er);

static void
schedule_retry(struct envrun *er)
{
	int64_t now = (int64_t)time(NULL);

	if (!er->res.next_retry || atomic_load(&er->d->stop))
		return;
	uv_timer_start(&er->retry, er->retry.timer_cb,
		       er->res.next_retry > now ? (uint64_t)(er->res.next_retry - now) * 1000 : 0,
		       0);
}

static void
after_work_cb(uv_work_t *w, int status)
{
	struct envrun *er = w->data;
	struct daemon *d = er->d;
	struct gpd_logctx c = {.env = er->name, .run = er->run_id};
	bool was_leader = er->m.leader;

	er->running = false;
	gpd_metrics_account(&er->m, &er->res, er->pass_rc, (int64_t)time(NULL));
	if (er->m.leader != was_leader || !er->m.leader_known) {
		er->m.leader_known = true;
		gpd_log(LOG_NOTICE, er->m.leader ? GPD_MID_LEADER_GAINED : GPD_MID_LEADER_LOST, &c,
			"%s: %s", er->name,
			er->m.leader ? "this gprdsd acts for the environment (holds its lock)"
				     : "standby: another gprdsd holds the environment's lock");
	}
	gpd_log(LOG_INFO, GPD_MID_PASS_FINISHED, &c,
		"pass finished: %zu active, %zu pending, %zu failed, %zu applied, %zu errors in "
		"%llums",
		er->res.by_state[GP_STATE_ACTIVE], er->res.by_state[GP_STATE_PENDING],
		er->res.n_failed, er->res.n_applied, er->res.n_errors,
		(unsigned long long)er->res.duration_ms);
	schedule_retry(er);
	gpd_pass_result_release(&er->res);
	cfgref_put(er->cfg);
	er->cfg = NULL;
	er->started_ms = 0;
	notify_status(d);
	write_metrics(d);
	if (atomic_load(&d->stop)) {
		maybe_finish(d);
		return;
	}
	if (er->again) {
		er->again = false;
		start_env(er);
	}
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
	gpd_run_id(er->run_id);
	c.run = er->run_id;
	er->cfg = d->cfg;
	er->cfg->refs++;
	er->work.data = er;
	er->running = true;
	er->started_ms = mono_ms();
	gpd_log(LOG_DEBUG, GPD_MID_PASS_STARTED, &c, "pass started");
	r = uv_queue_work(d->loop, &er->work, work_cb, after_work_cb);
	if (r < 0) {
		er->running = false;
		cfgref_put(er->cfg);
		er->cfg = NULL;
		gpd_log_error(&c, "cannot start a pass: %s", uv_strerror(r));
	}
}

static void
sync_done(struct gpd_gitsync *s, int r)
{
	struct daemon *d = s->userdata;

	/* A failed sync is logged by gitsync.c; the last good checkout is used. */
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++)
		start_env(&d->envs[i]);
}

static void
start_passes(struct daemon *d, const char *why)
{
	const struct gp_config *cfg = d->cfg->cfg;

	if (atomic_load(&d->stop))
		return;
	gpd_log_debug(NULL, "reconcile requested: %s", why);
	if (cfg->repository.sync.enabled) {
		gpd_gitsync_start(&d->sync, d->loop, cfg, sync_done, d);
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++)
		start_env(&d->envs[i]);
}

/* ---------------------------------------------------------------------------------------
 * Triggers
 */

static void
arm_tick(struct daemon *d)
{
	const struct gp_config *cfg = d->cfg->cfg;
	uint64_t base = cfg->reconcile.interval_ms ? cfg->reconcile.interval_ms : 60000;
	uint64_t span = base * cfg->reconcile.jitter_pct / 100;
	uint64_t r = 0;

	/* Jitter spreads two bastions (and many environments) over the interval. */
	if (span)
		r = (uint64_t)rand() % (2 * span + 1);
	uv_timer_start(&d->tick, d->tick.timer_cb, base - span + r, 0);
}

static void
tick_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;

	start_passes(d, "interval");
	arm_tick(d);
}

static void
retry_cb(uv_timer_t *t)
{
	struct envrun *er = t->data;

	start_env(er);
}

static void
debounce_cb(uv_timer_t *t)
{
	start_passes(t->data, "checkout changed");
}

static void
fs_event_cb(uv_fs_event_t *h, const char *filename, int events, int status)
{
	struct daemon *d = h->data;

	/* Debounced: a commit touches many files; one pass soon after the last touch. */
	uv_timer_start(&d->debounce, debounce_cb, GPD_DEBOUNCE_MS, 0);
}

static void
add_watch(struct daemon *d, const char *path)
{
	uv_fs_event_t *h;

	if (d->n_watches >= GPD_MAX_WATCHES || !gpd_file_exists(path))
		return;
	h = &d->watches[d->n_watches];
	uv_fs_event_init(d->loop, h);
	h->data = d;
	if (uv_fs_event_start(h, fs_event_cb, path, 0) < 0) {
		uv_close((uv_handle_t *)h, NULL);
		return;
	}
	d->n_watches++;
}

static void
close_watches(struct daemon *d)
{
	for (size_t i = 0; i < d->n_watches; i++)
		uv_close((uv_handle_t *)&d->watches[i], NULL);
	d->n_watches = 0;
}

/* The directories holding the inputs, and git's HEAD and refs so that commits are seen. */
static void
setup_watches(struct daemon *d)
{
	const struct gp_config *cfg = d->cfg->cfg;
	const char *repo = cfg->repository.path;
	static const char *const git_dirs[] = {".git", ".git/refs/heads"};
	char path[4096];

	close_watches(d);
	for (size_t i = 0; i < ELEMENTSOF(git_dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", repo, git_dirs[i]);
		add_watch(d, path);
	}
	for (size_t i = 0; i < cfg->n_envs; i++) {
		snprintf(path, sizeof(path), "%s/envs/%s-rds", repo, cfg->envs[i].name);
		add_watch(d, path);
		snprintf(path, sizeof(path), "%s/envs/%s", repo, cfg->envs[i].name);
		add_watch(d, path);
	}
	snprintf(path, sizeof(path), "%s", cfg->repository.catalog);
	if (strrchr(path, '/'))
		*strrchr(path, '/') = '\0';
	add_watch(d, path);
}

static void
watchdog_cb(uv_timer_t *t)
{
	struct daemon *d = t->data;
	uint64_t now = mono_ms();

	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++) {
		const struct envrun *er = &d->envs[i];

		if (er->running && now - er->started_ms > d->deadline_ms) {
			struct gpd_logctx c = {.env = er->name, .run = er->run_id};

			gpd_log_error(&c, "pass running for %llus, past its deadline: watchdog pings "
				      "stop so that systemd restarts gprdsd",
				      (unsigned long long)(now - er->started_ms) / 1000);
			return;
		}
	}
	sd_notify(0, "WATCHDOG=1");
}

/* ---------------------------------------------------------------------------------------
 * Configuration, reload, shutdown
 */

static void
apply_config(struct daemon *d, struct gp_config *cfg)
{
	struct cfgref *ref = cfgref_new(cfg);

	if (!ref) {
		gp_config_free(cfg);
		return;
	}
	cfgref_put(d->cfg);
	d->cfg = ref;
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++)
		d->envs[i].configured = gp_config_env(cfg, d->envs[i].name) &&
					gpd_cli_env_selected(d->cli, d->envs[i].name);
	/* The longest a pass may take before it counts as stuck: generous, bounded. */
	d->deadline_ms = 10 * 60 * 1000 + 2 * cfg->reconcile.interval_ms;
	setup_watches(d);
}

static void
reload(struct daemon *d)
{
	struct gp_config *cfg = NULL;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	if (gpd_config_load(d->cli->config, &cfg) < 0) {
		gpd_log(LOG_ERR, GPD_MID_CONFIG_RELOADED, NULL,
			"reload of %s failed: keeping the previous configuration",
			d->cli->config);
	} else {
		apply_config(d, cfg);
		gpd_cli_log_setup(d->cli, cfg);
		gpd_log(LOG_NOTICE, GPD_MID_CONFIG_RELOADED, NULL, "configuration reloaded from %s",
			d->cli->config);
	}
	sd_notify(0, "READY=1");
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
	}
	close_watches(d);
	gpd_gitsync_close(&d->sync);
}

/* Called when stopping: once no pass runs any more, everything is closed and the loop ends. */
static void
maybe_finish(struct daemon *d)
{
	static bool closed;

	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++)
		if (d->envs[i].running)
			return;
	if (!closed) {
		closed = true;
		close_all(d);
	}
}

static void
sigterm_cb(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (atomic_exchange(&d->stop, true))
		return;
	sd_notify(0, "STOPPING=1");
	gpd_log_info(NULL, "stopping on %s: no new steps start; the running one finishes",
		     strsignal(signum));
	uv_timer_stop(&d->tick);
	uv_timer_stop(&d->debounce);
	gpd_gitsync_cancel(&d->sync);
	maybe_finish(d);
}

static int
init_handles(struct daemon *d)
{
	uint64_t wd_usec = 0;

	uv_timer_init(d->loop, &d->tick);
	d->tick.data = d;
	d->tick.timer_cb = tick_cb;
	uv_timer_init(d->loop, &d->debounce);
	d->debounce.data = d;
	uv_timer_init(d->loop, &d->watchdog);
	d->watchdog.data = d;
	uv_signal_init(d->loop, &d->sighup);
	d->sighup.data = d;
	uv_signal_init(d->loop, &d->sigterm);
	d->sigterm.data = d;
	uv_signal_init(d->loop, &d->sigint);
	d->sigint.data = d;
	uv_signal_start(&d->sighup, sighup_cb, SIGHUP);
	uv_signal_start(&d->sigterm, sigterm_cb, SIGTERM);
	uv_signal_start(&d->sigint, sigterm_cb, SIGINT);
	for (size_t i = 0; i < ELEMENTSOF(d->envs); i++) {
		struct envrun *er = &d->envs[i];

		er->d = d;
		snprintf(er->name, sizeof(er->name), "%s", env_slots[i]);
		uv_timer_init(d->loop, &er->retry);
		er->retry.data = er;
		er->retry.timer_cb = retry_cb;
	}
	gpd_gitsync_init(&d->sync);
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0)
		uv_timer_start(&d->watchdog, watchdog_cb, 0, wd_usec / 2000 ? wd_usec / 2000 : 1);
	return 0;
}

int
gpd_daemon_main(const struct gpd_cli *cli)
{
	struct daemon d = {.cli = cli};
	struct gp_config *cfg = NULL;
	int r;

	if (gpd_config_load(cli->config, &cfg) < 0)
		return 2;
	if (gpd_cli_log_setup(cli, cfg) < 0) {
		gp_config_free(cfg);
		return 2;
	}
	srand((unsigned)(time(NULL) ^ getpid()));
	d.loop = uv_default_loop();
	init_handles(&d);
	apply_config(&d, cfg);
	gpd_log_info(NULL, "gprdsd %s started with %s", GPRDSD_VERSION, cli->config);
	sd_notify(0, "READY=1\nSTATUS=started; first pass running");
	start_passes(&d, "start");
	arm_tick(&d);
	r = uv_run(d.loop, UV_RUN_DEFAULT);
	uv_loop_close(d.loop);
	cfgref_put(d.cfg);
	gpd_log_info(NULL, "stopped");
	return r < 0 ? 1 : d.exit_code;
}
