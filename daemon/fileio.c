/*
 * fileio.c — reading whole files with a size limit, reading input files from beneath the
 * checkout, atomic replacement, mkdir -p.
 *
 * An input file (gpd_read_input) comes from a pull request, so it is opened the way a hostile
 * tree requires: without blocking (a FIFO would hang open() until a signal), only as a regular
 * file, and without any path component, symlinks included, leading outside the checkout
 * (openat2's RESOLVE_BENEATH; on kernels without openat2 a component-by-component walk that
 * opens every component with O_NOFOLLOW and expands relative symlinks itself).
 *
 * Atomic means: a reader (or a crash) sees either the old file or the new one, never a mix
 * and never an empty file. The temp file lives in the target's directory so that rename() is
 * a same-filesystem rename, and the directory is fsynced after it so that the rename itself
 * survives a power cut (DESIGN §4.1). Nothing here logs, retries or interprets content; errors
 * are returned as -errno for the caller to report with the path.
 */
#include "fileio.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void
closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}
#define _cleanup_close_ _cleanup_(closep)

/* Reads until EOF, failing with -EFBIG once more than max bytes arrive. */
static int
read_all(int fd, size_t max, struct gp_buf *b)
{
	for (;;) {
		size_t room;
		ssize_t n;
		int r;

		r = gp_buf_reserve(b, 64 * 1024);
		if (r < 0)
			return r;
		room = b->cap - b->len - 1;
		n = read(fd, b->p + b->len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return 0;
		b->len += (size_t)n;
		b->p[b->len] = '\0';
		if (b->len > max)
			return -EFBIG;
	}
}

/* Reads fd to the end into *ret (NUL-terminated), failing with -EFBIG past max bytes. */
static int
read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
	struct gp_buf b = {0};
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	/* st_size is only a hint (the file may grow while we read): read_all enforces max. */
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max)
		return -EFBIG;
	r = read_all(fd, max, &b);
	if (r < 0) {
		gp_buf_release(&b);
		return r;
	}
	*ret_len = b.len;
	*ret = gp_buf_steal(&b);
	return *ret ? 0 : -ENOMEM;
}

int
gpd_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	return fd < 0 ? -errno : read_fd(fd, max, ret, ret_len);
}

/* ---- input files: beneath the checkout, regular files only, never blocking ---- */

#define INPUT_FLAGS (O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
/* Symlinks the fallback walk expands before it gives up, as the kernel's own limit. */
#define WALK_MAX_LINKS 40
/* Directories deep the fallback walk goes; an input file is a few levels down. */
#define WALK_MAX_DEPTH 64

/* The fallback walk: the directories entered so far (fds[0] is the root), the path still to
 * walk in rest (expanded symlinks are put in front of it), and the links followed. */
struct walk {
	int fds[WALK_MAX_DEPTH];
	size_t depth;
	char rest[PATH_MAX];
	unsigned links;
};

static void
walk_release(struct walk *w)
{
	for (size_t i = 0; i < w->depth; i++)
		close(w->fds[i]);
	w->depth = 0;
}

/* Replaces the component just taken out of w->rest by the target of the symlink at fd. An
 * absolute target leaves the checkout by definition, as RESOLVE_BENEATH says. */
