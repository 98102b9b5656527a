/*
 * test_webhook.c: the webhook's pure parts (the HMAC-SHA256 signature
 * against RFC 4231, the address rule of the SSRF guard, the webhook_url
 * rule) and the spool queue's promise: a finished batch is enqueued once
 * per target however many times, by however many processes, it is
 * announced, and a delivered record is never enqueued again.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "tap.h"

static char root[256];
static struct config cfg;

static const unsigned char png_head[] = {
    0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0};

static void
test_sign(void)
{
	char hex[65];
	const char *data = "what do ya want for nothing?";

	TAP_OK(webhook_sign("Jefe", data, strlen(data), hex) == 0 &&
	        strcmp(hex,
	            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") ==
	            0,
	    "HMAC-SHA256 matches RFC 4231 test case 2 (%s)", hex);
	TAP_OK(webhook_sign("Jefe", "x", 1, hex) == 0 &&
	        strcmp(hex,
	            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843") !=
	            0,
	    "another body, another signature");
}

/* The rule's verdict on a literal address: NULL = allowed. */
static const char *
kind(const char *ip)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;

	memset(&a4, 0, sizeof(a4));
	memset(&a6, 0, sizeof(a6));
	if (inet_pton(AF_INET, ip, &a4.sin_addr) == 1) {
		a4.sin_family = AF_INET;
		return webhook_addr_blocked((struct sockaddr *)&a4);
	}
	if (inet_pton(AF_INET6, ip, &a6.sin6_addr) == 1) {
		a6.sin6_family = AF_INET6;
		return webhook_addr_blocked((struct sockaddr *)&a6);
	}
	return "unparsed";
}

static void
test_addr(void)
{
	static const char *const refused[] = {"127.0.0.1", "127.255.0.9",
	    "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.254",
	    "192.168.1.1", "169.254.169.254", "0.0.0.0", "0.1.2.3",
	    "100.64.0.1", "100.127.255.255", "224.0.0.1", "255.255.255.255",
	    "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
	    "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254",
	    "::ffff:192.168.0.1", "64:ff9b::7f00:1", "::127.0.0.1"};
	static const char *const allowed[] = {"8.8.8.8", "1.1.1.1",
	    "172.15.255.255", "172.32.0.1", "192.169.0.1", "100.63.255.255",
	    "100.128.0.1", "11.0.0.1", "93.184.216.34", "2606:4700::1111",
	    "2001:4860:4860::8888", "::ffff:8.8.8.8"};
	size_t i;
	const char *k;

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		k = kind(refused[i]);
		TAP_OK(k != NULL && strcmp(k, "unparsed") != 0,
		    "%s refused (%s)", refused[i], k != NULL ? k : "allowed");
	}
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		k = kind(allowed[i]);
		TAP_OK(k == NULL, "%s allowed (%s)", allowed[i],
		    k != NULL ? k : "public");
	}
	TAP_OK(strcmp(kind("127.0.0.1"), "loopback") == 0 &&
	        strcmp(kind("::ffff:10.0.0.1"), "private") == 0,
	    "the kind is named for the log");
}

static void
test_url(void)
{
	static const char *const bad[] = {"ftp://example.com/x", "http://",
	    "https:///path", "javascript:alert(1)", "http://exa mple.com/",
	    "http://example.com/\x01", "example.com/hook", "http://:80/",
	    "http://example.com:0/", "http://example.com:99999/",
	    "http://example.com:8x/", "http://user@/", "http://[::1/",
	    "http://h\xc3\xa9.example/"};
	static const char *const good[] = {"http://example.com",
	    "https://example.com/hook?token=abc#x",
	    "HTTPS://Example.COM:8443/a", "http://127.0.0.1:9/h",
	    "http://[::1]:8080/h", "https://user:pw@example.com/"};
	char err[256], longurl[1100];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		TAP_OK(
		    spool_webhook_url_check(bad[i], err, sizeof(err)) == -1 &&
		        strncmp(err, "webhook_url ", 12) == 0 &&
		        err[strlen(err) - 1] == '.',
		    "refused with a sentence: %s", err);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		TAP_OK(spool_webhook_url_check(good[i], err, sizeof(err)) == 0,
		    "accepted: %s", good[i]);
	snprintf(longurl, sizeof(longurl), "https://example.com/");
	memset(longurl + 20, 'a', 1000);
	longurl[1020] = '\0';
	TAP_OK(spool_webhook_url_check(longurl, err, sizeof(err)) == -1 &&
	        strstr(err, "at most 1000 bytes") != NULL,
	    "too long: %s", err);
}

