/*
 * pool.c: the worker pool (after curl's THRDPOOL-AND-QUEUE: the queue is
 * touched only under the mutex, the job itself runs unlocked).
 *
 * Invariant: queued + running <= nworkers, because the dispatcher claims
 * a marker only for a free slot.  So a daemon never holds claims it cannot
 * start, and other daemons on the same spool get the rest.  Each worker
 * keeps one state per backend (e.g. a CURL handle with its connection
 * pool) for its whole life.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"

struct pool {
	struct spool *sp;
	const struct config *cfg;
	char owner[64];
	int nworkers;
	int done_fd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char (*ring)[SPOOL_MARKER_MAX];
	int head, count; /* queued markers */
	int running;
	int stop;
	pthread_t *threads;
	int nthreads;
};

static void *
worker_main(void *arg)
{
	struct pool *p = arg;
	void *wstate[JOB_NBACKENDS] = {NULL};
	char marker[SPOOL_MARKER_MAX];
	uint64_t one = 1;
	int i;

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->count == 0 && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->count == 0) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		memcpy(marker, p->ring[p->head], sizeof(marker));
		p->head = (p->head + 1) % p->nworkers;
		p->count--;
		p->running++;
		pthread_mutex_unlock(&p->mu);

		job_run(p->sp, p->cfg, p->owner, marker, wstate);

		pthread_mutex_lock(&p->mu);
		p->running--;
		pthread_mutex_unlock(&p->mu);
		if (write(p->done_fd, &one, sizeof(one)) == -1 &&
		    errno != EAGAIN)
			log_warn("pool: eventfd");
	}
	for (i = 0; i < JOB_NBACKENDS; i++)
		if (wstate[i] != NULL && job_backends[i]->worker_free != NULL)
			job_backends[i]->worker_free(wstate[i]);
	return NULL;
}

struct pool *
pool_new(struct spool *sp, const struct config *cfg, const char *owner,
    int nworkers, int done_fd)
{
	struct pool *p;
	int i;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->sp = sp;
	p->cfg = cfg;
	snprintf(p->owner, sizeof(p->owner), "%s", owner);
	p->nworkers = nworkers;
	p->done_fd = done_fd;
	p->ring = calloc((size_t)nworkers, sizeof(*p->ring));
	p->threads = calloc((size_t)nworkers, sizeof(*p->threads));
	if (p->ring == NULL || p->threads == NULL)
		goto fail;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (i = 0; i < nworkers; i++) {
		if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0)
			break;
		p->nthreads++;
	}
	if (p->nthreads == 0)
		goto fail;
	if (p->nthreads < nworkers)
		log_warnx("pool: started only %d of %d workers", p->nthreads,
		    nworkers);
	p->nworkers = p->nthreads;
	return p;
fail:
	free(p->ring);
	free(p->threads);
	free(p);
	return NULL;
}

int
pool_free(struct pool *p)
{
	int n;

	pthread_mutex_lock(&p->mu);
	n = p->stop ? 0 : p->nworkers - p->count - p->running;
	pthread_mutex_unlock(&p->mu);
	return n;
}

int
pool_busy(struct pool *p)
{
	int n;

	pthread_mutex_lock(&p->mu);
	n = p->count + p->running;
	pthread_mutex_unlock(&p->mu);
	return n;
}

int
pool_push(struct pool *p, const char *marker)
{
	int rc = -1;

	pthread_mutex_lock(&p->mu);
	if (p->stop || p->count + p->running >= p->nworkers) {
		errno = EBUSY;
		goto out;
	}
	snprintf(p->ring[(p->head + p->count) % p->nworkers], SPOOL_MARKER_MAX,
	    "%s", marker);
	p->count++;
	pthread_cond_signal(&p->cv);
	rc = 0;
out:
	pthread_mutex_unlock(&p->mu);
	return rc;
}

void
pool_stop(struct pool *p)
{
	int i;

	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	/* Not started yet: give them back at once for another daemon. */
	while (p->count > 0) {
		if (spool_queue_release(p->sp, p->owner, p->ring[p->head]) ==
		    -1)
			log_warn("%s: hand back", p->ring[p->head]);
		else
			log_info("%s: handed back", p->ring[p->head]);
		p->head = (p->head + 1) % p->nworkers;
		p->count--;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	p->nthreads = 0;
}

void
pool_free_all(struct pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->ring);
	free(p->threads);
	free(p);
}
