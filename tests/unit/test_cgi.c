/*
 * test_cgi.c: unit tests of the handlers' per-address upload limit
 * (UPLOADS_PER_IP, cgi/ratelimit.c): no limit holds nothing; an address
 * gets exactly `limit` at once and one more after a release; addresses do
 * not share a count while the table has room, and when it is full they
 * share one (stricter, never looser); every release gives back what its
 * acquire took, also under threads.  And the start of every returned URL
 * (cgi/urlbase.c): PUBLIC_URL over the Host, the Host over the server's
 * address, a Host that could break a URL ignored, nothing cut.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cgi.h"
#include "tap.h"

static void
test_off(void)
{
	int k = cgi_hold_acquire("10.0.0.1", 0);

	TAP_OK(k >= 0, "limit 0: every upload may start (slot %d)", k);
	cgi_hold_release(k);
	cgi_hold_release(-1);
	TAP_OK(1, "releasing the no-limit slot and -1 changes nothing");
}

static void
test_one_address(void)
{
	int a = cgi_hold_acquire("10.0.0.2", 2);
	int b = cgi_hold_acquire("10.0.0.2", 2);
	int c = cgi_hold_acquire("10.0.0.2", 2);
	int d;

	TAP_OK(a >= 0 && b >= 0, "limit 2: the first two uploads start");
	TAP_OK(c == -1, "limit 2: the third is refused while both are held");
	TAP_OK(cgi_hold_acquire("10.0.0.3", 2) >= 0,
	    "another address is not counted with the first");
	cgi_hold_release(a);
	d = cgi_hold_acquire("10.0.0.2", 2);
	TAP_OK(d >= 0, "after one is answered, one more starts");
	TAP_OK(cgi_hold_acquire("10.0.0.2", 2) == -1, "and then no more");
	cgi_hold_release(b);
	cgi_hold_release(d);
	a = cgi_hold_acquire("10.0.0.2", 2);
	b = cgi_hold_acquire("10.0.0.2", 2);
	TAP_OK(a >= 0 && b >= 0, "every release gave its hold back");
	cgi_hold_release(a);
	cgi_hold_release(b);
}

/* More addresses than the table holds, each holding one: never more than
 * one each (shared slots make it stricter), and all free again after. */
static void
test_full_table(void)
{
	static int held[20000];
	char ip[48];
	int i, got = 0, refused = 0, a, b;

	for (i = 0; i < 20000; i++) {
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 256, i % 256);
		held[i] = cgi_hold_acquire(ip, 1);
		if (held[i] >= 0)
			got++;
		else
			refused++;
	}
	TAP_OK(got > 0 && got <= 4096 && got + refused == 20000,
	    "20000 addresses, limit 1: %d start, %d refused (at most one per slot)",
	    got, refused);
	snprintf(ip, sizeof(ip), "10.1.%d.%d", 0, 0);
	TAP_OK(held[0] >= 0 && cgi_hold_acquire(ip, 1) == -1,
	    "a holding address still gets no second one in a full table");
	for (i = 0; i < 20000; i++)
		cgi_hold_release(held[i]);
	a = cgi_hold_acquire("10.1.0.0", 1);
	b = cgi_hold_acquire("10.1.78.31", 1);
	TAP_OK(a >= 0 && b >= 0, "after every release the table is free again");
	cgi_hold_release(a);
	cgi_hold_release(b);
}

static atomic_int inside, most;

static void *
worker(void *arg)
{
	int i, k, n, m;

	(void)arg;
	for (i = 0; i < 20000; i++) {
		k = cgi_hold_acquire("10.2.0.1", 3);
		if (k == -1)
			continue;
		n = atomic_fetch_add(&inside, 1) + 1;
		m = atomic_load(&most);
		while (n > m && !atomic_compare_exchange_weak(&most, &m, n))
			;
		atomic_fetch_sub(&inside, 1);
		cgi_hold_release(k);
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[8];
	int i, k[3], ok = 1;

	for (i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (i = 0; i < 8; i++)
		pthread_join(t[i], NULL);
	TAP_OK(atomic_load(&most) <= 3,
	    "8 threads, limit 3: at most %d held at once", atomic_load(&most));
	for (i = 0; i < 3; i++)
		ok &= (k[i] = cgi_hold_acquire("10.2.0.1", 3)) >= 0;
	TAP_OK(ok && cgi_hold_acquire("10.2.0.1", 3) == -1,
	    "after the threads, exactly 3 can be held again");
	for (i = 0; i < 3; i++)
		cgi_hold_release(k[i]);
}

static void
base_is(const char *pub, int https, const char *host, const char *addr,
    const char *port, const char *want)
{
	char out[CGI_BASE_MAX];
	int rc = cgi_url_base(pub, https, host, addr, port, out, sizeof(out));

	TAP_OK(rc == 0 && strcmp(out, want) == 0,
	    "base of public %s, https %d, Host %s, addr %s:%s is %s (got %s)",
	    pub ? pub : "-", https, host ? host : "-", addr ? addr : "-",
	    port ? port : "-", want, out);
}

static void
test_url_base(void)
{
	char small[16];

	base_is("https://models.example.com/", 0, "127.0.0.1:8080", NULL, NULL,
	    "https://models.example.com");
	base_is("https://example.com/i2m//", 1, NULL, NULL, NULL,
	    "https://example.com/i2m");
	base_is("", 0, "127.0.0.1:8080", "127.0.0.1", "8080",
	    "http://127.0.0.1:8080");
	base_is(NULL, 1, "models.example.com", NULL, NULL,
	    "https://models.example.com");
	base_is("", 0, "[::1]:8080", NULL, NULL, "http://[::1]:8080");
	base_is("", 0, "evil.example/\"><script>", "10.0.0.5", "8080",
	    "http://10.0.0.5:8080");
	base_is("", 0, "a b", "::1", "8080", "http://[::1]:8080");
	base_is("", 1, "", NULL, NULL, "https://127.0.0.1:80");
	TAP_OK(cgi_url_base("", 0, "models.example.com:8443", NULL, NULL, small,
	           sizeof(small)) == -1 &&
	        small[0] == '\0',
	    "a base that does not fit is refused whole, never cut");
}

int
main(void)
{
	test_url_base();
	test_off();
	test_one_address();
	test_full_table();
	test_threads();
	return tap_done();
}
