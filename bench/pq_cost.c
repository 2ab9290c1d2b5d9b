/*
 * pq_cost.c — micro-costs behind a gprdsd cold pass, measured with the same libpq calls
 * gprdsd makes (bench/run.sh compiles and runs it; it is not part of gprdsd).
 *
 *   pq_cost verifier CONNINFO COUNT
 *       COUNT x PQencryptPasswordConn(conn, pw, user, "scram-sha-256"): the client-side SCRAM
 *       verifier computation gprdsd does before every CREATE ROLE / ALTER ROLE ... PASSWORD.
 *   pq_cost login CONNINFO COUNT
 *       COUNT x (PQconnectdb + PQfinish) with CONNINFO: one password (SCRAM) login, as
 *       gprdsd's verify_login does for every new entry (fork of a backend, SCRAM exchange
 *       with 4096 PBKDF2 iterations on the client, authentication, exit).
 *
 * Prints one line: "<what> <count> <total seconds> <milliseconds each>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	int count;
	double t0, t;

	if (argc != 4 || (count = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: pq_cost verifier|login CONNINFO COUNT\n");
		return 2;
	}
	if (strcmp(argv[1], "verifier") == 0) {
		PGconn *c = PQconnectdb(argv[2]);

		if (PQstatus(c) != CONNECTION_OK) {
			fprintf(stderr, "pq_cost: %s", PQerrorMessage(c));
			return 1;
		}
		t0 = now();
		for (int i = 0; i < count; i++) {
			char pw[33], user[32];
			char *v;

			snprintf(pw, sizeof(pw), "Pw%030d", i);
			snprintf(user, sizeof(user), "bench_user_%05d", i);
			v = PQencryptPasswordConn(c, pw, user, "scram-sha-256");
			if (!v) {
				fprintf(stderr, "pq_cost: %s", PQerrorMessage(c));
				return 1;
			}
			PQfreemem(v);
		}
		t = now() - t0;
		PQfinish(c);
	} else if (strcmp(argv[1], "login") == 0) {
		t0 = now();
		for (int i = 0; i < count; i++) {
			PGconn *c = PQconnectdb(argv[2]);

			if (PQstatus(c) != CONNECTION_OK) {
				fprintf(stderr, "pq_cost: %s", PQerrorMessage(c));
				return 1;
			}
			PQfinish(c);
		}
		t = now() - t0;
	} else {
		fprintf(stderr, "usage: pq_cost verifier|login CONNINFO COUNT\n");
		return 2;
	}
	printf("%s %d %.3f %.3f\n", argv[1], count, t, t * 1000.0 / count);
	return 0;
}
