/*
 * webhook_sign.c: the webhook signature and the address rule, the two
 * pure parts of a delivery (daemon/webhook.c), tested on their own.
 *
 * Signature: X-Image2model-Signature is "sha256=" and the lowercase hex
 * of HMAC-SHA256(body) under WEBHOOK_SECRET, over the exact bytes sent,
 * so a receiver recomputes it from the raw body it read (GitHub's form).
 *
 * Address rule (the SSRF guard): a webhook is a URL chosen by whoever
 * uploads, so the daemon must not become a way into the machine or its
 * network.  Refused unless WEBHOOK_ALLOW_PRIVATE=1: loopback, private
 * (RFC 1918, fc00::/7), link-local, shared CGNAT space, "this network",
 * multicast, reserved and broadcast, and the same inside IPv4-mapped,
 * IPv4-compatible and NAT64 IPv6 forms.  The rule is applied to the
 * address curl is about to connect to, after DNS, so a name that
 * resolves to 127.0.0.1 is refused like the literal.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "daemon.h"

int
webhook_sign(const char *key, const void *body, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (HMAC(EVP_sha256(), key, (int)strlen(key), body, len, md, &mdlen) ==
	        NULL ||
	    mdlen != 32)
		return -1;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * mdlen] = '\0';
	return 0;
}

/* The kind of an IPv4 address (host order) a webhook may not reach. */
static const char *
v4_kind(uint32_t a)
{
	if ((a >> 24) == 127)
		return "loopback";
	if ((a >> 24) == 10 || (a >> 20) == (172 << 4 | 1) ||
	    (a >> 16) == (192 << 8 | 168))
		return "private";
	if ((a >> 16) == (169 << 8 | 254))
		return "link-local";
	if ((a >> 24) == 0)
		return "unspecified (0.0.0.0/8)";
	if ((a >> 22) == (100 << 2 | 1))
		return "shared (CGNAT 100.64.0.0/10)";
	if ((a >> 28) == 14)
		return "multicast";
	if ((a >> 28) == 15)
		return "reserved or broadcast";
	/* 192.0.0.0/24 (IETF), 198.18.0.0/15 (benchmarking) */
	if ((a >> 8) == (192u << 16) || (a >> 17) == (198u << 7 | 9))
		return "reserved";
	return NULL;
}

static const char *
v6_kind(const unsigned char *b)
{
	static const unsigned char zero[16], nat64[12] = {0, 0x64, 0xff, 0x9b};
	uint32_t v4;

	/* ::ffff:a.b.c.d, ::a.b.c.d and 64:ff9b::a.b.c.d carry IPv4. */
	if ((memcmp(b, zero, 10) == 0 && b[10] == 0xff && b[11] == 0xff) ||
	    memcmp(b, nat64, 12) == 0 || memcmp(b, zero, 12) == 0) {
		if (memcmp(b, zero, 15) == 0 && b[15] <= 1)
			return b[15] ? "loopback" : "unspecified";
		v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 |
		    (uint32_t)b[14] << 8 | b[15];
		return v4_kind(v4);
	}
	if ((b[0] & 0xfe) == 0xfc)
		return "private (unique local)";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "site-local";
	if (b[0] == 0xff)
		return "multicast";
	return NULL;
}

const char *
webhook_addr_blocked(const struct sockaddr *sa)
{
	const struct sockaddr_in *in4;
	const struct sockaddr_in6 *in6;

	switch (sa->sa_family) {
	case AF_INET:
		in4 = (const void *)sa;
		return v4_kind(ntohl(in4->sin_addr.s_addr));
	case AF_INET6:
		in6 = (const void *)sa;
		return v6_kind(in6->sin6_addr.s6_addr);
	default:
		return "not an internet"; /* AF_UNIX and the like */
	}
}
