// SPDX-License-Identifier: MIT
/*
 * tproute.c - transparent mode's policy routing, over rtnetlink
 *
 * A container answers a transparent connection (one whose source is the
 * outside client's address) through its default route, the host's bridge
 * address; the host must deliver those packets to the proxy's local
 * socket instead of forwarding them. The mark rule (nft or iptables, in
 * rules.c) marks packets that belong to a local transparent socket; here:
 *
 *   ip rule add fwmark MARK lookup TABLE proto 83
 *   ip route add local 0.0.0.0/0 dev lo table TABLE proto 83
 *
 * and the same for IPv6 (local ::/0). Ours carry routing protocol 83, so
 * anything else that uses the mark or the table is someone else's: up
 * refuses it rather than share it, down never removes it.
 *
 * Spoken directly (no ip(8) to exec): one request, one acknowledgement;
 * a dump is read to its end.
 */
#include "tproute.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TPROUTE_BUF 32768

struct tproute_req {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct fib_rule_hdr fr;
	} u;
	char attrs[64];
};

static int tproute_socket(char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void tproute_attr(struct tproute_req *r, unsigned short type,
			 const void *data, unsigned short len)
{
	struct rtattr *a = (struct rtattr *)(void *)((char *)r +
						    NLMSG_ALIGN(r->nh.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void tproute_u32(struct tproute_req *r, unsigned short type,
			uint32_t v)
{
	tproute_attr(r, type, &v, sizeof(v));
}

/* The rule of @t: RTM_NEWRULE or RTM_DELRULE */
static void tproute_rule_req(struct tproute_req *r, int family,
			     const struct tproute *t, unsigned short type)
{
	unsigned char proto = TPROUTE_PROTO;

	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct fib_rule_hdr));
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			    (type == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL
						 : 0);
	r->u.fr.family = (unsigned char)family;
	r->u.fr.action = FR_ACT_TO_TBL;
	r->u.fr.table = t->table < 256 ? (unsigned char)t->table
				       : RT_TABLE_UNSPEC;
	tproute_u32(r, FRA_FWMARK, t->mark);
	tproute_u32(r, FRA_FWMASK, 0xffffffffU);
	tproute_u32(r, FRA_TABLE, t->table);
	tproute_attr(r, FRA_PROTOCOL, &proto, 1);
}

/* The local route of @t: RTM_NEWROUTE or RTM_DELROUTE */
static void tproute_route_req(struct tproute_req *r, int family,
			      const struct tproute *t, unsigned short type,
			      unsigned lo)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			    (type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_EXCL
						  : 0);
	r->u.rt.rtm_family = (unsigned char)family;
	r->u.rt.rtm_table = t->table < 256 ? (unsigned char)t->table
					   : RT_TABLE_UNSPEC;
	r->u.rt.rtm_protocol = TPROUTE_PROTO;
	r->u.rt.rtm_scope = RT_SCOPE_HOST;
	r->u.rt.rtm_type = RTN_LOCAL;
	tproute_u32(r, RTA_TABLE, t->table);
	tproute_u32(r, RTA_OIF, lo);
}

/* A u32 attribute's value, if @a is one */
static bool tproute_get_u32(const struct rtattr *a, uint32_t *v)
{
	if (RTA_PAYLOAD(a) < sizeof(*v))
		return false;
	memcpy(v, RTA_DATA(a), sizeof(*v));
	return true;
}

/* One rule of a dump: ours, someone else's using our mark or table, or
 * nothing to us */
static void tproute_rule_seen(const struct nlmsghdr *h,
			      const struct tproute *t,
			      struct tproute_seen *s)
{
	const struct fib_rule_hdr *fr = NLMSG_DATA(h);
	const struct rtattr *a = (const struct rtattr *)(const void *)
		((const char *)fr + NLMSG_ALIGN(sizeof(*fr)));
	int len = (int)h->nlmsg_len - NLMSG_LENGTH(sizeof(*fr));
	uint32_t mark = 0, mask = 0xffffffffU, table = fr->table;
	bool has_mark = false, other = false;
	unsigned char proto = 0;

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case FRA_FWMARK:
			has_mark = tproute_get_u32(a, &mark);
			break;
		case FRA_FWMASK:
			tproute_get_u32(a, &mask);
			break;
		case FRA_TABLE:
			tproute_get_u32(a, &table);
			break;
		case FRA_PROTOCOL:
			proto = *(const unsigned char *)RTA_DATA(a);
			break;
		case FRA_SRC:
		case FRA_DST:
		case FRA_IIFNAME:
		case FRA_OIFNAME:
		case FRA_UID_RANGE:
		case FRA_IP_PROTO:
		case FRA_SPORT_RANGE:
		case FRA_DPORT_RANGE:
			other = true;
			break;
		default:
			break;
		}
	}
	if (has_mark && mark == t->mark && mask == 0xffffffffU &&
	    table == t->table && proto == TPROUTE_PROTO && !other &&
	    fr->action == FR_ACT_TO_TBL && !fr->src_len && !fr->dst_len &&
	    !(fr->flags & FIB_RULE_INVERT)) {
		s->rule = true;
		return;
	}
	if (s->foreign[0])
		return;
	if (has_mark && (mark & mask) == (t->mark & mask) &&
	    fr->action == FR_ACT_TO_TBL)
		snprintf(s->foreign, sizeof(s->foreign), "a rule for fwmark "
			 "0x%x/0x%x looks up table %u (protocol %u, not "
			 "ours)", mark, mask, table, proto);
	else if (table == t->table && fr->action == FR_ACT_TO_TBL)
		snprintf(s->foreign, sizeof(s->foreign), "a rule (protocol "
			 "%u, not ours) looks up table %u", proto, table);
}

