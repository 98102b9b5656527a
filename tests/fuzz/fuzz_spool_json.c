/*
 * fuzz_spool_json.c: every reader of the spool's JSON files, and what the
 * API makes of them: batch.json (spool_batch_get, the batch summary, the
 * status and result objects and download names of cgi/batch.c), a state
 * file (spool_status_get, the summary), a remote record
 * (spool_remote_get), a heartbeat (spool_daemons_alive), state/seq
 * (spool_seq_get) and a spend file (spool_spend_get).  Byte 0 picks the
 * file, the rest is its content; the other files are valid.  The files
 * are written from outside, as an operator's editor or a torn disk
 * would (tests look at the spool from outside on purpose).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgi.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID "0123456789abcdef0123456789abcdef"

static const char batch[] =
    "{\"batch_id\":\"" ID "\",\"created\":1764337200123,\"model\":\"local\","
    "\"params\":{\"mode\":\"auto\"},\"face_limit\":null,\"total_files\":2,"
    "\"files\":[{\"file_id\":\"0\",\"filename\":\"chair.png\",\"input\":"
    "\"in/0.png\",\"content_type\":\"image/png\",\"file_size\":93377},"
    "{\"file_id\":\"1\",\"filename\":\"chair.png\",\"input\":\"in/1.png\","
    "\"content_type\":\"image/png\",\"file_size\":93377}]}";
static const char state[] =
    "{\"file_id\":\"1\",\"filename\":\"chair.png\",\"status\":\"completed\","
    "\"progress\":100,\"queue_position\":null,\"message\":\"Model ready\","
    "\"error\":null,\"seq\":7,\"updated\":1764337200456,\"attempt\":1,"
    "\"model_file\":\"1.glb\",\"file_size\":734512}";

static struct spool sp;
static char root[256];

static void
put(const char *rel, const void *p, size_t n)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	if (fd == -1)
		abort();
	if (n > 0 && write(fd, p, n) != (ssize_t)n)
		abort();
	close(fd);
}

static void
mk(const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdir(path, 0770);
}

static void
setup(void)
{
	struct spool_daemon d;

	snprintf(root, sizeof(root), "/tmp/i2m-fuzz-spool.%d", (int)getpid());
	if (spool_open(&sp, root, 1) == -1)
		abort();
	mk("batches");
	mk("batches/" ID);
	mk("batches/" ID "/state");
	mk("batches/" ID "/remote");
	mk("batches/" ID "/out");
	mk("batches/" ID "/in");
	mk("batches/" ID "/cancel");
	mk("daemons");
	mk("spend");
	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "d-fuzz00000000");
	if (spool_daemon_register(&sp, &d) == -1)
		abort();
	/* The registration stays for the process: its lock is held. */
}

static void
api_views(void)
{
	json_t *sum = spool_batch_summary(&sp, ID), *names, *o;
	size_t i;

	if (sum == NULL)
		return;
	names = batch_names(sum);
	o = batch_status_json(ID, "http://127.0.0.1:8080", sum);
	json_decref(o);
	o = batch_result_json(ID, "http://127.0.0.1:8080", sum, names);
	json_decref(o);
	for (i = 0; i < 3; i++) {
		o = batch_file_json(ID, "http://127.0.0.1:8080", sum, names, i);
		json_decref(o);
	}
	json_decref(names);
	json_decref(sum);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	json_t *j;

	if (size < 1)
		return 0;
	if (!ready) {
		setup();
		ready = 1;
	}
	put("batches/" ID "/batch.json", batch, sizeof(batch) - 1);
	put("batches/" ID "/state/0.json", state, sizeof(state) - 1);
	put("batches/" ID "/state/1.json", state, sizeof(state) - 1);
	put("batches/" ID "/state/seq", "7\n", 2);
	switch (data[0] % 6) {
	case 0:
		put("batches/" ID "/batch.json", p, n);
		j = spool_batch_get(&sp, ID);
		json_decref(j);
		api_views();
		break;
	case 1:
		put("batches/" ID "/state/0.json", p, n);
		j = spool_status_get(&sp, ID, 0);
		json_decref(j);
		api_views();
		break;
	case 2:
		put("batches/" ID "/remote/0.json", p, n);
		j = spool_remote_get(&sp, ID, 0);
		json_decref(j);
		break;
	case 3:
		put("daemons/d-fuzz00000000.json", p, n);
		j = json_array();
		(void)spool_daemons_alive(&sp, j);
		json_decref(j);
		break;
	case 4:
		put("batches/" ID "/state/seq", p, n);
		(void)spool_seq_get(&sp, ID);
		api_views();
		break;
	default:
		put("spend/2026-12-01.json", p, n);
		j = spool_spend_get(&sp, "2026-12-01");
		json_decref(j);
		break;
	}
	return 0;
}
