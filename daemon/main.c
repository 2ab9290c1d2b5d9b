/*
 * main.c — gprdsd's command line: arguments, the commands, exit codes.
 *
 *   gprdsd [--config PATH]            the daemon (foreground; systemd Type=notify)
 *   gprdsd --once                     one reconcile pass per environment, then exit
 *   gprdsd plan                       what a pass would do; changes nothing
 *   gprdsd --once --verify, plan --verify   likewise, every check made now (not paced)
 *   gprdsd validate                   inputs only, no network (CI on pull requests)
 *   gprdsd status                     the lifecycle records in the state directory
 *   gprdsd rotate --env ENV KEY...    rotate these entries' passwords now
 *   gprdsd retry --env ENV [KEY...]   retry these failed entries (or all) now
 *   gprdsd --check-config             parse and validate the config file
 *
 * Exit codes (--once): 0 converged or waiting at a gate, 1 some entries failed or are
 * invalid or an environment could not be reconciled, 2 usage or config error. With plan
 * --detailed-exitcode: 0 nothing to do, 2 changes pending, 1 any error (usage and config
 * errors too). rotate and retry: cli.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "cli.h"
#include "daemon.h"
#include "fileio.h"
#include "log.h"

static const char usage_text[] =
	"Usage: gprdsd [COMMAND] [OPTIONS]\n"
	"\n"
	"Reconciles PostgreSQL roles, databases and grants and AWS Secrets Manager credentials\n"
	"with the databases requested in a platform repository checkout.\n"
	"\n"
	"Commands:\n"
	"  (none)                 run the daemon in the foreground (systemd Type=notify)\n"
	"  --once                 one reconcile pass per environment, then exit\n"
	"  plan                   print the actions a pass would apply; changes nothing\n"
	"  validate               check the inputs only (no network)\n"
	"  status                 print each entry's lifecycle state\n"
	"  rotate --env ENV KEY...  rotate these entries' passwords now (the running daemon does\n"
	"                         it within seconds; without one, this command does)\n"
	"  retry --env ENV [KEY...]  retry these failed entries now (no KEY: every failed entry\n"
	"                         of ENV); the running daemon does it within seconds, else this\n"
	"                         command\n"
	"  --check-config         parse and validate the config file, then exit\n"
	"\n"
	"Options:\n"
	"  -c, --config PATH      config file (default " GPD_DEFAULT_CONFIG ")\n"
	"  -e, --env ENV          only this environment (repeatable)\n"
	"      --repo DIR         validate: the checkout to validate (no config needed)\n"
	"      --format FMT       validate: text (default), github or json\n"
	"      --json             plan, status, validate: JSON output\n"
	"      --detailed-exitcode  plan: 0 nothing to do, 1 any error, 2 changes pending\n"
	"      --confirm-mass-change  --once: proceed although the mass-change guard refuses\n"
	"      --verify           --once, plan: check every login and privilege now, not when\n"
	"                         reconcile.verify_interval says\n"
	"      --log-target T     auto, journal or console (overrides log_target)\n"
	"      --log-level L      debug, info, notice, warning or error\n"
	"      --color WHEN       auto (default: on a terminal, unless NO_COLOR), always or never\n"
	"  -h, --help             this text\n"
	"  -V, --version          the version\n"
	"\n"
	"Exit codes: 0 success; 1 entries failed or invalid, an environment not reconciled, or\n"
	"validate found errors; 2 usage or config error (plan --detailed-exitcode: 1 any error,\n"
	"2 changes pending). rotate, retry: 0 every key done (retry: every key retried and\n"
	"active), 1 one failed or not done within 60 s, or (retry) a key with no entry in ENV.\n"
	"See gprdsd(8).\n";

/* A non-option argument: the command (git's and terraform's way: options before and after
 * it), then, for rotate and retry, their keys. */