static int
count(const char *sub)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", root, sub);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A batch of n files with webhook_url url (NULL = none); 0 or -1. */
static int
submit(struct spool *sp, int n, const char *url, char *id, char *err)
{
	struct spool_submit s;
	int i, rc = -1;

	spool_submit_init(&s, sp, &cfg);
	spool_submit_model(&s, "local");
	if (url != NULL)
		spool_submit_param(&s, "webhook_url", url);
	for (i = 0; i < n; i++)
		if (spool_submit_file_begin(&s, "a.png") == -1 ||
		    spool_submit_file_write(&s, png_head, sizeof(png_head)) ==
		        -1 ||
		    spool_submit_file_end(&s) == -1)
			break;
	if (spool_submit_commit(&s) == 0) {
		memcpy(id, s.id, SPOOL_ID_LEN + 1);
		rc = 0;
	} else
		snprintf(err, 256, "%.255s", s.msg);
	spool_submit_abort(&s);
	return rc;
}

/* Every file of id marked st by a writer that is not the cancel path. */
static void
mark_all(struct spool *sp, const char *id, int n, const char *st)
{
	int i;

	for (i = 0; i < n; i++) {
		json_t *p = json_pack("{s:s}", "status", st);

		spool_queue_withdraw(sp, id, i);
		spool_status_update(sp, id, i, p, -1);
		json_decref(p);
	}
}

static void
test_queue(struct spool *sp)
{
	char id[SPOOL_ID_LEN + 1], id2[SPOOL_ID_LEN + 1], err[256] = "";
	char name[SPOOL_WEBHOOK_NAME_MAX], due[SPOOL_WEBHOOK_NAME_MAX];
	long long next;
	json_t *b, *rec;
	int n;

	TAP_OK(spool_webhook_init(sp) == 0 &&
	        spool_webhook_owner_add(sp, "d-a") == 0,
	    "webhooks/ made");
	TAP_OK(submit(sp, 1, "ftp://x/", id, err) == -1 &&
	        strstr(err, "http:// or https://") != NULL &&
	        count("batches") == 0 && count("tmp") == 0,
	    "a bad webhook_url refuses the upload, nothing left: %s", err);
	TAP_OK(submit(sp, 2, "http://127.0.0.1:9/h", id, err) == 0,
	    "batch with a webhook_url");
	b = spool_batch_get(sp, id);
	TAP_OK(strcmp(json_string_value(json_object_get(b, "webhook_url")),
	           "http://127.0.0.1:9/h") == 0 &&
	        json_object_get(b, "webhook_config") == NULL &&
	        json_object_get(json_object_get(b, "params"), "webhook_url") ==
	            NULL,
	    "batch.json keeps webhook_url beside params");
	json_decref(b);
	TAP_OK(
	    spool_webhook_batch_done(sp, id) == 0 && count("webhooks/new") == 0,
	    "an unfinished batch is not announced");
	/* The sweep's case: final without the daemon or the cancel path. */
	mark_all(sp, id, 2, "cancelled");
	TAP_OK(
	    spool_webhook_batch_done(sp, id) == 1 && count("webhooks/new") == 1,
	    "a batch made final elsewhere is announced by the sweep's call");
	TAP_OK(spool_webhook_batch_done(sp, id) == 0 &&
	        spool_webhook_enqueue(sp, id, 0, "http://x/", "{}") == 0 &&
	        count("webhooks/new") == 1,
	    "enqueued twice: one record");
	spool_webhook_name(name, sizeof(name), id, 0);
	TAP_OK(spool_webhook_due(sp, spool_now_ms(), due, sizeof(due), &next) ==
	            1 &&
	        strcmp(due, name) == 0,
	    "the record is due at once");
	rec = spool_webhook_claim(sp, "d-a", name);
	TAP_OK(rec != NULL &&
	        strcmp(json_string_value(json_object_get(rec, "state")),
	            "pending") == 0 &&
	        strstr(json_string_value(json_object_get(rec, "body")),
	            "\"event\":\"batch.finished\"") != NULL &&
	        strstr(json_string_value(json_object_get(rec, "body")),
	            "\"status\":\"cancelled\"") != NULL,
	    "claimed: pending, the summary with its event as the body");
	TAP_OK(spool_webhook_claim(sp, "d-b", name) == NULL && errno == ENOENT,
	    "a second claim loses");
	TAP_OK(
	    spool_webhook_batch_done(sp, id) == 0 && count("webhooks/new") == 0,
	    "not enqueued again while it is being delivered");
	TAP_OK(spool_webhook_release_all(sp, "d-a") == 1 &&
	        count("webhooks/new") == 1 && count("webhooks/cur/d-a") == 0,
	    "a dead daemon's claim goes back to new/");
	json_decref(rec);
	rec = spool_webhook_claim(sp, "d-a", name);
	json_object_set_new(rec, "state", json_string("delivered"));
	TAP_OK(spool_webhook_save(sp, "d-a", name, rec) == 0 &&
	        spool_webhook_finish(sp, "d-a", name) == 0 &&
	        count("webhooks/done") == 1 && count("webhooks/tmp") == 0,
	    "delivered: moved into done/");
	json_decref(rec);
	TAP_OK(spool_webhook_batch_done(sp, id) == 0 &&
	        spool_webhook_enqueue(sp, id, 0, "http://x/", "{}") == 0 &&
	        count("webhooks/new") == 0,
	    "a delivered webhook is never enqueued again");
	/* WEBHOOK_URL at submission: the config target, once per URL. */
	snprintf(
	    cfg.webhook_url, sizeof(cfg.webhook_url), "http://example.com/h");
	TAP_OK(submit(sp, 1, "http://example.com/h", id2, err) == 0 &&
	        (b = spool_batch_get(sp, id2)) != NULL &&
	        json_object_get(b, "webhook_config") == NULL,
	    "WEBHOOK_URL equal to the field: one target");
	json_decref(b);
	spool_batch_remove(sp, id2);
	TAP_OK(submit(sp, 1, NULL, id2, err) == 0 &&
	        (b = spool_batch_get(sp, id2)) != NULL &&
	        json_is_true(json_object_get(b, "webhook_config")),
	    "WEBHOOK_URL alone: batch.json says so");
	json_decref(b);
	spool_batch_remove(sp, id2);
	cfg.webhook_url[0] = '\0';
	/* The cancel path announces at once. */
	TAP_OK(submit(sp, 1, "http://example.com/h", id2, err) == 0 &&
	        spool_cancel(sp, id2) == 1 && count("webhooks/new") == 1,
	    "a cancel that finishes the batch enqueues it");
	TAP_OK(spool_batch_remove(sp, id) == 0 &&
	        spool_batch_remove(sp, id2) == 0 &&
	        count("webhooks/new") == 0 && count("webhooks/done") == 0,
	    "retention removes a batch's records");
	n = spool_webhook_enqueue(sp, id, 0, "http://x/", "{}");
	TAP_OK(n == 1 && spool_webhook_sweep(sp, 3600) == 1 &&
	        count("webhooks/new") == 0,
	    "the sweep removes a record whose batch is gone");
}

