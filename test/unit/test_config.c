/*
 * test_config.c — gprdsd.yaml: the DESIGN §7 example, every default, every kind of error with
 * its exact position, path resolution, secret name templates, the reference table, and the
 * example shipped in config/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "golden.h"

#include <stdio.h>

#include "inputs/config.h"

#ifndef GOLDEN_DIR
#error "GOLDEN_DIR must be defined by the build"
#endif

#define SEC 1000ull
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

struct run {
	struct gp_config *c;
	struct gp_diags diags;
	struct gp_buf errs; /* formatted diagnostics, one per line */
	int r;
};

static void
run_named(struct run *x, const char *yaml, const char *name)
{
	*x = (struct run){0};
	x->r = gp_config_parse(yaml, strlen(yaml), name, &x->c, &x->diags);
	for (size_t i = 0; i < x->diags.n; i++) {
		gp_diag_format(&x->diags.v[i], &x->errs);
		gp_buf_putc(&x->errs, '\n');
	}
	gp_buf_puts(&x->errs, "");
	if (!x->errs.p)
		gp_buf_reserve(&x->errs, 0);
}

static void
run(struct run *x, const char *yaml)
{
	run_named(x, yaml, "/etc/gprdsd/gprdsd.yaml");
}

static void
run_done(struct run *x)
{
	gp_config_free(x->c);
	gp_diags_release(&x->diags);
	gp_buf_release(&x->errs);
}

/* Parses yaml and checks that it fails with exactly the errors in want (one per line). */
static void
expect_errors(const char *yaml, const char *want)
{
	struct run x;

	run_named(&x, yaml, "c.yaml");
	if (x.r != -EINVAL)
		fail_msg("expected failure for:\n%s", yaml);
	assert_null(x.c);
	assert_string_equal(x.errs.p, want);
	run_done(&x);
}

/* The minimal valid config, for tests that add one key. */
#define MINIMAL "repository: { path: /srv/repo }\nenvironments: { dev: {} }\n"

static const char design_example[] =
	"repository:\n"
	"  path: /srv/platform-repo            # the git checkout\n"
	"  catalog: docs/20-contracts/resource-catalogs/rds-catalog.yaml   # default\n"
	"  enums: schemas/metadata/enums.yaml                              # default\n"
	"  sync: { enabled: false, remote: origin, branch: main, timeout: 60s }\n"
	"reconcile: { interval: 60s, jitter: 10% }\n"
	"state_dir: /var/lib/gprdsd\n"
	"audit_dir: /var/lib/gprdsd/audit\n"
	"metrics_file: \"\"                      # empty: no metrics file\n"
	"log_level: info\n"
	"aws: { region: eu-west-2, endpoint: \"\", profile: \"\" }\n"
	"environments:\n"
	"  dev:\n"
	"    mode: auto                        # auto | standalone | coupled\n"
	"    master_secret: goldenpath/dev/rds/master\n"
	"    postgres: { host: \"\", port: 0, sslmode: verify-full, sslrootcert: \"\",\n"
	"                connect_timeout: 10s, statement_timeout: 30s }\n"
	"    allow_provision: true\n"
	"    allow_delete: false\n"
	"    defaults: { risk: medium, createdb: true }\n"
	"    rotation: { none: 30d, low: 30d, medium: 30d, high: 14d, access: 14d }\n"
	"    secret: { name: \"goldenpath/{env}/{key}/postgres\", password_aliases: "
	"[postgres-password],\n"
	"              recovery_window: 7d, kms_key_id: \"\" }\n";

