// SPDX-License-Identifier: MIT
/*
 * valid.c - what may reach rule text and /proc paths, and nothing else
 *
 * The kernel accepts interface names such as `x";drop`, `eth+`, `-j` and
 * `x"accept;#`; a naive rule template fed the real interface `x"accept;#`
 * became `iifname "x" accept`, and `../conf/all` in a /proc path turned on
 * global forwarding. So names are checked by spelling (1-15 characters of
 * [A-Za-z0-9_.-], not starting with '-', not ".", "..", "all" or
 * "default") before existence is even asked, and existence is an exact
 * index/name round trip. Addresses, networks and ports must be canonical:
 * only values re-formatted by us ever go into rules.
 *
 * Pure except valid_ifname_exists(), which asks the kernel.
 */
#include "valid.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

/**
 * valid_ifname() - check an interface name's spelling
 * @name:	name
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0 if safe to use in rules and paths, -1 otherwise
 */
int valid_ifname(const char *name, char *err, size_t errlen)
{
	static const char *const reserved[] = { ".", "..", "all", "default" };
	size_t i, n = strnlen(name, IFNAMSIZ);

	if (n == 0 || n >= IFNAMSIZ)
		return snprintf(err, errlen,
				"bad interface name \"%.20s\": 1 to %d "
				"characters",
				name, IFNAMSIZ - 1),
		       -1;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return snprintf(err, errlen,
					"bad interface name: only letters, "
					"digits, '_', '.' and '-' are allowed"),
			       -1;
	}
	if (name[0] == '-')
		return snprintf(err, errlen,
				"bad interface name \"%s\": starts with '-'",
				name),
		       -1;
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (!strcmp(name, reserved[i]))
			return snprintf(err, errlen,
					"bad interface name \"%s\": reserved",
					name),
			       -1;
	}
	return 0;
}

/**
 * valid_ifname_exists() - the spelling is safe and the interface exists
 * @name:	name
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0 if it exists under exactly this name, -1 otherwise
 */
int valid_ifname_exists(const char *name, char *err, size_t errlen)
{
	char back[IF_NAMESIZE];
	unsigned idx;

	if (valid_ifname(name, err, errlen))
		return -1;
	idx = if_nametoindex(name);
	if (!idx || !if_indextoname(idx, back) || strcmp(back, name))
		return snprintf(err, errlen, "no interface named \"%s\"", name),
		       -1;
	return 0;
}

static int valid_digits(const char *s, size_t maxlen, unsigned long *v)
{
	size_t i;

	*v = 0;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= maxlen)
			return -1;
		*v = *v * 10 + (unsigned long)(s[i] - '0');
	}
	return i ? 0 : -1;
}

static bool valid_host_bits(const struct addr_ip *ip, unsigned len)
{
	const uint8_t *b = (const uint8_t *)&ip->v4;
	unsigned bits = ip->family == AF_INET ? 32 : 128, i;

	for (i = len; i < bits; i++) {
		if (b[i / 8] & (0x80 >> (i % 8)))
			return true;
	}
	return false;
}

/**
 * valid_cidr() - parse a canonical network "192.0.2.0/24"
 * @s:		text
 * @c:		result
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 if not canonical, /0, or with host bits set
 */
int valid_cidr(const char *s, struct valid_cidr *c, char *err, size_t errlen)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	unsigned long len;
	size_t n;

	n = slash ? (size_t)(slash - s) : 0;
	if (!slash || n >= sizeof(addr))
		return snprintf(err, errlen, "bad subnet \"%.64s\": want "
				"ADDRESS/LENGTH", s),
		       -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (addr_parse_ip(addr, true, &c->net))
		return snprintf(err, errlen, "bad subnet \"%.64s\": address "
				"not in canonical form", s),
		       -1;
	if (valid_digits(slash + 1, 3, &len) || len < 1 ||
	    len > (c->net.family == AF_INET ? 32UL : 128UL) ||
	    (slash[1] == '0'))
		return snprintf(err, errlen, "bad subnet \"%.64s\": length "
				"must be 1-%d", s,
				c->net.family == AF_INET ? 32 : 128),
		       -1;
	c->len = (unsigned)len;
	if (valid_host_bits(&c->net, c->len))
		return snprintf(err, errlen, "bad subnet \"%.64s\": host bits "
				"set", s),
		       -1;
	return 0;
}

