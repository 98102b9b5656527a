/*
 * spend.c: what FAL was paid, for the operator and the daily budget.
 *
 * One file per UTC day, spend/<YYYY-MM-DD>.json (see spool/README.md),
 * replaced whole (temp file, fsync, rename) under an flock of spend/.lock,
 * so a reader never sees half of it and two daemons never lose an entry.
 * The FAL backend counts a request when FAL completes it; the request id
 * is the key, looked up in that day's file and the day before, so a retry
 * or a resume after a crash (even across midnight) never counts twice.
 * An entry whose price is unknown is kept with "usd": null and counted in
 * "unknown_price", never as 0.
 *
 * The daily budget is held to what is spent plus what is held: the price
 * of every FAL file still queued or running (a queue marker and no result
 * in its request record), read from the queue itself, so nothing has to
 * be released when a file is cancelled, fails or is removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

#define SPEND_CAP (64L * 1024 * 1024)
#define RID_MAX 256

void
spool_spend_day(long long ms, char out[SPOOL_DAY_LEN + 1])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, SPOOL_DAY_LEN + 1, "%Y-%m-%d", &tm) != SPOOL_DAY_LEN)
		snprintf(out, SPOOL_DAY_LEN + 1, "1970-01-01");
}

/* "YYYY-MM-DD" and a real date: the only names built from a day. */
static int
day_valid(const char *day, time_t *t)
{
	struct tm tm;
	char back[SPOOL_DAY_LEN + 1];
	char *end;

	memset(&tm, 0, sizeof(tm));
	if (day == NULL || strlen(day) != SPOOL_DAY_LEN)
		return 0;
	end = strptime(day, "%Y-%m-%d", &tm);
	if (end == NULL || *end != '\0')
		return 0;
	*t = timegm(&tm);
	spool_spend_day((long long)*t * 1000, back);
	return strcmp(back, day) == 0;
}

static int
spend_dir(struct spool *sp)
{
	if (spool_mkdir(sp->root, "spend", 0770) == -1)
		return -1;
	return openat(sp->root, "spend", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* The day's document; an empty one when the file does not exist. */
static json_t *
spend_load(int dir, const char *day)
{
	char name[32];
	json_t *j;

	snprintf(name, sizeof(name), "%s.json", day);
	j = spool_read_json(dir, name, SPEND_CAP);
	if (j != NULL && json_is_array(json_object_get(j, "entries")))
		return j;
	if (j != NULL) {
		/* Not ours: keep it for the operator, count nothing over it. */
		json_decref(j);
		errno = EBADMSG;
		return NULL;
	}
	if (errno != ENOENT)
		return NULL;
	/* clang-format off */
	return json_pack("{s:s, s:f, s:i, s:i, s:[]}",
	    "day", day,
	    "total_usd", 0.0,
	    "requests", 0,
	    "unknown_price", 0,
	    "entries");
	/* clang-format on */
}

static int
has_request(json_t *doc, const char *rid)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(doc, "entries"), i, e) {
		const char *r =
		    json_string_value(json_object_get(e, "request_id"));

		if (r != NULL && strcmp(r, rid) == 0)
			return 1;
	}
	return 0;
}

/* Add the entry and bring the totals up to date. */
static int
spend_append(json_t *doc, double usd, const char *rid, const char *file)
{
	double total = json_number_value(json_object_get(doc, "total_usd"));
	json_int_t n = json_integer_value(json_object_get(doc, "requests"));
	json_int_t unk =
	    json_integer_value(json_object_get(doc, "unknown_price"));
	json_t *e;

	/* clang-format off */
	e = json_pack("{s:s, s:s, s:o, s:I}",
	    "request_id", rid,
	    "file", file != NULL ? file : "",
	    "usd", usd < 0 ? json_null() : json_real(usd),
	    "at", (json_int_t)spool_now_ms());
	/* clang-format on */
	if (e == NULL ||
	    json_array_append_new(json_object_get(doc, "entries"), e) == -1)
		return -1;
	if (usd >= 0)
		total = round((total + usd) * 10000.0) / 10000.0;
	else
		unk++;
	if (json_object_set_new(doc, "total_usd", json_real(total)) == -1 ||
	    json_object_set_new(doc, "requests", json_integer(n + 1)) == -1 ||
	    json_object_set_new(doc, "unknown_price", json_integer(unk)) == -1)
		return -1;
	return 0;
}

/* Indented, so that `cat` shows one entry per few lines. */
static int
spend_write(int dir, const char *day, json_t *doc)
{
	char name[32], *s;
	int rc;

	snprintf(name, sizeof(name), "%s.json", day);
	s = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	if (s == NULL) {
		errno = ENOMEM;
		return -1;
	}
	rc = spool_write_atomic(dir, name, s, strlen(s));
	free(s);
	return rc;
}