/* Every value that DESIGN §7 shows, which are also the defaults. */
static void
assert_design_values(const struct gp_config *c)
{
	const struct gp_env_config *e = &c->envs[0];

	assert_string_equal(c->repository.path, "/srv/platform-repo");
	assert_string_equal(c->repository.catalog, "/srv/platform-repo/docs/20-contracts/"
						   "resource-catalogs/rds-catalog.yaml");
	assert_string_equal(c->repository.enums, "/srv/platform-repo/schemas/metadata/enums.yaml");
	assert_false(c->repository.sync.enabled);
	assert_string_equal(c->repository.sync.remote, "origin");
	assert_string_equal(c->repository.sync.branch, "main");
	assert_int_equal(c->repository.sync.timeout_ms, 60 * SEC);
	assert_int_equal(c->reconcile.interval_ms, 60 * SEC);
	assert_int_equal(c->reconcile.jitter_pct, 10);
	assert_int_equal(c->reconcile.verify_interval_ms, 12 * HOUR);
	assert_int_equal(c->reconcile.retry_base_ms, 30 * SEC);
	assert_int_equal(c->reconcile.retry_max_ms, HOUR);
	assert_string_equal(c->state_dir, "/var/lib/gprdsd");
	assert_string_equal(c->audit_dir, "/var/lib/gprdsd/audit");
	assert_null(c->metrics_file);
	assert_string_equal(c->log_level, "info");
	assert_string_equal(c->log_target, "auto");
	assert_string_equal(c->aws.region, "eu-west-2");
	assert_null(c->aws.endpoint);
	assert_null(c->aws.profile);
	assert_int_equal(c->aws.timeout_ms, 10 * SEC);
	assert_int_equal(c->aws.write_interval_ms, 25);
	assert_int_equal(c->n_envs, 1);
	assert_string_equal(e->name, "dev");
	assert_int_equal(e->mode, GP_MODE_AUTO);
	assert_string_equal(e->master_secret, "goldenpath/dev/rds/master");
	assert_null(e->postgres.host);
	assert_int_equal(e->postgres.port, 0);
	assert_string_equal(e->postgres.sslmode, "verify-full");
	assert_null(e->postgres.sslrootcert);
	assert_int_equal(e->postgres.connect_timeout_ms, 10 * SEC);
	assert_int_equal(e->postgres.statement_timeout_ms, 30 * SEC);
	assert_true(e->allow_provision);
	assert_false(e->allow_delete);
	assert_int_equal(e->defaults.risk, GP_RISK_MEDIUM);
	assert_true(e->defaults.createdb);
	assert_int_equal(e->rotation_ms[GP_RISK_NONE], 30 * DAY);
	assert_int_equal(e->rotation_ms[GP_RISK_LOW], 30 * DAY);
	assert_int_equal(e->rotation_ms[GP_RISK_MEDIUM], 30 * DAY);
	assert_int_equal(e->rotation_ms[GP_RISK_HIGH], 14 * DAY);
	assert_int_equal(e->rotation_ms[GP_RISK_ACCESS], 14 * DAY);
	assert_string_equal(e->secret.name, "goldenpath/{env}/{key}/postgres");
	assert_int_equal(e->secret.password_aliases.n, 1);
	assert_string_equal(e->secret.password_aliases.v[0], "postgres-password");
	assert_int_equal(e->secret.recovery_window_ms, 7 * DAY);
	assert_null(e->secret.kms_key_id);
	assert_null(e->secret.host);
	assert_int_equal(e->secret.port, 0);
}

static void
test_design_example(void **state)
{
	struct run x;

	run(&x, design_example);
	assert_int_equal(x.r, 0);
	assert_string_equal(x.errs.p, "");
	assert_string_equal(x.c->file, "/etc/gprdsd/gprdsd.yaml");
	assert_string_equal(x.c->dir, "/etc/gprdsd");
	assert_design_values(x.c);
	run_done(&x);
}

static void
test_defaults(void **state)
{
	struct run x;

	run(&x, "repository:\n  path: /srv/platform-repo\nenvironments:\n  dev:\n");
	assert_int_equal(x.r, 0);
	assert_design_values(x.c);
	run_done(&x);
}

static void
test_env_defaults(void **state)
{
	struct run x;
	const struct gp_env_config *e;

	run(&x, "repository: { path: r }\n"
		"environments:\n"
		"  test: {}\n"
		"  prod: { allow_provision: yes, master_secret: \"shared/{env}/master\" }\n"
		"  staging:\n"
		"  ephemeral: { mode: standalone }\n"
		"  dev: { allow_provision: false, mode: coupled }\n");
	assert_int_equal(x.r, 0);
	assert_int_equal(x.c->n_envs, 5);
	/* File order. */
	assert_string_equal(x.c->envs[0].name, "test");
	assert_string_equal(x.c->envs[4].name, "dev");
	e = gp_config_env(x.c, "test");
	assert_ptr_equal(e, &x.c->envs[0]);
	assert_false(e->allow_provision);
	assert_string_equal(e->master_secret, "goldenpath/test/rds/master");
	e = gp_config_env(x.c, "prod");
	assert_true(e->allow_provision);
	assert_string_equal(e->master_secret, "shared/prod/master");
	assert_false(gp_config_env(x.c, "staging")->allow_provision);
	assert_string_equal(gp_config_env(x.c, "staging")->master_secret,
			    "goldenpath/staging/rds/master");
	assert_int_equal(gp_config_env(x.c, "ephemeral")->mode, GP_MODE_STANDALONE);
	e = gp_config_env(x.c, "dev");
	assert_false(e->allow_provision);
	assert_int_equal(e->mode, GP_MODE_COUPLED);
	assert_null(gp_config_env(x.c, "qa"));
	assert_null(gp_config_env(x.c, NULL));
	assert_null(gp_config_env(NULL, "dev"));
	run_done(&x);
}

