/*
 * fileio.h — the daemon's file helpers: read a whole file with a size limit, write a file
 * atomically (temp file in the same directory, fsync, rename, fsync of the directory), and
 * create directories.
 */
#ifndef GPD_FILEIO_H
#define GPD_FILEIO_H

#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>

#include "base/util.h"

#define GPD_MAX_INPUT_SIZE (64u * 1024 * 1024)

/* Reads path into *ret (NUL-terminated, length in *ret_len). -ENOENT, -EFBIG, -errno. */
int gpd_read_file(const char *path, size_t max, char **ret, size_t *ret_len);

/*
 * Input files (the catalog, the enums, the tfvars) come from a pull request and are opened as
 * such: without blocking, as regular files only, and without leaving the checkout. path
 * relative is resolved beneath the directory root (NULL or "": the current directory) with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS), or by a walk of O_NOFOLLOW opens where
 * openat2 is missing: symlinks that stay inside work, one that leads out (an absolute target,
 * ".." past root) fails with -EXDEV. An absolute path is one the operator configured outside
 * the checkout: it is opened as given, links followed, but still only as a regular file.
 *
 * gpd_open_input() returns an fd (the caller closes it), -ENOENT, -EXDEV, -GPD_ENOTREG (the
 * type, S_IFIFO etc., in *ret_type when ret_type is not NULL) or -errno. gpd_read_input() is
 * gpd_read_file() with these rules.
 */
#define GPD_ENOTREG EMEDIUMTYPE /* not a regular file; open() never returns it for a path */
int gpd_open_input(const char *root, const char *path, mode_t *ret_type);
int gpd_read_input(const char *root, const char *path, size_t max, char **ret, size_t *ret_len,
		   mode_t *ret_type);
/* "a FIFO", "a directory", ... for a mode's file type, for messages. */
const char *gpd_file_type_name(mode_t mode);
/* Writes data to path atomically with the given mode. */
int gpd_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* mkdir -p with mode for the created directories. */
int gpd_mkdir_p(const char *path, mode_t mode);
/* path joined: a + "/" + b (new string) or NULL. */
char *gpd_path_join(const char *a, const char *b);
bool gpd_file_exists(const char *path);

/* What a file is now (device, inode, size, change times), to tell whether it changed since it
 * was read without reading it. A missing file has exists = false. Returns 0 or -errno. */
struct gpd_file_id {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
};
int gpd_file_id(const char *path, struct gpd_file_id *id);
bool gpd_file_id_eq(const struct gpd_file_id *a, const struct gpd_file_id *b);

/*
 * SHA-256 over a sequence of strings, numbers and input files, for change detection (the
 * desired state kept between passes, the lock connection's parameters). Strings are
 * length-prefixed and NULL differs from ""; a missing file differs from an empty one. begin
 * returns -ENOMEM; input opens root/path as gpd_open_input() does and returns 0 or -errno
 * (never -ENOENT: absence is part of the digest); end frees md.
 */
int gpd_digest_begin(EVP_MD_CTX **md);
void gpd_digest_str(EVP_MD_CTX *md, const char *s);
void gpd_digest_u64(EVP_MD_CTX *md, uint64_t v);
int gpd_digest_input(EVP_MD_CTX *md, const char *root, const char *path);
int gpd_digest_end(EVP_MD_CTX *md, uint8_t out[static 32]);

#endif
