// SPDX-License-Identifier: MIT
/*
 * proxyhdr.c - the PROXY protocol header (HAProxy's proxy-protocol.txt,
 * versions 1 and 2) that tells the container who the client is
 *
 * A userland proxy connects to the container from its own address, so the
 * container sees every client as the bridge's gateway: docker-proxy loses
 * the client's address. With the PROXY protocol the first bytes on the
 * container connection name the client's address and port and the address
 * and port it connected to; nginx, HAProxy, Traefik, Envoy, Postfix and
 * others read it where told to (and only there: a server that does not
 * expect it sees garbage, so this is opt-in, per port).
 *
 * Pure: bytes from two addresses, nothing else.
 */
#include "proxyhdr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const unsigned char proxyhdr_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* Version 2, command PROXY; address family (high nibble), STREAM (low) */
#define PROXYHDR_V2_PROXY 0x21
#define PROXYHDR_V2_UNSPEC 0x00
#define PROXYHDR_V2_TCP4 0x11
#define PROXYHDR_V2_TCP6 0x21

/* The two ends when both are IPv4 or both IPv6; else family AF_UNSPEC */
struct proxyhdr_ends {
	int family;
	const void *src, *dst;	/* in_addr or in6_addr */
	size_t alen;
	uint16_t sport, dport;	/* network order */
};

static struct proxyhdr_ends proxyhdr_ends(const struct sockaddr *src,
					  const struct sockaddr *dst)
{
	struct proxyhdr_ends e = { AF_UNSPEC, NULL, NULL, 0, 0, 0 };

	if (src->sa_family != dst->sa_family)
		return e;
	if (src->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)src;
		const struct sockaddr_in *d = (const void *)dst;

		e.family = AF_INET;
		e.src = &s->sin_addr;
		e.dst = &d->sin_addr;
		e.alen = 4;
		e.sport = s->sin_port;
		e.dport = d->sin_port;
	} else if (src->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)src;
		const struct sockaddr_in6 *d = (const void *)dst;

		e.family = AF_INET6;
		e.src = &s->sin6_addr;
		e.dst = &d->sin6_addr;
		e.alen = 16;
		e.sport = s->sin6_port;
		e.dport = d->sin6_port;
	}
	return e;
}

static int proxyhdr_v1(const struct proxyhdr_ends *e, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int n;

	if (e->family == AF_UNSPEC) {
		n = snprintf(buf, len, "PROXY UNKNOWN\r\n");
	} else {
		if (!inet_ntop(e->family, e->src, s, sizeof(s)) ||
		    !inet_ntop(e->family, e->dst, d, sizeof(d)))
			return -1;
		n = snprintf(buf, len, "PROXY %s %s %s %u %u\r\n",
			     e->family == AF_INET ? "TCP4" : "TCP6", s, d,
			     (unsigned)ntohs(e->sport),
			     (unsigned)ntohs(e->dport));
	}
	return n < 0 || (size_t)n >= len ? -1 : n;
}

static int proxyhdr_v2(const struct proxyhdr_ends *e, char *buf, size_t len)
{
	unsigned char *p = (unsigned char *)buf;
	size_t body = e->family == AF_UNSPEC ? 0 : 2 * e->alen + 4;

	if (len < 16 + body)
		return -1;
	memcpy(p, proxyhdr_sig, sizeof(proxyhdr_sig));
	p[12] = PROXYHDR_V2_PROXY;
	if (e->family == AF_INET)
		p[13] = PROXYHDR_V2_TCP4;
	else if (e->family == AF_INET6)
		p[13] = PROXYHDR_V2_TCP6;
	else
		p[13] = PROXYHDR_V2_UNSPEC;
	p[14] = (unsigned char)(body >> 8);
	p[15] = (unsigned char)body;
	if (body) {
		memcpy(p + 16, e->src, e->alen);
		memcpy(p + 16 + e->alen, e->dst, e->alen);
		memcpy(p + 16 + 2 * e->alen, &e->sport, 2);
		memcpy(p + 18 + 2 * e->alen, &e->dport, 2);
	}
	return (int)(16 + body);
}

/**
 * proxyhdr_build() - the header for a TCP connection from @src to @dst
 * @version:	1 (text) or 2 (binary)
 * @src:	the client's address and port
 * @dst:	the address and port the client connected to
 * @buf:	output (PROXYHDR_MAX bytes always suffice)
 * @len:	size of @buf
 *
 * Ends of two families (or of neither IPv4 nor IPv6) give version 1's
 * "UNKNOWN" or version 2's UNSPEC: the receiver then uses the
 * connection's own addresses.
 *
 * Return: the header's length, or -1 if @buf is too small or @version
 * unknown
 */
int proxyhdr_build(int version, const struct sockaddr *src,
		   const struct sockaddr *dst, char *buf, size_t len)
{
	struct proxyhdr_ends e = proxyhdr_ends(src, dst);

	if (version == 1)
		return proxyhdr_v1(&e, buf, len);
	if (version == 2)
		return proxyhdr_v2(&e, buf, len);
	return -1;
}
