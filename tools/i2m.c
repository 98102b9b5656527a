/*
 * i2m: the operators' tool for the spool.  It goes through libspool like
 * the web handlers do, so what it writes is exactly what an upload writes
 * (spool/README.md), and what it shows is what the API shows.
 *
 *   i2m submit [--model M] [--param K=V]... [--face-limit N] FILE...
 *   i2m list | show ID | cancel ID | retry ID | wait ID [--timeout S]
 *   i2m purge ID... | purge --older-than HOURS
 *   i2m config [KEY]     resolved configuration, for scripts
 *   i2m spend [YYYY-MM-DD]     what FAL was paid that day (UTC)
 *   --json anywhere: machine-readable output
 *
 * Exit codes: 0 done, 1 usage or bad input, 2 wait ended with failures,
 * 3 unknown id, 111 a temporary failure (spool unusable, disk full),
 * 124 wait timed out.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "i2m.h"
#include "spool.h"

#define EX_USAGE_ 1
#define EX_FAILED 2
#define EX_NOID 3
#define EX_TEMP 111
#define EX_TIMEOUT 124

static int json_out;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: i2m [--json] command ...\n"
	    "  submit [--model M] [--param K=V]... [--face-limit N] FILE...\n"
	    "  list                      batches, newest first\n"
	    "  show ID                   one batch and its files\n"
	    "  cancel ID                 cancel files not finished\n"
	    "  retry ID                  queue failed and cancelled files again\n"
	    "  wait ID [--timeout S]     until every file is finished\n"
	    "  purge ID... | purge --older-than HOURS\n"
	    "  config [KEY]              a resolved config value (all without KEY)\n"
	    "  lighttpd-auth             lighttpd's config block for API_KEYS\n"
	    "  spend [YYYY-MM-DD]        what FAL was paid that day (UTC)\n");
}

static void
print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(9));

	if (s != NULL) {
		printf("%s\n", s);
		free(s);
	}
}

/* One file from the command line into the submission; exit code or 0. */
static int
submit_file(struct spool_submit *s, const char *path)
{
	struct stat st;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		fprintf(stderr, "i2m: %s: %s\n", path, strerror(errno));
		rc = EX_USAGE_;
	} else if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "i2m: %s is not a regular file\n", path);
		rc = EX_USAGE_;
	} else if (spool_submit_file_fd(s, path, fd) == -1)
		rc = -1;
	if (fd != -1)
		close(fd);
	return rc;
}

/*
 * A thin adapter over the spool's submission rule (spool/submit.c):
 * --face-limit is the face_limit parameter, set before the --param
 * options so that an explicit --param face_limit=N wins.  A refusal is
 * the rule's sentence; exit 111 when it is the disk or the system, else 1.
 */
static int
cmd_submit(struct spool *sp, const struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"model", required_argument, NULL, 'm'},
	    {"param", required_argument, NULL, 'p'},
	    {"face-limit", required_argument, NULL, 'f'},
	    {NULL, 0, NULL, 0},
	};
	struct spool_submit s;
	const char *model = NULL, *face_limit = NULL;
	char **kv;
	int c, i, nkv = 0, rc = EX_USAGE_;

	kv = calloc((size_t)argc + 1, sizeof(*kv));
	if (kv == NULL)
		return EX_TEMP;
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:p:f:", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			model = optarg;
			break;
		case 'p':
			if (strchr(optarg, '=') == NULL) {
				fprintf(stderr,
				    "i2m: --param wants K=V, not \"%s\"\n",
				    optarg);
				free(kv);
				return EX_USAGE_;
			}
			kv[nkv++] = optarg;
			break;
		case 'f':
			face_limit = optarg;
			break;
		default:
			usage();
			free(kv);
			return EX_USAGE_;
		}
	}
	spool_submit_init(&s, sp, cfg);
	spool_submit_model(&s, model);
	if (face_limit != NULL)
		spool_submit_param(&s, "face_limit", face_limit);
	for (i = 0; i < nkv; i++) {
		char *eq = strchr(kv[i], '=');

		*eq = '\0';
		spool_submit_param(&s, kv[i], eq + 1);
	}
	for (i = optind; i < argc && s.err == SUBMIT_OK; i++)
		if ((rc = submit_file(&s, argv[i])) > 0)
			goto abort;
	rc = EX_USAGE_;
	if (spool_submit_commit(&s) == -1) {
		fprintf(stderr, "i2m: %s\n", s.msg);
		if (s.err == SUBMIT_NO_SPACE || s.err == SUBMIT_IO)
			rc = EX_TEMP;
		goto abort;
	}
	if (json_out) {
		/* clang-format off */
		json_t *j = json_pack("{s:s, s:s, s:i}",
		    "batch_id", s.id,
		    "model", s.model->id,
		    "total_files", s.nfiles);
		/* clang-format on */

		print_json(j);
		json_decref(j);
	} else
		printf("%s\n", s.id);
	spool_submit_free(&s);
	free(kv);
	return 0;
