/*
 * config.h — gprdsd.yaml (DESIGN §7), parsed from one table that lists every key with its
 * type, default and documentation line.
 *
 * Invariants after a successful gp_config_parse():
 *  - every path is absolute: relative paths are resolved against the directory of the config
 *    file (repository.path) or against repository.path (catalog, enums);
 *  - every environment name is one of the built-in environments (dev, test, staging, prod,
 *    ephemeral) and appears once; envs are in file order;
 *  - defaults are filled in: allow_provision is true for dev only unless set;
 *    master_secret defaults to "goldenpath/<env>/rds/master".
 * Unknown keys, wrong types and bad values are errors with file:line:col (libyaml marks).
 */
#ifndef GP_CONFIG_H
#define GP_CONFIG_H

#include "model/types.h"

#define GP_DEFAULT_CATALOG "docs/20-contracts/resource-catalogs/rds-catalog.yaml"
#define GP_DEFAULT_ENUMS "schemas/metadata/enums.yaml"

struct gp_env_config {
	char *name;
	enum gp_mode mode;
	char *master_secret;
	struct {
		char *host; /* NULL/"" : from the master secret */
		int port;   /* 0: from the master secret */
		char *sslmode; /* default verify-full */
		char *sslrootcert; /* NULL: libpq default */
		uint64_t connect_timeout_ms;   /* default 10s */
		uint64_t statement_timeout_ms; /* default 30s */
	} postgres;
	bool allow_provision;
	bool allow_delete;
	char *orphans;        /* report | disable */
	char *dump_dir;       /* decommission.dump_dir: NULL, no dump before a drop */
	struct {
		unsigned max_credential_changes; /* default 5 */
		unsigned max_decommissions;      /* default 3 */
	} guard;
	struct {
		enum gp_risk risk; /* default medium */
		bool createdb;     /* default true */
	} defaults;
	uint64_t rotation_ms[_GP_RISK_MAX]; /* 30d,30d,30d,14d,14d; at least 1h */
	struct {
		enum gp_strategy strategy; /* default single */
		uint64_t warn_before_ms;   /* default 5d: "soon due" in status and metrics */
		unsigned max_per_pass;     /* default 10 */
		char *window;              /* "HH:MM-HH:MM" UTC, or NULL: any time */
	} rotation;
	struct {
		char *name;                  /* template, default goldenpath/{env}/{key}/postgres */
		struct gp_strv password_aliases; /* default [postgres-password] */
		uint64_t recovery_window_ms; /* default 7d */
		char *kms_key_id;            /* NULL: AWS default key */
		char *host;                  /* NULL: the master secret's host */
		int port;                    /* 0: the master secret's port */
	} secret;
};

struct gp_config {
	char *file; /* absolute path of the config file, or the name given */
	char *dir;  /* its directory */
	struct {
		char *path;    /* checkout */
		char *catalog; /* absolute */
		char *enums;   /* absolute */
		struct {
			bool enabled;
			char *remote, *branch;
			uint64_t timeout_ms;
		} sync;
	} repository;
	struct {
		uint64_t interval_ms;        /* default 60s */
		unsigned jitter_pct;         /* default 10 */
		uint64_t verify_interval_ms; /* default 12h: how often credentials are re-checked by login */
		uint64_t retry_base_ms;      /* default 30s */
		uint64_t retry_max_ms;       /* default 1h */
		uint64_t stall_timeout_ms;   /* default 10m: a pass without progress this long hangs */
	} reconcile;
	char *state_dir;
	char *audit_dir;
	char *metrics_file; /* NULL: none */
	char *log_level;    /* debug | info | notice | warning | error */
	char *log_target;   /* auto | journal | console */
	struct {
		char *region;
		char *endpoint; /* NULL: https://secretsmanager.<region>.amazonaws.com */
		char *profile;  /* NULL: AWS_PROFILE or "default" */
		uint64_t timeout_ms;   /* per call, default 10s */
		uint64_t write_interval_ms; /* pacing between write calls, default 25ms */
	} aws;
	struct gp_env_config *envs;
	size_t n_envs;
};

/*
 * Parses the YAML config in buf. name is the path used for diagnostics and for resolving
 * relative paths (its directory). Returns 0 and *ret, or -EINVAL with errors in diags.
 */
int gp_config_parse(const char *buf, size_t len, const char *name, struct gp_config **ret,
		    struct gp_diags *diags);
void gp_config_free(struct gp_config *c);
DEFINE_FREEP(struct gp_config, gp_config_free)
const struct gp_env_config *gp_config_env(const struct gp_config *c, const char *name);

/* Expands "{env}" and "{key}" in a secret name template. Returns a new string or NULL. */
char *gp_config_secret_name(const struct gp_env_config *e, const char *key);

/* Writes the reference documentation of every key (from the table) as Markdown. */
int gp_config_reference(struct gp_buf *out);

#endif
