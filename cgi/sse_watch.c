/*
 * sse_watch.c: which batches changed, for i2m-sse (cgi/sse.h).
 *
 * One inotify instance per process (the per-user limit is 128
 * instances, so never one per stream), and one watch per batch that has
 * open streams, however many: reference counted, added by the first
 * stream of a batch and removed by its last.  A watch only says "look":
 * the writer renames state/seq into place after the status it names
 * (spool/status.c), so an IN_MOVED_TO of "seq" means a change may be
 * there, and the reader then reads state/seq itself.  When the kernel's
 * queue overflowed (IN_Q_OVERFLOW), events were lost and every watched
 * batch is looked at again; the directory is the truth.  A watch whose
 * directory was removed (IN_IGNORED) is reported once more, so its
 * streams find the batch gone.
 *
 * Watches are found by batch id (a new stream) and by watch descriptor
 * (an event) through two small hash tables; everything runs in the one
 * thread of the loop, so nothing here is locked.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgi.h"
#include "sse.h"

#define BUCKETS 4096
#define MASK (IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_EXCL_UNLINK)

static int ifd = -1;
static struct sse_watch *by_id[BUCKETS], *by_wd[BUCKETS];

static unsigned
hash_id(const char *id)
{
	unsigned h = 2166136261u;

	while (*id != '\0')
		h = (h ^ (unsigned char)*id++) * 16777619u;
	return h % BUCKETS;
}

static unsigned
hash_wd(int wd)
{
	return (unsigned)wd % BUCKETS;
}

int
sse_watch_init(void)
{
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	return ifd;
}

static void
unlink_wd(struct sse_watch *w)
{
	struct sse_watch **pp;

	if (w->wd < 0)
		return;
	for (pp = &by_wd[hash_wd(w->wd)]; *pp != NULL; pp = &(*pp)->next_wd)
		if (*pp == w) {
			*pp = w->next_wd;
			break;
		}
	w->wd = -1;
}

struct sse_watch *
sse_watch_get(const char *id)
{
	unsigned h = hash_id(id);
	struct sse_watch *w;

	for (w = by_id[h]; w != NULL; w = w->next_id)
		if (strcmp(w->id, id) == 0) {
			w->refs++;
			return w;
		}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->wd = spool_state_watch(&cgi.sp, ifd, id, MASK);
	if (w->wd == -1) {
		int saved = errno == ENOTDIR ? ENOENT : errno;

		free(w);
		errno = saved;
		return NULL;
	}
	memcpy(w->id, id, sizeof(w->id));
	w->refs = 1;
	w->next_id = by_id[h];
	by_id[h] = w;
	w->next_wd = by_wd[hash_wd(w->wd)];
	by_wd[hash_wd(w->wd)] = w;
	return w;
}

void
sse_watch_put(struct sse_watch *w)
{
	struct sse_watch **pp;

	if (--w->refs > 0)
		return;
	if (w->wd >= 0)
		inotify_rm_watch(ifd, w->wd);
	unlink_wd(w);
	for (pp = &by_id[hash_id(w->id)]; *pp != NULL; pp = &(*pp)->next_id)
		if (*pp == w) {
			*pp = w->next_id;
			break;
		}
	free(w);
}

static struct sse_watch *
find_wd(int wd)
{
	struct sse_watch *w;

	for (w = by_wd[hash_wd(wd)]; w != NULL; w = w->next_wd)
		if (w->wd == wd)
			return w;
	return NULL;
}

/* Put w on the list of watches to report (once per read). */
static void
mark(struct sse_watch *w, struct sse_watch **dirty)
{
	if (w == NULL || w->dirty)
		return;
	w->dirty = 1;
	w->next_dirty = *dirty;
	*dirty = w;
}

void
sse_watch_read(void (*changed)(struct sse_watch *w, void *arg), void *arg)
{
	char buf[65536]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	struct sse_watch *dirty = NULL, *w;
	int overflow = 0, i;
	ssize_t n;

	while ((n = read(ifd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			const struct inotify_event *e = (const void *)p;

			p += sizeof(*e) + e->len;
			if (e->mask & IN_Q_OVERFLOW) {
				overflow = 1;
				continue;
			}
			w = find_wd(e->wd);
			if (w == NULL)
				continue; /* a watch removed meanwhile */
			if (e->mask & IN_IGNORED) {
				unlink_wd(w);
				mark(w, &dirty);
			} else if (e->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
				mark(w, &dirty);
			else if (e->len > 0 && strcmp(e->name, "seq") == 0)
				mark(w, &dirty);
		}
	}
	if (overflow)
		for (i = 0; i < BUCKETS; i++)
			for (w = by_id[i]; w != NULL; w = w->next_id)
				mark(w, &dirty);
	/*
	 * Hold a reference while reporting: the callback may end every
	 * stream of a batch, which would free its watch under us.
	 */
	for (w = dirty; w != NULL; w = w->next_dirty)
		w->refs++;
	while (dirty != NULL) {
		w = dirty;
		dirty = w->next_dirty;
		w->dirty = 0;
		changed(w, arg);
		sse_watch_put(w);
	}
}
