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
#include <string.h>

struct gpd_error {
	char code[64];     /* "" when none */
	char message[512];
	long http_status;  /* Secrets Manager: 0 when no HTTP response was received */
	bool transient;    /* worth retrying later */
};

/*
 * Whether an error (an entry's failure reason code) says the server did not answer at all —
 * a connection refused, broken or timed out — rather than refusing a request. A pass that
 * sees this twice in a row stops (its circuit breaker): every further step would wait for
 * the same dead endpoint.
 */
static inline bool
gpd_code_unreachable(const char *code)
{
	static const char *const codes[] = {
		"08001", "08006", "57P01", "57P02", "57P03", "57014",    /* PostgreSQL */
		"Timeout", "ConnectionRefused", "NetworkError", "DnsError", "TLSError",
		"Unavailable", "pg_connection", "aws_transport",          /* Secrets Manager */
	};

	for (size_t i = 0; code && i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}

#endif
