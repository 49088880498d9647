// SPDX-License-Identifier: MIT
/*
 * rules.c - the firewall model as nft and iptables-restore text
 *
 * Pure functions of validated input: every name, address and port in the
 * text was checked by valid.c and re-formatted by us, so nothing a user or
 * the kernel spells can change the rules' structure.
 *
 * The model: masquerade only the bridge subnet (IPv4, and IPv6 where
 * given: Docker's own default with ip6tables), only out of the uplink;
 * let replies back in, the bridge out, and bridge to bridge; drop anything
 * else to or from the bridge (per-interface forwarding is an ingress switch,
 * not a filter: with the uplink's forwarding on, the outside could otherwise
 * route into the bridge); accept new connections to each published address
 * and port. Published ports are served by strait-proxy, so no DNAT exists.
 * Transparent mode adds one rule: packets arriving from the bridge that
 * belong to a local transparent socket (the container's answers to the
 * proxy's connection from the client's address) get a mark, which the
 * policy routing of tproute.c delivers locally.
 * A bridge's rules live in a table (nft) or chains (iptables) named after
 * it, and nothing in them concerns another bridge.
 */
#include "rules.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* "65535-65535" and its terminator */
#define RULES_PORTS_LEN 12
/* One rule: two interface names, or an IPv6 address, and the words */
#define RULES_LINE 160

struct rules_buf {
	char *p;
	size_t len, off;
	bool over;
};

static void __attribute__((format(printf, 2, 3)))
rules_add(struct rules_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->off, b->len - b->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->len - b->off)
		b->over = true;
	else
		b->off += (size_t)n;
}

static int rules_done(const struct rules_buf *b)
{
	return b->over ? -1 : 0;
}

/**
 * rules_names() - the table and chain names of a bridge's rules
 * @bridge:	validated bridge name (at most 15 characters)
 * @n:		result
 */
void rules_names(const char *bridge, struct rules_names *n)
{
	snprintf(n->table, sizeof(n->table), "strait-%s", bridge);
	snprintf(n->fwd, sizeof(n->fwd), "STRAIT-FWD-%s", bridge);
	snprintf(n->in, sizeof(n->in), "STRAIT-IN-%s", bridge);
	snprintf(n->post, sizeof(n->post), "STRAIT-POST-%s", bridge);
	snprintf(n->tp, sizeof(n->tp), "STRAIT-TP-%s", bridge);
}

/* An inet table filters IPv6 too; needed for --ipv6 and IPv6 publishes */
static bool rules_inet(const struct rules_in *in)
{
	size_t i;

	if (in->ipv6)
		return true;
	for (i = 0; i < in->npublish; i++) {
		if (in->publish[i].ip.family == AF_INET6)
			return true;
	}
	return false;
}

/* "8000", or a range as nft ('-') or iptables (':') writes it, in @buf */
static const char *rules_ports(const struct valid_publish *p, char sep,
			       char buf[RULES_PORTS_LEN])
{
	if (p->port_last > p->port)
		snprintf(buf, RULES_PORTS_LEN, "%u%c%u", (unsigned)p->port, sep,
			 (unsigned)p->port_last);
	else
		snprintf(buf, RULES_PORTS_LEN, "%u", (unsigned)p->port);
	return buf;
}

/**
 * rules_nft_accept() - a publish's input accept, as nft lists it
 * @p:		published address and ports
 * @buf:	output, e.g. "ip daddr 192.0.2.1 tcp dport 80 ct state
 *		established,new accept" (the whole connection, not just its
 *		first packet: on a host whose input policy is drop with no
 *		accept of established traffic, that alone would not serve it)
 * @len:	size of @buf
 *
 * Return: 0, or -1 if @buf is too small
 */
int rules_nft_accept(const struct valid_publish *p, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN], port[RULES_PORTS_LEN];
	int n;

	if (addr_format_ip(&p->ip, ip, sizeof(ip)))
		return -1;
	n = snprintf(buf, len,
		     "%s daddr %s %s dport %s ct state established,new accept",
		     p->ip.family == AF_INET ? "ip" : "ip6", ip,
		     addr_proto_name(p->ipproto), rules_ports(p, '-', port));
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/**
 * rules_nft_fwd() - a forward accept of the bridge's, as nft lists it
 * @in_if:	the interface the packet arrives on
 * @out_if:	the one it leaves by
 * @replies:	only replies (the outside into the bridge)
 * @buf:	output
 * @len:	size of @buf
 *
 * Return: 0, or -1 if @buf is too small
 */