/* One route of a dump in our table: ours or someone else's */
static void tproute_route_seen(const struct nlmsghdr *h,
			       const struct tproute *t, unsigned lo,
			       struct tproute_seen *s)
{
	const struct rtmsg *rt = NLMSG_DATA(h);
	const struct rtattr *a = RTM_RTA(rt);
	int len = (int)RTM_PAYLOAD(h);
	uint32_t table = rt->rtm_table, oif = 0;

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == RTA_TABLE)
			tproute_get_u32(a, &table);
		else if (a->rta_type == RTA_OIF)
			tproute_get_u32(a, &oif);
	}
	if (table != t->table)
		return;
	if (rt->rtm_protocol == TPROUTE_PROTO && rt->rtm_type == RTN_LOCAL &&
	    !rt->rtm_dst_len && !rt->rtm_src_len && oif == lo) {
		s->route = true;
		return;
	}
	if (!s->foreign[0])
		snprintf(s->foreign, sizeof(s->foreign), "table %u has a "
			 "route that is not ours (/%u, type %u, protocol "
			 "%u)", table, rt->rtm_dst_len, rt->rtm_type,
			 rt->rtm_protocol);
}

/*
 * Read @fd's answer to our last request up to its end: the
 * acknowledgement (an error message, 0 for success) or, for a dump, the
 * done message; the rules and routes of a dump go into @s.
 * Return: 0, or the error (> 0)
 */
static int tproute_read(int fd, const struct tproute *t, unsigned lo,
			struct tproute_seen *s)
{
	static char buf[TPROUTE_BUF];
	struct nlmsghdr *h;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : EPROTO;
		for (h = (struct nlmsghdr *)(void *)buf;
		     NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -((struct nlmsgerr *)NLMSG_DATA(h))
						->error;
			if (s && h->nlmsg_type == RTM_NEWRULE)
				tproute_rule_seen(h, t, s);
			else if (s && h->nlmsg_type == RTM_NEWROUTE)
				tproute_route_seen(h, t, lo, s);
		}
	}
}

/* Send @r and read its acknowledgement. Return: 0, or the error (> 0) */
static int tproute_ask(int fd, struct tproute_req *r)
{
	r->nh.nlmsg_seq = 1;
	if (send(fd, r, r->nh.nlmsg_len, 0) < 0)
		return errno;
	return tproute_read(fd, NULL, 0, NULL);
}

/* Dump @type (RTM_GETRULE, RTM_GETROUTE) of @family into @s */
static int tproute_dump(int fd, int family, unsigned short type,
			const struct tproute *t, unsigned lo,
			struct tproute_seen *s)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
	} req;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(req.rt));
	req.nh.nlmsg_type = type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.nh.nlmsg_seq = 2;
	req.rt.rtm_family = (unsigned char)family;
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0)
		return errno;
	return tproute_read(fd, t, lo, s);
}

/**
 * tproute_table_ok() - whether @table may be transparent mode's: not 0
 * (unspecified), nor the kernel's compat, default, main or local table
 * @table:	routing table id
 *
 * Return: true if it may
 */
bool tproute_table_ok(uint32_t table)
{
	return table && (table < RT_TABLE_COMPAT || table > RT_TABLE_LOCAL);
}

