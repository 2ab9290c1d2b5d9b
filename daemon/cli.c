/*
 * cli.c — the one-shot commands: --once, plan, validate, status, --check-config, and the
 * requests of rotate and retry.
 *
 * Each command prints its result on stdout (plans, diagnostics for `validate`, status) and
 * logs what it does through log.c (stderr or the journal). Exit codes are decided here and
 * nowhere else. Deliberately not here: the pass itself (pass.c) and the daemon (daemon.c).
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/rand.h>
#include <signal.h>
#include <uv.h>

#include "fileio.h"
#include "gitsync.h"
#include "ha.h"
#include "inputs.h"
#include "log.h"
#include "metrics.h"
#include "pass.h"
#include "state_store.h"
#include "codec/console.h"
#include "plan/join.h"

int
gpd_cli_usage_exit(const struct gpd_cli *cli)
{
	return cli->detailed_exitcode ? 1 : 2;
}

/* A first start after `meson install`: the example sits beside the missing file. */
static void
config_missing_hint(const char *path)
{
	_cleanup_free_ char *example = gp_strprintf("%s.example", path);

	if (example && access(example, R_OK) == 0)
		fprintf(stderr, "%s: note: start from the example installed beside it: cp %s %s, "
			"then set repository.path and the environments (gprdsd.yaml(5)) and run "
			"gprdsd --check-config\n", path, example, path);
	else
		fprintf(stderr, "%s: note: see gprdsd.yaml(5) for the file's keys; the source's "
			"config/gprdsd.yaml is a complete example\n", path);
}

int
gpd_config_load(const char *path, struct gp_config **ret)
{
	_cleanup_free_ char *buf = NULL, *abs = NULL;
	struct gp_diags diags = {0};
	size_t len;
	int r;

	/* Relative paths in the config are relative to its directory: resolve it first. */
	abs = realpath(path, NULL);
	if (abs)
		path = abs;
	r = gpd_read_file(path, GPD_MAX_INPUT_SIZE, &buf, &len);
	if (r < 0) {
		fprintf(stderr, "%s: error: cannot read the config file: %s\n", path, strerror(-r));
		if (r == -ENOENT)
			config_missing_hint(path);
		return r;
	}
	r = gp_config_parse(buf, len, path, ret, &diags);
	for (size_t i = 0; i < diags.n; i++) {
		struct gp_buf b = {0};

		gp_diag_format(&diags.v[i], &b);
		fprintf(stderr, "%s\n", b.p ? b.p : "out of memory");
		gp_buf_release(&b);
	}
	if (r >= 0 && diags.errors)
		r = -EINVAL;
	gp_diags_release(&diags);
	return r;
}

int
gpd_cli_log_setup(const struct gpd_cli *cli, const struct gp_config *cfg)
{
	const char *target = cli->log_target ? cli->log_target : cfg ? cfg->log_target : NULL;
	const char *level = cli->log_level ? cli->log_level : cfg ? cfg->log_level : NULL;
	int r = gpd_log_setup(target ? target : "auto", level ? level : "info");

	if (r < 0)
		fprintf(stderr, "gprdsd: bad --log-target or --log-level\n");
	else
		gpd_log_console_setup(cli->color, cli->command != GPD_CMD_DAEMON);
	return r;
}

bool
gpd_cli_env_selected(const struct gpd_cli *cli, const char *env)
{
	return cli->envs.n == 0 || gp_strv_contains(&cli->envs, env);
}

void
gpd_run_id(char buf[static 13])
{
	unsigned char raw[6] = {0};

	if (RAND_bytes(raw, sizeof(raw)) != 1) {
		uint64_t t = (uint64_t)time(NULL) ^ (uint64_t)getpid();

		memcpy(raw, &t, sizeof(raw));
	}
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
}

