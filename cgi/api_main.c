/*
 * api_main.c: i2m-api.fcgi's router (api.h): one table of
 * {method, pattern, handler}, first matching row wins.
 *
 * A path no row matches is a 404; a path some row matches with another
 * method is a 405 whose Allow lists those rows' methods.  GET rows also
 * answer HEAD.  Segments are percent-decoded one by one before matching
 * (cgi/fcgi.c), so "%2F" never adds a level and ".." is just a name that
 * no batch has.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"

#define API_THREADS 16

struct route {
	const char *method;
	const char *pattern;
	api_handler fn;
};

static const struct route routes[] = {
    {"GET", "/health", api_health},
    {"GET", "/api/v1/health", api_health},
    {"GET", "/api/v1/health/readiness", api_readiness},
    {"GET", "/api/v1/health/liveness", api_liveness},
    {"GET", "/api/v1/health/detailed", api_health_detailed},
    {"GET", "/api/v1/health/metrics", api_metrics},
    {"GET", "/api/v1/models/available", api_models},
    {"GET", "/api/v1/batches", api_batches},
    {"GET", "/api/v1/status/tasks/*", api_status},
    {"GET", "/api/v1/status/tasks/*/status", api_status},
    {"POST", "/api/v1/status/tasks/*/cancel", api_cancel},
    {"POST", "/api/v1/status/tasks/*/retry", api_retry},
    {"GET", "/api/v1/download/*/all", api_download_list},
    {"GET", "/api/v1/download/*/all.zip", api_download_zip},
    {"GET", "/api/v1/download/*/*", api_download_file},
    {"GET", "/api/v1/qr/*/*", api_qr},
    {"GET", "/api/v1/thumbs/*/*", api_thumb},
    {"GET", "/api/v1/admin/disk-usage", api_admin_disk},
    {"GET", "/api/v1/admin/system-health", api_admin_system},
    {"GET", "/api/v1/admin/list-files", api_admin_files},
    {"POST", "/api/v1/admin/cleanup", api_admin_cleanup},
};

void
api_unknown_task(struct req *r, const char *id)
{
	cgi_error(r, 404, "TASK_NOT_FOUND",
	    json_pack(
	        "{s:s}", "task_id", spool_id_valid(id) ? id : "(invalid)"),
	    "There is no upload with this id; it may have expired.");
}

json_t *
api_summary_or_reply(struct req *r, const char *id)
{
	json_t *s = batch_summary(id, r->base);

	if (s != NULL)
		return s;
	if (errno == ENOENT || errno == ENOTDIR || errno == EINVAL)
		api_unknown_task(r, id);
	else
		cgi_error(r, 500, "INTERNAL_ERROR", NULL,
		    "The upload's data could not be read (%s).",
		    strerror(errno));
	return NULL;
}

void
api_iso_now(char *out, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char t[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, len, "%s.%03ldZ", t, ts.tv_nsec / 1000000);
}

/* 1 when r's path fits pattern; the segments of its "*"s go to arg. */
static int
path_matches(struct req *r, const char *pattern, const char **arg)
{
	const char *p = pattern;
	int i, nargs = 0;

	for (i = 0; i < r->nseg; i++) {
		size_t l;

		if (*p != '/')
			return 0;
		p++;
		l = strcspn(p, "/");
		if (l == 1 && *p == '*')
			arg[nargs++] = r->seg[i];
		else if (strlen(r->seg[i]) != l || strncmp(p, r->seg[i], l))
			return 0;
		p += l;
	}
	return *p == '\0';
}

static int
method_matches(const char *want, const char *method)
{
	return strcmp(want, method) == 0 ||
	    (strcmp(want, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void
api(struct req *r)
{
	const char *arg[CGI_SEGS];
	char allow[64] = "";
	size_t i;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		const char *m = routes[i].method;
		size_t l = strlen(allow);

		if (!path_matches(r, routes[i].pattern, arg))
			continue;
		if (method_matches(m, r->method)) {
			routes[i].fn(r, arg);
			return;
		}
		if (strstr(allow, m) == NULL)
			snprintf(allow + l, sizeof(allow) - l, "%s%s",
			    l > 0 ? ", " : "", m);
	}
	if (allow[0] != '\0')
		cgi_method_not_allowed(r, allow);
	else
		cgi_error(r, 404, "NOT_FOUND", NULL,
		    "There is nothing at this address.");
}

int
main(void)
{
	return cgi_main("i2m-api", API_THREADS, api);
}
