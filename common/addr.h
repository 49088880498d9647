/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_ADDR_H
#define STRAIT_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535" and a NUL */
#define ADDR_STRLEN (INET6_ADDRSTRLEN + 8)

/**
 * struct addr_ip - an IPv4 or IPv6 address, without port
 * @family:	AF_INET or AF_INET6
 * @v4:		address if AF_INET (network order)
 * @v6:		address if AF_INET6
 */
struct addr_ip {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

/**
 * struct addr_sock - a socket address of either family
 * @sa:		generic view
 * @sin:	IPv4 view
 * @sin6:	IPv6 view
 * @ss:		storage
 */
union addr_sock {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_storage ss;
};

int addr_parse_ip(const char *s, bool strict, struct addr_ip *ip);
int addr_parse_port(const char *s, uint16_t *port);
const char *addr_proto_name(int ipproto);
int addr_parse_range(const char *s, size_t n, uint16_t *first,
		     uint16_t *last);
socklen_t addr_to_sock(const struct addr_ip *ip, uint16_t port,
		       union addr_sock *out);
int addr_format_ip(const struct addr_ip *ip, char *buf, size_t len);
int addr_format_sock(const struct sockaddr *sa, char *buf, size_t len);

#endif