static int
parse_word(const char *arg, struct gpd_cli *cli, bool *have_verb)
{
	static const struct {
		const char *name;
		enum gpd_command cmd;
	} verbs[] = {
		{"plan", GPD_CMD_PLAN},
		{"validate", GPD_CMD_VALIDATE},
		{"status", GPD_CMD_STATUS},
		{"rotate", GPD_CMD_ROTATE},
		{"retry", GPD_CMD_RETRY},
	};

	if (*have_verb && (cli->command == GPD_CMD_ROTATE || cli->command == GPD_CMD_RETRY))
		return gp_strv_push(&cli->keys, arg);
	if (*have_verb) {
		fprintf(stderr, "gprdsd: unexpected argument \"%s\"\n", arg);
		return -EINVAL;
	}
	*have_verb = true;
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (strcmp(arg, verbs[i].name) == 0) {
			cli->command = verbs[i].cmd;
			return 0;
		}
	fprintf(stderr, "gprdsd: unknown command \"%s\"\n", arg); /* main() says: Try --help */
	return -EINVAL;
}

/* One command: a word or an option (of those, the last); --help and --version win. */
static int
command_of(struct gpd_cli *cli, enum gpd_command opt_cmd, bool have_verb)
{
	if (opt_cmd == GPD_CMD_DAEMON)
		return 0; /* the word's command, or the daemon */
	if (have_verb && opt_cmd != GPD_CMD_HELP && opt_cmd != GPD_CMD_VERSION) {
		fprintf(stderr, "gprdsd: two commands: a word and --once or --check-config\n");
		return -EINVAL;
	}
	cli->command = opt_cmd;
	return 0;
}

static int
parse_command(int argc, char **argv, struct gpd_cli *cli)
{
	enum { OPT_REPO = 256, OPT_FORMAT, OPT_JSON, OPT_DETAILED, OPT_CHECK, OPT_ONCE,
	       OPT_LOG_TARGET, OPT_LOG_LEVEL, OPT_CONFIRM, OPT_VERIFY, OPT_COLOR };
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"env", required_argument, NULL, 'e'},
		{"repo", required_argument, NULL, OPT_REPO},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"json", no_argument, NULL, OPT_JSON},
		{"detailed-exitcode", no_argument, NULL, OPT_DETAILED},
		{"check-config", no_argument, NULL, OPT_CHECK},
		{"once", no_argument, NULL, OPT_ONCE},
		{"confirm-mass-change", no_argument, NULL, OPT_CONFIRM},
		{"verify", no_argument, NULL, OPT_VERIFY},
		{"log-target", required_argument, NULL, OPT_LOG_TARGET},
		{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
		{"color", required_argument, NULL, OPT_COLOR},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	enum gpd_command opt_cmd = GPD_CMD_DAEMON;
	bool have_verb = false;
	int c, r = 0;

	/* An error does not stop the parse: a --detailed-exitcode after it still decides the
	 * exit code. "-": arguments in order, whatever POSIXLY_CORRECT says. */
	while ((c = getopt_long(argc, argv, "-c:e:hV", opts, NULL)) >= 0) {
		switch (c) {
		case 1:
			if (parse_word(optarg, cli, &have_verb) < 0)
				r = -EINVAL;
			break;
		case 'c':
			cli->config = optarg;
			break;
		case 'e':
			if (gp_strv_push(&cli->envs, optarg) < 0)
				return -ENOMEM;
			break;
		case OPT_REPO:
			cli->repo = optarg;
			break;
		case OPT_FORMAT: /* the last --format or --json wins */
			if (strcmp(optarg, "text") != 0 && strcmp(optarg, "github") != 0 &&
			    strcmp(optarg, "json") != 0) {
				fprintf(stderr, "gprdsd: --format must be text, github or json\n");
				r = -EINVAL;
			}
			cli->github = strcmp(optarg, "github") == 0;
			cli->json = strcmp(optarg, "json") == 0;
			break;
		case OPT_JSON:
			cli->json = true;
			cli->github = false;
			break;
		case OPT_DETAILED:
			cli->detailed_exitcode = true;
			break;
		case OPT_CHECK:
			opt_cmd = GPD_CMD_CHECK_CONFIG;
			break;
		case OPT_ONCE:
			opt_cmd = GPD_CMD_ONCE;
			break;
		case OPT_CONFIRM:
			cli->confirm_mass_change = true;
			break;
		case OPT_VERIFY:
			cli->verify = true;
			break;
		case OPT_LOG_TARGET:
			if (gpd_log_target_from_string(optarg) < 0) {
				fprintf(stderr, "gprdsd: --log-target \"%s\": must be auto, journal "
					"or console\n", optarg);
				r = -EINVAL;
			}
			cli->log_target = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (gpd_log_level_from_string(optarg) < 0) {
				fprintf(stderr, "gprdsd: --log-level \"%s\": must be debug, info, "
					"notice, warning or error\n", optarg);
				r = -EINVAL;
			}
			cli->log_level = optarg;
			break;
		case OPT_COLOR:
			cli->color = gpd_log_color_from_string(optarg);
			if (cli->color < 0) {
				fprintf(stderr, "gprdsd: --color \"%s\": must be auto, always or "
					"never\n", optarg);
				r = -EINVAL;
			}
			break;
		case 'h':
			opt_cmd = GPD_CMD_HELP;
			break;
		case 'V':
			opt_cmd = GPD_CMD_VERSION;
			break;
		default:
			r = -EINVAL;
			break;
		}
	}
	for (; optind < argc; optind++) /* after "--" */
		if (parse_word(argv[optind], cli, &have_verb) < 0)
			r = -EINVAL;
	return r < 0 ? r : command_of(cli, opt_cmd, have_verb);
}