abort:
	spool_submit_abort(&s);
	free(kv);
	return rc;
}

static int
cmd_show(struct spool *sp, const char *id)
{
	json_t *s, *f;
	char when[32];
	size_t i;

	s = spool_batch_summary(sp, id);
	if (s == NULL) {
		fprintf(stderr, "i2m: no batch %s\n", id);
		return EX_NOID;
	}
	if (json_out) {
		print_json(s);
		json_decref(s);
		return 0;
	}
	i2m_fmt_time(json_integer_value(json_object_get(s, "created")), when,
	    sizeof(when));
	printf(
	    "batch    %s\nmodel    %s\ncreated  %s\nstatus   %s (%lld%%, %lld of %lld finished)\n",
	    id, json_string_value(json_object_get(s, "model")), when,
	    json_string_value(json_object_get(s, "status")),
	    json_integer_value(json_object_get(s, "progress")),
	    json_integer_value(json_object_get(s, "current")),
	    json_integer_value(json_object_get(s, "total")));
	json_array_foreach(json_object_get(s, "files"), i, f) {
		const char *e = json_string_value(json_object_get(f, "error"));

		printf("  %2zu  %-11s %3lld%%  %-28s %s\n", i,
		    json_string_value(json_object_get(f, "status")),
		    json_integer_value(json_object_get(f, "progress")),
		    json_string_value(json_object_get(f, "filename")),
		    e != NULL ? e
		        : json_string_value(json_object_get(f, "message"))
		        ? json_string_value(json_object_get(f, "message"))
		        : "");
	}
	json_decref(s);
	return 0;
}

struct list_ctx {
	struct spool *sp;
	json_t *arr;
};

static int
list_one(const char *id, void *arg)
{
	struct list_ctx *c = arg;
	json_t *s = spool_batch_summary(c->sp, id);

	if (s != NULL) {
		json_object_del(s, "files");
		json_array_append_new(c->arr, s);
	}
	return 0;
}

/* Every batch's summary without its files, in directory order. */
static json_t *
list_batches(struct spool *sp)
{
	struct list_ctx c = {sp, json_array()};

	spool_batch_foreach(sp, list_one, &c);
	return c.arr;
}

static int
by_created_desc(const void *a, const void *b)
{
	long long x =
	    json_integer_value(json_object_get(*(json_t *const *)a, "created"));
	long long y =
	    json_integer_value(json_object_get(*(json_t *const *)b, "created"));

	return x < y ? 1 : x > y ? -1 : 0;
}