int
spool_spend_add(struct spool *sp, const char *day, double usd,
    const char *request_id, const char *file)
{
	char today[SPOOL_DAY_LEN + 1], prev[SPOOL_DAY_LEN + 1];
	json_t *doc = NULL, *before = NULL;
	int dir = -1, lock = -1, rc = -1;
	time_t t;

	if (day == NULL) {
		spool_spend_day(spool_now_ms(), today);
		day = today;
	}
	if (!day_valid(day, &t) || request_id == NULL ||
	    request_id[0] == '\0' || strlen(request_id) > RID_MAX) {
		errno = EINVAL;
		return -1;
	}
	spool_spend_day(((long long)t - 86400) * 1000, prev);
	if ((dir = spend_dir(sp)) == -1)
		goto out;
	lock = openat(dir, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (lock == -1 || flock(lock, LOCK_EX) == -1)
		goto out;
	doc = spend_load(dir, day);
	before = spend_load(dir, prev);
	if (doc == NULL || before == NULL)
		goto out;
	if (has_request(doc, request_id) || has_request(before, request_id)) {
		rc = 0;
		goto out;
	}
	if (spend_append(doc, usd, request_id, file) == -1) {
		errno = ENOMEM;
		goto out;
	}
	if (spend_write(dir, day, doc) == -1)
		goto out;
	rc = 1;
out:
	json_decref(doc);
	json_decref(before);
	if (lock != -1)
		close(lock); /* releases the flock */
	if (dir != -1)
		close(dir);
	return rc;
}

json_t *
spool_spend_get(struct spool *sp, const char *day)
{
	char today[SPOOL_DAY_LEN + 1];
	json_t *doc;
	time_t t;
	int dir;

	if (day == NULL) {
		spool_spend_day(spool_now_ms(), today);
		day = today;
	}
	if (!day_valid(day, &t)) {
		errno = EINVAL;
		return NULL;
	}
	dir = openat(sp->root, "spend", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir == -1 && errno != ENOENT)
		return NULL;
	if (dir == -1)
		return json_pack("{s:s, s:f, s:i, s:i, s:[]}", "day", day,
		    "total_usd", 0.0, "requests", 0, "unknown_price", 0,
		    "entries");
	doc = spend_load(dir, day);
	close(dir);
	return doc;
}

/* One file's price at FAL from its batch (0 for other providers). */
static double
batch_file_price(struct spool *sp, const char *id)
{
	json_t *b = spool_batch_get(sp, id);
	const struct model_info *m;
	double usd = 0;

	if (b == NULL)
		return 0; /* removed meanwhile: nothing will run */
	m = models_find(json_string_value(json_object_get(b, "model")));
	if (m != NULL && strcmp(m->provider, "fal") == 0) {
		usd = models_price(m, json_object_get(b, "params"));
		if (usd < 0)
			usd = 0;
	}
	json_decref(b);
	return usd;
}

/* 1 when file's request record holds a result (paid, in the spend file). */
static int
file_has_result(struct spool *sp, const char *id, int file)
{
	json_t *rec = spool_remote_get(sp, id, file);
	int has = json_object_get(rec, "result") != NULL;

	json_decref(rec);
	return has;
}

int
spool_budget_held(struct spool *sp, double *usd, int *files)
{
	struct spool_marker *v;
	json_t *prices = NULL, *p;
	size_t i, n;
	double price;

	*usd = 0;
	*files = 0;
	if (spool_queue_list_all(sp, &v, &n) == -1)
		return -1;
	/* Each batch's price is read once, however many files it has. */
	prices = json_object();
	for (i = 0; prices != NULL && i < n; i++) {
		p = json_object_get(prices, v[i].id);
		if (p == NULL) {
			p = json_real(batch_file_price(sp, v[i].id));
			if (json_object_set_new(prices, v[i].id, p) == -1)
				break;
		}
		price = json_real_value(p);
		if (price > 0 && !file_has_result(sp, v[i].id, v[i].file)) {
			*usd += price;
			(*files)++;
		}
	}
	free(v);
	if (prices == NULL || i < n) {
		json_decref(prices);
		errno = ENOMEM;
		return -1;
	}
	json_decref(prices);
	return 0;
}

int
spool_budget_check(struct spool *sp, const struct config *c, double estimate,
    double *left, char *err, size_t errlen)
{
	double cap = c->fal_budget_usd_per_day, spent, held;
	char why[96] = "";
	json_t *doc;
	int nheld;

	*left = -1;
	if (cap <= 0)
		return 0;
	doc = spool_spend_get(sp, NULL);
	if (doc == NULL) {
		snprintf(err, errlen,
		    "Today's FAL spending could not be read (%s); try again.",
		    strerror(errno));
		return -1;
	}
	spent = json_number_value(json_object_get(doc, "total_usd"));
	json_decref(doc);
	if (spool_budget_held(sp, &held, &nheld) == -1) {
		snprintf(err, errlen,
		    "What queued files will cost at FAL could not be read (%s); try again.",
		    strerror(errno));
		return -1;
	}
	spent += held;
	*left = cap - spent > 0 ? round((cap - spent) * 100.0) / 100.0 : 0;
	if (estimate < 0) {
		snprintf(err, errlen,
		    "The price of this model at FAL is unknown, so it cannot be held to today's budget: $%.2f of $%.2f is left (FAL_BUDGET_USD_PER_DAY).",
		    *left, cap);
		errno = EDQUOT;
		return -1;
	}
	if (estimate > cap - spent + 0.00005) {
		if (nheld > 0)
			snprintf(why, sizeof(why),
			    " ($%.2f is held by %d file%s still queued or running at FAL)",
			    held, nheld, nheld == 1 ? "" : "s");
		snprintf(err, errlen,
		    "This upload would cost about $%.2f at FAL, but only $%.2f of today's budget of $%.2f is left%s; send fewer files or a cheaper model, or wait until tomorrow (UTC).",
		    estimate, *left, cap, why);
		errno = EDQUOT;
		return -1;
	}
	return 0;
}
