/*
 * fileio.c — reading whole files with a size limit, atomic replacement, mkdir -p.
 *
 * Atomic means: a reader (or a crash) sees either the old file or the new one, never a mix
 * and never an empty file. The temp file lives in the target's directory so that rename() is
 * a same-filesystem rename, and the directory is fsynced after it so that the rename itself
 * survives a power cut (DESIGN §4.1). Nothing here logs, retries or interprets content; errors
 * are returned as -errno for the caller to report with the path.
 */
#include "fileio.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
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

int
gpd_read_file(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	struct gp_buf b = {0};
	struct stat st;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
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
gpd_digest_file(EVP_MD_CTX *md, const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	char buf[16 * 1024];
	uint64_t total = 0;

	gpd_digest_str(md, path);
	if (fd < 0 && errno == ENOENT) {
		gpd_digest_u64(md, 0); /* absent */
		return 0;
	}
	if (fd < 0)
		return -errno;
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
