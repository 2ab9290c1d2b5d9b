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

static int
fail(struct gpd_error *err, int r, const char *code, const char *what, const char *arg)
{
	snprintf(err->code, sizeof(err->code), "%s", code);
	snprintf(err->message, sizeof(err->message), "%s %s", what, arg);
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

/* Runs argv with the extra environment entries; its exit status, or -errno. */
static int
run(char *const argv[], char *const extra[], const atomic_bool *stop)
{
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
	r = posix_spawnp(&pid, argv[0], NULL, NULL, argv, envp);
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

int
gpd_dump_database(const struct gpd_pg_target *t, const char *dir, const char *env,
		  const char *db, int64_t now, const atomic_bool *stop, char **ret_path,
		  struct gpd_error *err)
{
	_cleanup_free_ char *envdir = gpd_path_join(dir, env), *file = NULL, *pass = NULL;
	_cleanup_free_ char *passenv = NULL, *sslenv = NULL, *rootenv = NULL;
	char stamp[21];
	int r;

	gp_time_format(now, stamp);
	if (!envdir || asprintf(&file, "%s/%s-%s.dump", envdir, db, stamp) < 0 ||
	    asprintf(&pass, "%s/.%s-%s.pgpass", envdir, db, stamp) < 0 ||
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

		r = run(dump_argv, extra, stop);
		if (r == 0)
			r = run(list_argv, extra, stop) == 0 ? 0 : 1000;
	}
	unlink(pass);
	if (r == 1000)
		return fail(err, -EIO, "DumpFailed", "pg_restore --list cannot read", file);
	if (r != 0) {
		unlink(file);
		return fail(err, r < 0 ? r : -EIO, "DumpFailed", "pg_dump failed for", db);
	}
	*ret_path = TAKE_PTR(file);
	return 0;
}