/* Every --env must name a configured environment; a typo must not silently do nothing. */
int
gpd_cli_check_envs(const struct gpd_cli *cli, const struct gp_config *cfg)
{
	for (size_t i = 0; i < cli->envs.n; i++) {
		if (!gp_config_env(cfg, cli->envs.v[i])) {
			fprintf(stderr, "gprdsd: environment \"%s\" is not in %s\n", cli->envs.v[i],
				cfg->file);
			return -EINVAL;
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * --once and plan
 */

static bool confirm_hint; /* --confirm-mass-change was given */

/* On a terminal: the summary short enough for one line, red when something failed. */
static bool
print_summary_for_people(const char *env, const struct gpd_pass_result *res)
{
	struct gp_console_counts n = {
		.active = res->by_state[GP_STATE_ACTIVE],
		.pending = res->by_state[GP_STATE_PENDING],
		.gated = res->n_gated,
		.invalid = res->n_invalid,
		.failed = res->n_failed,
		.applied = res->n_applied,
		.errors = res->n_errors,
		.orphans = res->n_orphans,
		.duration_ms = res->duration_ms,
		.statements = res->pg_statements,
		.sm_calls = res->sm_calls,
	};
	char text[512], line[640];
	struct gp_console_line l = {.text = text};
	bool people;

	gpd_log_console_style(STDOUT_FILENO, &people, &l.color);
	if (!people)
		return false;
	l.tone = res->n_failed || res->n_errors ? GP_TONE_ERROR : GP_TONE_HEADER;
	gp_console_summary(text, sizeof(text), env, &n);
	gp_console_format(line, sizeof(line), &l);
	puts(line);
	return true;
}

/* A standby --once: what to do instead. With a daemon here, a confirmation given is
 * recorded for it; else `gprdsd retry` asks it for what --once was probably run for. */
static void
print_standby_hint(const char *env, bool daemon)
{
	if (confirm_hint)
		fputs(" here (a gprdsd daemon on this host proceeds at its next pass: the "
		      "confirmation is recorded)", stdout);
	else if (daemon)
		printf(" (a gprdsd daemon runs on this host: `gprdsd retry --env %s` asks it to retry "
		       "failed entries now)", env);
}

static void
print_summary(const char *env, const struct gpd_pass_result *res, bool daemon)
{
	if (res->error < 0) {
		printf("%s: not reconciled: %s\n", env, res->error_text ? res->error_text : "error");
		return;
	}
	if (res->standby) {
		printf("%s: not reconciled: another gprdsd holds this environment's lock%s%s; nothing "
		       "done", env, res->lock_holder[0] ? ": " : "", res->lock_holder);
		print_standby_hint(env, daemon);
		putchar('\n');
		return;
	}
	if (print_summary_for_people(env, res))
		return;
	printf("%s: %zu active, %zu pending (%zu at a gate, %zu invalid), %zu failed; "
	       "%zu change%s applied, %zu error%s; %zu orphaned; %.3fs, %lu SQL statements, "
	       "%u Secrets Manager calls\n",
	       env, res->by_state[GP_STATE_ACTIVE], res->by_state[GP_STATE_PENDING], res->n_gated,
	       res->n_invalid, res->n_failed, res->n_applied, res->n_applied == 1 ? "" : "s",
	       res->n_errors, res->n_errors == 1 ? "" : "s", res->n_orphans,
	       (double)res->duration_ms / 1000.0, res->pg_statements, res->sm_calls);
}

static void
print_plan_text(const char *env, const struct gpd_pass_result *res)
{
	struct gp_buf b = {0};

	if (res->error < 0) {
		printf("env %s: error: %s\n", env, res->error_text ? res->error_text : "error");
		return;
	}
	if (res->standby) {
		printf("env %s: standby (another gprdsd holds this environment)\n", env);
		return;
	}
	gp_plan_format_text(res->plan, res->desired, &b);
	fputs(b.p ? b.p : "", stdout);
	gp_buf_release(&b);
}

static cJSON *
plan_env_json(const char *env, const struct gpd_pass_result *res)
{
	cJSON *j;

	if (res->plan && res->error >= 0)
		return gp_plan_to_json(res->plan, res->desired);
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "env", env);
	cJSON_AddStringToObject(j, "error", res->error_text ? res->error_text
							    : res->standby ? "standby" : "error");
	cJSON_AddNumberToObject(j, "changes", 0);
	cJSON_AddArrayToObject(j, "entries");
	return j;
}

struct run_totals {
	bool env_error, entry_failed;
	size_t changes;
};

/* SIGTERM/SIGINT during --once: no new step starts; the running one finishes. */
static atomic_bool once_stop;
/* Reading the shared inputs: nothing has been asked of anyone yet, and parsing 100,000
 * catalog entries takes seconds that no step boundary interrupts, so a signal ends the run at
 * once (exit 1: no environment reconciled). */
static atomic_bool once_reading;

static void
once_signal(int sig)
{
	static const char msg[] = "gprdsd: stopped while reading the inputs\n";

	if (atomic_load(&once_reading)) {
		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		_exit(1);
	}
	atomic_store(&once_stop, true);
	signal(sig, SIG_DFL); /* a second signal ends the process at once */
}

static void
install_stop_handlers(void)
{
	struct sigaction sa = {.sa_handler = once_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static void
sync_done(struct gpd_gitsync *s, int r)
{
	*(int *)s->userdata = r;
}

/* repository.sync for a one-shot run: the daemon's git sync on a private loop. */
static int
once_sync(const struct gp_config *cfg)
{
	struct gpd_gitsync sync;
	uv_loop_t loop;
	int r = 1;

	if (!cfg->repository.sync.enabled || uv_loop_init(&loop) < 0)
		return 0;
	gpd_gitsync_init(&sync);
	if (gpd_gitsync_start(&sync, &loop, cfg, sync_done, &r) == 0)
		uv_run(&loop, UV_RUN_DEFAULT);
	gpd_gitsync_close(&sync);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return r;
}

static cJSON *runtime_env(const char *state_dir, const char *env);

/* A gprdsd daemon runs on this host for env (its runtime file names a live process). */
static bool
daemon_here(const struct gp_config *cfg, const char *env)
{
	cJSON *rt = runtime_env(cfg->state_dir, env);
	bool running = rt && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rt, "running"));

	cJSON_Delete(rt);
	return running;
}

static void
run_env(const struct gpd_cli *cli, const struct gp_config *cfg, const struct gp_env_config *env,
	const struct gpd_repo_inputs *inputs, const char *run_id, cJSON *json_envs,
	struct run_totals *tot)
{
	bool plan = cli->command == GPD_CMD_PLAN, daemon = daemon_here(cfg, env->name);
	/* --once waits a while for a lock left by a killed run; not for a daemon running here,
	 * which keeps it. */
	struct gpd_ha ha = {.wait_ms = daemon ? 0 : GPD_ONCE_LOCK_WAIT_MS, .stop = &once_stop};
	struct gpd_pass_opts o = {
		.cfg = cfg,
		.env = env,
		.inputs = inputs,
		.mode = plan ? GPD_PASS_PLAN : GPD_PASS_APPLY,
		.run_id = run_id,
		.now = (int64_t)time(NULL),
		/* Asked for by hand: no waiting for the backoff; `gprdsd retry` brings forward
		 * only the entries it asked for (its requests). */
		.retry_now = cli->command != GPD_CMD_RETRY,
		.confirm_mass_change = cli->confirm_mass_change,
		.verify_all = cli->verify,
		.stop = &once_stop,
		.ha = plan ? NULL : &ha, /* --once acts only while holding the lock, as the daemon */
	};
	struct gpd_pass_result res;

	gpd_pass_run(&o, &res);
	gpd_ha_release(&ha);
	/* An explicit run that did nothing because another process holds the lock has not
	 * reconciled anything: not exit 0. */
	tot->env_error |= res.error < 0 || res.standby;
	tot->entry_failed |= res.n_failed > 0 || res.n_invalid > 0 || res.n_errors > 0;
	tot->changes += res.plan ? res.plan->n_changes : 0;
	if (plan && cli->json)
		cJSON_AddItemToArray(json_envs, plan_env_json(env->name, &res));
	else if (plan)
		print_plan_text(env->name, &res);
	else
		print_summary(env->name, &res, daemon);
	fflush(stdout);
	gpd_pass_result_release(&res);
}

static void requester(char *buf, size_t len);

/* --confirm-mass-change: recorded for a daemon running here too (it holds the lock, so this
 * run would be its standby); the daemon's next pass uses it once. */
static void
record_confirmation(const struct gpd_cli *cli, const struct gp_config *cfg)
{
	int64_t at = (int64_t)time(NULL);
	char by[320];

	requester(by, sizeof(by));
	for (size_t i = 0; i < cfg->n_envs; i++) {
		_cleanup_free_ char *err = NULL;

		if (!gpd_cli_env_selected(cli, cfg->envs[i].name))
			continue;
		if (gpd_requests_confirm(cfg->state_dir, cfg->envs[i].name, at, by, &err) < 0)
			fprintf(stderr, "gprdsd: %s: cannot record the confirmation: %s\n",
				cfg->envs[i].name, err ? err : "error");
	}
}

static int
run_exit_code(const struct gpd_cli *cli, const struct run_totals *tot)
{
	if (cli->command == GPD_CMD_PLAN) {
		if (tot->env_error)
			return 1;
		return cli->detailed_exitcode && tot->changes > 0 ? 2 : 0;
	}
	return tot->env_error || tot->entry_failed ? 1 : 0;
}

int
gpd_cmd_run(const struct gpd_cli *cli)
{
	_cleanup_(gp_config_freep) struct gp_config *cfg = NULL;
	_cleanup_(gp_manifest_freep) struct gp_manifest *m = NULL;
	struct gpd_repo_inputs inputs;
	struct run_totals tot = {0};
	cJSON *root = NULL, *envs = NULL;
	char run_id[13];

	if (gpd_config_load(cli->config, &cfg) < 0 || gpd_cli_check_envs(cli, cfg) < 0 ||
	    gpd_cli_log_setup(cli, cfg) < 0)
		return gpd_cli_usage_exit(cli);
	gpd_run_id(run_id);
	if (cli->command == GPD_CMD_ONCE) {
		install_stop_handlers();
		once_sync(cfg); /* a failure is logged; the last good checkout is used */
	}
	if (cli->confirm_mass_change) {
		record_confirmation(cli, cfg);
		confirm_hint = true;
	}
	atomic_store(&once_reading, !atomic_load(&once_stop));
	if (atomic_load(&once_stop))
		return 1; /* stopped during the repository sync */
	if (gp_manifest_new(cfg, &m) < 0 || gpd_inputs_load(m, &inputs) < 0)
		return 1;
	atomic_store(&once_reading, false);
	gpd_log_diags(&inputs.diags, NULL);
	if (cli->json) {
		root = cJSON_CreateObject();
		cJSON_AddNumberToObject(root, "format_version", GPD_JSON_FORMAT_VERSION);
		envs = cJSON_AddArrayToObject(root, "environments");
	}
	for (size_t i = 0; i < cfg->n_envs && !atomic_load(&once_stop); i++)
		if (gpd_cli_env_selected(cli, cfg->envs[i].name))
			run_env(cli, cfg, &cfg->envs[i], &inputs, run_id, envs, &tot);
	if (root) {
		char *s = cJSON_Print(root);

		puts(s ? s : "{}");
		free(s);
		cJSON_Delete(root);
	}
	gpd_inputs_release(&inputs);
	if (atomic_load(&once_stop)) {
		/* What was applied is in the audit and the state file; the rest was not tried. */
		fputs("gprdsd: stopped by a signal before the run finished\n", stderr);
		return 1;
	}
	return run_exit_code(cli, &tot);
}

/* ---------------------------------------------------------------------------------------
 * validate
 */

/* GitHub workflow commands need %, CR, LF (and in properties : and ,) escaped. */
static void
github_escape(FILE *f, const char *s, bool property)
{
	for (; s && *s; s++) {
		if (*s == '%')
			fputs("%25", f);
		else if (*s == '\r')
			fputs("%0D", f);
		else if (*s == '\n')
			fputs("%0A", f);
		else if (property && *s == ':')
			fputs("%3A", f);
		else if (property && *s == ',')
			fputs("%2C", f);
		else
			fputc(*s, f);
	}
}

/* GitHub's names for the levels of an annotation. */
static const char *
github_level(enum gp_severity s)
{
	return s == GP_SEV_ERROR ? "error" : s == GP_SEV_WARNING ? "warning" : "notice";
}

static void
print_diag(const struct gp_diag *d, bool github)
{
	struct gp_buf b = {0};

	if (!github) {
		gp_diag_format(d, &b);
		printf("%s\n", b.p ? b.p : "out of memory");
		gp_buf_release(&b);
		return;
	}
	printf("::%s ", github_level(d->severity));
	if (d->file) {
		fputs("file=", stdout);
		github_escape(stdout, d->file, true);
		if (d->line)
			printf(",line=%u,col=%u", d->line, d->col ? d->col : 1);
	}
	fputs("::", stdout);
	github_escape(stdout, d->message, false);
	putchar('\n');
}

/* What validate found for one environment: the "environments" of `validate --json`. */
struct validated_env {
	const char *name;
	const char *status; /* "ok", "no_databases" or "unknown" */
	char why[128];	    /* unknown: why */
	size_t entries;
	size_t held[_GP_HOLD_MAX];
};

/* With --repo (ec NULL) the repository's environments need not all have RDS: one whose tfvars
 * enable no application databases has none, which is said, not an error. */
static void
validate_env(const struct gp_manifest *m, const struct gp_env_config *ec,
	     const struct gpd_repo_inputs *inputs, struct validated_env *v, struct gp_diags *all)
{
	struct gpd_load_req req = {
		.manifest = m, .env = v->name, .env_config = ec, .shared = inputs, .none_ok = !ec};
	struct gpd_load_res ld;

	if (gpd_inputs_load_desired(&req, &ld, all) < 0) {
		v->status = "unknown";
		snprintf(v->why, sizeof(v->why), "%s", ld.why);
		return;
	}
	v->status = ld.none ? "no_databases" : "ok";
	for (size_t i = 0; ld.desired && i < ld.desired->n; i++)
		v->held[ld.desired->v[i].hold]++;
	v->entries = ld.desired ? ld.desired->n : 0;
	gp_desired_free(ld.desired);
}

/* The manifest to validate, and the environments in it: the configured ones, or with
 * --repo (no configuration) those that have tfvars in the checkout. */
static int
validate_manifest(const struct gpd_cli *cli, struct gp_config **cfg, struct gp_manifest **m,
		  struct gp_strv *envs)
{
	if (cli->repo) {
		/* Absolute, so that a message can name the full path of a file that is missing. */
		_cleanup_free_ char *abs = realpath(cli->repo, NULL);

		if (gp_manifest_new_default(abs ? abs : cli->repo, m) < 0 ||
		    gpd_inputs_envs(*m, envs) < 0)
			return 1;
		return 0;
	}
	if (gpd_config_load(cli->config, cfg) < 0 || gpd_cli_check_envs(cli, *cfg) < 0)
		return gpd_cli_usage_exit(cli);
	if (gp_manifest_new(*cfg, m) < 0)
		return 1;
	for (size_t i = 0; i < (*m)->n_envs; i++)
		gp_strv_push(envs, (*m)->envs[i].name);
	return 0;
}

static void
no_environments(const char *repo, struct gp_diags *all)
{
	_cleanup_free_ char *standalone =
		gp_manifest_tfvars_path(GP_INPUT_TFVARS_STANDALONE, "<env>");
	_cleanup_free_ char *coupled = gp_manifest_tfvars_path(GP_INPUT_TFVARS_COUPLED, "<env>");

	gp_diag_error(all, -ENOENT, repo, 0, 0, "no environment inputs found (%s or %s)",
		      standalone ? standalone : "?", coupled ? coupled : "?");
}

/* Text and GitHub formats: each diagnostic, then the count of what was printed, last. */
static void
print_validation(const struct gp_diags *all, const struct validated_env *envs, size_t n_envs,
		 bool github)
{
	size_t warnings = gp_diags_count(all, GP_SEV_WARNING);
	size_t notes = gp_diags_count(all, GP_SEV_NOTE);

	for (size_t i = 0; i < n_envs && !github; i++)
		if (strcmp(envs[i].status, "no_databases") == 0)
			fprintf(stderr,
				"%s: no databases (no tfvars file with application_databases "
				"or rds_config.enabled = true)\n",
				envs[i].name);
	for (size_t i = 0; i < all->n; i++)
		print_diag(&all->v[i], github);
	printf("%zu error%s, %zu warning%s", all->errors, all->errors == 1 ? "" : "s", warnings,
	       warnings == 1 ? "" : "s");
	if (notes)
		printf(", %zu note%s", notes, notes == 1 ? "" : "s");
	putchar('\n');
}

/* A JSON member that is a string or null. */
static void
json_str(cJSON *o, const char *key, const char *v)
{
	v ? cJSON_AddStringToObject(o, key, v) : cJSON_AddNullToObject(o, key);
}

/* A JSON member that is a position (1-based) or null (0: no position). */
static void
json_pos(cJSON *o, const char *key, unsigned v)
{
	v ? cJSON_AddNumberToObject(o, key, v) : cJSON_AddNullToObject(o, key);
}

static cJSON *
diag_json(const struct gp_diag *d)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "severity", gp_severity_to_string(d->severity));
	json_str(o, "file", d->file);
	json_pos(o, "line", d->line);
	json_pos(o, "column", d->line && !d->col ? 1 : d->col); /* as the text form shows it */
	json_str(o, "env", d->env);
	json_str(o, "key", d->key);
	cJSON_AddStringToObject(o, "message", d->message);
	return o;
}

