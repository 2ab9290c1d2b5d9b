/*
 * fileio.h — the daemon's file helpers: read a whole file with a size limit, write a file
 * atomically (temp file in the same directory, fsync, rename, fsync of the directory), and
 * create directories.
 */
#ifndef GPD_FILEIO_H
#define GPD_FILEIO_H

#include "util.h"

#define GPD_MAX_INPUT_SIZE (64u * 1024 * 1024)

/* Reads path into *ret (NUL-terminated, length in *ret_len). -ENOENT, -EFBIG, -errno. */
int gpd_read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Writes data to path atomically with the given mode. */
int gpd_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* mkdir -p with mode for the created directories. */
int gpd_mkdir_p(const char *path, mode_t mode);
/* path joined: a + "/" + b (new string) or NULL. */
char *gpd_path_join(const char *a, const char *b);
bool gpd_file_exists(const char *path);

#endif
