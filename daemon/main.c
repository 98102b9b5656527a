/*
 * main.c: i2m-daemon, the spool's worker.
 *
 * Start-up, in this order (spool/README.md, "Recovery"): register in the
 * spool (its lock is held before the name is visible, spool/daemons.c),
 * watch the queue with inotify, recover dead daemons' claims, then scan.  The
 * main loop waits in poll(2) on inotify (a hint), a signalfd, a 1 s
 * timerfd (heartbeat, periodic rescan, sweeps) and an eventfd the workers
 * bump when a job ends (a slot is free: scan again).  Webhooks are sent by
 * their own thread (webhook.c), woken by inotify on webhooks/new.  SIGTERM/SIGINT stop
 * claiming, hand back what has not started, let running jobs finish or
 * hand themselves back, and exit 0 with nothing lost.
 *
 * Exit codes: 0 stopped by a signal, 1 usage or configuration,
 * 111 a temporary failure (spool unusable, another problem to retry).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "daemon.h"

#define RESCAN_S 60
#define HEARTBEAT_S 2
#define SWEEP_S 60
#define RETENTION_S 600

struct daemon {
	struct config cfg;
	struct spool sp;
	struct spool_daemon me; /* our name and lock in daemons/ */
	long long started;
	int ino, sigfd, timfd, donefd;
	struct pool *pool;
	int paused_disk;
};

static void
usage(void)
{
	fprintf(stderr,
	    "usage: i2m-daemon [-v]\n"
	    "  Watches SPOOL_DIR and turns queued images into 3D models.\n"
	    "  Configuration: image2model.conf or $I2M_CONFIG, and the environment.\n");
}

static void
heartbeat(struct daemon *d)
{
	struct spool_beat b;

	b.started = d->started;
	b.workers = d->cfg.workers;
	b.busy = pool_busy(d->pool);
	b.paused = d->paused_disk ? "disk below DISK_FLOOR_MB" : NULL;
	/* "backends" and what each backend's status() says. */
	b.health = job_backends_status(&d->cfg);
	if (spool_daemon_beat(&d->sp, &d->me, &b) == -1)
		log_warn("heartbeat");
	json_decref(b.health);
}

/* Claim what fits; returns 1 when markers were left waiting. */
static int
dispatch(struct daemon *d)
{
	int more = 0;

	if (atomic_load(&daemon_stopping))
		return 0;
	if (spool_check_space(&d->sp) == -1) {
		if (!d->paused_disk)
			log_warnx(
			    "free disk is below DISK_FLOOR_MB=%lld; not taking new work until space is freed",
			    d->cfg.disk_floor_mb);
		d->paused_disk = 1;
		return 1;
	}
	if (d->paused_disk)
		log_info("free disk is above the floor again; taking work");
	d->paused_disk = 0;
	scan_claim(&d->sp, d->me.name, d->pool, &more);
	return more;
}

static int
setup_fds(struct daemon *d)
{
	struct itimerspec its = {{1, 0}, {1, 0}};
	sigset_t set;

	d->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ino == -1 || spool_queue_watch(&d->sp, d->ino) == -1 ||
	    spool_webhook_watch(&d->sp, d->ino) == -1)
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before the workers start, so only the signalfd sees them. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	d->timfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	d->donefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->sigfd == -1 || d->timfd == -1 || d->donefd == -1)
		return -1;
	return timerfd_settime(d->timfd, 0, &its, NULL);
}

/* Drain inotify; -1 when the watched directory went away. */
static int
drain_inotify(struct daemon *d)
{
	char buf[8192]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(d->ino, buf, sizeof(buf))) > 0) {
		char *p;

		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			if (ev->mask &
			    (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF |
			        IN_UNMOUNT))
				return -1;
			if (ev->mask & IN_Q_OVERFLOW)
				log_info("inotify overflow; full rescan");
			p += sizeof(*ev) + ev->len;
		}
	}
	return 0;
}

static int
drain(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v) ? (int)v : 0;
}

