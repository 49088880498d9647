// SPDX-License-Identifier: MIT
/*
 * watch.c - `strait-netsetup watch`: every bridge whose name matches a
 * pattern is set up as it appears and taken down when it goes
 *
 * Theory of operation. One rtnetlink socket, subscribed to link and
 * address changes, and one signalfd; poll() waits on both, with no
 * timeout: nothing is polled. At start a dump of the links finds the
 * bridges already there (and a state file left for a matching bridge
 * that is gone is taken down). Then:
 *
 *  - a new link of kind "bridge" whose name matches: a name that would
 *    not pass --bridge is refused and logged, once (the kernel accepts
 *    names such as `x";drop`); any other is set up as `up` would, with
 *    the subnet of its address: until it has one (Docker adds it just
 *    after creating the bridge) it waits for the address event;
 *  - an address change on a bridge of ours sets it up again if its
 *    subnet changed (up is idempotent; nothing is done when nothing
 *    changed);
 *  - a bridge deleted (or renamed away) is taken down as `down` would;
 *  - SIGHUP re-reads --publish-file and sets up again the bridges whose
 *    publishes changed; SIGINT or SIGTERM takes every bridge of ours down
 *    and exits;
 *  - the socket overflowing (ENOBUFS: events lost while up ran) makes a
 *    fresh dump, and bridges missing from it are taken down.
 *
 * The uplink's shared sysctls stay on while any bridge needs them: that
 * is setup.c's business (state files, under the lock), as with up/down
 * run by hand. Each bridge's up or down failing is logged; the others go
 * on.
 */
#include "watch.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "setup.h"
#include "verdict.h"

#define WATCH_MAX_BRIDGES 64
#define WATCH_BUF 65536

enum watch_st { WATCH_PENDING, WATCH_UP, WATCH_FAILED, WATCH_REFUSED };

/**
 * struct watch_br - a matching bridge
 * @ifindex:	the kernel's index
 * @name:	its name (only a valid one is ever used beyond the log)
 * @st:		where it stands
 * @seen:	still there in the last dump
 * @cfg:	what up applied, when @st is WATCH_UP
 */
struct watch_br {
	int ifindex;
	char name[IFNAMSIZ];
	enum watch_st st;
	bool seen;
	struct state_cfg cfg;
};

/**
 * struct watch - the watcher
 * @a:		the command line
 * @io:		where setup reports, and the state directory
 * @log:	our own log
 * @nl:		the rtnetlink socket
 * @sig:	the signalfd
 * @pub:	the publishes of --publish-file
 * @npub:	how many
 * @br:		the matching bridges
 * @nbr:	how many
 */
struct watch {
	const struct args *a;
	struct setup_io io;
	FILE *log;
	int nl, sig;
	struct args_wpub pub[ARGS_MAX_PUBLISH];
	size_t npub;
	struct watch_br br[WATCH_MAX_BRIDGES];
	size_t nbr;
};

static void __attribute__((format(printf, 2, 3)))
watch_log(const struct watch *w, const char *fmt, ...)
{
	va_list ap;

	fputs("strait-netsetup watch: ", w->log);
	va_start(ap, fmt);
	vfprintf(w->log, fmt, ap);
	va_end(ap);
	fputc('\n', w->log);
	fflush(w->log);
}

/* A name as the kernel has it, with anything but [A-Za-z0-9_.-] as \xNN:
 * a hostile name must not reach the log as it is either */
static void watch_printable(const char *raw, char *out, size_t len)
{
	size_t off = 0;

	for (; *raw && off + 5 < len; raw++) {
		unsigned char c = (unsigned char)*raw;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
			out[off++] = (char)c;
		else
			off += (size_t)snprintf(out + off, len - off, "\\x%02x",
						c);
	}
	out[off] = '\0';
}

/**
 * watch_read_publishes() - a publish file: "[PATTERN=]PROTO:HOSTIP:PORT"
 * a line, '#' comments, blank lines
 * @path:	the file
 * @w:		output
 * @max:	room in @w
 * @n:		how many
 * @err:	one-line message on failure, naming the line
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set (and @w not to be used)
 */
