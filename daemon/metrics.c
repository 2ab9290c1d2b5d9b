/*
 * metrics.c — counters of the daemon's passes and their three renderings: Prometheus text,
 * the systemd STATUS= line, and the runtime file read by `gprdsd status`.
 *
 * Pure formatting over values kept by the loop thread; the only I/O is the atomic write of
 * the runtime file. Deliberately not here: an HTTP endpoint (node_exporter serves the file).
 */
#include "metrics.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fileio.h"

/* Adds n to the count of kind in v (of *len, room for cap), appending it when new. */
static void
count_in(struct gpd_count *v, size_t *len, size_t cap, const char *kind, uint64_t n)
{
	for (size_t i = 0; i < *len; i++) {
		if (strcmp(v[i].kind, kind) == 0) {
			v[i].n += n;
			return;
		}
	}
	if (*len < cap) {
		snprintf(v[*len].kind, sizeof(v[0].kind), "%s", kind);
		v[(*len)++].n = n;
	}
}

static void
count_kind(struct gpd_env_metrics *m, const char *kind, uint64_t n)
{
	count_in(m->errors, &m->n_errors, ELEMENTSOF(m->errors), kind, n);
}

/* The entries a contract's approval route holds (gates.c), by route and by missing group. */
static void
count_approvals(struct gpd_env_metrics *m, const struct gp_desired *d)
{
	for (size_t i = 0; i < m->n_awaiting; i++)
		m->awaiting[i].n = 0;
	for (size_t i = 0; i < m->n_missing; i++)
		m->missing[i].n = 0;
	for (size_t i = 0; d && i < d->n; i++) {
		const struct gp_entry *e = &d->v[i];
		const char *g = e->approvals_missing;

		if (e->hold != GP_HOLD_NEEDS_APPROVAL || !e->route || !g)
			continue;
		count_in(m->awaiting, &m->n_awaiting, ELEMENTSOF(m->awaiting), e->route, 1);
		while (*g) {
			size_t len = strcspn(g, ",");
			char group[64];

			snprintf(group, sizeof(group), "%.*s", (int)len, g);
			count_in(m->missing, &m->n_missing, ELEMENTSOF(m->missing), group, 1);
			g += len;
			g += strspn(g, ", ");
		}
	}
}

void
gpd_metrics_account(struct gpd_env_metrics *m, struct gpd_pass_result *res, int rc, int64_t now)
{
	m->last_pass = now;
	m->passes_total++;
	if (res->standby)
		return; /* a standby observed nothing: keep the figures of the last pass that did */
	m->last_duration_ms = res->duration_ms;
	m->sm_calls_total += res->sm_calls;
	m->sm_throttles_total += res->sm_throttles;
	m->pg_statements_total += res->pg_statements;
	m->actions_total += res->n_applied;
	m->action_errors_total += res->n_errors;
	m->rotations_total += res->n_rotations;
	m->refused = res->refused;
	m->rotation_errors_total += res->n_rotations_failed;
	for (size_t i = 0; i < res->n_error_kinds; i++)
		count_kind(m, res->errors[i].kind, res->errors[i].n);
	snprintf(m->top_reason, sizeof(m->top_reason), "%s",
		 res->top_reason ? res->top_reason : "");
	if (rc < 0 || res->error < 0) {
		m->pass_errors_total++;
		snprintf(m->last_error, sizeof(m->last_error), "%s",
			 res->error_text ? res->error_text : strerror(rc < 0 ? -rc : EIO));
		return;
	}
	m->last_error[0] = '\0';
	m->last_success = now;
	memcpy(m->by_state, res->by_state, sizeof(m->by_state));
	m->n_invalid = res->n_invalid;
	m->n_gated = res->n_gated;
	m->n_orphans = res->n_orphans;
	count_approvals(m, res->desired);
	free(m->secrets);
	m->secrets = TAKE_PTR(res->secrets);
	m->n_secrets = m->secrets ? res->n_secrets : 0;
	res->n_secrets = 0;
}

void
gpd_metrics_release(struct gpd_env_metrics *m)
{
	free(m->secrets);
	*m = (struct gpd_env_metrics){0};
}

