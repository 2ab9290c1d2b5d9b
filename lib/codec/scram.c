/*
 * scram.c — the SCRAM-SHA-256 verifier of a password (scram.h), with OpenSSL's PBKDF2, HMAC
 * and SHA-256. Pure: the salt comes from the caller.
 */
#include "codec/scram.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#define KEY_LEN 32 /* SHA-256 */
#define B64_LEN(n) (4 * (((n) + 2) / 3))

static bool
plain_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s > 0x7f)
			return false;
	return true;
}

static bool
hmac(const uint8_t key[KEY_LEN], const char *text, uint8_t out[KEY_LEN])
{
	unsigned len = KEY_LEN;

	return HMAC(EVP_sha256(), key, KEY_LEN, (const unsigned char *)text, strlen(text), out,
		    &len) && len == KEY_LEN;
}

int
gp_scram_verifier(const char *password, const uint8_t *salt, size_t salt_len,
		  unsigned iterations, char **ret)
{
	uint8_t salted[KEY_LEN], client_key[KEY_LEN], stored_key[KEY_LEN], server_key[KEY_LEN];
	char salt64[B64_LEN(64) + 1], stored64[B64_LEN(KEY_LEN) + 1], server64[B64_LEN(KEY_LEN) + 1];
	unsigned len = KEY_LEN;
	char *v = NULL;
	int r = -EIO;

	if (!password || !*password || !salt || salt_len == 0 || salt_len > 64 || iterations == 0 ||
	    iterations > 0x7fffffff)
		return -EINVAL;
	if (!plain_ascii(password))
		return -EDOM;
	if (PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, (int)iterations,
			      EVP_sha256(), KEY_LEN, salted) == 1 &&
	    hmac(salted, "Client Key", client_key) && hmac(salted, "Server Key", server_key) &&
	    EVP_Digest(client_key, KEY_LEN, stored_key, &len, EVP_sha256(), NULL) == 1 &&
	    len == KEY_LEN) {
		EVP_EncodeBlock((unsigned char *)salt64, salt, (int)salt_len);
		EVP_EncodeBlock((unsigned char *)stored64, stored_key, KEY_LEN);
		EVP_EncodeBlock((unsigned char *)server64, server_key, KEY_LEN);
		r = asprintf(&v, "SCRAM-SHA-256$%u:%s$%s:%s", iterations, salt64, stored64,
			     server64) < 0 ? -ENOMEM : 0;
	}
	OPENSSL_cleanse(salted, sizeof(salted));
	OPENSSL_cleanse(client_key, sizeof(client_key));
	OPENSSL_cleanse(stored_key, sizeof(stored_key));
	OPENSSL_cleanse(server_key, sizeof(server_key));
	if (r == 0)
		*ret = v;
	return r;
}