static void
test_every_key_set(void **state)
{
	struct run x;
	const struct gp_env_config *e;

	run(&x, "repository:\n"
		"  path: repo\n"
		"  catalog: /abs/catalog.yaml\n"
		"  enums: ./meta/enums.yaml\n"
		"  sync: { enabled: true, remote: upstream, branch: release, timeout: 2m }\n"
		"reconcile:\n"
		"  interval: 5m\n"
		"  jitter: 25\n"
		"  verify_interval: 30m\n"
		"  retry_base: 10s\n"
		"  retry_max: 2h\n"
		"state_dir: state\n"
		"audit_dir: /var/log/gprdsd\n"
		"metrics_file: metrics/gprdsd.prom\n"
		"log_level: debug\n"
		"log_target: console\n"
		"aws: { region: us-east-1, endpoint: \"http://127.0.0.1:5000\", profile: ops,\n"
		"       timeout: 3s, write_interval: 0 }\n"
		"environments:\n"
		"  prod:\n"
		"    mode: standalone\n"
		"    master_secret: prod/master\n"
		"    postgres: { host: 127.0.0.1, port: 6543, sslmode: require,\n"
		"                sslrootcert: certs/rds.pem, connect_timeout: 5s,\n"
		"                statement_timeout: 1m }\n"
		"    allow_provision: on\n"
		"    allow_delete: True\n"
		"    defaults: { risk: access, createdb: no }\n"
		"    rotation: { none: 90d, low: 60d, medium: 45d, high: 7d, access: 1d }\n"
		"    secret:\n"
		"      name: \"apps/{key}/{env}\"\n"
		"      password_aliases: [DB_PASSWORD, pgpass]\n"
		"      recovery_window: 30d\n"
		"      kms_key_id: alias/gprdsd\n"
		"      host: proxy.internal\n"
		"      port: 5433\n");
	assert_int_equal(x.r, 0);
	assert_string_equal(x.errs.p, "");
	assert_string_equal(x.c->repository.path, "/etc/gprdsd/repo");
	assert_string_equal(x.c->repository.catalog, "/abs/catalog.yaml");
	assert_string_equal(x.c->repository.enums, "/etc/gprdsd/repo/meta/enums.yaml");
	assert_true(x.c->repository.sync.enabled);
	assert_string_equal(x.c->repository.sync.remote, "upstream");
	assert_string_equal(x.c->repository.sync.branch, "release");
	assert_int_equal(x.c->repository.sync.timeout_ms, 2 * MIN);
	assert_int_equal(x.c->reconcile.interval_ms, 5 * MIN);
	assert_int_equal(x.c->reconcile.jitter_pct, 25);
	assert_int_equal(x.c->reconcile.verify_interval_ms, 30 * MIN);
	assert_int_equal(x.c->reconcile.retry_base_ms, 10 * SEC);
	assert_int_equal(x.c->reconcile.retry_max_ms, 2 * HOUR);
	assert_string_equal(x.c->state_dir, "/etc/gprdsd/state");
	assert_string_equal(x.c->audit_dir, "/var/log/gprdsd");
	assert_string_equal(x.c->metrics_file, "/etc/gprdsd/metrics/gprdsd.prom");
	assert_string_equal(x.c->log_level, "debug");
	assert_string_equal(x.c->log_target, "console");
	assert_string_equal(x.c->aws.region, "us-east-1");
	assert_string_equal(x.c->aws.endpoint, "http://127.0.0.1:5000");
	assert_string_equal(x.c->aws.profile, "ops");
	assert_int_equal(x.c->aws.timeout_ms, 3 * SEC);
	assert_int_equal(x.c->aws.write_interval_ms, 0);
	e = &x.c->envs[0];
	assert_int_equal(e->mode, GP_MODE_STANDALONE);
	assert_string_equal(e->master_secret, "prod/master");
	assert_string_equal(e->postgres.host, "127.0.0.1");
	assert_int_equal(e->postgres.port, 6543);
	assert_string_equal(e->postgres.sslmode, "require");
	assert_string_equal(e->postgres.sslrootcert, "/etc/gprdsd/certs/rds.pem");
	assert_int_equal(e->postgres.connect_timeout_ms, 5 * SEC);
	assert_int_equal(e->postgres.statement_timeout_ms, MIN);
	assert_true(e->allow_provision);
	assert_true(e->allow_delete);
	assert_int_equal(e->defaults.risk, GP_RISK_ACCESS);
	assert_false(e->defaults.createdb);
	assert_int_equal(e->rotation_ms[GP_RISK_NONE], 90 * DAY);
	assert_int_equal(e->rotation_ms[GP_RISK_LOW], 60 * DAY);
	assert_int_equal(e->rotation_ms[GP_RISK_MEDIUM], 45 * DAY);
	assert_int_equal(e->rotation_ms[GP_RISK_HIGH], 7 * DAY);
	assert_int_equal(e->rotation_ms[GP_RISK_ACCESS], DAY);
	assert_string_equal(e->secret.name, "apps/{key}/{env}");
	assert_int_equal(e->secret.password_aliases.n, 2);
	assert_string_equal(e->secret.password_aliases.v[0], "DB_PASSWORD");
	assert_string_equal(e->secret.password_aliases.v[1], "pgpass");
	assert_int_equal(e->secret.recovery_window_ms, 30 * DAY);
	assert_string_equal(e->secret.kms_key_id, "alias/gprdsd");
	assert_string_equal(e->secret.host, "proxy.internal");
	assert_int_equal(e->secret.port, 5433);
	run_done(&x);
}