int watch_read_publishes(const char *path, struct args_wpub *w, size_t max,
			 size_t *n, char *err, size_t errlen)
{
	char line[256], why[256];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	int rc = 0;

	*n = 0;
	if (!f)
		return snprintf(err, errlen, "%s: %s", path, strerror(errno)),
		       -1;
	while (!rc && fgets(line, sizeof(line), f)) {
		char *s = line + strspn(line, " \t");

		lineno++;
		s[strcspn(s, "#\r\n")] = '\0';
		while (*s && (s[strlen(s) - 1] == ' ' ||
			      s[strlen(s) - 1] == '\t'))
			s[strlen(s) - 1] = '\0';
		if (!*s)
			continue;
		if (*n == max)
			rc = snprintf(err, errlen, "%s:%u: more than %zu "
				      "publishes", path, lineno, max);
		else if (args_wpub(s, &w[*n], why, sizeof(why)))
			rc = snprintf(err, errlen, "%s:%u: %s", path, lineno,
				      why);
		else
			(*n)++;
	}
	fclose(f);
	return rc ? -1 : 0;
}

static bool watch_matches(const struct watch *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->a->npattern; i++) {
		if (args_match(w->a->pattern[i], name))
			return true;
	}
	return false;
}

/* The publishes of @name: the command line's and the file's */
static void watch_publishes(const struct watch *w, const char *name,
			    struct state_cfg *c)
{
	const struct args_wpub *lists[2] = { w->a->wpub, w->pub };
	size_t counts[2] = { w->a->nwpub, w->npub }, l, i;

	for (l = 0; l < 2; l++) {
		for (i = 0; i < counts[l]; i++) {
			if (c->npublish < STATE_MAX_PUBLISH &&
			    args_match(lists[l][i].pattern, name))
				c->publish[c->npublish++] = lists[l][i].p;
		}
	}
}

/*
 * What up should apply to @b now. Return: 0, or 1 if the bridge has no
 * address to read its subnet from yet
 */
static int watch_cfg(const struct watch *w, const struct watch_br *b,
		     struct state_cfg *c)
{
	const struct args *a = w->a;
	char why[256];

	memset(c, 0, sizeof(*c));
	memcpy(c->bridge, b->name, sizeof(c->bridge));
	snprintf(c->uplink, sizeof(c->uplink), "%s", a->uplink);
	c->ipv6 = a->ipv6;
	c->ipv6_routed = a->ipv6_routed;
	c->input = !a->no_input;
	c->transparent = a->transparent;
	if (c->transparent)
		c->tp = a->tp;
	c->have_subnet6 = a->ipv6 && !a->ipv6_routed;
	watch_publishes(w, b->name, c);
	if (setup_iface_subnet(b->name, AF_INET, &c->subnet) ||
	    (c->have_subnet6 &&
	     setup_iface_subnet(b->name, AF_INET6, &c->subnet6)))
		return 1;
	if (a->backend == ARGS_AUTO)
		c->backend = verdict_backend_auto(why, sizeof(why));
	else
		c->backend = a->backend == ARGS_IPTABLES ? STATE_IPTABLES
							 : STATE_NFT;
	return 0;
}

/* The same setup: compared as the state file would write it */
static bool watch_same(const struct state_cfg *x, const struct state_cfg *y)
{
	static struct state sx, sy;
	static char tx[STATE_MAX_BYTES], ty[STATE_MAX_BYTES];

	memset(&sx, 0, sizeof(sx));
	memset(&sy, 0, sizeof(sy));
	sx.cfg = *x;
	sy.cfg = *y;
	return !state_format(&sx, tx, sizeof(tx)) &&
	       !state_format(&sy, ty, sizeof(ty)) && !strcmp(tx, ty);
}