static cJSON *
validated_env_json(const struct validated_env *v)
{
	cJSON *o = cJSON_CreateObject(), *held;

	cJSON_AddStringToObject(o, "name", v->name);
	cJSON_AddStringToObject(o, "status", v->status);
	json_str(o, "reason", v->why[0] ? v->why : NULL);
	cJSON_AddNumberToObject(o, "entries", (double)v->entries);
	held = cJSON_AddObjectToObject(o, "held");
	for (int h = GP_HOLD_NONE + 1; h < _GP_HOLD_MAX; h++)
		cJSON_AddNumberToObject(held, gp_hold_to_string(h), (double)v->held[h]);
	return o;
}

/* `validate --json`: one document (gprdsd(8) lists its members). */
static void
print_validation_json(const struct gp_diags *all, const struct validated_env *envs, size_t n_envs,
		      const char *commit)
{
	cJSON *root = cJSON_CreateObject(), *a;
	char *out;

	cJSON_AddNumberToObject(root, "format_version", GPD_JSON_FORMAT_VERSION);
	cJSON_AddBoolToObject(root, "ok", all->errors == 0);
	json_str(root, "commit", commit);
	cJSON_AddNumberToObject(root, "errors", (double)all->errors);
	cJSON_AddNumberToObject(root, "warnings", (double)gp_diags_count(all, GP_SEV_WARNING));
	cJSON_AddNumberToObject(root, "notes", (double)gp_diags_count(all, GP_SEV_NOTE));
	a = cJSON_AddArrayToObject(root, "diagnostics");
	for (size_t i = 0; i < all->n; i++)
		cJSON_AddItemToArray(a, diag_json(&all->v[i]));
	a = cJSON_AddArrayToObject(root, "environments");
	for (size_t i = 0; i < n_envs; i++)
		cJSON_AddItemToArray(a, validated_env_json(&envs[i]));
	out = cJSON_Print(root);
	puts(out ? out : "{}");
	free(out);
	cJSON_Delete(root);
}