static int
walk_expand(struct walk *w, int fd)
{
	char target[PATH_MAX], joined[PATH_MAX];
	ssize_t n;

	if (++w->links > WALK_MAX_LINKS)
		return -ELOOP;
	n = readlinkat(fd, "", target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	if (target[0] == '/')
		return -EXDEV;
	if (snprintf(joined, sizeof(joined), "%s/%s", target, w->rest) >= (int)sizeof(joined))
		return -ENAMETOOLONG;
	memcpy(w->rest, joined, sizeof(joined));
	return 0;
}

/* Takes the next component of w->rest into name ("" when it is longer than any name may be,
 * which walk_step() refuses); false when none is left. */
static bool
walk_next(struct walk *w, char name[static NAME_MAX + 1], bool *last)
{
	char *p = w->rest;
	size_t n;

	while (*p == '/')
		p++;
	n = strcspn(p, "/");
	if (n == 0)
		return false;
	memcpy(name, p, n <= NAME_MAX ? n : 0);
	name[n <= NAME_MAX ? n : 0] = '\0';
	p += n;
	while (*p == '/')
		p++;
	*last = *p == '\0';
	memmove(w->rest, p, strlen(p) + 1);
	return true;
}

/* One component: "." stays, ".." goes up (never above the root), a symlink is expanded, a
 * directory is entered; the last component that is none of these is opened for reading. */
static int
walk_step(struct walk *w, const char *name, bool last)
{
	int cur = w->fds[w->depth - 1], fd;
	struct stat st;

	if (name[0] == '\0')
		return -ENAMETOOLONG;
	if (strcmp(name, ".") == 0)
		return 0;
	if (strcmp(name, "..") == 0) {
		if (w->depth == 1)
			return -EXDEV;
		close(w->fds[--w->depth]);
		return 0;
	}
	fd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -errno;
	}
	if (S_ISLNK(st.st_mode)) {
		int r = walk_expand(w, fd);

		close(fd);
		return r;
	}
	if (S_ISDIR(st.st_mode) && !last) {
		if (w->depth == WALK_MAX_DEPTH) {
			close(fd);
			return -ENAMETOOLONG;
		}
		w->fds[w->depth++] = fd;
		return 0;
	}
	close(fd);
	if (!last)
		return -ENOTDIR;
	/* O_NOFOLLOW: a symlink swapped in since the look above is refused, not followed. */
	fd = openat(cur, name, INPUT_FLAGS | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

/* openat2(RESOLVE_BENEATH) by hand, for kernels before 5.6. Returns an fd or -errno. */
static int
open_beneath_walk(int root, const char *path)
{
	struct walk w = {.depth = 1};
	char name[NAME_MAX + 1];
	bool last = false;
	int r = 0;

	if (path[0] == '/')
		return -EXDEV;
	if (snprintf(w.rest, sizeof(w.rest), "%s", path) >= (int)sizeof(w.rest))
		return -ENAMETOOLONG;
	w.fds[0] = fcntl(root, F_DUPFD_CLOEXEC, 0);
	if (w.fds[0] < 0)
		return -errno;
	while (r == 0 && walk_next(&w, name, &last))
		r = walk_step(&w, name, last);
	/* A path that ends in a directory (or a link to one) never opened a file. */
	if (r == 0)
		r = -EISDIR;
	walk_release(&w);
	return r;
}

/* path, relative to the directory root, opened for reading beneath it. An fd or -errno. */
static int
open_beneath(int root, const char *path)
{
	struct open_how how = {
		.flags = INPUT_FLAGS,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	unsigned tries = 0;
	long fd;

	/* EAGAIN: a rename raced the lookup of ".."; the kernel asks for a retry. */
	do
		fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
	while (fd < 0 && (errno == EINTR || errno == EAGAIN) && ++tries < 8);
	if (fd < 0 && errno == ENOSYS)
		return open_beneath_walk(root, path);
	return fd < 0 ? -errno : (int)fd;
}

const char *
gpd_file_type_name(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return "a regular file";
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	case S_IFLNK:
		return "a symbolic link";
	default:
		return "of an unknown type";
	}
}

int
gpd_open_input(const char *root, const char *path, mode_t *ret_type)
{
	_cleanup_close_ int dir = -1, fd = -1;
	struct stat st;
	int r;

	if (path[0] == '/') {
		fd = open(path, INPUT_FLAGS);
	} else {
		dir = open(gp_isempty(root) ? "." : root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			return -errno;
		fd = open_beneath(dir, path);
		if (fd < 0) {
			errno = -fd;
			fd = -1;
		}
	}
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		if (ret_type)
			*ret_type = st.st_mode & S_IFMT;
		return -GPD_ENOTREG;
	}
	r = fd;
	fd = -1; /* handed to the caller */
	return r;
}

int
gpd_read_input(const char *root, const char *path, size_t max, char **ret, size_t *ret_len,
	       mode_t *ret_type)
{
	_cleanup_close_ int fd = gpd_open_input(root, path, ret_type);

	return fd < 0 ? fd : read_fd(fd, max, ret, ret_len);
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Opens the directory that holds path and fsyncs it, so that a rename into it is durable. */
static int
fsync_parent(const char *path)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *dir = NULL;
	const char *slash = strrchr(path, '/');

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		return -errno;
	return 0;
}

/* "<dir>/.<name>.XXXXXX" for path "<dir>/<name>"; the dot keeps it out of globs and listings. */
static char *
temp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	char *t;

	if (asprintf(&t, "%.*s.%s.XXXXXX", dirlen, path, name) < 0)
		return NULL;
	return t;
}

/* Fills, chmods, syncs and closes the temp file; *fd is closed (and -1) on return. */
static int
finish_temp(int *fd, const void *data, size_t len, mode_t mode)
{
	int r;

	r = write_all(*fd, data, len);
	if (r == 0 && fchmod(*fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(*fd) < 0)
		r = -errno;
	/* close() can report a delayed write error (NFS); the data is not safe then. */
	if (close(*fd) < 0 && r == 0)
		r = -errno;
	*fd = -1;
	return r;
}

int
gpd_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	_cleanup_free_ char *tmp = NULL;
	int fd, r;

	if (gp_isempty(path) || path[strlen(path) - 1] == '/')
		return -EINVAL;
	tmp = temp_template(path);
	if (!tmp)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = finish_temp(&fd, data, len, mode);
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return r;
	}
	/* The new file is in place; an error here only means the rename may not be durable. */
	return fsync_parent(path);
}