static void
test_enum_names_match_model(void **state)
{
	static const char *const modes[] = {"auto", "standalone", "coupled"};
	static const char *const risks[] = {"none", "low", "medium", "high", "access"};

	for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
		char y[256];
		struct run x;

		snprintf(y, sizeof(y), "repository: {path: r}\nenvironments: {dev: {mode: %s}}\n",
			 modes[i]);
		run(&x, y);
		assert_int_equal(x.r, 0);
		assert_int_equal(x.c->envs[0].mode, gp_mode_from_string(modes[i]));
		run_done(&x);
	}
	for (size_t i = 0; i < ELEMENTSOF(risks); i++) {
		char y[256];
		struct run x;

		snprintf(y, sizeof(y),
			 "repository: {path: r}\nenvironments: {dev: {defaults: {risk: %s}}}\n",
			 risks[i]);
		run(&x, y);
		assert_int_equal(x.r, 0);
		assert_int_equal(x.c->envs[0].defaults.risk, gp_risk_from_string(risks[i]));
		run_done(&x);
	}
}

static void
test_unknown_keys(void **state)
{
	expect_errors("repository: { path: /r }\n"
		      "reconcile:\n"
		      "  intervall: 30s\n"
		      "  bogus: 1\n"
		      "logging: x\n"
		      "environments:\n"
		      "  dev:\n"
		      "    postgres: { hots: db }\n"
		      "    secrets: {}\n"
		      "  enviroments: {}\n",
		      "c.yaml:3:3: error: unknown key \"intervall\" in reconcile (did you mean "
		      "\"interval\"?)\n"
		      "c.yaml:4:3: error: unknown key \"bogus\" in reconcile\n"
		      "c.yaml:5:1: error: unknown key \"logging\" at the top level\n"
		      "c.yaml:8:17: error: unknown key \"hots\" in environments.dev.postgres (did "
		      "you mean \"host\"?)\n"
		      "c.yaml:9:5: error: unknown key \"secrets\" in environments.dev (did you "
		      "mean \"secret\"?)\n"
		      "c.yaml:10:3: error: unknown environment \"enviroments\" (expected dev, "
		      "test, staging, prod or ephemeral)\n");
	expect_errors("repository: { path: /r, sync: { enable: true } }\n"
		      "environment: {}\n"
		      "environments: { dev: {} }\n",
		      "c.yaml:1:33: error: unknown key \"enable\" in repository.sync (did you mean "
		      "\"enabled\"?)\n"
		      "c.yaml:2:1: error: unknown key \"environment\" at the top level (did you "
		      "mean \"environments\"?)\n");
}