int rules_nft_fwd(const char *in_if, const char *out_if, bool replies,
		  char *buf, size_t len)
{
	int n = snprintf(buf, len, "iifname \"%s\" oifname \"%s\" %saccept",
			 in_if, out_if,
			 replies ? "ct state established,related " : "");

	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static void rules_nft_input(struct rules_buf *b, const struct rules_in *in)
{
	char rule[RULES_LINE];
	size_t i;

	rules_add(b, "\tchain input {\n\t\ttype filter hook input priority "
		     "filter; policy accept;\n");
	for (i = 0; i < in->npublish; i++) {
		if (rules_nft_accept(&in->publish[i], rule, sizeof(rule)))
			b->over = true;
		rules_add(b, "\t\t%s\n", rule);
	}
	rules_add(b, "\t}\n");
}

/**
 * rules_nft_up() - one nft transaction that replaces our table
 * @in:		what to build
 * @buf:	output
 * @len:	size of @buf
 *
 * Both possible tables of the bridge ("ip strait-BR", "inet strait-BR")
 * are deleted first, so up is idempotent and switching --ipv6 leaves no
 * stale table; other bridges' tables are not touched.
 *
 * Return: 0, or -1 if @buf is too small
 */
int rules_nft_up(const struct rules_in *in, char *buf, size_t len)
{
	struct rules_buf b = { buf, len, 0, false };
	const char *br = in->bridge, *up = in->uplink;
	char net[INET6_ADDRSTRLEN + 8], net6[INET6_ADDRSTRLEN + 8];
	char rule[RULES_LINE];
	struct rules_names nm;

	if (valid_format_cidr(in->subnet, net, sizeof(net)) ||
	    (in->subnet6 &&
	     valid_format_cidr(in->subnet6, net6, sizeof(net6))))
		return -1;
	rules_names(br, &nm);
	if (rules_nft_down(br, buf, len))
		return -1;
	b.off = strnlen(buf, len);
	rules_add(&b, "table %s %s {\n", rules_inet(in) ? "inet" : "ip",
		  nm.table);
	rules_add(&b, "\tchain postrouting {\n\t\ttype nat hook postrouting "
		      "priority srcnat; policy accept;\n");
	rules_add(&b, "\t\tip saddr %s oifname \"%s\" masquerade\n", net, up);
	if (in->subnet6)
		rules_add(&b, "\t\tip6 saddr %s oifname \"%s\" masquerade\n",
			  net6, up);
	rules_add(&b, "\t}\n");
	rules_add(&b, "\tchain forward {\n\t\ttype filter hook forward "
		      "priority filter; policy accept;\n");
	rules_nft_fwd(up, br, true, rule, sizeof(rule));
	rules_add(&b, "\t\t%s\n", rule);
	rules_nft_fwd(br, up, false, rule, sizeof(rule));
	rules_add(&b, "\t\t%s\n", rule);
	rules_nft_fwd(br, br, false, rule, sizeof(rule));
	rules_add(&b, "\t\t%s\n", rule);
	rules_add(&b, "\t\toifname \"%s\" drop\n", br);
	rules_add(&b, "\t\tiifname \"%s\" drop\n\t}\n", br);
	/* as nft lists it: the mark in 8 hex digits */
	if (in->transparent)
		rules_add(&b, "\tchain prerouting {\n\t\ttype filter hook "
			      "prerouting priority mangle; policy accept;\n"
			      "\t\tiifname \"%s\" socket transparent 1 meta "
			      "mark set 0x%08x\n\t}\n", br, in->mark);
	if (!in->no_input)
		rules_nft_input(&b, in);
	rules_add(&b, "}\n");
	return rules_done(&b);
}

/**
 * rules_nft_down() - remove a bridge's table, whichever family, present
 * or not
 * @bridge:	validated bridge name
 * @buf:	output
 * @len:	size of @buf
 *
 * "add" first makes "delete" succeed when there is nothing to delete.
 *
 * Return: 0, or -1 if @buf is too small
 */
int rules_nft_down(const char *bridge, char *buf, size_t len)
{
	struct rules_buf b = { buf, len, 0, false };
	struct rules_names nm;

	rules_names(bridge, &nm);
	rules_add(&b, "add table ip %s\ndelete table ip %s\n", nm.table,
		  nm.table);
	rules_add(&b, "add table inet %s\ndelete table inet %s\n", nm.table,
		  nm.table);
	return rules_done(&b);
}

/**
 * rules_ipt_filter() - the filter table for iptables-restore --noflush
 * @in:		what to build
 * @family:	AF_INET (iptables-restore) or AF_INET6 (ip6tables-restore)
 * @buf:	output
 * @len:	size of @buf
 *
 * Declaring our chains empties them, so this replaces their contents; the
 * jumps from FORWARD and INPUT are added apart, only where missing. The
 * forward rules name interfaces only, the same for both families; the
 * input accepts are those of @family's published addresses.
 *
 * Return: 0, or -1 if @buf is too small
 */
int rules_ipt_filter(const struct rules_in *in, int family, char *buf,
		     size_t len)
{
	struct rules_buf b = { buf, len, 0, false };
	const char *br = in->bridge, *up = in->uplink;
	char ip[INET6_ADDRSTRLEN], port[RULES_PORTS_LEN];
	struct rules_names nm;
	size_t i;

	rules_names(br, &nm);
	rules_add(&b, "*filter\n:%s - [0:0]\n", nm.fwd);
	if (!in->no_input)
		rules_add(&b, ":%s - [0:0]\n", nm.in);
	rules_add(&b, "-A %s -i %s -o %s -m conntrack --ctstate "
		      "RELATED,ESTABLISHED -j ACCEPT\n",
		  nm.fwd, up, br);
	rules_add(&b, "-A %s -i %s -o %s -j ACCEPT\n", nm.fwd, br, up);
	rules_add(&b, "-A %s -i %s -o %s -j ACCEPT\n", nm.fwd, br, br);
	rules_add(&b, "-A %s -o %s -j DROP\n", nm.fwd, br);
	rules_add(&b, "-A %s -i %s -j DROP\n", nm.fwd, br);
	for (i = 0; i < in->npublish && !in->no_input; i++) {
		const struct valid_publish *p = &in->publish[i];
		const char *pr = addr_proto_name(p->ipproto);

		if (p->ip.family != family)
			continue;
		if (addr_format_ip(&p->ip, ip, sizeof(ip)))
			return -1;
		rules_add(&b, "-A %s -d %s/%u -p %s -m conntrack --ctstate "
			      "NEW,ESTABLISHED -m %s --dport %s -j ACCEPT\n",
			  nm.in, ip, family == AF_INET ? 32U : 128U, pr, pr,
			  rules_ports(p, ':', port));
	}
	/* the container's answers to transparent connections, on a host
	 * whose INPUT drops what is not accepted */
	if (in->transparent && !in->no_input)
		rules_add(&b, "-A %s -i %s -m mark --mark 0x%x -j ACCEPT\n",
			  nm.in, br, in->mark);
	rules_add(&b, "COMMIT\n");
	return rules_done(&b);
}

/**
 * rules_ipt_nat() - the nat table for iptables-restore --noflush
 * @in:		what to build
 * @family:	AF_INET (@in->subnet) or AF_INET6 (@in->subnet6, not NULL)
 * @buf:	output
 * @len:	size of @buf
 *
 * Return: 0, or -1 if @buf is too small or @family has no subnet
 */
int rules_ipt_nat(const struct rules_in *in, int family, char *buf,
		  size_t len)
{
	struct rules_buf b = { buf, len, 0, false };
	const struct valid_cidr *c =
		family == AF_INET ? in->subnet : in->subnet6;
	char net[INET6_ADDRSTRLEN + 8];
	struct rules_names nm;

	if (!c || valid_format_cidr(c, net, sizeof(net)))
		return -1;
	rules_names(in->bridge, &nm);
	rules_add(&b, "*nat\n:%s - [0:0]\n", nm.post);
	rules_add(&b, "-A %s -s %s -o %s -j MASQUERADE\n", nm.post, net,
		  in->uplink);
	rules_add(&b, "COMMIT\n");
	return rules_done(&b);
}

/**
 * rules_ipt_mangle() - transparent mode's mark, for iptables-restore
 * --noflush (iptables and ip6tables alike)
 * @in:		what to build (@in->transparent)
 * @buf:	output
 * @len:	size of @buf
 *
 * Return: 0, or -1 if @buf is too small
 */
int rules_ipt_mangle(const struct rules_in *in, char *buf, size_t len)
{
	struct rules_buf b = { buf, len, 0, false };
	struct rules_names nm;

	rules_names(in->bridge, &nm);
	rules_add(&b, "*mangle\n:%s - [0:0]\n", nm.tp);
	rules_add(&b, "-A %s -i %s -m socket --transparent -j MARK "
		      "--set-xmark 0x%x/0xffffffff\n",
		  nm.tp, in->bridge, in->mark);
	rules_add(&b, "COMMIT\n");
	return rules_done(&b);
}