void
gpd_metrics_status_line(const char *env, const struct gpd_env_metrics *m, struct gp_buf *out)
{
	char at[21];

	if (!m->last_pass) {
		gp_buf_printf(out, "%s: first pass running", env);
		return;
	}
	/* A time, not an age: STATUS= is sent after each pass only, and an age would freeze. */
	gp_time_format(m->last_pass, at);
	if (m->leader_known && !m->leader) {
		gp_buf_printf(out, "%s: standby (another gprdsd holds the lock), last check %s", env,
			      at);
		return;
	}
	gp_buf_printf(out, "%s: %zu active, %zu pending, %zu failed", env,
		      m->by_state[GP_STATE_ACTIVE], m->by_state[GP_STATE_PENDING],
		      m->by_state[GP_STATE_FAILED]);
	if (m->last_error[0])
		gp_buf_printf(out, ", error: %s", m->last_error);
	else if (m->top_reason[0])
		gp_buf_printf(out, " (%s)", m->top_reason);
	gp_buf_printf(out, ", last pass %s", at);
}

/* Label values: backslash, double quote and newline escaped (text exposition format). Runs
 * of plain characters are appended whole: with thousands of entries this is the hot path. */
static void
label(struct gp_buf *out, const char *v)
{
	while (*v) {
		size_t n = strcspn(v, "\\\"\n");

		gp_buf_append(out, v, n);
		v += n;
		if (!*v)
			break;
		gp_buf_append(out, *v == '\n' ? "\\n" : *v == '"' ? "\\\"" : "\\\\", 2);
		v++;
	}
}