static void
test_bad_values(void **state)
{
	expect_errors("repository: { path: /r }\n"
		      "reconcile: { interval: 5 minutes, jitter: 150%, retry_base: 0 }\n"
		      "log_level: verbose\n"
		      "environments:\n"
		      "  dev:\n"
		      "    mode: hybrid\n"
		      "    postgres: { port: 70000, sslmode: on, connect_timeout: 10 }\n"
		      "    allow_delete: maybe\n"
		      "    defaults: { risk: extreme }\n"
		      "    secret: { port: -1, recovery_window: 3d }\n",
		      "c.yaml:2:24: error: reconcile.interval: expected a duration such as 30s, "
		      "5m, 1h or 14d, not \"5 minutes\"\n"
		      "c.yaml:2:43: error: reconcile.jitter: expected a percentage 0..100 such as "
		      "10%, not \"150%\"\n"
		      "c.yaml:2:61: error: reconcile.retry_base: must be at least 1s, not 0\n"
		      "c.yaml:3:12: error: log_level: \"verbose\" is not one of debug, info, "
		      "notice, warning, error\n"
		      "c.yaml:6:11: error: environments.dev.mode: \"hybrid\" is not one of auto, "
		      "standalone, coupled\n"
		      "c.yaml:7:23: error: environments.dev.postgres.port: expected a port "
		      "1..65535 (or 0: unset), not \"70000\"\n"
		      "c.yaml:7:39: error: environments.dev.postgres.sslmode: \"on\" is not one of "
		      "disable, allow, prefer, require, verify-ca, verify-full\n"
		      "c.yaml:7:60: error: environments.dev.postgres.connect_timeout: expected a "
		      "duration such as 30s, 5m, 1h or 14d, not \"10\"\n"
		      "c.yaml:8:19: error: environments.dev.allow_delete: expected true or false, "
		      "not \"maybe\"\n"
		      "c.yaml:9:23: error: environments.dev.defaults.risk: \"extreme\" is not one "
		      "of none, low, medium, high, access\n"
		      "c.yaml:10:21: error: environments.dev.secret.port: expected a port 1..65535 "
		      "(or 0: unset), not \"-1\"\n"
		      "c.yaml:10:42: error: environments.dev.secret.recovery_window: must be "
		      "between 7d and 30d, not 3d\n");
}

static void
test_wrong_shapes(void **state)
{
	expect_errors("repository: /srv/repo\n"
		      "reconcile: { interval: [60s] }\n"
		      "aws:\n"
		      "  region: { name: x }\n"
		      "environments:\n"
		      "  dev:\n"
		      "    secret: { password_aliases: postgres-password }\n"
		      "  test: [a]\n",
		      "c.yaml:1:13: error: repository must be a mapping, not a scalar\n"
		      "c.yaml:2:24: error: reconcile.interval: expected a duration, not a list\n"
		      "c.yaml:4:11: error: aws.region: expected a string, not a mapping\n"
		      "c.yaml:7:33: error: environments.dev.secret.password_aliases: expected a "
		      "list of strings, not a scalar\n"
		      "c.yaml:8:9: error: environments.test must be a mapping, not a list\n"
		      "c.yaml:1:1: error: repository.path is required: the git checkout to read\n");
	expect_errors("- a\n",
		      "c.yaml:1:1: error: expected a mapping of settings at the top level\n");
	expect_errors("", "c.yaml: error: the configuration file is empty\n");
	expect_errors("environments: [dev]\nrepository: { path: r }\n",
		      "c.yaml:1:15: error: environments must be a mapping of environment names, "
		      "not a list\n");
}

