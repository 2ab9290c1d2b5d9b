/*
 * verifiers.h — SCRAM verifiers computed ahead, on a thread of their own.
 *
 * A password's verifier costs a PBKDF2 of 4096 rounds (about 5 ms of CPU). Computed when the
 * statement that sets the password is sent, it is time the master connection stands idle,
 * once per role; computed as soon as the password exists (while its secret is written), it
 * is ready when the statement's turn comes. One thread computes them in the order asked.
 *
 *   gpd_verifiers_new()      the set; its thread starts with the first job.
 *                            gpd_verifiers_free() stops it (a job under way is finished
 *                            first, about 5 ms) and detaches the jobs not yet released.
 *   gpd_verifiers_submit()   a job for password (copied): NULL when out of memory or the
 *                            thread could not be started (the caller computes it itself).
 *                            Called from one thread (the pass's).
 *   gpd_verifier_wait()      the job's verifier, waiting for it if it is still to come; NULL
 *                            when it could not be made (e.g. text that needs SASLprep: the
 *                            caller asks libpq). Owned by the job.
 *   gpd_verifier_release()   drops a job, wherever it is; wipes the password and verifier.
 */
#pragma once

struct gpd_verifiers;
struct gpd_verifier_job;

int gpd_verifiers_new(struct gpd_verifiers **ret);
void gpd_verifiers_free(struct gpd_verifiers *vs);
struct gpd_verifier_job *gpd_verifiers_submit(struct gpd_verifiers *vs, const char *password);
const char *gpd_verifier_wait(struct gpd_verifier_job *j);
void gpd_verifier_release(struct gpd_verifier_job *j);