/* Set @b up, or again if what it needs changed */
static void watch_try(struct watch *w, struct watch_br *b)
{
	static struct state_cfg c;
	char err[8192], net[64];

	if (b->st == WATCH_REFUSED)
		return;
	if (watch_cfg(w, b, &c)) {
		/* no address (yet): wait for one; one that went leaves
		 * what is applied as it is */
		if (b->st != WATCH_UP)
			b->st = WATCH_PENDING;
		return;
	}
	if (b->st == WATCH_UP && watch_same(&c, &b->cfg))
		return;
	if (setup_up(&c, &w->io, err, sizeof(err))) {
		b->st = WATCH_FAILED;
		watch_log(w, "%s: up failed: %s", b->name, err);
		return;
	}
	b->st = WATCH_UP;
	b->cfg = c;
	valid_format_cidr(&c.subnet, net, sizeof(net));
	watch_log(w, "%s: up (%s, subnet %s, %zu published)", b->name,
		  state_backend_name(c.backend), net, c.npublish);
}

/* Take @b down if it is ours, and forget it */
static void watch_gone(struct watch *w, struct watch_br *b)
{
	char err[1024];

	if (b->st == WATCH_UP || b->st == WATCH_FAILED) {
		if (setup_down(b->name, NULL, &w->io, err, sizeof(err)))
			watch_log(w, "%s: down failed: %s", b->name, err);
		else
			watch_log(w, "%s: gone, down", b->name);
	}
	*b = w->br[--w->nbr];
}

static struct watch_br *watch_find(struct watch *w, int ifindex)
{
	size_t i;

	for (i = 0; i < w->nbr; i++) {
		if (w->br[i].ifindex == ifindex)
			return &w->br[i];
	}
	return NULL;
}

/* A new bridge that matches: refused if its name would not pass, else
 * set up */
static void watch_new(struct watch *w, int ifindex, const char *raw)
{
	struct watch_br *b;
	char err[160], shown[IFNAMSIZ * 4 + 1];

	if (w->nbr == WATCH_MAX_BRIDGES) {
		watch_printable(raw, shown, sizeof(shown));
		watch_log(w, "%s: not set up: more than %d bridges", shown,
			  WATCH_MAX_BRIDGES);
		return;
	}
	b = &w->br[w->nbr++];
	memset(b, 0, sizeof(*b));
	b->ifindex = ifindex;
	b->seen = true;
	if (strlen(raw) >= IFNAMSIZ || valid_ifname(raw, err, sizeof(err))) {
		b->st = WATCH_REFUSED;
		watch_printable(raw, shown, sizeof(shown));
		watch_log(w, "bridge \"%s\" refused: %s", shown,
			  "its name is not [A-Za-z0-9_.-]{1,15} (or is "
			  "reserved): it never reaches a rule or a path");
		return;
	}
	memcpy(b->name, raw, strlen(raw) + 1);
	b->st = WATCH_PENDING;
	watch_try(w, b);
	if (b->st == WATCH_PENDING)
		watch_log(w, "%s: waiting for its address", b->name);
}

/* The attributes we read of a link: its name and kind */
static void watch_link_attrs(const struct nlmsghdr *h, const char **name,
			     const char **kind)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)IFLA_PAYLOAD(h), ilen;
	const struct rtattr *rta, *in;

	*name = *kind = NULL;
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_IFNAME &&
		    memchr(RTA_DATA(rta), '\0', RTA_PAYLOAD(rta)))
			*name = RTA_DATA(rta);
		if (rta->rta_type != IFLA_LINKINFO)
			continue;
		ilen = (int)RTA_PAYLOAD(rta);
		for (in = RTA_DATA(rta); RTA_OK(in, ilen);
		     in = RTA_NEXT(in, ilen)) {
			if (in->rta_type == IFLA_INFO_KIND &&
			    memchr(RTA_DATA(in), '\0', RTA_PAYLOAD(in)))
				*kind = RTA_DATA(in);
		}
	}
}

