/*
 * verifiers.c — one thread that computes SCRAM verifiers ahead of the statements that set
 * them (verifiers.h). A mutex guards the list of jobs not yet released (in the order they
 * were asked for) and every job's state; the thread computes with the lock released, on the
 * job's copy of the password, which nobody else reads meanwhile. The list is short: a pass
 * asks for one verifier per entry under way.
 */
#include "verifiers.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "base/util.h"
#include "codec/scram.h"
#include "codec/secret.h"

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct gpd_verifier_job {
	struct gpd_verifiers *vs;
	struct gpd_verifier_job *next; /* in vs->jobs */
	enum job_state state;
	bool released;  /* its owner let go while it ran: the thread frees it */
	char *password; /* wiped and freed once computed */
	char *verifier; /* NULL when it could not be made */
};

struct gpd_verifiers {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job was queued, or stop */
	pthread_cond_t done; /* a job was computed */
	struct gpd_verifier_job *jobs; /* not released, oldest first */
	bool started;                  /* the thread runs (from the first job on) */
	bool stop;
};

static void
job_free(struct gpd_verifier_job *j)
{
	gp_secret_free_string(j->password);
	gp_secret_free_string(j->verifier);
	free(j);
}

static char *
compute(const char *password)
{
	unsigned char salt[GP_SCRAM_SALT_LEN];
	char *v = NULL;

	if (RAND_bytes(salt, sizeof(salt)) != 1 ||
	    gp_scram_verifier(password, salt, sizeof(salt), GP_SCRAM_ITERATIONS, &v) < 0)
		return NULL;
	return v;
}

static struct gpd_verifier_job *
first_queued(const struct gpd_verifiers *vs)
{
	struct gpd_verifier_job *j = vs->jobs;

	while (j && j->state != JOB_QUEUED)
		j = j->next;
	return j;
}

static void *
worker(void *arg)
{
	struct gpd_verifiers *vs = arg;

	pthread_mutex_lock(&vs->lock);
	for (;;) {
		struct gpd_verifier_job *j;
		char *v;

		while (!vs->stop && !first_queued(vs))
			pthread_cond_wait(&vs->work, &vs->lock);
		if (vs->stop)
			break;
		j = first_queued(vs);
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&vs->lock);
		v = compute(j->password);
		pthread_mutex_lock(&vs->lock);
		gp_secret_free_string(TAKE_PTR(j->password));
		j->verifier = v;
		j->state = JOB_DONE;
		if (j->released) /* its owner let go meanwhile (and unlinked it) */
			job_free(j);
		pthread_cond_broadcast(&vs->done);
	}
	pthread_mutex_unlock(&vs->lock);
	return NULL;
}

int
gpd_verifiers_new(struct gpd_verifiers **ret)
{
	struct gpd_verifiers *vs = calloc(1, sizeof(*vs));

	if (!vs)
		return -ENOMEM;
	pthread_mutex_init(&vs->lock, NULL);
	pthread_cond_init(&vs->work, NULL);
	pthread_cond_init(&vs->done, NULL);
	*ret = vs;
	return 0;
}

void
gpd_verifiers_free(struct gpd_verifiers *vs)
{
	if (!vs)
		return;
	pthread_mutex_lock(&vs->lock);
	vs->stop = true;
	pthread_cond_signal(&vs->work);
	pthread_mutex_unlock(&vs->lock);
	if (vs->started)
		pthread_join(vs->thread, NULL);
	/* The jobs not yet released belong to owners that release them later: they keep what
	 * was computed (a queued one stays without a verifier). */
	for (struct gpd_verifier_job *j = vs->jobs, *next; j; j = next) {
		next = j->next;
		j->vs = NULL;
		j->next = NULL;
	}
	pthread_cond_destroy(&vs->done);
	pthread_cond_destroy(&vs->work);
	pthread_mutex_destroy(&vs->lock);
	free(vs);
}

struct gpd_verifier_job *
gpd_verifiers_submit(struct gpd_verifiers *vs, const char *password)
{
	struct gpd_verifier_job *j, **pp;

	if (!vs || !password)
		return NULL;
	/* A pass without a new password (most) never starts the thread. */
	if (!vs->started) {
		if (pthread_create(&vs->thread, NULL, worker, vs) != 0)
			return NULL;
		vs->started = true;
	}
	j = calloc(1, sizeof(*j));
	if (!j || !(j->password = strdup(password))) {
		free(j);
		return NULL;
	}
	j->vs = vs;
	pthread_mutex_lock(&vs->lock);
	for (pp = &vs->jobs; *pp; pp = &(*pp)->next)
		;
	*pp = j;
	pthread_cond_signal(&vs->work);
	pthread_mutex_unlock(&vs->lock);
	return j;
}

const char *
gpd_verifier_wait(struct gpd_verifier_job *j)
{
	struct gpd_verifiers *vs = j ? j->vs : NULL;
	const char *v;

	if (!vs)
		return j ? j->verifier : NULL;
	pthread_mutex_lock(&vs->lock);
	while (j->state != JOB_DONE && !vs->stop)
		pthread_cond_wait(&vs->done, &vs->lock);
	v = j->state == JOB_DONE ? j->verifier : NULL;
	pthread_mutex_unlock(&vs->lock);
	return v;
}

void
gpd_verifier_release(struct gpd_verifier_job *j)
{
	struct gpd_verifiers *vs = j ? j->vs : NULL;
	struct gpd_verifier_job **pp;

	if (!j)
		return;
	if (!vs) { /* the thread is gone: nobody else holds it */
		job_free(j);
		return;
	}
	pthread_mutex_lock(&vs->lock);
	for (pp = &vs->jobs; *pp != j; pp = &(*pp)->next)
		;
	*pp = j->next;
	if (j->state == JOB_RUNNING) {
		j->released = true; /* the thread frees it when it is done with it */
		j = NULL;
	}
	pthread_mutex_unlock(&vs->lock);
	if (j)
		job_free(j);
}
