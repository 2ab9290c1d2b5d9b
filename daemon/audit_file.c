/*
 * audit_file.c — appends formatted audit rows to the environment's CSV file, whole or not at
 * all (see audit_file.h for the invariants).
 *
 * Torn rows. A crash or ENOSPC in the middle of write() leaves a row prefix at the end of the
 * file; the next row would be glued to it and every CSV reader would misparse the file from
 * there on. So before appending, under the lock, the tail is cut back to the end of the last
 * whole record. "After the last \n" is not always that place: RFC 4180 lets a quoted field
 * hold line breaks (PostgreSQL errors have DETAIL lines), and a row torn just after such a
 * break ends in "\n" but leaves a quote open. gpd_audit_open() therefore scans the file once
 * and tracks the quote state (every '"' toggles it, doubled quotes included, because unquoted
 * fields never contain one). A scan of the whole file per row would cost too much, so
 * appends only check the last byte; open() runs once per pass and catches the rest.
 *
 * The quote scan only cuts what looks like one torn row of ours: at most GPD_AUDIT_MAX_TORN
 * bytes that start like a row (a timestamp and a comma) and hold no further row start. A file
 * that a person edited into an odd quote state must not lose lines to a repair; then only the
 * bytes after the last "\n" go.
 *
 * It never reads rows back for any other purpose, never rotates the file and never logs.
 */
#include "audit_file.h"
#include "fileio.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define GPD_AUDIT_MAX_TORN (64 * 1024)
#define SCAN_CHUNK 65536

struct gpd_audit {
	int fd;
	char *path;
};