static void
help(struct gp_buf *out, const char *name, const char *type, const char *text)
{
	gp_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* Whole numbers (counts, timestamps) without the cost and the exponent of %g. */
static void
number(struct gp_buf *out, double value)
{
	char buf[32];

	if (value > -9e15 && value < 9e15 && value == (double)(long long)value)
		snprintf(buf, sizeof(buf), "%lld", (long long)value);
	else
		snprintf(buf, sizeof(buf), "%.17g", value);
	gp_buf_puts(out, buf);
}

static void
sample(struct gp_buf *out, const char *name, const char *env, const char *k, const char *v,
       double value)
{
	gp_buf_puts(out, name);
	gp_buf_puts(out, "{env=\"");
	label(out, env);
	if (k) {
		gp_buf_puts(out, "\",");
		gp_buf_puts(out, k);
		gp_buf_puts(out, "=\"");
		label(out, v);
	}
	gp_buf_puts(out, "\"} ");
	number(out, value);
	gp_buf_putc(out, '\n');
}

#define FOR_ENVS(body)                                                                             \
	for (size_t i = 0; i < n; i++) {                                                           \
		const struct gpd_env_metrics *m = ms[i];                                           \
		const char *e = names[i];                                                          \
		body;                                                                              \
	}

static int64_t
due_at(const struct gpd_secret_age *a)
{
	return a->changed + (int64_t)(a->rotation_ms / 1000);
}

/* Passwords past their period that no rotation is under way for (one that ran in the pass
 * has a new age already). soon: not overdue, but due within warn_before. */
static size_t
overdue(const struct gpd_env_metrics *m, int64_t now, bool soon)
{
	size_t k = 0;

	for (size_t i = 0; i < m->n_secrets; i++) {
		const struct gpd_secret_age *a = &m->secrets[i];

		if (a->rotating)
			continue;
		if (!soon)
			k += due_at(a) <= now;
		else
			k += due_at(a) > now && due_at(a) - (int64_t)(a->warn_before_ms / 1000) <= now;
	}
	return k;
}

/* The codes of errors that have none of their own (apply.c): a series at 0 from the start,
 * so that a rate or increase() over the family sees the first error of that kind. */
static const char *const action_error_codes[] = {"internal", "pg_connection", "aws_transport"};

static void
action_errors(struct gp_buf *out, const char *e, const struct gpd_env_metrics *m)
{
	for (size_t c = 0; c < ELEMENTSOF(action_error_codes); c++) {
		uint64_t v = 0;

		for (size_t k = 0; k < m->n_errors; k++)
			if (strcmp(m->errors[k].kind, action_error_codes[c]) == 0)
				v = m->errors[k].n;
		sample(out, "gprdsd_action_errors_total", e, "code", action_error_codes[c],
		       (double)v);
	}
	for (size_t k = 0; k < m->n_errors; k++) {
		bool seeded = false;

		for (size_t c = 0; c < ELEMENTSOF(action_error_codes); c++)
			seeded |= strcmp(m->errors[k].kind, action_error_codes[c]) == 0;
		if (!seeded)
			sample(out, "gprdsd_action_errors_total", e, "code", m->errors[k].kind,
			       (double)m->errors[k].n);
	}
}

int
gpd_metrics_render(const char *const *names, const struct gpd_env_metrics *const *ms, size_t n,
		   int64_t now, struct gp_buf *out)
{
	help(out, "gprdsd_entries", "gauge", "Entries by lifecycle state after the last pass.");
	FOR_ENVS(for (int s = 0; s < _GP_STATE_MAX; s++) sample(
		out, "gprdsd_entries", e, "state", gp_state_to_string(s), (double)m->by_state[s]));
	help(out, "gprdsd_entries_held", "gauge", "Entries held back, by kind.");
	FOR_ENVS(sample(out, "gprdsd_entries_held", e, "kind", "invalid", (double)m->n_invalid);
		 sample(out, "gprdsd_entries_held", e, "kind", "gate", (double)m->n_gated));
	help(out, "gprdsd_entries_awaiting_approval", "gauge",
	     "Entries held until metadata.approved_by names every group of their request "
	     "contract's approval route, by route.");
	FOR_ENVS(for (size_t k = 0; k < m->n_awaiting; k++) sample(
		out, "gprdsd_entries_awaiting_approval", e, "route", m->awaiting[k].kind,
		(double)m->awaiting[k].n));
	help(out, "gprdsd_approvals_missing", "gauge",
	     "Entries whose approval route still needs this group's approval, by group.");
	FOR_ENVS(for (size_t k = 0; k < m->n_missing; k++) sample(
		out, "gprdsd_approvals_missing", e, "group", m->missing[k].kind,
		(double)m->missing[k].n));
	help(out, "gprdsd_orphans", "gauge",
	     "Managed roles, databases and secrets with no entry (never removed unasked).");
	FOR_ENVS(sample(out, "gprdsd_orphans", e, NULL, NULL, (double)m->n_orphans));
	help(out, "gprdsd_mass_change_refused", "gauge",
	     "1 when the last pass was refused by the mass-change guard (nothing changed).");
	FOR_ENVS(sample(out, "gprdsd_mass_change_refused", e, NULL, NULL, m->refused ? 1 : 0));
	help(out, "gprdsd_leader", "gauge", "1 when this gprdsd holds the environment's lock.");
	FOR_ENVS(sample(out, "gprdsd_leader", e, NULL, NULL, m->leader ? 1 : 0));
	help(out, "gprdsd_pass_duration_seconds", "gauge", "Duration of the last pass.");
	FOR_ENVS(sample(out, "gprdsd_pass_duration_seconds", e, NULL, NULL,
			(double)m->last_duration_ms / 1000.0));
	help(out, "gprdsd_last_success_timestamp_seconds", "gauge",
	     "Time of the last pass that reconciled the environment.");
	FOR_ENVS(sample(out, "gprdsd_last_success_timestamp_seconds", e, NULL, NULL,
			(double)m->last_success));
	help(out, "gprdsd_passes_total", "counter", "Passes run, by result.");
	FOR_ENVS(sample(out, "gprdsd_passes_total", e, "result", "ok",
			(double)(m->passes_total - m->pass_errors_total));
		 sample(out, "gprdsd_passes_total", e, "result", "error",
			(double)m->pass_errors_total));
	help(out, "gprdsd_actions_total", "counter", "Actions applied.");
	FOR_ENVS(sample(out, "gprdsd_actions_total", e, NULL, NULL, (double)m->actions_total));
	help(out, "gprdsd_action_errors_total", "counter", "Actions that failed, by error code.");
	FOR_ENVS(action_errors(out, e, m));
	help(out, "gprdsd_failed_actions_total", "counter",
	     "Actions that failed, whatever the code (a series from the start, for alerts).");
	FOR_ENVS(sample(out, "gprdsd_failed_actions_total", e, NULL, NULL,
			(double)m->action_errors_total));
	help(out, "gprdsd_secretsmanager_calls_total", "counter", "Secrets Manager API calls.");
	FOR_ENVS(sample(out, "gprdsd_secretsmanager_calls_total", e, NULL, NULL,
			(double)m->sm_calls_total));
	help(out, "gprdsd_secretsmanager_throttles_total", "counter",
	     "Secrets Manager calls answered with throttling.");
	FOR_ENVS(sample(out, "gprdsd_secretsmanager_throttles_total", e, NULL, NULL,
			(double)m->sm_throttles_total));
	help(out, "gprdsd_postgres_statements_total", "counter", "SQL statements sent.");
	FOR_ENVS(sample(out, "gprdsd_postgres_statements_total", e, NULL, NULL,
			(double)m->pg_statements_total));
	help(out, "gprdsd_secret_last_changed_timestamp_seconds", "gauge",
	     "When each entry's secret last changed (its age is time() minus this).");
	FOR_ENVS(for (size_t k = 0; k < m->n_secrets; k++)
			 sample(out, "gprdsd_secret_last_changed_timestamp_seconds", e, "key",
				m->secrets[k].key, (double)m->secrets[k].changed));
	help(out, "gprdsd_secret_rotation_due_timestamp_seconds", "gauge",
	     "When each entry's secret is due for rotation by its risk's period.");
	FOR_ENVS(for (size_t k = 0; k < m->n_secrets; k++) sample(
		out, "gprdsd_secret_rotation_due_timestamp_seconds", e, "key", m->secrets[k].key,
		(double)due_at(&m->secrets[k])));
	help(out, "gprdsd_secret_rotations_overdue", "gauge",
	     "Passwords older than their risk's rotation period, no rotation under way.");
	FOR_ENVS(sample(out, "gprdsd_secret_rotations_overdue", e, NULL, NULL,
			(double)overdue(m, now, false)));
	help(out, "gprdsd_secret_rotations_soon_due", "gauge",
	     "Passwords due for rotation within rotation.warn_before.");
	FOR_ENVS(sample(out, "gprdsd_secret_rotations_soon_due", e, NULL, NULL,
			(double)overdue(m, now, true)));
	help(out, "gprdsd_secret_rotations_total", "counter", "Password rotations, by result.");
	FOR_ENVS(sample(out, "gprdsd_secret_rotations_total", e, "result", "ok",
			(double)m->rotations_total);
		 sample(out, "gprdsd_secret_rotations_total", e, "result", "error",
			(double)m->rotation_errors_total));
	help(out, "gprdsd_last_pass_timestamp_seconds", "gauge",
	     "Time of the last pass, successful or not (standby passes included).");
	FOR_ENVS(sample(out, "gprdsd_last_pass_timestamp_seconds", e, NULL, NULL,
			(double)m->last_pass));
	return out->oom ? -ENOMEM : 0;
}

void
gpd_json_time(cJSON *o, const char *key, int64_t t)
{
	char buf[21];

	if (!t) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	gp_time_format(t, buf);
	cJSON_AddStringToObject(o, key, buf);
}

static const char *
role_of(const struct gpd_env_metrics *m, bool stopped)
{
	if (stopped)
		return "stopped";
	if (!m->leader_known)
		return "starting";
	return m->leader ? "leader" : "standby";
}

static cJSON *
runtime_env(const char *env, const struct gpd_env_metrics *m, bool stopped)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	cJSON_AddStringToObject(o, "env", env);
	cJSON_AddStringToObject(o, "role", role_of(m, stopped));
	gpd_json_time(o, "last_pass", m->last_pass);
	gpd_json_time(o, "last_success", m->last_success);
	if (m->last_error[0])
		cJSON_AddStringToObject(o, "last_error", m->last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	cJSON_AddNumberToObject(o, "active", (double)m->by_state[GP_STATE_ACTIVE]);
	cJSON_AddNumberToObject(o, "pending", (double)m->by_state[GP_STATE_PENDING]);
	cJSON_AddNumberToObject(o, "failed", (double)m->by_state[GP_STATE_FAILED]);
	return o;
}

int
gpd_runtime_write(const char *state_dir, const char *const *names,
		  const struct gpd_env_metrics *const *ms, size_t n, bool stopped)
{
	_cleanup_free_ char *path = gpd_path_join(state_dir, GPD_RUNTIME_FILE);
	cJSON *root = cJSON_CreateObject(), *envs;
	char *text;
	int r;

	if (!root || !path) {
		cJSON_Delete(root);
		return -ENOMEM;
	}
	cJSON_AddNumberToObject(root, "pid", getpid());
	cJSON_AddStringToObject(root, "state", stopped ? "stopped" : "running");
	gpd_json_time(root, "updated", (int64_t)time(NULL));
	envs = cJSON_AddArrayToObject(root, "environments");
	FOR_ENVS(cJSON_AddItemToArray(envs, runtime_env(e, m, stopped)));
	text = cJSON_Print(root);
	cJSON_Delete(root);
	if (!text)
		return -ENOMEM;
	r = gpd_mkdir_p(state_dir, 0750);
	if (r >= 0)
		r = gpd_write_file_atomic(path, text, strlen(text), 0640);
	free(text);
	return r;
}