static int
parse_args(int argc, char **argv, struct gpd_cli *cli)
{
	int r;

	cli->command = GPD_CMD_DAEMON;
	cli->config = GPD_DEFAULT_CONFIG;
	r = parse_command(argc, argv, cli);
	if (r >= 0 && cli->json && cli->command != GPD_CMD_PLAN && cli->command != GPD_CMD_STATUS &&
	    cli->command != GPD_CMD_VALIDATE) {
		fprintf(stderr, "gprdsd: --json goes with plan, status or validate\n");
		return -EINVAL;
	}
	if (r >= 0 && cli->confirm_mass_change && cli->command != GPD_CMD_ONCE) {
		fprintf(stderr, "gprdsd: --confirm-mass-change goes with --once\n");
		return -EINVAL;
	}
	if (r >= 0 && cli->verify && cli->command != GPD_CMD_ONCE && cli->command != GPD_CMD_PLAN) {
		fprintf(stderr, "gprdsd: --verify goes with --once or plan\n");
		return -EINVAL;
	}
	if (r >= 0 && cli->detailed_exitcode && cli->command != GPD_CMD_PLAN) {
		fprintf(stderr, "gprdsd: --detailed-exitcode goes with plan\n");
		return -EINVAL;
	}
	return r;
}

int
main(int argc, char **argv)
{
	struct gpd_cli cli = {0};
	int r;

	if (parse_args(argc, argv, &cli) < 0) {
		fprintf(stderr, "Try 'gprdsd --help'.\n");
		return gpd_cli_usage_exit(&cli);
	}
	switch (cli.command) {
	case GPD_CMD_HELP:
		fputs(usage_text, stdout);
		return 0;
	case GPD_CMD_VERSION:
		printf("gprdsd %s\n", GPRDSD_VERSION);
		return 0;
	default:
		break;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "gprdsd: cannot initialise libcurl\n");
		return 1;
	}
	switch (cli.command) {
	case GPD_CMD_VALIDATE:
		r = gpd_cmd_validate(&cli);
		break;
	case GPD_CMD_CHECK_CONFIG:
		r = gpd_cmd_check_config(&cli);
		break;
	case GPD_CMD_STATUS:
		r = gpd_cmd_status(&cli);
		break;
	case GPD_CMD_ROTATE:
		r = gpd_cmd_rotate(&cli);
		break;
	case GPD_CMD_RETRY:
		r = gpd_cmd_retry(&cli);
		break;
	case GPD_CMD_PLAN:
	case GPD_CMD_ONCE:
		r = gpd_cmd_run(&cli);
		break;
	default:
		r = gpd_daemon_main(&cli);
		break;
	}
	curl_global_cleanup();
	gp_strv_release(&cli.envs);
	gp_strv_release(&cli.keys);
	return r;
}