static int
mkdir_one(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* EEXIST: fine if it is a directory (or a symlink to one), as for mkdir -p. */
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int
gpd_mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = NULL;
	int r;

	if (gp_isempty(path))
		return -EINVAL;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	/* Create each prefix that ends before a '/', then the whole path. */
	for (char *s = p + 1; *s; s++) {
		if (*s != '/' || s[-1] == '/')
			continue;
		*s = '\0';
		r = mkdir_one(p, mode);
		*s = '/';
		if (r < 0)
			return r;
	}
	return mkdir_one(p, mode);
}

char *
gpd_path_join(const char *a, const char *b)
{
	size_t la;
	char *r;

	if (!a || !b)
		return NULL;
	la = strlen(a);
	if (la == 0)
		return strdup(b);
	/* Avoid "dir//file" when a already ends with a slash, and "/" + "x" → "//x". */
	if (asprintf(&r, "%s%s%s", a, a[la - 1] == '/' ? "" : "/", b) < 0)
		return NULL;
	return r;
}

bool
gpd_file_exists(const char *path)
{
	struct stat st;

	return path && stat(path, &st) == 0;
}

int
gpd_file_id(const char *path, struct gpd_file_id *id)
{
	struct stat st;

	*id = (struct gpd_file_id){0};
	if (stat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	*id = (struct gpd_file_id){
		.exists = true,
		.dev = st.st_dev,
		.ino = st.st_ino,
		.size = st.st_size,
		.mtime = st.st_mtim,
		.ctime = st.st_ctim,
	};
	return 0;
}

bool
gpd_file_id_eq(const struct gpd_file_id *a, const struct gpd_file_id *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec && a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

int
gpd_digest_begin(EVP_MD_CTX **md)
{
	*md = EVP_MD_CTX_new();
	if (*md && EVP_DigestInit_ex(*md, EVP_sha256(), NULL))
		return 0;
	EVP_MD_CTX_free(*md);
	*md = NULL;
	return -ENOMEM;
}

void
gpd_digest_u64(EVP_MD_CTX *md, uint64_t v)
{
	EVP_DigestUpdate(md, &v, sizeof(v));
}

void
gpd_digest_str(EVP_MD_CTX *md, const char *s)
{
	uint64_t n = s ? strlen(s) + 1 : 0;

	gpd_digest_u64(md, n);
	if (s)
		EVP_DigestUpdate(md, s, n);
}

int
gpd_digest_input(EVP_MD_CTX *md, const char *root, const char *path)
{
	_cleanup_close_ int fd = gpd_open_input(root, path, NULL);
	char buf[16 * 1024];
	uint64_t total = 0;

	gpd_digest_str(md, path);
	if (fd == -ENOENT) {
		gpd_digest_u64(md, 0); /* absent */
		return 0;
	}
	if (fd < 0)
		return fd;
	gpd_digest_u64(md, 1);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		total += (uint64_t)n;
	}
	gpd_digest_u64(md, total);
	return 0;
}

int
gpd_digest_end(EVP_MD_CTX *md, uint8_t out[static 32])
{
	int ok = EVP_DigestFinal_ex(md, out, NULL);

	EVP_MD_CTX_free(md);
	return ok ? 0 : -ENOMEM;
}
