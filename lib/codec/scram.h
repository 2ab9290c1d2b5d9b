/*
 * scram.h — the SCRAM-SHA-256 verifier of a password, as PostgreSQL stores it (RFC 5802,
 * RFC 7677): "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", all three in
 * base64. The same text libpq's PQencryptPasswordConn() makes for the same salt, computed
 * without a connection so that a pass can make it on another thread while its connection
 * is busy (the PBKDF2 of 4096 rounds is most of the cost of CREATE ROLE on the client).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define GP_SCRAM_ITERATIONS 4096 /* libpq's and the server's default */
#define GP_SCRAM_SALT_LEN 16	 /* libpq's */

/*
 * The verifier of password with salt and iterations, in *ret (free with
 * gp_secret_free_string(), codec/secret.h, which wipes it). -EDOM when password is not plain ASCII:
 * PostgreSQL normalises other text with SASLprep first, which this does not do (the caller
 * asks libpq instead); -EINVAL for an empty password, salt or no iterations; -ENOMEM.
 */
int gp_scram_verifier(const char *password, const uint8_t *salt, size_t salt_len,
		      unsigned iterations, char **ret);