static void
test_required(void **state)
{
	expect_errors("repository: { catalog: c.yaml }\nenvironments: { dev: }\n",
		      "c.yaml:1:1: error: repository.path is required: the git checkout to read\n");
	expect_errors("repository: { path: \"\" }\nenvironments: { dev: }\n",
		      "c.yaml:1:21: error: repository.path: must not be empty\n"
		      "c.yaml:1:1: error: repository.path is required: the git checkout to read\n");
	expect_errors("repository: { path: r }\n",
		      "c.yaml:1:1: error: at least one environment is required under "
		      "\"environments\"\n");
	expect_errors("repository: { path: r }\nenvironments:\n",
		      "c.yaml:2:14: error: at least one environment is required under "
		      "\"environments\"\n");
	expect_errors("repository: { path: r }\nenvironments: {}\n",
		      "c.yaml:2:15: error: at least one environment is required under "
		      "\"environments\"\n");
	expect_errors(MINIMAL "aws: { region: \"EU West\" }\n",
		      "c.yaml:3:16: error: aws.region: expected an AWS region such as eu-west-2\n");
	expect_errors(MINIMAL "reconcile: { retry_base: 2h }\n",
		      "c.yaml:3:26: error: reconcile.retry_base must not be longer than "
		      "reconcile.retry_max\n");
	expect_errors(MINIMAL "repository: {path: x}\n",
		      "c.yaml:3:1: error: duplicate key \"repository\" (first defined at line "
		      "1)\n");
}

static void
test_secret_name(void **state)
{
	struct run x;
	char *s;

	expect_errors("repository: { path: r }\n"
		      "environments:\n"
		      "  dev: { secret: { name: \"goldenpath/{env}/postgres\" } }\n"
		      "  test: { secret: { name: \"apps/{app}/{key}\" } }\n",
		      "c.yaml:3:26: error: environments.dev.secret.name: the secret name must "
		      "contain {key}, or every entry would share one secret\n"
		      "c.yaml:4:27: error: environments.test.secret.name: only {env} and {key} may "
		      "be used in the secret name\n");

	run(&x, "repository: { path: r }\nenvironments:\n  prod: {}\n"
		"  dev: { secret: { name: \"{env}-{key}-{key}\" } }\n");
	assert_int_equal(x.r, 0);
	s = gp_config_secret_name(gp_config_env(x.c, "prod"), "inventory");
	assert_string_equal(s, "goldenpath/prod/inventory/postgres");
	free(s);
	s = gp_config_secret_name(gp_config_env(x.c, "dev"), "a");
	assert_string_equal(s, "dev-a-a");
	free(s);
	assert_null(gp_config_secret_name(gp_config_env(x.c, "dev"), NULL));
	assert_null(gp_config_secret_name(NULL, "a"));
	run_done(&x);
}

/* Secrets Manager's rules on the names a template gives (1..512 of [A-Za-z0-9/_+=.@-]), checked
 * with the longest app key (63) and the environment's name, at the value's position. */
static void
test_secret_name_limits(void **state)
{
	char fits[512 - 63 - 5 + 1], over[sizeof(fits) + 1];
	struct run x;
	char *yaml;

	(void)state;
	/* "{env}" is "prod" (4 bytes) here: fits + "prod" + "/" + key is exactly 512. */
	memset(fits, 'a', sizeof(fits) - 1);
	fits[sizeof(fits) - 1] = '\0';
	memset(over, 'a', sizeof(over) - 1);
	over[sizeof(over) - 1] = '\0';
	yaml = gp_strprintf("repository: { path: r }\nenvironments:\n"
			    "  prod: { secret: { name: \"%.*s{env}/{key}\" } }\n",
			    (int)sizeof(fits) - 4 - 1, fits);
	run(&x, yaml);
	assert_int_equal(x.r, 0);
	run_done(&x);
	free(yaml);
	yaml = gp_strprintf("repository: { path: r }\nenvironments:\n"
			    "  prod: { secret: { name: \"%s{env}/{key}\" } }\n",
			    over);
	expect_errors(yaml, "c.yaml:3:27: error: environments.prod.secret.name: expands, for an "
			    "app key of 63 characters (the longest allowed), to a secret name "
			    "longer than 512 characters (Secrets Manager's limit)\n");
	free(yaml);
	expect_errors("repository: { path: r }\nenvironments:\n"
		      "  dev: { secret: { name: \"apps/{key} x\" }, master_secret: \"m/{env}!\" }\n",
		      "c.yaml:3:26: error: environments.dev.secret.name: expands to a secret name "
		      "that has a character Secrets Manager refuses (only ASCII letters, digits "
		      "and /_+=.@- are allowed)\n"
		      "c.yaml:3:59: error: environments.dev.master_secret: has a character Secrets "
		      "Manager refuses (only ASCII letters, digits and /_+=.@- are allowed)\n");
}