static int
lock_ex(int fd)
{
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/*
 * The single write() of a row (or the header). A short write is an error; its partial bytes
 * are cut off again at once (before is the size the file had), so the file stays whole.
 */
static int
write_once(int fd, const char *p, size_t len, off_t before)
{
	ssize_t n;

	do
		n = write(fd, p, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n == len)
		return 0;
	if (ftruncate(fd, before) < 0)
		return -errno;
	return -EIO;
}

static int
write_header(int fd)
{
	struct gp_buf b = {0};
	int r = gp_audit_header(&b);

	if (r == 0)
		r = write_once(fd, b.p, b.len, 0);
	gp_buf_release(&b);
	return r;
}

static int
pread_full(int fd, char *buf, size_t len, off_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* shrank under our lock: a writer that does not lock */
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Offset just after the last "\n" before size (0 when there is none). */
static int
after_last_newline(int fd, off_t size, off_t *ret)
{
	char buf[4096];
	off_t end = size;

	while (end > 0) {
		size_t n = end < (off_t)sizeof(buf) ? (size_t)end : sizeof(buf);
		const char *nl;
		int r = pread_full(fd, buf, n, end - (off_t)n);

		if (r < 0)
			return r;
		nl = memrchr(buf, '\n', n);
		if (nl) {
			*ret = end - (off_t)n + (nl - buf) + 1;
			return 0;
		}
		end -= (off_t)n;
	}
	*ret = 0;
	return 0;
}

/* Offset just after the last "\n" that ends a record, i.e. is outside a quoted field. */
static int
after_last_record(int fd, off_t size, off_t *ret)
{
	_cleanup_free_ char *buf = malloc(SCAN_CHUNK);
	bool quoted = false;
	off_t last = 0;

	if (!buf)
		return -ENOMEM;
	for (off_t off = 0; off < size;) {
		size_t n = size - off < SCAN_CHUNK ? (size_t)(size - off) : SCAN_CHUNK;
		int r = pread_full(fd, buf, n, off);

		if (r < 0)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (buf[i] == '"')
				quoted = !quoted;
			else if (buf[i] == '\n' && !quoted)
				last = off + (off_t)i + 1;
		}
		off += (off_t)n;
	}
	*ret = last;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ," — how each of our rows starts. */
static bool
is_row_start(const char *p, size_t n)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ,";

	if (n < sizeof(pat) - 1)
		return false;
	for (size_t i = 0; i < sizeof(pat) - 1; i++)
		if (pat[i] == 'd' ? (p[i] < '0' || p[i] > '9') : p[i] != pat[i])
			return false;
	return true;
}

/* True when [from, size) is small, starts like a row and holds no second row start. */
static int
is_one_torn_row(int fd, off_t from, off_t size)
{
	_cleanup_free_ char *buf = NULL;
	size_t n = (size_t)(size - from);
	int r;

	if (size - from > GPD_AUDIT_MAX_TORN)
		return 0;
	buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	r = pread_full(fd, buf, n, from);
	if (r < 0)
		return r;
	if (!is_row_start(buf, n))
		return 0;
	for (size_t i = 0; i + 1 < n; i++)
		if (buf[i] == '\n' && is_row_start(buf + i + 1, n - i - 1))
			return 0;
	return 1;
}

/* Where the file must be cut so that it ends with a whole record (size: nothing to cut). */
static int
find_cut(int fd, off_t size, bool scan_quotes, off_t *ret)
{
	off_t cut;
	char last;
	int r;

	if (scan_quotes) {
		r = after_last_record(fd, size, &cut);
		if (r < 0)
			return r;
		if (cut == size)
			goto done;
		r = is_one_torn_row(fd, cut, size);
		if (r < 0)
			return r;
		if (r > 0)
			goto done;
	}
	r = pread_full(fd, &last, 1, size - 1);
	if (r < 0)
		return r;
	cut = size;
	if (last != '\n')
		r = after_last_newline(fd, size, &cut);
done:
	*ret = cut;
	return r;
}

/*
 * Under the lock: gives an empty file its header and cuts a torn tail. *ret_size is the size
 * afterwards, where the next row will land.
 */
static int
prepare_tail(int fd, bool scan_quotes, off_t *ret_size)
{
	struct stat st;
	off_t cut;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	cut = st.st_size;
	if (cut > 0) {
		r = find_cut(fd, st.st_size, scan_quotes, &cut);
		if (r < 0)
			return r;
		if (cut < st.st_size && ftruncate(fd, cut) < 0)
			return -errno;
	}
	if (cut == 0) {
		r = write_header(fd);
		if (r < 0)
			return r;
		if (fstat(fd, &st) < 0)
			return -errno;
		cut = st.st_size;
	}
	*ret_size = cut;
	return 0;
}

/* A single path component: no "/", not "." or "..", not empty. */
static bool
env_is_name(const char *env)
{
	return !gp_isempty(env) && !strchr(env, '/') && strcmp(env, ".") != 0 &&
	       strcmp(env, "..") != 0;
}

static int
open_file(struct gpd_audit *a)
{
	struct stat st;
	off_t size;
	int r;

	a->fd = open(a->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (a->fd < 0)
		return -errno;
	if (fstat(a->fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	r = lock_ex(a->fd);
	if (r < 0)
		return r;
	r = prepare_tail(a->fd, true, &size);
	flock(a->fd, LOCK_UN);
	return r;
}

int
gpd_audit_open(const char *audit_dir, const char *env, struct gpd_audit **ret)
{
	_cleanup_free_ char *dir = NULL;
	_cleanup_(gpd_audit_closep) struct gpd_audit *a = NULL;
	int r;

	if (gp_isempty(audit_dir) || !env_is_name(env))
		return -EINVAL;
	dir = gpd_path_join(audit_dir, env);
	if (!dir)
		return -ENOMEM;
	r = gpd_mkdir_p(dir, 0750);
	if (r < 0)
		return r;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fd = -1;
	a->path = gpd_path_join(dir, GPD_AUDIT_FILE_NAME);
	if (!a->path)
		return -ENOMEM;
	r = open_file(a);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(a);
	return 0;
}

const char *
gpd_audit_path(const struct gpd_audit *a)
{
	return a->path;
}

int
gpd_audit_append(struct gpd_audit *a, const struct gp_audit_row *row)
{
	struct gp_buf line = {0};
	off_t size;
	int r;

	r = gp_audit_format(row, &line);
	if (r < 0)
		goto out;
	r = lock_ex(a->fd);
	if (r < 0)
		goto out;
	r = prepare_tail(a->fd, false, &size);
	if (r == 0)
		r = write_once(a->fd, line.p, line.len, size);
	flock(a->fd, LOCK_UN);
out:
	gp_buf_release(&line);
	return r;
}

int
gpd_audit_sync(struct gpd_audit *a)
{
	return fsync(a->fd) < 0 ? -errno : 0;
}

void
gpd_audit_close(struct gpd_audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0) {
		fsync(a->fd);
		close(a->fd);
	}
	free(a->path);
	free(a);
}