static void watch_link(struct watch *w, const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	struct watch_br *b = watch_find(w, ifi->ifi_index);
	const char *name, *kind;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	watch_link_attrs(h, &name, &kind);
	if (b)
		b->seen = true;
	if (h->nlmsg_type == RTM_DELLINK) {
		if (b)
			watch_gone(w, b);
		return;
	}
	/* renamed: the old name is gone, the new one may match */
	if (b && name && strcmp(name, b->name) && b->st != WATCH_REFUSED) {
		watch_gone(w, b);
		b = NULL;
	}
	if (b || !name || !kind || strcmp(kind, "bridge") ||
	    !watch_matches(w, name))
		return;
	watch_new(w, ifi->ifi_index, name);
}

static void watch_addr(struct watch *w, const struct nlmsghdr *h)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(h);
	struct watch_br *b;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return;
	b = watch_find(w, (int)ifa->ifa_index);
	if (b)
		watch_try(w, b);
}

/* Every message in @buf. Return: true at the end of a dump */
static bool watch_msgs(struct watch *w, const char *buf, size_t n)
{
	const struct nlmsghdr *h;
	int len = (int)n;
	bool done = false;

	for (h = (const void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
		switch (h->nlmsg_type) {
		case RTM_NEWLINK:
		case RTM_DELLINK:
			watch_link(w, h);
			break;
		case RTM_NEWADDR:
		case RTM_DELADDR:
			watch_addr(w, h);
			break;
		case NLMSG_DONE:
		case NLMSG_ERROR:
			done = true;
			break;
		}
	}
	return done;
}

static int watch_open(struct watch *w, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK |
					       RTMGRP_IPV4_IFADDR |
					       RTMGRP_IPV6_IFADDR };
	int rcv = 1 << 20;

	w->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (w->nl < 0 || bind(w->nl, (struct sockaddr *)&sa, sizeof(sa)))
		return snprintf(err, errlen, "rtnetlink: %s", strerror(errno)),
		       -1;
	/* best effort: a burst of bridges is what ENOBUFS resyncs after */
	setsockopt(w->nl, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	return 0;
}

/* Receive what is there (blocking until something is). Return: 1 at the
 * end of a dump, 0, or -1 with errno (ENOBUFS: events were lost) */
static int watch_recv(struct watch *w)
{
	static char buf[WATCH_BUF];
	ssize_t n = recv(w->nl, buf, sizeof(buf), 0);

	if (n < 0)
		return errno == EINTR ? 0 : -1;
	return watch_msgs(w, buf, (size_t)n) ? 1 : 0;
}

/*
 * Dump every link: what is there is set up, what is missing went while
 * events were lost. Return: 0, or -1 with @err set
 */
static int watch_dump(struct watch *w, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = { .h = { .nlmsg_len = sizeof(req), .nlmsg_type = RTM_GETLINK,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			 .nlmsg_seq = 1 },
		  .i = { .ifi_family = AF_UNSPEC } };
	size_t i;
	int rc;

	for (i = 0; i < w->nbr; i++)
		w->br[i].seen = false;
	if (send(w->nl, &req, sizeof(req), 0) < 0)
		return snprintf(err, errlen, "rtnetlink dump: %s",
				strerror(errno)),
		       -1;
	while ((rc = watch_recv(w)) != 1) {
		if (rc < 0 && errno != ENOBUFS)
			return snprintf(err, errlen, "rtnetlink: %s",
					strerror(errno)),
			       -1;
	}
	for (i = w->nbr; i-- > 0;) {
		if (!w->br[i].seen)
			watch_gone(w, &w->br[i]);
	}
	return 0;
}

/* A state file left for a matching bridge that is not there: down */
static void watch_stale(struct watch *w)
{
	static char names[256][IFNAMSIZ];
	char err[1024];
	size_t n, i, k;

	if (state_bridges(w->io.dir, names, 256, &n, err, sizeof(err))) {
		watch_log(w, "%s", err);
		return;
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < w->nbr && strcmp(w->br[k].name, names[i]); k++)
			;
		if (k < w->nbr || !watch_matches(w, names[i]))
			continue;
		if (setup_down(names[i], NULL, &w->io, err, sizeof(err)))
			watch_log(w, "%s: down failed: %s", names[i], err);
		else
			watch_log(w, "%s: set up before, gone: down",
				  names[i]);
	}
}

