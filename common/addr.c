// SPDX-License-Identifier: MIT
/*
 * addr.c - parse and format IP addresses and ports
 *
 * Parsing never prints and never touches globals, so the same functions back
 * the proxy's flags, netsetup's hostile-input checks and the fuzzers.
 *
 * The strict mode accepts only the canonical form inet_ntop() gives back:
 * "0x7f.0.0.1", "010.0.0.1" and "192.0.2" are refused there (inet_pton
 * already refuses them for IPv4; the round trip also refuses IPv6 written in
 * upper case or with uncompressed zeros), which is what may go into rule text.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/**
 * addr_parse_ip() - parse a literal IPv4 or IPv6 address
 * @s:		text, nothing before or after the address (no zone, no port)
 * @strict:	also require the canonical spelling
 * @ip:		result
 *
 * Return: 0 on success, -1 if @s is no address (or not canonical if @strict)
 */
int addr_parse_ip(const char *s, bool strict, struct addr_ip *ip)
{
	char back[INET6_ADDRSTRLEN];

	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, &ip->v4) == 1)
		ip->family = AF_INET;
	else if (inet_pton(AF_INET6, s, &ip->v6) == 1)
		ip->family = AF_INET6;
	else
		return -1;

	if (!strict)
		return 0;
	if (addr_format_ip(ip, back, sizeof(back)) || strcmp(back, s))
		return -1;
	return 0;
}

/* Exactly @n bytes at @s as a port: 1 to 5 digits, 1 to 65535 */
static int addr_port_n(const char *s, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/**
 * addr_parse_port() - parse a TCP/UDP port: decimal digits only, 1 to 65535
 * @s:		text
 * @port:	result, host order
 *
 * Signs, spaces, hex and octal prefixes are refused; leading zeros are not
 * (Go's flag package reads "080" as 80 only in base 10, as docker writes it,
 * but we refuse more than five digits to keep overflow impossible).
 *
 * Return: 0 on success, -1 otherwise
 */
int addr_parse_port(const char *s, uint16_t *port)
{
	return addr_port_n(s, strlen(s), port);
}

/**
 * addr_parse_range() - parse "PORT" or "FIRST-LAST", ports as
 * addr_parse_port() reads them, FIRST <= LAST
 * @s:		text, not necessarily NUL-terminated
 * @n:		bytes at @s that make it (a list's item: up to a comma)
 * @first:	result: the port, or the range's first
 * @last:	result: the port again, or the range's last
 *
 * The one range parser of both programs: -host-port and -container-port,
 * the port lists of STRAIT_PROXY_PROTOCOL and STRAIT_TRANSPARENT, and
 * strait-netsetup's ports (which also refuse leading zeros).
 *
 * Return: 0 on success, -1 otherwise
 */
int addr_parse_range(const char *s, size_t n, uint16_t *first,
		     uint16_t *last)
{
	const char *dash = memchr(s, '-', n);
	size_t k = dash ? (size_t)(dash - s) : n;

	if (addr_port_n(s, k, first))
		return -1;
	if (!dash) {
		*last = *first;
		return 0;
	}
	if (addr_port_n(dash + 1, n - k - 1, last) || *last < *first)
		return -1;
	return 0;
}

/**
 * addr_proto_name() - "tcp", "udp" or "sctp"
 * @ipproto:	IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP
 *
 * The one protocol name of both programs' messages, rules and counters.
 *
 * Return: static name
 */
const char *addr_proto_name(int ipproto)
{
	return ipproto == IPPROTO_UDP ? "udp"
	       : ipproto == IPPROTO_SCTP ? "sctp" : "tcp";
}

/**
 * addr_to_sock() - build a socket address from an address and a port
 * @ip:		address
 * @port:	port, host order
 * @out:	result
 *
 * Return: length of the socket address in @out
 */
socklen_t addr_to_sock(const struct addr_ip *ip, uint16_t port,
		       union addr_sock *out)
{
	memset(out, 0, sizeof(*out));
	if (ip->family == AF_INET) {
		out->sin.sin_family = AF_INET;
		out->sin.sin_port = htons(port);
		out->sin.sin_addr = ip->v4;
		return sizeof(out->sin);
	}
	out->sin6.sin6_family = AF_INET6;
	out->sin6.sin6_port = htons(port);
	out->sin6.sin6_addr = ip->v6;
	return sizeof(out->sin6);
}

/**
 * addr_format_ip() - canonical text of an address
 * @ip:		address
 * @buf:	output
 * @len:	size of @buf, INET6_ADDRSTRLEN is always enough
 *
 * Return: 0 on success, -1 if @buf is too small or the family unknown
 */
int addr_format_ip(const struct addr_ip *ip, char *buf, size_t len)
{
	if (ip->family != AF_INET && ip->family != AF_INET6)
		return -1;
	if (!inet_ntop(ip->family, &ip->v4, buf, (socklen_t)len))
		return -1;
	return 0;
}

/**
 * addr_format_sock() - "1.2.3.4:80" or "[::1]:80", as Go prints them
 * @sa:		IPv4 or IPv6 socket address
 * @buf:	output
 * @len:	size of @buf, ADDR_STRLEN is always enough
 *
 * Return: 0 on success, -1 on an unknown family or a short buffer
 */
int addr_format_sock(const struct sockaddr *sa, char *buf, size_t len)
{
	const union addr_sock *u = (const union addr_sock *)(const void *)sa;
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (sa->sa_family == AF_INET) {
		if (!inet_ntop(AF_INET, &u->sin.sin_addr, ip, sizeof(ip)))
			return -1;
		n = snprintf(buf, len, "%s:%u", ip, ntohs(u->sin.sin_port));
	} else if (sa->sa_family == AF_INET6) {
		if (!inet_ntop(AF_INET6, &u->sin6.sin6_addr, ip, sizeof(ip)))
			return -1;
		n = snprintf(buf, len, "[%s]:%u", ip, ntohs(u->sin6.sin6_port));
	} else {
		return -1;
	}
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}