static int
run(struct daemon *d)
{
	struct pollfd pfd[4];
	time_t last_scan = time(NULL), last_sweep = last_scan;
	time_t last_beat = 0, last_ret = 0;
	int more;

	more = dispatch(d);
	heartbeat(d);
	while (!atomic_load(&daemon_stopping)) {
		struct signalfd_siginfo si;
		time_t now;
		int scan = 0;

		pfd[0] = (struct pollfd){d->ino, POLLIN, 0};
		pfd[1] = (struct pollfd){d->sigfd, POLLIN, 0};
		pfd[2] = (struct pollfd){d->timfd, POLLIN, 0};
		pfd[3] = (struct pollfd){d->donefd, POLLIN, 0};
		if (poll(pfd, 4, -1) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("poll");
			return -1;
		}
		if (pfd[1].revents & POLLIN) {
			while (read(d->sigfd, &si, sizeof(si)) == sizeof(si))
				log_info("signal %u: stopping", si.ssi_signo);
			atomic_store(&daemon_stopping, 1);
			break;
		}
		if (pfd[0].revents & POLLIN) {
			if (drain_inotify(d) == -1) {
				log_warnx(
				    "the queue directory went away; exiting");
				return -1;
			}
			scan = 1;
			webhook_kick(); /* webhooks/new may have changed */
		}
		if ((pfd[3].revents & POLLIN) && drain(d->donefd) > 0 && more)
			scan = 1;
		now = time(NULL);
		if (pfd[2].revents & POLLIN) {
			drain(d->timfd);
			if (now - last_scan >= RESCAN_S || d->paused_disk)
				scan = 1;
			if (now - last_beat >= HEARTBEAT_S) {
				heartbeat(d);
				last_beat = now;
			}
			if (now - last_sweep >= SWEEP_S) {
				scan_recover(&d->sp, d->me.name);
				last_sweep = now;
				scan = 1;
			}
			if (now - last_ret >= RETENTION_S) {
				scan_retention(&d->sp, d->cfg.retention_hours);
				last_ret = now;
			}
		}
		if (scan) {
			more = dispatch(d);
			last_scan = now;
		}
	}
	return 0;
}

static void
shutdown_daemon(struct daemon *d)
{
	/* First: it interrupts a delivery at once, the pool may take long. */
	webhook_stop();
	if (d->pool != NULL) {
		pool_stop(d->pool);
		pool_free_all(d->pool);
		d->pool = NULL;
	}
	spool_daemon_unregister(&d->sp, &d->me);
}

int
main(int argc, char *argv[])
{
	static struct daemon d;
	char err[512];
	int c, verbose = 0, rc = 111, n;

	while ((c = getopt(argc, argv, "vh")) != -1) {
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
			return 1;
		}
	}
	log_init("i2m-daemon", verbose);
	umask(007);
	if (config_load(&d.cfg, err, sizeof(err)) == -1 ||
	    job_backends_check(&d.cfg, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return 1;
	}
	/* The keys stay in d.cfg: no child or /proc reader sees them. */
	config_scrub_env();
	d.me.lockfd = d.ino = d.sigfd = d.timfd = d.donefd = -1;
	d.started = spool_now_ms();
	if (spool_open(&d.sp, d.cfg.spool_dir, 1) == -1) {
		log_warn("cannot open the spool %s", d.cfg.spool_dir);
		return 111;
	}
	d.sp.floor_mb = d.cfg.disk_floor_mb;
	if (spool_daemon_register(&d.sp, &d.me) == -1) {
		log_warn("cannot register in the spool %s", d.cfg.spool_dir);
		goto out;
	}
	/* Before any thread: libcurl and jansson global set-up. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_warnx("curl_global_init failed");
		goto out;
	}
	json_object_seed(0);
	if (spool_webhook_init(&d.sp) == -1) {
		log_warn(
		    "cannot make the webhook queue in %s", d.cfg.spool_dir);
		goto out;
	}
	if (setup_fds(&d) == -1) {
		log_warn("set-up");
		goto out;
	}
	n = scan_recover(&d.sp, d.me.name);
	if (n > 0)
		log_info("recovered the claims of %d dead daemon(s)", n);
	scan_retention(&d.sp, d.cfg.retention_hours);
	d.pool = pool_new(&d.sp, &d.cfg, d.me.name, d.cfg.workers, d.donefd);
	if (d.pool == NULL) {
		log_warn("cannot start the workers");
		goto out;
	}
	/* After setup_fds: the thread inherits the blocked signals. */
	if (webhook_start(&d.sp, &d.cfg, d.me.name) == -1) {
		log_warn("cannot start the webhook sender");
		goto out;
	}
	log_info("%s: watching %s with %d workers (default model %s)",
	    d.me.name, d.cfg.spool_dir, d.cfg.workers, models_default(&d.cfg));
	rc = run(&d) == 0 ? 0 : 111;
out:
	shutdown_daemon(&d);
	spool_close(&d.sp);
	curl_global_cleanup();
	log_info("stopped");
	return rc;
}
