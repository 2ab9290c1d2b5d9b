/*
 * dump.c — the optional dump before a database is dropped (DESIGN §4.5 step 1):
 * `pg_dump -Fc` into <dump_dir>/<env>/<database>-<UTC time>.dump, then `pg_restore --list` of
 * that file; either failing fails the step, and the decommission stops before anything is
 * dropped.
 *
 * The master password reaches pg_dump through a password file of mode 0600 that exists only
 * while it runs (never the command line or the environment, which other users may read). The
 * children are spawned (posix_spawn), bounded by GPD_DUMP_TIMEOUT_S, and ended early when the
 * pass is asked to stop.
 */
#include "dump.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"

extern char **environ;

/* err's code and message ("<what> <arg>", then the child's own error when there is one). */
static int
fail(struct gpd_error *err, int r, const char *code, const char *what, const char *arg)
{
	char child[200];
	struct gp_buf b = {0};

	memcpy(child, err->message, sizeof(child) - 1);
	child[sizeof(child) - 1] = '\0';
	snprintf(err->code, sizeof(err->code), "%s", code);
	gp_buf_printf(&b, "%s %s%s%s", what, arg, child[0] ? ": " : "", child);
	snprintf(err->message, sizeof(err->message), "%s", b.p ? b.p : what);
	gp_buf_release(&b);
	err->transient = false;
	return r;
}

/* A pgpass line: host:port:db:user:password, with ':' and '\' escaped. */
static void
pgpass_field(struct gp_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == ':' || *s == '\\')
			gp_buf_putc(b, '\\');
		gp_buf_putc(b, *s);
	}
}

static int
write_pgpass(const char *path, const struct gpd_pg_target *t)
{
	struct gp_buf b = {0};
	int fd, r = 0;

	gp_buf_puts(&b, "*:*:*:");
	pgpass_field(&b, t->user);
	gp_buf_putc(&b, ':');
	pgpass_field(&b, t->password);
	gp_buf_putc(&b, '\n');
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || b.oom || write(fd, b.p, b.len) != (ssize_t)b.len)
		r = fd < 0 ? -errno : -EIO;
	if (fd >= 0)
		close(fd);
	gp_buf_release_secure(&b);
	return r;
}

/* Runs argv with the extra environment entries, its output to /dev/null and its errors to
 * errfile; its exit status, or -errno. */
static int
run(char *const argv[], char *const extra[], const char *errfile, const atomic_bool *stop)
{
	posix_spawn_file_actions_t fa;
	_cleanup_free_ char **envp = NULL;
	size_t n = 0, k = 0;
	time_t end = time(NULL) + GPD_DUMP_TIMEOUT_S;
	pid_t pid;
	int status, r;

	while (environ[n])
		n++;
	for (size_t i = 0; extra[i]; i++)
		k++;
	envp = calloc(n + k + 1, sizeof(*envp));
	if (!envp)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++)
		envp[i] = extra[i];
	for (size_t i = 0; i < n; i++)
		envp[k + i] = environ[i];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	while ((r = waitpid(pid, &status, WNOHANG)) == 0) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		if (time(NULL) > end || (stop && atomic_load(stop)))
			kill(pid, SIGKILL);
		nanosleep(&ts, NULL);
	}
	if (r < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The child's first line of errors, kept in err->message for the failure's reason. */
static void
first_line(const char *path, struct gpd_error *err)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	if (gpd_read_file(path, 64 * 1024, &buf, &len) < 0 || !len)
		return;
	buf[strcspn(buf, "\n")] = '\0';
	snprintf(err->message, sizeof(err->message), "%s", buf);
}

int
gpd_dump_database(const struct gpd_pg_target *t, const char *dir, const char *env,
		  const char *db, int64_t now, const atomic_bool *stop, char **ret_path,
		  struct gpd_error *err)
{
	_cleanup_free_ char *envdir = gpd_path_join(dir, env), *file = NULL, *pass = NULL;
	_cleanup_free_ char *passenv = NULL, *sslenv = NULL, *rootenv = NULL, *errf = NULL;
	char stamp[21];
	int r;

	gp_time_format(now, stamp);
	if (!envdir || asprintf(&file, "%s/%s-%s.dump", envdir, db, stamp) < 0 ||
	    asprintf(&pass, "%s/.%s-%s.pgpass", envdir, db, stamp) < 0 ||
	    asprintf(&errf, "%s/.%s-%s.err", envdir, db, stamp) < 0 ||
	    asprintf(&passenv, "PGPASSFILE=%s", pass) < 0 ||
	    asprintf(&sslenv, "PGSSLMODE=%s", t->sslmode ? t->sslmode : "prefer") < 0 ||
	    asprintf(&rootenv, "PGSSLROOTCERT=%s", t->sslrootcert ? t->sslrootcert : "") < 0)
		return fail(err, -ENOMEM, "internal", "out of", "memory");
	r = gpd_mkdir_p(envdir, 0700);
	if (r < 0)
		return fail(err, r, "DumpFailed", "cannot make the dump directory", envdir);
	r = write_pgpass(pass, t);
	if (r < 0)
		return fail(err, r, "DumpFailed", "cannot write a password file in", envdir);
	{
		char *dump_argv[] = {"pg_dump", "-Fc", "--no-password", "-h", (char *)t->host,
				     "-p", (char *)t->port, "-U", (char *)t->user, "-d", (char *)db,
				     "-f", file, NULL};
		char *list_argv[] = {"pg_restore", "--list", file, NULL};
		char *extra[] = {passenv, sslenv,
				 t->sslrootcert ? rootenv : "PGCONNECT_TIMEOUT=10", NULL};

		r = run(dump_argv, extra, errf, stop);
		if (r == 0)
			r = run(list_argv, extra, errf, stop) == 0 ? 0 : 1000;
	}
	unlink(pass);
	if (r != 0)
		first_line(errf, err);
	unlink(errf);
	if (r == 1000)
		return fail(err, -EIO, "DumpFailed", "pg_restore --list cannot read", file);
	if (r != 0) {
		unlink(file);
		return fail(err, r < 0 ? r : -EIO, "DumpFailed", "pg_dump failed for", db);
	}
	*ret_path = TAKE_PTR(file);
	return 0;
}