/* Every selected environment, its diagnostics marked with its name; none when the shared
 * inputs failed (each is then unknown, for that reason). */
static size_t
validate_envs(const struct gpd_cli *cli, const struct gp_config *cfg, const struct gp_manifest *m,
	      const struct gp_strv *envs, const struct gpd_repo_inputs *inputs,
	      struct validated_env *out, struct gp_diags *all)
{
	size_t n = 0;

	for (size_t i = 0; i < envs->n; i++) {
		struct validated_env *v = &out[n];
		size_t n_before = all->n;

		if (!gpd_cli_env_selected(cli, envs->v[i]))
			continue;
		*v = (struct validated_env){.name = envs->v[i], .status = "unknown"};
		n++;
		if (inputs->failed) {
			snprintf(v->why, sizeof(v->why), "%s", GPD_INPUTS_SHARED_FAILED);
			continue;
		}
		validate_env(m, cfg ? gp_config_env(cfg, v->name) : NULL, inputs, v, all);
		gp_diags_set_context(all, n_before, v->name, NULL);
	}
	return n;
}

int
gpd_cmd_validate(const struct gpd_cli *cli)
{
	_cleanup_(gp_config_freep) struct gp_config *cfg = NULL;
	_cleanup_(gp_manifest_freep) struct gp_manifest *m = NULL;
	_cleanup_free_ struct validated_env *v = NULL;
	struct gp_strv envs = {0};
	struct gp_diags all = {0};
	struct gpd_repo_inputs inputs;
	size_t n;
	int rc = validate_manifest(cli, &cfg, &m, &envs);

	if (rc == 0 && gpd_inputs_load(m, &inputs) < 0)
		rc = 1;
	if (rc == 0 && !(v = calloc(envs.n + 1, sizeof(*v)))) {
		gpd_inputs_release(&inputs);
		rc = 1;
	}
	if (rc != 0) {
		gp_strv_release(&envs);
		return rc;
	}
	gp_diags_move(&all, &inputs.diags);
	n = validate_envs(cli, cfg, m, &envs, &inputs, v, &all);
	if (envs.n == 0 && !inputs.failed)
		no_environments(m->repo, &all);
	/* The catalog's checks and the join may word one problem alike: shown and counted once. */
	gp_diags_uniq(&all);
	if (cli->json)
		print_validation_json(&all, v, n, inputs.commit);
	else
		print_validation(&all, v, n, cli->github);
	rc = all.errors ? 1 : 0;
	gp_diags_release(&all);
	gp_strv_release(&envs);
	gpd_inputs_release(&inputs);
	return rc;
}

/* ---------------------------------------------------------------------------------------
 * status and --check-config
 */

static cJSON *
record_json(const struct gp_record *r)
{
	cJSON *o = cJSON_CreateObject();

	json_str(o, "key", r->key);
	json_str(o, "database", r->database);
	json_str(o, "username", r->username);
	cJSON_AddStringToObject(o, "state", gp_state_to_string(r->state));
	gpd_json_time(o, "since", r->since);
	json_str(o, "reason", r->reason);
	cJSON_AddNumberToObject(o, "attempts", r->attempts);
	gpd_json_time(o, "next_retry", r->next_retry);
	json_str(o, "last_commit", r->last_commit);
	gpd_json_time(o, "verified_at", r->verified_at);
	gpd_json_time(o, "secret_changed", r->secret_changed);
	if (r->secret_changed)
		cJSON_AddNumberToObject(o, "secret_age_days",
					(double)((time(NULL) - r->secret_changed) / 86400));
	else
		cJSON_AddNullToObject(o, "secret_age_days");
	/* Rotation (DESIGN §4.4): the AWSCURRENT password's age, when it is due next, and a
	 * rotation in progress. */
	gpd_json_time(o, "password_since", r->current_since);
	if (r->current_since)
		cJSON_AddNumberToObject(o, "password_age_days",
					(double)((time(NULL) - r->current_since) / 86400));
	else
		cJSON_AddNullToObject(o, "password_age_days");
	gpd_json_time(o, "rotation_due", r->rotation_due);
	gpd_json_time(o, "rotating_since", r->rotating_since);
	/* A request contract's approval route (DESIGN §1.3a) and the approvals it lacks. */
	json_str(o, "route", r->route);
	json_str(o, "approvals_missing", r->approvals_missing);
	return o;
}