static int
cmd_list(struct spool *sp)
{
	json_t *arr = list_batches(sp), *s, **v;
	size_t i, n = json_array_size(arr);
	char when[32];

	if (json_out) {
		print_json(arr);
		json_decref(arr);
		return 0;
	}
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL) {
		json_decref(arr);
		return EX_TEMP;
	}
	json_array_foreach(arr, i, s) {
		v[i] = s;
	}
	qsort(v, n, sizeof(*v), by_created_desc);
	for (i = 0; i < n; i++) {
		i2m_fmt_time(
		    json_integer_value(json_object_get(v[i], "created")), when,
		    sizeof(when));
		printf(
		    "%s  %s  %-12s %-10s %3lld%%  %lld/%lld done, %lld failed\n",
		    json_string_value(json_object_get(v[i], "batch_id")), when,
		    json_string_value(json_object_get(v[i], "model")),
		    json_string_value(json_object_get(v[i], "status")),
		    json_integer_value(json_object_get(v[i], "progress")),
		    json_integer_value(json_object_get(v[i], "current")),
		    json_integer_value(json_object_get(v[i], "total")),
		    json_integer_value(json_object_get(v[i], "failed")));
	}
	free(v);
	json_decref(arr);
	return 0;
}

static int
cmd_control(struct spool *sp, const char *what, const char *id)
{
	int n;

	n = strcmp(what, "cancel") == 0 ? spool_cancel(sp, id)
	                                : spool_retry(sp, id);
	if (n == -1) {
		if (errno == ENOENT) {
			fprintf(stderr, "i2m: no batch %s\n", id);
			return EX_NOID;
		}
		fprintf(stderr, "i2m: %s %s: %s\n", what, id, strerror(errno));
		return EX_TEMP;
	}
	if (json_out) {
		/* clang-format off */
		json_t *j = json_pack("{s:s, s:s, s:i}",
		    "batch_id", id,
		    "action", what,
		    "files", n);
		/* clang-format on */

		print_json(j);
		json_decref(j);
	} else
		printf("%s: %d file%s %s\n", id, n, n == 1 ? "" : "s",
		    strcmp(what, "cancel") == 0 ? "cancelled" : "queued again");
	return 0;
}

static int
cmd_wait(struct spool *sp, const char *id, double timeout)
{
	long long deadline = spool_now_ms() + (long long)(timeout * 1000);
	json_t *s;

	for (;;) {
		s = spool_batch_summary(sp, id);
		if (s == NULL) {
			fprintf(stderr, "i2m: no batch %s\n", id);
			return EX_NOID;
		}
		if (json_is_true(json_object_get(s, "finished"))) {
			int bad = json_integer_value(
			              json_object_get(s, "successful")) !=
			    json_integer_value(json_object_get(s, "total"));

			if (json_out)
				print_json(s);
			else
				printf("%s: %s\n", id,
				    json_string_value(
				        json_object_get(s, "result_status")));
			json_decref(s);
			return bad ? EX_FAILED : 0;
		}
		json_decref(s);
		if (timeout > 0 && spool_now_ms() > deadline) {
			fprintf(stderr, "i2m: %s not finished after %gs\n", id,
			    timeout);
			return EX_TIMEOUT;
		}
		usleep(50 * 1000);
	}
}

static int
purge_one(struct spool *sp, const char *id)
{
	if (!spool_id_valid(id)) {
		fprintf(stderr, "i2m: %s is not a batch id\n", id);
		return EX_NOID;
	}
	if (spool_batch_remove(sp, id) == -1) {
		if (errno == ENOENT) {
			fprintf(stderr, "i2m: no batch %s\n", id);
			return EX_NOID;
		}
		fprintf(stderr, "i2m: removing %s: %s\n", id, strerror(errno));
		return EX_TEMP;
	}
	if (!json_out)
		printf("%s: purged\n", id);
	return 0;
}

static int
cmd_purge(struct spool *sp, int argc, char **argv)
{
	json_t *arr, *s;
	size_t i;
	int k, rc = 0;

	if (argc >= 2 && strcmp(argv[0], "--older-than") == 0) {
		char *end;
		double h = strtod(argv[1], &end);
		long long cutoff;

		if (*end != '\0' || h < 0) {
			fprintf(stderr, "i2m: --older-than wants hours\n");
			return EX_USAGE_;
		}
		cutoff = spool_now_ms() - (long long)(h * 3600 * 1000);
		arr = list_batches(sp);
		json_array_foreach(arr, i, s) {
			const char *id =
			    json_string_value(json_object_get(s, "batch_id"));

			if (json_integer_value(json_object_get(s, "created")) <
			        cutoff &&
			    purge_one(sp, id) != 0)
				rc = EX_TEMP;
		}
		json_decref(arr);
		return rc;
	}
	if (argc == 0) {
		usage();
		return EX_USAGE_;
	}
	for (k = 0; k < argc; k++)
		if (purge_one(sp, argv[k]) != 0)
			rc = EX_NOID;
	return rc;
}