static void watch_reload(struct watch *w)
{
	static struct args_wpub pub[ARGS_MAX_PUBLISH];
	char err[512];
	size_t n, i;

	if (!w->a->publish_file)
		return;
	if (watch_read_publishes(w->a->publish_file, pub, ARGS_MAX_PUBLISH,
				 &n, err, sizeof(err))) {
		watch_log(w, "SIGHUP: %s: publishes kept as they were", err);
		return;
	}
	memcpy(w->pub, pub, n * sizeof(pub[0]));
	w->npub = n;
	watch_log(w, "SIGHUP: %zu publishes from %s", n,
		  w->a->publish_file);
	for (i = 0; i < w->nbr; i++)
		watch_try(w, &w->br[i]);
}

/* SIGINT, SIGTERM: everything ours down. Return: 0, or 1 if one failed */
static int watch_stop(struct watch *w)
{
	char err[1024];
	int rc = 0;

	while (w->nbr) {
		struct watch_br *b = &w->br[w->nbr - 1];

		if ((b->st == WATCH_UP || b->st == WATCH_FAILED) &&
		    setup_down(b->name, NULL, &w->io, err, sizeof(err))) {
			watch_log(w, "%s: down failed: %s", b->name, err);
			rc = 1;
		}
		w->nbr--;
	}
	watch_log(w, "stopped: every bridge of ours is down");
	return rc;
}

/* Wait for events and signals; Return: the exit code */
static int watch_loop(struct watch *w)
{
	struct pollfd p[2] = { { w->nl, POLLIN, 0 }, { w->sig, POLLIN, 0 } };
	struct signalfd_siginfo si;
	char err[512];

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			watch_log(w, "poll: %s", strerror(errno));
			return watch_stop(w) | 1;
		}
		if ((p[1].revents & POLLIN) &&
		    read(w->sig, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo != SIGHUP)
				return watch_stop(w);
			watch_reload(w);
		}
		if (!(p[0].revents & POLLIN))
			continue;
		if (watch_recv(w) >= 0 || errno == EINTR)
			continue;
		if (errno != ENOBUFS || watch_dump(w, err, sizeof(err))) {
			watch_log(w, "rtnetlink: %s", strerror(errno));
			return watch_stop(w) | 1;
		}
	}
}

/**
 * watch_run() - watch until SIGINT or SIGTERM
 * @a:		the command line (patterns, uplink, publishes, options)
 * @dir:	the state directory
 * @log:	where to log (line-buffered)
 * @err:	one-line message if it cannot start
 * @errlen:	size of @err
 *
 * Return: the exit code (0: stopped by a signal, everything down), or -1
 * with @err set if it could not start (nothing changed)
 */
int watch_run(const struct args *a, const char *dir, FILE *log, char *err,
	      size_t errlen)
{
	static struct watch w;
	sigset_t set;

	memset(&w, 0, sizeof(w));
	w.a = a;
	/* up's own report would be noise here: one line a bridge is ours */
	w.io = (struct setup_io){ NULL, log, dir };
	w.log = log;
	if (valid_ifname_exists(a->uplink, err, errlen))
		return -1;
	if (a->publish_file &&
	    watch_read_publishes(a->publish_file, w.pub, ARGS_MAX_PUBLISH,
				 &w.npub, err, errlen))
		return -1;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) ||
	    (w.sig = signalfd(-1, &set, SFD_CLOEXEC)) < 0)
		return snprintf(err, errlen, "signalfd: %s", strerror(errno)),
		       -1;
	if (watch_open(&w, err, errlen))
		return -1;
	if (watch_dump(&w, err, errlen)) {
		watch_stop(&w); /* what the dump set up so far */
		return -1;
	}
	watch_stale(&w);
	watch_log(&w, "watching %zu pattern(s) on uplink %s", a->npattern,
		  a->uplink);
	return watch_loop(&w);
}