/*
 * The daemon's view of an environment (leader, standby), from <state_dir>/runtime.json.
 * Returns a new object, or NULL when no daemon has written one.
 */
/* kill(pid, 0) succeeds for our own processes; EPERM says it exists but is another user's
 * (the daemon runs as gprdsd, the operator may not). */
static bool
process_exists(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

static cJSON *
runtime_env(const char *state_dir, const char *env)
{
	_cleanup_free_ char *path = gpd_path_join(state_dir, GPD_RUNTIME_FILE);
	_cleanup_free_ char *buf = NULL;
	cJSON *root, *envs, *e, *found = NULL;
	size_t len;

	if (!path || gpd_read_file(path, 1024 * 1024, &buf, &len) < 0)
		return NULL;
	root = cJSON_ParseWithLength(buf, len);
	envs = cJSON_GetObjectItemCaseSensitive(root, "environments");
	cJSON_ArrayForEach(e, envs)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "env");

		if (cJSON_IsString(name) && strcmp(name->valuestring, env) == 0) {
			double pid = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(root, "pid"));
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(root, "state");

			found = cJSON_Duplicate(e, true);
			cJSON_AddNumberToObject(found, "pid", pid);
			/* A stopped daemon, or one that died without saying so, is not running. */
			cJSON_AddBoolToObject(found, "running",
					      cJSON_IsString(st) && strcmp(st->valuestring, "running") == 0 &&
						      pid > 0 && process_exists((pid_t)pid));
			break;
		}
	}
	cJSON_Delete(root);
	return found;
}

/* The daemon rewrites the state file only when something in it changed; its runtime file
 * has the times of its latest passes. Shown: the newer of the two. */
static bool
newer_time(int64_t *t, const cJSON *rt, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(rt, name);
	int64_t x;

	if (!cJSON_IsString(v) || gp_time_parse(v->valuestring, &x) < 0 || x <= *t)
		return false;
	*t = x;
	return true;
}

/* The state file's last_error is its last saved pass's; when the daemon has passed since
 * without saving (a standby never writes the state; a leader skips a save that would only
 * move the times), its runtime file says how its last pass went. */
static int
latest_error(struct gp_state_file *s, const cJSON *rt)
{
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(rt, "last_error");
	char *text = NULL;

	if (cJSON_IsString(err) && !(text = strdup(err->valuestring)))
		return -ENOMEM;
	free(s->last_error);
	s->last_error = text;
	return 0;
}

/* The status table: cells pushed row by row, printed with each column as wide as its widest
 * cell, so that the usual table fits 100 columns; on a terminal the last column (the reason)
 * is cut at the terminal's width. */
enum { STATUS_COLS = 11 };
static const char *const status_head[STATUS_COLS] = {
	"ENV", "KEY", "DATABASE", "USERNAME", "STATE", "SINCE", "TRY", "NEXT", "AGE", "ROTATION",
	"REASON",
};

/* "in 8m", "overdue 2d": a span of seconds after a word. */
static void
span_text(char *buf, size_t len, const char *prefix, int64_t secs)
{
	char span[24];

	gp_span_format(secs, span, sizeof(span));
	snprintf(buf, len, "%s%s", prefix, span);
}

static int
status_row(struct gp_strv *t, const char *env, const struct gp_record *r, int64_t now)
{
	char since[24], tries[16], next[32] = "-", age[24] = "-", rot[32] = "-";
	int64_t changed = r->current_since ? r->current_since : r->secret_changed;
	_cleanup_(gp_buf_release) struct gp_buf reason = {0};
	const char *cells[STATUS_COLS];
	int k;

	gp_span_format(now - r->since, since, sizeof(since));
	snprintf(tries, sizeof(tries), "%u", r->attempts);
	if (r->next_retry > now)
		span_text(next, sizeof(next), "in ", r->next_retry - now);
	else if (r->next_retry)
		snprintf(next, sizeof(next), "now");
	if (changed)
		gp_span_format(now - changed, age, sizeof(age));
	if (r->rotating_since) {
		snprintf(rot, sizeof(rot), "rotating");
	} else if (r->rotation_due > now) {
		span_text(rot, sizeof(rot), "in ", r->rotation_due - now);
	} else if (r->rotation_due) {
		span_text(rot, sizeof(rot), "overdue ", now - r->rotation_due);
	}
	cells[0] = env;
	cells[1] = r->key;
	cells[2] = r->database ? r->database : "-";
	cells[3] = r->username ? r->username : "-";
	cells[4] = gp_state_to_string(r->state);
	cells[5] = since;
	cells[6] = tries;
	cells[7] = next;
	cells[8] = age;
	cells[9] = rot;
	gp_buf_puts(&reason, r->reason ? r->reason : "");
	/* The approval route, unless the reason already is about it. */
	if (r->route && !(r->reason && strstr(r->reason, "approval route")))
		gp_buf_printf(&reason, "%sapproval route %s%s%s", r->reason ? "; " : "", r->route,
			      r->approvals_missing ? " lacks " : ", approved",
			      r->approvals_missing ? r->approvals_missing : "");
	if (reason.oom)
		return -ENOMEM;
	cells[10] = reason.p ? reason.p : "";
	for (size_t i = 0; i < STATUS_COLS; i++)
		if ((k = gp_strv_push(t, cells[i])) < 0)
			return k;
	return 0;
}

/* On a terminal narrower than the table, columns go until the reason has at least 16
 * columns: first those that say nothing in any row (no retries pending: TRY all 0, NEXT all
 * "-"), then the time in state, the password's age, the rotation, the user, the database,
 * the retry columns; the reason is then cut at the edge. */
static const unsigned status_drop_order[] = {5, 8, 9, 3, 2, 6, 7};

static bool
status_column_empty(const struct gp_strv *t, size_t c)
{
	for (size_t i = STATUS_COLS + c; i < t->n; i += STATUS_COLS)
		if (!gp_streq(t->v[i], "-") && !gp_streq(t->v[i], "0"))
			return false;
	return true;
}