/*
 * config [KEY]: the value the programs would use (defaults, file and
 * environment resolved), so scripts never re-implement the config or a
 * formula derived from it (MAX_REQUEST_KB).  Secrets are never printed.
 */
static int
cmd_config(const struct config *cfg, int argc, char *argv[])
{
	char v[4096];
	const char *k;
	size_t i;

	if (argc == 1) {
		if (config_value(cfg, argv[0], v, sizeof(v)) == 0) {
			printf("%s\n", v);
			return 0;
		}
		if (errno == EPERM)
			fprintf(stderr,
			    "i2m: %s is a secret; it is not printed.\n",
			    argv[0]);
		else
			fprintf(stderr, "i2m: %s is not a configuration key.\n",
			    argv[0]);
		return EX_USAGE_;
	}
	if (argc != 0) {
		usage();
		return EX_USAGE_;
	}
	for (i = 0; (k = config_key_name(i)) != NULL; i++)
		if (config_value(cfg, k, v, sizeof(v)) == 0)
			printf("%s=%s\n", k, v);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct config cfg;
	struct spool sp;
	char err[512];
	const char *cmd;
	int i, j, rc;

	/* --json may come anywhere; take it out before the commands. */
	for (i = 1, j = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json_out = 1;
		else
			argv[j++] = argv[i];
	}
	argc = j;
	argv[argc] = NULL;
	if (argc < 2) {
		usage();
		return EX_USAGE_;
	}
	log_init("i2m", 0);
	umask(007);
	if (config_load(&cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "i2m: %s\n", err);
		return EX_USAGE_;
	}
	/* Before the spool: a script may ask before the spool exists. */
	if (strcmp(argv[1], "config") == 0)
		return cmd_config(&cfg, argc - 2, argv + 2);
	if (strcmp(argv[1], "lighttpd-auth") == 0 && argc == 2)
		return i2m_lighttpd_auth(&cfg);
	/* Root writes as the spool's owner, or not at all. */
	if (i2m_become_spool_owner(cfg.spool_dir, err, sizeof(err)) == -1) {
		fprintf(stderr, "i2m: %s\n", err);
		return EX_USAGE_;
	}
	if (spool_open(&sp, cfg.spool_dir, 1) == -1) {
		fprintf(stderr, "i2m: cannot open the spool %s: %s\n",
		    cfg.spool_dir, strerror(errno));
		return EX_TEMP;
	}
	sp.floor_mb = cfg.disk_floor_mb;
	cmd = argv[1];
	if (strcmp(cmd, "submit") == 0)
		rc = cmd_submit(&sp, &cfg, argc - 1, argv + 1);
	else if (strcmp(cmd, "list") == 0)
		rc = cmd_list(&sp);
	else if (strcmp(cmd, "show") == 0 && argc == 3)
		rc = cmd_show(&sp, argv[2]);
	else if ((strcmp(cmd, "cancel") == 0 || strcmp(cmd, "retry") == 0) &&
	    argc == 3)
		rc = cmd_control(&sp, cmd, argv[2]);
	else if (strcmp(cmd, "wait") == 0 &&
	    (argc == 3 || (argc == 5 && strcmp(argv[3], "--timeout") == 0)))
		rc = cmd_wait(&sp, argv[2], argc == 5 ? atof(argv[4]) : 0);
	else if (strcmp(cmd, "purge") == 0)
		rc = cmd_purge(&sp, argc - 2, argv + 2);
	else if (strcmp(cmd, "spend") == 0 && argc <= 3)
		rc = i2m_spend(&sp, &cfg, argc == 3 ? argv[2] : NULL, json_out);
	else {
		usage();
		rc = EX_USAGE_;
	}
	spool_close(&sp);
	return rc;
}