/**
 * valid_format_cidr() - "192.0.2.0/24"
 * @c:		network
 * @buf:	output
 * @len:	size of @buf
 *
 * Return: 0, or -1 if @buf is too small
 */
int valid_format_cidr(const struct valid_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	int n;

	if (addr_format_ip(&c->net, a, sizeof(a)))
		return -1;
	n = snprintf(buf, len, "%s/%u", a, c->len);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/**
 * valid_ports() - "N" or "FIRST-LAST": decimal, no leading zero,
 * FIRST <= LAST
 * @s:		text
 * @first:	the port, or the range's first
 * @last:	the range's last, or 0 for one port
 *
 * Return: 0, or -1 if not exactly that
 */
int valid_ports(const char *s, uint16_t *first, uint16_t *last)
{
	const char *dash = strchr(s, '-');

	if (s[0] == '0' || (dash && dash[1] == '0') ||
	    addr_parse_range(s, strlen(s), first, last))
		return -1;
	if (!dash)
		*last = 0;
	return 0;
}

/**
 * valid_publish() - parse "tcp:192.0.2.10:8080", "udp:[2001:db8::1]:53" or
 * a range of ports, "udp:192.0.2.10:10000-10999"
 * @s:		text
 * @p:		result
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 if any part is not exactly valid and canonical
 */
int valid_publish(const char *s, struct valid_publish *p, char *err,
		  size_t errlen)
{
	char addr[INET6_ADDRSTRLEN + 2];
	const char *a, *port;
	size_t n;

	if (!strncmp(s, "tcp:", 4))
		p->ipproto = IPPROTO_TCP;
	else if (!strncmp(s, "udp:", 4))
		p->ipproto = IPPROTO_UDP;
	else
		goto bad;
	a = s + 4;
	if (*a == '[') {
		const char *end = strchr(a, ']');

		if (!end || end[1] != ':')
			goto bad;
		a++;
		n = (size_t)(end - a);
		port = end + 2;
	} else {
		const char *colon = strrchr(a, ':');

		if (!colon)
			goto bad;
		n = (size_t)(colon - a);
		port = colon + 1;
	}
	if (n == 0 || n >= sizeof(addr))
		goto bad;
	memcpy(addr, a, n);
	addr[n] = '\0';
	if (addr_parse_ip(addr, true, &p->ip) ||
	    (p->ip.family == AF_INET6) != (a[-1] == '['))
		goto bad;
	if (valid_ports(port, &p->port, &p->port_last))
		goto bad;
	if (!p->port_last)
		p->port_last = p->port;
	return 0;
bad:
	snprintf(err, errlen, "bad --publish \"%.80s\": want tcp|udp:HOSTIP:PORT "
		 "or :FIRST-LAST (IPv6 in brackets), canonical address, ports "
		 "1-65535", s);
	return -1;
}

/**
 * valid_format_publish() - "tcp:192.0.2.10:8080", "udp:[2001:db8::1]:53" or
 * "tcp:192.0.2.10:8080-8082": what valid_publish() reads back
 * @p:		published address and ports
 * @buf:	output
 * @len:	size of @buf
 *
 * Return: 0, or -1 if @buf is too small
 */
int valid_format_publish(const struct valid_publish *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], last[8] = "";
	bool v6 = p->ip.family == AF_INET6;
	int n;

	if (addr_format_ip(&p->ip, a, sizeof(a)))
		return -1;
	if (p->port_last > p->port)
		snprintf(last, sizeof(last), "-%u", (unsigned)p->port_last);
	n = snprintf(buf, len, "%s:%s%s%s:%u%s",
		     addr_proto_name(p->ipproto), v6 ? "[" : "",
		     a, v6 ? "]" : "", (unsigned)p->port, last);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}