static void
status_print(const struct gp_strv *t)
{
	size_t w[STATUS_COLS] = {0}, used = 0, reason_w,
	       cols = isatty(STDOUT_FILENO) == 1 ? gpd_terminal_columns(STDOUT_FILENO) : 0;
	bool shown[STATUS_COLS];

	for (size_t i = 0; i < t->n; i++) {
		size_t n = strlen(t->v[i]);

		if (n > w[i % STATUS_COLS])
			w[i % STATUS_COLS] = n;
	}
	reason_w = w[STATUS_COLS - 1] < 16 ? w[STATUS_COLS - 1] : 16;
	for (size_t c = 0; c < STATUS_COLS; c++) {
		shown[c] = true;
		if (c + 1 < STATUS_COLS)
			used += w[c] + 2;
	}
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < ELEMENTSOF(status_drop_order); k++) {
			unsigned c = status_drop_order[k];

			if (!cols || used + reason_w <= cols)
				break;
			if (!shown[c] || (pass == 0 && !status_column_empty(t, c)))
				continue;
			shown[c] = false;
			used -= w[c] + 2;
		}
	for (size_t i = 0; i < t->n; i += STATUS_COLS) {
		const char *reason = t->v[i + STATUS_COLS - 1];
		struct gp_buf line = {0};

		for (size_t c = 0; c + 1 < STATUS_COLS; c++)
			if (shown[c])
				gp_buf_printf(&line, c == 6 ? "%*s  " : "%-*s  ", (int)w[c],
					      t->v[i + c]);
		/* Cut the reason at the terminal's edge, when at least 5 of its characters fit. */
		if (cols && used + strlen(reason) > cols && cols >= used + 8)
			gp_buf_printf(&line, "%.*s...", (int)(cols - used - 3), reason);
		else
			gp_buf_puts(&line, reason);
		while (line.len && line.p[line.len - 1] == ' ')
			line.p[--line.len] = '\0';
		puts(line.p ? line.p : "");
		gp_buf_release(&line);
	}
}

static void
print_runtime(const char *env, const cJSON *rt)
{
	const cJSON *role = cJSON_GetObjectItemCaseSensitive(rt, "role");
	const cJSON *last = cJSON_GetObjectItemCaseSensitive(rt, "last_pass");
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(rt, "last_error");

	printf("# %s: daemon pid %.0f is %s; last pass %s%s%s\n", env,
	       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rt, "pid")),
	       !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rt, "running")) ? "not running"
	       : cJSON_IsString(role)						? role->valuestring
										: "?",
	       cJSON_IsString(last) ? last->valuestring : "never",
	       cJSON_IsString(err) ? "; error: " : "", cJSON_IsString(err) ? err->valuestring : "");
}

int
gpd_cmd_status(const struct gpd_cli *cli)
{
	_cleanup_(gp_config_freep) struct gp_config *cfg = NULL;
	_cleanup_(gp_strv_release) struct gp_strv table = {0};
	cJSON *root = NULL, *envs = NULL;
	int64_t now = time(NULL);
	int rc = 0;

	if (gpd_config_load(cli->config, &cfg) < 0 || gpd_cli_check_envs(cli, cfg) < 0)
		return gpd_cli_usage_exit(cli);
	if (cli->json) {
		root = cJSON_CreateObject();
		cJSON_AddNumberToObject(root, "format_version", GPD_JSON_FORMAT_VERSION);
		envs = cJSON_AddArrayToObject(root, "environments");
	} else {
		for (size_t c = 0; c < STATUS_COLS; c++)
			if (gp_strv_push(&table, status_head[c]) < 0)
				return 1;
	}
	for (size_t i = 0; i < cfg->n_envs; i++) {
		_cleanup_(gp_state_file_freep) struct gp_state_file *s = NULL;
		_cleanup_free_ char *err = NULL;
		cJSON *e, *entries, *rt;
		bool from_rt;

		if (!gpd_cli_env_selected(cli, cfg->envs[i].name))
			continue;
		rt = runtime_env(cfg->state_dir, cfg->envs[i].name);
		if (gpd_state_load(cfg->state_dir, cfg->envs[i].name, &s, &err) < 0) {
			fprintf(stderr, "gprdsd: %s: %s\n", cfg->envs[i].name, err ? err : "error");
			cJSON_Delete(rt);
			rc = 1;
			continue;
		}
		from_rt = newer_time(&s->last_pass, rt, "last_pass");
		if (from_rt && latest_error(s, rt) < 0) {
			fprintf(stderr, "gprdsd: out of memory\n");
			cJSON_Delete(rt);
			return 1;
		}
		newer_time(&s->last_success, rt, "last_success");
		if (!root) {
			if (rt)
				print_runtime(cfg->envs[i].name, rt);
			if (s->last_error && !from_rt) /* else on the daemon's line above */
				printf("# %s: the last pass could not reconcile it: %s\n",
				       cfg->envs[i].name, s->last_error);
			cJSON_Delete(rt);
			for (size_t j = 0; j < s->n; j++)
				if (status_row(&table, cfg->envs[i].name, &s->v[j], now) < 0) {
					fprintf(stderr, "gprdsd: out of memory\n");
					return 1;
				}
			continue;
		}
		e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "env", cfg->envs[i].name);
		if (rt)
			cJSON_AddItemToObject(e, "daemon", rt);
		else
			cJSON_AddNullToObject(e, "daemon");
		gpd_json_time(e, "last_pass", s->last_pass);
		gpd_json_time(e, "last_success", s->last_success);
		json_str(e, "last_error", s->last_error);
		entries = cJSON_AddArrayToObject(e, "entries");
		for (size_t j = 0; j < s->n; j++)
			cJSON_AddItemToArray(entries, record_json(&s->v[j]));
		cJSON_AddItemToArray(envs, e);
	}
	if (root) {
		char *out = cJSON_Print(root);

		puts(out ? out : "{}");
		free(out);
		cJSON_Delete(root);
	} else {
		status_print(&table);
	}
	return rc;
}

/* repository.path must be a git checkout (a .git directory, or the file of a worktree): the
 * daemon reads nothing else, and would otherwise start only to fail at every pass. */
static int
check_repository(const struct gp_config *cfg)
{
	_cleanup_free_ char *git = gpd_path_join(cfg->repository.path, ".git");
	struct stat st = {0};

	if (stat(cfg->repository.path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "%s: error: repository.path %s: %s\n", cfg->file,
			cfg->repository.path, st.st_mode ? "not a directory" : strerror(errno));
		return -ENOENT;
	}
	if (!git)
		return -ENOMEM;
	if (!gpd_file_exists(git)) {
		fprintf(stderr, "%s: error: repository.path %s is not a git checkout (no %s)\n",
			cfg->file, cfg->repository.path, git);
		return -ENOENT;
	}
	return 0;
}

int
gpd_cmd_check_config(const struct gpd_cli *cli)
{
	_cleanup_(gp_config_freep) struct gp_config *cfg = NULL;

	if (gpd_config_load(cli->config, &cfg) < 0 || check_repository(cfg) < 0)
		return gpd_cli_usage_exit(cli);
	printf("%s: ok (%zu environment%s)\n", cfg->file, cfg->n_envs, cfg->n_envs == 1 ? "" : "s");
	return 0;
}

/* ---------------------------------------------------------------------------------------
 * rotate and retry: a request for the environment's passes (codec/requests.h)
 */