/* Two processes announce the same finished batches at once. */
static void
test_race(struct spool *sp)
{
	char ids[20][SPOOL_ID_LEN + 1];
	pid_t pid;
	int i, st, won = 0;

	for (i = 0; i < 20; i++)
		spool_id_new(ids[i]);
	pid = fork();
	if (pid == 0) {
		for (i = 0; i < 20; i++)
			spool_webhook_enqueue(sp, ids[i], 1, NULL, "{}");
		_exit(0);
	}
	for (i = 0; i < 20; i++)
		won += spool_webhook_enqueue(sp, ids[i], 1, NULL, "{}") == 1;
	waitpid(pid, &st, 0);
	TAP_OK(count("webhooks/new") == 20 && count("webhooks/tmp") == 0,
	    "20 batches announced by two processes: 20 records (%d won here)",
	    won);
	spool_webhook_sweep(sp, 3600);
}

/* The exclusive publish of fsio.c. */
static void
test_excl(struct spool *sp)
{
	struct spool_tmpfile t;
	int dir = openat(sp->root, "webhooks/tmp", O_RDONLY | O_DIRECTORY);

	spool_write_atomic(dir, "x", "1", 1);
	spool_tmp_open(&t, dir, "x");
	t.excl = 1;
	spool_tmp_write(&t, "2", 1);
	TAP_OK(spool_tmp_publish(&t) == -1 && errno == EEXIST &&
	        count("webhooks/tmp") == 1,
	    "an exclusive publish onto a name gets EEXIST, no temp left");
	unlinkat(dir, "x", 0);
	close(dir);
}

int
main(void)
{
	struct spool sp;
	char path[300];

	test_sign();
	test_addr();
	test_url();
	snprintf(root, sizeof(root), "/tmp/test_webhook.XXXXXX");
	if (mkdtemp(root) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/spool", root);
	unsetenv("FAL_KEY");
	unsetenv("I2M_CONFIG");
	unsetenv("WEBHOOK_URL");
	if (spool_open(&sp, path, 1) == -1 ||
	    config_load(&cfg, path, sizeof(path)) == -1)
		return 1;
	snprintf(root + strlen(root), sizeof(root) - strlen(root), "/spool");
	test_queue(&sp);
	test_race(&sp);
	test_excl(&sp);
	spool_close(&sp);
	root[strlen(root) - 6] = '\0';
	spool_rmtree(AT_FDCWD, root);
	return tap_done();
}
