/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_VALID_H
#define STRAIT_VALID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* "udp:[" an IPv6 address "]:65535-65535" and a NUL */
#define VALID_PUBLISH_STRLEN (INET6_ADDRSTRLEN + 20)

/**
 * struct valid_cidr - a network: address with no host bits, and its length
 * @net:	network address
 * @len:	prefix length, 1 to 32 (IPv4) or 128 (IPv6)
 */
struct valid_cidr {
	struct addr_ip net;
	unsigned len;
};

/**
 * struct valid_publish - PROTO:HOSTIP:PORT or PROTO:HOSTIP:FIRST-LAST
 * @ipproto:	IPPROTO_TCP or IPPROTO_UDP
 * @ip:		host address
 * @port:	port, the first of a range
 * @port_last:	the last port of a range; @port for one port
 */
struct valid_publish {
	int ipproto;
	struct addr_ip ip;
	uint16_t port, port_last;
};

int valid_ifname(const char *name, char *err, size_t errlen);
int valid_ifname_exists(const char *name, char *err, size_t errlen);
int valid_cidr(const char *s, struct valid_cidr *c, char *err, size_t errlen);
int valid_ports(const char *s, uint16_t *first, uint16_t *last);
int valid_publish(const char *s, struct valid_publish *p, char *err,
		  size_t errlen);
int valid_format_cidr(const struct valid_cidr *c, char *buf, size_t len);
int valid_format_publish(const struct valid_publish *p, char *buf,
			 size_t len);

#endif