static void
test_recovery_window(void **state)
{
	expect_errors("repository: { path: r }\n"
		      "environments:\n"
		      "  dev: { secret: { recovery_window: 180h } }\n"
		      "  test: { secret: { recovery_window: 31d } }\n",
		      "c.yaml:3:37: error: environments.dev.secret.recovery_window: expected a "
		      "whole number of days (e.g. 7d)\n"
		      "c.yaml:4:38: error: environments.test.secret.recovery_window: must be "
		      "between 7d and 30d, not 31d\n");
}

static void
test_paths(void **state)
{
	static const char y[] = "repository: { path: ../platform }\n"
				"state_dir: ./state\n"
				"environments: { dev: { postgres: { sslrootcert: ca.pem } } }\n";
	struct run x;

	/* Absolute config name: everything becomes absolute. */
	run_named(&x, y, "/etc/gprdsd/gprdsd.yaml");
	assert_int_equal(x.r, 0);
	assert_string_equal(x.c->repository.path, "/etc/gprdsd/../platform");
	assert_string_equal(x.c->repository.catalog, "/etc/gprdsd/../platform/docs/20-contracts/"
						     "resource-catalogs/rds-catalog.yaml");
	assert_string_equal(x.c->state_dir, "/etc/gprdsd/state");
	assert_string_equal(x.c->audit_dir, "/etc/gprdsd/state/audit");
	assert_string_equal(x.c->envs[0].postgres.sslrootcert, "/etc/gprdsd/ca.pem");
	run_done(&x);

	/* Relative name: paths are joined to its directory and stay relative to the same base. */
	run_named(&x, y, "config/gprdsd.yaml");
	assert_int_equal(x.r, 0);
	assert_string_equal(x.c->dir, "config");
	assert_string_equal(x.c->repository.path, "config/../platform");
	assert_string_equal(x.c->repository.enums,
			    "config/../platform/schemas/metadata/enums.yaml");
	assert_string_equal(x.c->state_dir, "config/state");
	run_done(&x);

	/* A bare name: the directory is ".", and relative paths are left as written. */
	run_named(&x, y, "gprdsd.yaml");
	assert_int_equal(x.r, 0);
	assert_string_equal(x.c->dir, ".");
	assert_string_equal(x.c->repository.path, "../platform");
	assert_string_equal(x.c->state_dir, "state");
	assert_string_equal(x.c->audit_dir, "state/audit");
	assert_string_equal(x.c->envs[0].postgres.sslrootcert, "ca.pem");
	run_done(&x);

	/* At the root, and "." as the checkout. */
	run_named(&x, "repository: { path: . }\nenvironments: { dev: }\n", "/gprdsd.yaml");
	assert_int_equal(x.r, 0);
	assert_string_equal(x.c->dir, "/");
	assert_string_equal(x.c->repository.path, "/");
	assert_string_equal(x.c->repository.enums, "/schemas/metadata/enums.yaml");
	run_done(&x);
}

static void
test_empty_means_unset(void **state)
{
	struct run x;

	run(&x, "repository: { path: /r }\n"
		"metrics_file: ~\n"
		"aws:\n"
		"reconcile: { jitter: 0% }\n"
		"environments:\n"
		"  dev:\n"
		"    postgres: { host: null, sslrootcert: \"\" }\n"
		"    secret: { kms_key_id: '', password_aliases: [] }\n");
	assert_int_equal(x.r, 0);
	assert_null(x.c->metrics_file);
	assert_string_equal(x.c->aws.region, "eu-west-2");
	assert_int_equal(x.c->reconcile.jitter_pct, 0);
	assert_null(x.c->envs[0].postgres.host);
	assert_null(x.c->envs[0].postgres.sslrootcert);
	assert_null(x.c->envs[0].secret.kms_key_id);
	assert_int_equal(x.c->envs[0].secret.password_aliases.n, 0);
	run_done(&x);
	/* Required strings may not be emptied. */
	expect_errors(MINIMAL "log_level: ~\nstate_dir: \"\"\n",
		      "c.yaml:3:12: error: log_level: must not be empty\n"
		      "c.yaml:4:12: error: state_dir: must not be empty\n");
}