/* Who asked: the user behind sudo when there is one, and the host. */
static void
requester(char *buf, size_t len)
{
	const char *user = getenv("SUDO_USER");
	char host[256] = "";
	struct passwd *pw;

	if (gp_isempty(user) && (pw = getpwuid(getuid())))
		user = pw->pw_name;
	gethostname(host, sizeof(host) - 1);
	snprintf(buf, len, "%s@%s", gp_isempty(user) ? "?" : user, host[0] ? host : "?");
}

/* What one key's request came to so far. */
enum req_outcome { REQ_WAITING, REQ_DONE, REQ_FAILED };

/* One command that leaves a request for the passes of one environment. */
struct request_cmd {
	const char *verb;  /* "rotate" */
	const char *noun;  /* "rotation" */
	const char *doing; /* what a running daemon does with it: "rotates" */
	/* Without a daemon, the command's own pass decides the exit code too (as --once). */
	bool pass_exit;
	/* The keys to ask for, from cli->keys and the records s, into ret (said on stdout when
	 * there are none); *at is the request's time (now). -EINVAL: a usage error (exit 2),
	 * -ENOENT: a key with no entry (exit 1); said on stderr. */
	int (*keys)(const struct gpd_cli *cli, const struct gp_config *cfg,
		    const struct gp_state_file *s, int64_t *at, struct gp_strv *ret);
	/* Records the request (state_store.h). */
	int (*add)(const char *state_dir, const char *env, const struct gp_strv *keys, int64_t at,
		   const char *by, const struct gp_state_file *s, char **ret_err);
	/* What the request of key made at `at` came to, from the records s and the requests
	 * file req; printed as "<env>/<key>: ..." when report. */
	enum req_outcome (*outcome)(const char *env, const char *key, int64_t at,
				    const struct gp_state_file *s, const struct gp_requests *req,
				    bool report);
};

/* A key that has no record in env: said, with the closest key of env and the other
 * environments whose records have it. */
static void
no_such_key(const struct gp_config *cfg, const char *env, const struct gp_state_file *s,
	    const char *key, const char *what)
{
	_cleanup_free_ const char **cands = calloc(s->n + 1, sizeof(*cands));
	_cleanup_(gp_buf_release) struct gp_buf hint = {0};
	const char *near = NULL;

	for (size_t i = 0; cands && i < s->n; i++)
		cands[i] = s->v[i].key;
	if (cands)
		near = gp_did_you_mean(key, cands, s->n);
	if (near)
		gp_buf_printf(&hint, "; did you mean \"%s\"?", near);
	for (size_t i = 0; i < cfg->n_envs; i++) {
		_cleanup_(gp_state_file_freep) struct gp_state_file *o = NULL;
		const char *name = cfg->envs[i].name;

		if (strcmp(name, env) != 0 && gpd_state_load(cfg->state_dir, name, &o, NULL) >= 0 &&
		    gp_state_find(o, key))
			gp_buf_printf(&hint, "; it is an entry of %s (--env %s)", name, name);
	}
	fprintf(stderr, "gprdsd: %s/%s: %s in %s's records (see gprdsd status)%s\n", env, key, what,
		env, hint.p ? hint.p : "");
}

/* 1: every key's request is done; -1: one failed; 0: not yet. */
static int
requests_done(const struct gp_config *cfg, const char *env, const struct gp_strv *keys,
	      int64_t at, const struct request_cmd *cmd, bool report)
{
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = NULL;
	struct gp_requests req = {0};
	int done = 1;

	if (gpd_state_load(cfg->state_dir, env, &s, NULL) < 0 ||
	    gpd_requests_load(cfg->state_dir, env, &req, NULL) < 0)
		return 0;
	for (size_t i = 0; i < keys->n; i++) {
		enum req_outcome o = cmd->outcome(env, keys->v[i], at, s, &req, report);

		if (o == REQ_FAILED)
			done = -1;
		else if (o == REQ_WAITING && done > 0)
			done = 0;
	}
	gp_requests_release(&req);
	return done;
}

/* A daemon on this host is the leader of env: it acts on the request; the command waits. */
static int
request_by_daemon(const struct gp_config *cfg, const char *env, const struct gp_strv *keys,
		  int64_t at, const cJSON *rt, const struct request_cmd *cmd)
{
	const cJSON *role = cJSON_GetObjectItemCaseSensitive(rt, "role");
	double pid = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(rt, "pid"));
	int done = 0;

	if (cJSON_IsString(role) && strcmp(role->valuestring, "standby") == 0) {
		printf("%s: requested; the daemon here (pid %.0f) is standby: the %s is made when "
		       "this host leads %s, or by `gprdsd %s` on the leader's host\n",
		       env, pid, cmd->noun, env, cmd->verb);
		return 1;
	}
	printf("%s: requested; the running daemon (pid %.0f) %s within seconds\n", env, pid,
	       cmd->doing);
	fflush(stdout);
	for (int i = 0; i < GPD_REQUEST_WAIT_S * 4 && !done && !atomic_load(&once_stop); i++) {
		struct timespec ts = {0, 250 * 1000 * 1000};

		nanosleep(&ts, NULL);
		done = requests_done(cfg, env, keys, at, cmd, false);
	}
	done = requests_done(cfg, env, keys, at, cmd, true);
	if (!done)
		printf("%s: not done within %d s; the request stands (see gprdsd status)\n", env,
		       GPD_REQUEST_WAIT_S);
	return done == 1 ? 0 : 1;
}

/* Records the request of keys, then waits for the daemon here or runs the pass itself. */
static int
request_send(const struct gpd_cli *cli, const struct gp_config *cfg,
	     const struct gp_state_file *s, const struct gp_strv *keys, int64_t at,
	     const struct request_cmd *cmd)
{
	const char *env = cli->envs.v[0];
	_cleanup_free_ char *err = NULL;
	char by[320];
	cJSON *rt;
	int r;

	requester(by, sizeof(by));
	if (cmd->add(cfg->state_dir, env, keys, at, by, s, &err) < 0) {
		fprintf(stderr, "gprdsd: cannot record the request: %s\n", err ? err : "error");
		return 1;
	}
	install_stop_handlers();
	rt = runtime_env(cfg->state_dir, env);
	if (rt && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rt, "running"))) {
		r = request_by_daemon(cfg, env, keys, at, rt, cmd);
		cJSON_Delete(rt);
		return r;
	}
	cJSON_Delete(rt);
	/* No daemon here: this command runs the environment's pass itself. */
	r = gpd_cmd_run(cli);
	if (requests_done(cfg, env, keys, at, cmd, true) != 1)
		return 1;
	return cmd->pass_exit ? r : 0;
}

