/*
 * error.h — the one error value of the shell's clients (pg.c, sm.c, ha.c): what failed, in
 * the words of the server that said so, and whether it is worth retrying soon (DESIGN §4.3).
 *
 * code: a SQLSTATE ("28P01"), an AWS error type ("ThrottlingException"), or a local code
 * for failures before any server answered ("ConnectionRefused", "Timeout", "08001", ...).
 * message: the server's primary message or libcurl's/libpq's text; never a statement, a
 * password, a verifier or a secret value.
 */
#ifndef GPD_ERROR_H
#define GPD_ERROR_H

#include <stdbool.h>

struct gpd_error {
	char code[64];     /* "" when none */
	char message[512];
	long http_status;  /* Secrets Manager: 0 when no HTTP response was received */
	bool transient;    /* worth retrying later */
};

#endif
