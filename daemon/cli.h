/*
 * cli.h — the one-shot commands (plan, --once, validate, status, rotate, retry,
 * --check-config) and the parsed command line they share with the daemon.
 */
#ifndef GPD_CLI_H
#define GPD_CLI_H

#include "inputs/config.h"
#include "base/util.h"

#define GPD_DEFAULT_CONFIG "/etc/gprdsd/gprdsd.yaml"

enum gpd_command {
	GPD_CMD_DAEMON,
	GPD_CMD_ONCE,
	GPD_CMD_PLAN,
	GPD_CMD_VALIDATE,
	GPD_CMD_STATUS,
	GPD_CMD_ROTATE,
	GPD_CMD_RETRY,
	GPD_CMD_CHECK_CONFIG,
	GPD_CMD_HELP,
	GPD_CMD_VERSION,
};

/* The JSON outputs' (plan --json, status --json, validate --json) format_version: raised when
 * a member changes meaning or goes away, never for a new member. */
#define GPD_JSON_FORMAT_VERSION 1

struct gpd_cli {
	enum gpd_command command;
	const char *config;
	const char *repo;
	const char *log_target;
	const char *log_level;
	int color; /* --color: enum gpd_log_color (0: auto) */
	struct gp_strv envs;
	struct gp_strv keys; /* rotate, retry: the entries */
	bool json;
	bool github;
	bool detailed_exitcode;
	bool confirm_mass_change;
	bool verify; /* --once, plan: every login and privilege checked now */
};

/*
 * The exit code of a usage or config error: 2, or 1 under --detailed-exitcode, whose 2 says
 * only "changes pending" (terraform's convention).
 */
int gpd_cli_usage_exit(const struct gpd_cli *cli);
/*
 * Reads and parses the config file; prints every diagnostic to stderr. Returns 0 and
 * *ret, or a negative errno (the caller exits gpd_cli_usage_exit()).
 */
int gpd_config_load(const char *path, struct gp_config **ret);
/* Sets up logging from the command line and the config (command line wins), and how the
 * console speaks (log.h: --color; the one-shot commands print pass headers at once). */
int gpd_cli_log_setup(const struct gpd_cli *cli, const struct gp_config *cfg);
/* Every --env names a configured environment (else a message on stderr and -EINVAL). */
int gpd_cli_check_envs(const struct gpd_cli *cli, const struct gp_config *cfg);
/* True when env is selected by --env (or no --env was given). */
bool gpd_cli_env_selected(const struct gpd_cli *cli, const char *env);
/* A fresh random run id (12 hex digits). */
void gpd_run_id(char buf[static 13]);

/* The commands; each returns the process exit code. */
int gpd_cmd_run(const struct gpd_cli *cli); /* --once and plan */
int gpd_cmd_validate(const struct gpd_cli *cli);
int gpd_cmd_status(const struct gpd_cli *cli);
int gpd_cmd_check_config(const struct gpd_cli *cli);
/*
 * rotate --env ENV KEY..., retry --env ENV [KEY...]: record a request for the keys in the
 * environment's requests file (state_store.h): a rotation of their passwords, or an attempt
 * of failed entries before their retry time (without keys: every failed entry). With a gprdsd
 * daemon running on this host (runtime.json names a live process) the command waits, at most
 * GPD_REQUEST_WAIT_S, for that daemon to carry the request out; without one it runs the
 * environment's pass itself (as --once does, taking the lock; retry's pass brings forward
 * only the keys it names). Each key's outcome is printed as "<env>/<key>: ...".
 * rotate: exit 0 when every key rotated (and its own pass exited 0), 1 when one failed or did
 * not within the wait, 2 for a usage or config error, a key that is not an active entry
 * included.
 * retry: exit 0 when every key asked for was retried and is active (a named key that is not
 * failed is said and needs nothing; no failed entry at all is 0 too), 1 when one failed again
 * or was not retried within the wait, or a key has no entry in the environment's records, 2
 * for a usage or config error.
 */
#define GPD_REQUEST_WAIT_S 60
/* How long --once asks for an environment's lock held by another session (none when a gprdsd
 * daemon runs on this host: it keeps the lock). */
#define GPD_ONCE_LOCK_WAIT_MS 30000
int gpd_cmd_rotate(const struct gpd_cli *cli);
int gpd_cmd_retry(const struct gpd_cli *cli);

#endif