static int
request_command(const struct gpd_cli *cli, const struct request_cmd *cmd)
{
	_cleanup_(gp_config_freep) struct gp_config *cfg = NULL;
	_cleanup_(gp_state_file_freep) struct gp_state_file *s = NULL;
	_cleanup_free_ char *err = NULL;
	struct gp_strv keys = {0};
	int64_t at = (int64_t)time(NULL);
	int r;

	if (gpd_config_load(cli->config, &cfg) < 0 || gpd_cli_check_envs(cli, cfg) < 0 ||
	    gpd_cli_log_setup(cli, cfg) < 0)
		return gpd_cli_usage_exit(cli);
	if (cli->envs.n != 1) {
		fprintf(stderr, "gprdsd: %s takes exactly one --env\n", cmd->verb);
		return gpd_cli_usage_exit(cli);
	}
	if (gpd_state_load(cfg->state_dir, cli->envs.v[0], &s, &err) < 0) {
		fprintf(stderr, "gprdsd: %s\n", err ? err : "cannot read the records");
		return 1;
	}
	r = cmd->keys(cli, cfg, s, &at, &keys);
	if (r == -EINVAL)
		r = gpd_cli_usage_exit(cli);
	else if (r < 0)
		r = 1;
	else
		r = keys.n ? request_send(cli, cfg, s, &keys, at, cmd) : 0;
	gp_strv_release(&keys);
	return r;
}

/* rotate: each key must be an active entry. */
static int
rotate_keys(const struct gpd_cli *cli, const struct gp_config *cfg,
	    const struct gp_state_file *s, int64_t *at, struct gp_strv *ret)
{
	const char *env = cli->envs.v[0];

	if (!cli->keys.n) {
		fprintf(stderr, "gprdsd: rotate takes at least one key\n");
		return -EINVAL;
	}
	for (size_t i = 0; i < cli->keys.n; i++) {
		const char *key = cli->keys.v[i];
		const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, key);

		if (!rec) {
			no_such_key(cfg, env, s, key, "no active entry");
			return -EINVAL;
		}
		if (rec->state != GP_STATE_ACTIVE) {
			fprintf(stderr, "gprdsd: %s/%s: no active entry: it is %s (see gprdsd status)\n",
				env, key, gp_state_to_string(rec->state));
			return -EINVAL;
		}
		if (gp_strv_push(ret, key) < 0)
			return -ENOMEM;
	}
	(void)at;
	return 0;
}

static enum req_outcome
rotate_outcome(const char *env, const char *key, int64_t at, const struct gp_state_file *s,
	       const struct gp_requests *req, bool report)
{
	const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, key);
	const struct gp_rotate_request *q = NULL;

	for (size_t k = 0; k < req->n_rotate && !q; k++)
		if (strcmp(req->rotate[k].key, key) == 0)
			q = &req->rotate[k];
	if (!q || gp_request_done(q, s)) {
		if (report)
			printf("%s/%s: rotated\n", env, key);
		return REQ_DONE;
	}
	if (rec && rec->state == GP_STATE_FAILED && rec->since >= at) {
		if (report)
			printf("%s/%s: rotation failed: %s\n", env, key, rec->reason ? rec->reason : "");
		return REQ_FAILED;
	}
	if (report)
		printf("%s/%s: not rotated yet\n", env, key);
	return REQ_WAITING;
}

int
gpd_cmd_rotate(const struct gpd_cli *cli)
{
	static const struct request_cmd cmd = {
		.verb = "rotate",
		.noun = "rotation",
		.doing = "rotates",
		.pass_exit = true, /* its pass retries every failed entry, as --once */
		.keys = rotate_keys,
		.add = gpd_requests_add_rotate,
		.outcome = rotate_outcome,
	};

	return request_command(cli, &cmd);
}

/* Why the entry of rec has nothing to retry, or NULL when it is failed. A failed record
 * whose entry left the inputs is no pass's business any more. */
static const char *
nothing_to_retry(const struct gp_record *rec)
{
	if (rec->state != GP_STATE_FAILED)
		return "not failed";
	if (gp_streq(rec->reason, GP_ORPHANED_REASON))
		return "no longer in the inputs";
	return NULL;
}

/*
 * retry: the named keys, or without keys every failed entry of the environment; a named key
 * that is not failed is said and left out. *at moves past a request of the same second that
 * a pass already used, so that the new one is not taken as used.
 */
static int
retry_keys(const struct gpd_cli *cli, const struct gp_config *cfg,
	   const struct gp_state_file *s, int64_t *at, struct gp_strv *ret)
{
	const char *env = cli->envs.v[0];
	int r = 0;

	for (size_t i = 0; i < cli->keys.n; i++) {
		if (!gp_state_find((struct gp_state_file *)s, cli->keys.v[i])) {
			no_such_key(cfg, env, s, cli->keys.v[i], "no such entry");
			r = -ENOENT;
		}
	}
	for (size_t i = 0; i < s->n && r >= 0; i++) {
		const struct gp_record *rec = &s->v[i];
		bool named = gp_strv_contains(&cli->keys, rec->key);
		const char *why = nothing_to_retry(rec);

		if (cli->keys.n && !named)
			continue;
		if (why) {
			if (named)
				printf("%s/%s: %s, nothing to retry\n", env, rec->key, why);
			continue;
		}
		if (rec->retry_used >= *at)
			*at = rec->retry_used + 1;
		r = gp_strv_push(ret, rec->key);
	}
	if (r >= 0 && !cli->keys.n && !ret->n)
		printf("%s: no failed entries, nothing to retry\n", env);
	return r;
}

static enum req_outcome
retry_outcome(const char *env, const char *key, int64_t at, const struct gp_state_file *s,
	      const struct gp_requests *req, bool report)
{
	const struct gp_record *rec = gp_state_find((struct gp_state_file *)s, key);
	const struct gp_retry_request q = {.key = (char *)key, .at = at};
	const char *reason = rec && rec->reason ? rec->reason : "";

	(void)req; /* the record alone tells: a pass that used the request marked it */
	if (!gp_retry_used(&q, rec)) {
		if (report)
			printf("%s/%s: not retried yet\n", env, key);
		return REQ_WAITING;
	}
	if (rec->state == GP_STATE_ACTIVE) {
		if (report)
			printf("%s/%s: retried, active\n", env, key);
		return REQ_DONE;
	}
	/* Pending: the pass held it (a gate, its database) instead of attempting it. */
	if (report && rec->state == GP_STATE_FAILED)
		printf("%s/%s: retried, failed again: %s\n", env, key, reason);
	else if (report && rec->state == GP_STATE_PENDING)
		printf("%s/%s: not retried, pending: %s\n", env, key, reason);
	else if (report)
		printf("%s/%s: retried, %s: %s\n", env, key, gp_state_to_string(rec->state), reason);
	return REQ_FAILED;
}

int
gpd_cmd_retry(const struct gpd_cli *cli)
{
	static const struct request_cmd cmd = {
		.verb = "retry",
		.noun = "retry",
		.doing = "retries them",
		.pass_exit = false, /* its pass leaves the other failed entries to their backoff */
		.keys = retry_keys,
		.add = gpd_requests_add_retry,
		.outcome = retry_outcome,
	};

	return request_command(cli, &cmd);
}
