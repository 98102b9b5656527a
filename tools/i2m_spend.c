/*
 * i2m_spend.c: `i2m spend [YYYY-MM-DD]`, the day's spend file
 * (spool/spend.c) for people: the total, what is left of today's
 * FAL_BUDGET_USD_PER_DAY (and what queued files hold of it), and one line
 * per FAL request; --json prints the file as it is.  An unknown price is shown as such, never as $0.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "i2m.h"

/* A time in ms since the epoch as local "YYYY-MM-DD HH:MM:SS" (i2m.h). */
void
i2m_fmt_time(long long ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

int
i2m_spend(
    struct spool *sp, const struct config *cfg, const char *day, int json_out)
{
	json_t *doc = spool_spend_get(sp, day), *e, *usd;
	long long n, unk;
	double left, held;
	int nheld;
	char when[32], err[512];
	size_t i;

	if (doc == NULL) {
		fprintf(stderr, "i2m: %s\n",
		    errno == EINVAL ? "give the day as YYYY-MM-DD"
		                    : strerror(errno));
		return errno == EINVAL ? 1 : 111;
	}
	n = json_integer_value(json_object_get(doc, "requests"));
	unk = json_integer_value(json_object_get(doc, "unknown_price"));
	if (json_out)
		json_dumpf(doc, stdout, JSON_COMPACT | JSON_REAL_PRECISION(9)),
		    putchar('\n');
	else
		printf(
		    "%s: $%.2f for %lld FAL request%s; %lld of unknown price (not in the total)\n",
		    json_string_value(json_object_get(doc, "day")),
		    json_number_value(json_object_get(doc, "total_usd")), n,
		    n == 1 ? "" : "s", unk);
	if (!json_out && day == NULL && cfg->fal_budget_usd_per_day > 0 &&
	    (spool_budget_check(sp, cfg, 0, &left, err, sizeof(err)) == 0 ||
	        errno == EDQUOT)) {
		printf("budget: $%.2f a day, $%.2f left today",
		    cfg->fal_budget_usd_per_day, left);
		if (spool_budget_held(sp, &held, &nheld) == 0 && nheld > 0)
			printf(" ($%.2f held by %d file%s queued or running)",
			    held, nheld, nheld == 1 ? "" : "s");
		putchar('\n');
	}
	json_array_foreach(
	    json_out ? NULL : json_object_get(doc, "entries"), i, e) {
		usd = json_object_get(e, "usd");
		i2m_fmt_time(json_integer_value(json_object_get(e, "at")), when,
		    sizeof(when));
		printf("  %s  %-36s  %s  ", when,
		    json_string_value(json_object_get(e, "file")),
		    json_string_value(json_object_get(e, "request_id")));
		printf(json_is_number(usd) ? "$%.2f\n" : "price unknown\n",
		    json_number_value(usd));
	}
	json_decref(doc);
	return 0;
}