static void
test_yaml_errors_pass_through(void **state)
{
	expect_errors("repository:\n\tpath: r\n",
		      "c.yaml:2:1: error: found character that cannot start any token (while "
		      "scanning for the next token at 2:1)\n");
}

static void
test_reference(void **state)
{
	struct gp_buf b = {0};
	size_t rows = 0;

	assert_int_equal(gp_config_reference(&b), 0);
	for (const char *p = b.p; (p = strchr(p, '\n')); p++)
		rows++;
	/* Header, separator, 23 top-level keys and 31 per-environment keys. */
	assert_int_equal(rows, 2 + 23 + 31);
	assert_non_null(strstr(b.p, "| `environments.<env>.rotation.max_per_pass` | count | `10` | "));
	assert_non_null(strstr(b.p, "| Key | Type | Default | Description |\n"));
	assert_non_null(strstr(b.p, "| `repository.path` | path | (required) | "));
	assert_non_null(strstr(b.p, "| `reconcile.jitter` | percent | `10%` | "));
	assert_non_null(strstr(b.p, "| `audit_dir` | path | `<state_dir>/audit` | "));
	assert_non_null(strstr(b.p, "| `log_level` | enum | `info` | Least severe message that is "
				    "logged. One of: debug, info, notice, warning, error. |\n"));
	assert_non_null(strstr(b.p, "| `environments.<env>.mode` | enum | `auto` | "));
	assert_non_null(strstr(b.p, "| `environments.<env>.secret.password_aliases` | list of "
				    "strings | `[postgres-password]` | "));
	assert_non_null(strstr(b.p, "| `environments.<env>.secret.recovery_window` | duration "
				    "| `7d` | Recovery window of deleted secrets. From 7d to 30d. "
				    "|\n"));
	assert_non_null(strstr(b.p, "| `environments.<env>.allow_provision` | bool | `true` for "
				    "dev, else `false` | "));
	assert_non_null(strstr(b.p, "| `metrics_file` | path | `\"\"` (none) | "));
	assert_non_null(strstr(b.p, "From 0 to 1m. |\n"));
	gp_buf_release(&b);
}

static void
test_shipped_example(void **state)
{
	const char *path = GOLDEN_DIR "/../../config/gprdsd.yaml";
	struct gp_diags diags = {0};
	struct gp_config *c = NULL;
	struct gp_buf errs = {0};
	const struct gp_env_config *dev, *test;
	size_t len;
	char *buf = test_read_file(path, &len);
	int r;

	assert_non_null(buf);
	r = gp_config_parse(buf, len, "config/gprdsd.yaml", &c, &diags);
	for (size_t i = 0; i < diags.n; i++)
		gp_diag_format(&diags.v[i], &errs);
	if (r < 0)
		fail_msg("config/gprdsd.yaml: %s", errs.p);
	assert_int_equal(diags.n, 0);
	assert_string_equal(c->repository.path, "config/example-repo");
	assert_string_equal(c->state_dir, "/var/lib/gprdsd");
	assert_int_equal(c->n_envs, 2);
	dev = gp_config_env(c, "dev");
	test = gp_config_env(c, "test");
	assert_non_null(dev);
	assert_non_null(test);
	assert_true(dev->allow_provision);
	assert_true(test->allow_provision);
	assert_int_equal(dev->mode, GP_MODE_AUTO);
	assert_string_equal(test->master_secret, "goldenpath/test/rds/master");
	gp_config_free(c);
	gp_diags_release(&diags);
	gp_buf_release(&errs);
	free(buf);
}

static void
test_free_null(void **state)
{
	gp_config_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_design_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_env_defaults),
		cmocka_unit_test(test_every_key_set),
		cmocka_unit_test(test_enum_names_match_model),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_wrong_shapes),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_secret_name),
		cmocka_unit_test(test_secret_name_limits),
		cmocka_unit_test(test_recovery_window),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_empty_means_unset),
		cmocka_unit_test(test_yaml_errors_pass_through),
		cmocka_unit_test(test_reference),
		cmocka_unit_test(test_shipped_example),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