static const char *tproute_fam(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/**
 * tproute_look() - what the kernel has of @family's routing for @t
 * @family:	AF_INET or AF_INET6
 * @t:		mark and table
 * @s:		result
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set if the kernel could not be asked
 */
int tproute_look(int family, const struct tproute *t, struct tproute_seen *s,
		 char *err, size_t errlen)
{
	unsigned lo = if_nametoindex("lo");
	int fd = tproute_socket(err, errlen), e;

	memset(s, 0, sizeof(*s));
	if (fd < 0)
		return -1;
	e = tproute_dump(fd, family, RTM_GETRULE, t, lo, s);
	if (!e)
		e = tproute_dump(fd, family, RTM_GETROUTE, t, lo, s);
	close(fd);
	if (e)
		return snprintf(err, errlen, "list %s rules and routes: %s",
				tproute_fam(family), strerror(e)),
		       -1;
	return 0;
}

/**
 * tproute_up() - @family's rule and local route for @t, where missing;
 * refused (nothing changed) if a rule or route of someone else's uses the
 * mark or the table
 * @family:	AF_INET or AF_INET6
 * @t:		mark and table
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set (a rule this added is taken out again)
 */
int tproute_up(int family, const struct tproute *t, char *err, size_t errlen)
{
	struct tproute_req r;
	struct tproute_seen s;
	unsigned lo = if_nametoindex("lo");
	int fd, e = 0;

	if (!lo)
		return snprintf(err, errlen, "no loopback device lo"), -1;
	if (tproute_look(family, t, &s, err, errlen))
		return -1;
	if (s.foreign[0])
		return snprintf(err, errlen, "--transparent: %s %s; choose "
				"another --transparent-mark / "
				"--transparent-table",
				tproute_fam(family), s.foreign),
		       -1;
	fd = tproute_socket(err, errlen);
	if (fd < 0)
		return -1;
	if (!s.rule) {
		tproute_rule_req(&r, family, t, RTM_NEWRULE);
		e = tproute_ask(fd, &r);
	}
	if (!e && !s.route) {
		tproute_route_req(&r, family, t, RTM_NEWROUTE, lo);
		e = tproute_ask(fd, &r);
		if (e && !s.rule) {
			tproute_rule_req(&r, family, t, RTM_DELRULE);
			tproute_ask(fd, &r);
		}
	}
	close(fd);
	if (e)
		return snprintf(err, errlen, "add %s transparent routing "
				"(fwmark 0x%x, table %u): %s",
				tproute_fam(family), t->mark, t->table,
				strerror(e)),
		       -1;
	return 0;
}

/**
 * tproute_down() - remove our rule and route of @family for @t; none
 * there is no error, and nothing that is not ours is touched
 * @family:	AF_INET or AF_INET6
 * @t:		mark and table
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set if one of ours is still there
 */
int tproute_down(int family, const struct tproute *t, char *err,
		 size_t errlen)
{
	struct tproute_req r;
	struct tproute_seen s;
	unsigned lo = if_nametoindex("lo");
	int fd, guard;

	for (guard = 0; guard < 4; guard++) {
		if (tproute_look(family, t, &s, err, errlen))
			return -1;
		if (!s.rule && !s.route)
			return 0;
		fd = tproute_socket(err, errlen);
		if (fd < 0)
			return -1;
		if (s.rule) {
			tproute_rule_req(&r, family, t, RTM_DELRULE);
			tproute_ask(fd, &r);
		}
		if (s.route) {
			tproute_route_req(&r, family, t, RTM_DELROUTE, lo);
			tproute_ask(fd, &r);
		}
		close(fd);
	}
	return snprintf(err, errlen, "%s transparent routing (fwmark 0x%x, "
			"table %u) could not be removed", tproute_fam(family),
			t->mark, t->table),
	       -1;
}

/**
 * tproute_format() - @family's routing as ip(8) commands, for check
 * @family:	AF_INET or AF_INET6
 * @t:		mark and table
 * @buf:	output, two lines
 * @len:	size of @buf
 *
 * Return: 0, or -1 if it does not fit
 */
int tproute_format(int family, const struct tproute *t, char *buf,
		   size_t len)
{
	const char *f = family == AF_INET6 ? "-6" : "-4";
	int n = snprintf(buf, len,
			 "ip %s rule add fwmark 0x%x lookup %u proto %u\n"
			 "ip %s route add local %s dev lo table %u proto %u\n",
			 f, t->mark, t->table, TPROUTE_PROTO, f,
			 family == AF_INET6 ? "::/0" : "0.0.0.0/0", t->table,
			 TPROUTE_PROTO);

	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}
