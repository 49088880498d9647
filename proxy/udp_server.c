// SPDX-License-Identifier: MIT
/*
 * udp_server.c - UDP: one connected socket per client towards the container
 *
 * Theory of operation
 *
 * Datagrams from clients arrive on the listener, up to UDP_SERVER_BATCH per
 * recvmmsg() and per wake-up (then the loop serves replies and the other
 * ports of a range before the next batch). Each client (address and port)
 * has a flow: a socket connected to the container with its own ephemeral
 * port, so the kernel drops anything from another container address or
 * port, and the container can tell clients apart. Consecutive datagrams of
 * one client go out in one sendmmsg(), runs of one size joined into one
 * message the kernel splits again (udp_gso.c).
 *
 * Pacing (udp_pace.c): a paced stream leaves paced. After a full batch
 * the next one waits, so that datagrams leave with the gaps they arrived
 * with, and a backlog (the proxy fell behind) at most UDP_PACE_CATCHUP
 * times as densely; under a fast stream a wake-up waits a few tens of
 * microseconds to carry several datagrams. Waits are short and taken in
 * the callback: replies and the other ports of a range wait with it.
 *
 * Replies: see udp_reply.c.
 *
 * A flow lives until it has seen no client datagram for the idle timeout
 * (replies do not count). The table has a fixed capacity; when it is full,
 * its least recently used flow makes room. Out of fds, or out of local
 * ports (connect() of a flow socket fails with EAGAIN once every port of
 * net.ipv4.ip_local_port_range is taken: UDP sockets never share one), the
 * least recently used flow of all the process's servers is given up: fds
 * and ports are the process's, and a range of ports with the default table
 * size can want more flows than there are ports. ICMP port unreachable
 * (the container not listening yet) shows up as ECONNREFUSED on the flow
 * socket: ignored on read, and on write the datagram is sent again once the
 * error has been consumed.
 *
 * Registering an event can fail (out of memory). A flow whose socket cannot
 * be watched is dropped with its datagram (the client's next one tries
 * again); an expiry timer that cannot be armed is armed again after every
 * read from clients. Both are logged, rate-limited.
 *
 * The port's counters (stats.h) count datagrams and bytes each way as
 * they are sent, datagrams dropped either way, and flows created, given
 * up and expired; each flow's start and end is logged at debug with the
 * client's address.
 */
#include "udp_server.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "stats.h"
#include "transparent.h"
#include "udp_batch.h"
#include "udp_gso.h"

/* One batch for every server of the process (a port range has many): the
 * process is single-threaded and a batch lives within one callback */
static struct udp_batch *udp_server_batch;
static unsigned udp_server_batch_users;

/* Every server of the process, for evictions when fds or ports run out */
static struct udp_server *udp_server_all;

struct log_ratelimit udp_server_rl = LOG_RATELIMIT_INIT(10, 5);
static struct log_ratelimit udp_server_rl_evict = LOG_RATELIMIT_INIT(10, 1);

/* A flow's line, at debug, naming its client */
static void udp_server_flow_log(const struct udp_server *s,
				const struct udp_flow *f, const char *what)
{
	char who[ADDR_STRLEN] = "?";

	if (log_get_level() < LOG_LVL_DEBUG)
		return;
	addr_format_sock(&f->client.sa, who, sizeof(who));
	udp_server_log(NULL, s, LOG_LVL_DEBUG, "flow from %s: %s", who, what);
}

/* Monotonic time in ms: the flows' clock */
static uint64_t udp_server_now(void)
{
	return udp_pace_ns() / 1000000;
}

/* Point @b's messages at its buffers for a recvmmsg(); @named: with the
 * sender's address and ancillary data (from clients) */
void udp_server_prep_recv(struct udp_batch *b, bool named)
{
	int i;

	for (i = 0; i < UDP_SERVER_BATCH; i++) {
		struct msghdr *h = &b->in[i].msg_hdr;

		b->iov[i].iov_base = b->data[i];
		b->iov[i].iov_len = UDP_SERVER_DGRAM;
		memset(h, 0, sizeof(*h));
		h->msg_iov = &b->iov[i];
		h->msg_iovlen = 1;
		if (named) {
			h->msg_name = &b->name[i];
			h->msg_namelen = sizeof(b->name[i]);
			h->msg_control = &b->ctrl[i];
			h->msg_controllen = sizeof(b->ctrl[i]);
		}
	}
}

/* The local address a datagram was sent to, from its pktinfo */
static void udp_server_local(struct udp_flow *f, struct msghdr *h)
{
	struct cmsghdr *cm;

	for (cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			f->local.v4 = pi.ipi_spec_dst;
			f->ifindex = pi.ipi_ifindex;
		} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			   cm->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			f->local.v6 = pi.ipi6_addr;
			f->ifindex = (int)pi.ipi6_ifindex;
		}
	}
}

static void udp_server_drop(struct udp_server *s, struct udp_flow *f)
{
	stats_dec(s->st, STATS_FLOWS_ACTIVE);
	if (f->data)
		event_free(f->data);
	if (f->fd >= 0)
		close(f->fd);
	udp_flow_remove(&s->flows, f);
}

static void udp_server_link(struct udp_server *s)
{
	s->prev = NULL;
	s->next = udp_server_all;
	if (udp_server_all)
		udp_server_all->prev = s;
	udp_server_all = s;
}

static void udp_server_unlink(struct udp_server *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else if (udp_server_all == s)
		udp_server_all = s->next;
	else
		return; /* never linked */
	if (s->next)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
}

/* The least recently used flow of @s, or with @anywhere of any server;
 * @owner is set to the server that holds it */
static struct udp_flow *udp_server_victim(struct udp_server *s, bool anywhere,
					  struct udp_server **owner)
{
	struct udp_flow *best = udp_flow_oldest(&s->flows), *f;
	struct udp_server *o;

	*owner = s;
	for (o = anywhere ? udp_server_all : NULL; o; o = o->next) {
		f = udp_flow_oldest(&o->flows);
		if (f && (!best || f->last_ms < best->last_ms)) {
			best = f;
			*owner = o;
		}
	}
	return best;
}

/* Give up a flow to make room. Return: whether there was one to give up */
static bool udp_server_evict(struct udp_server *s, bool anywhere,
			     const char *why)
{
	struct udp_server *owner;
	struct udp_flow *f = udp_server_victim(s, anywhere, &owner);

	if (!f)
		return false;
	udp_server_flow_log(owner, f, "given up to make room");
	udp_server_drop(owner, f);
	owner->flows.evicted++;
	stats_inc(owner->st, STATS_FLOWS_EVICTED);
	udp_server_log(&udp_server_rl_evict, owner, LOG_LVL_WARN,
		       "udp: %s: dropped the least recently used flow "
		       "(%llu so far on its port)",
		       why, owner->flows.evicted);
	return true;
}

static void udp_server_arm(struct udp_server *s)
{
	struct udp_flow *f = udp_flow_oldest(&s->flows);
	uint64_t now, due, wait;
	struct timeval tv;

	if (!f || evtimer_pending(s->timer, NULL))
		return;
	now = udp_server_now();
	due = f->last_ms + s->timeout_ms;
	wait = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	/* left unarmed, idle flows would hold their fds and ports for good:
	 * the next read from clients tries again */
	if (evtimer_add(s->timer, &tv))
		udp_server_log(&udp_server_rl, s, LOG_LVL_WARN,
			       "udp: expiry timer: cannot arm it (tried again "
			       "at the next datagram)");
}

static void udp_server_expire(evutil_socket_t fd, short what, void *arg)
{
	struct udp_server *s = arg;
	uint64_t now = udp_server_now();
	struct udp_flow *f;

	(void)fd;
	(void)what;
	while ((f = udp_flow_expired(&s->flows, now, s->timeout_ms))) {
		udp_server_flow_log(s, f, "expired");
		stats_inc(s->st, STATS_FLOWS_EXPIRED);
		udp_server_drop(s, f);
	}
	udp_server_arm(s);
}

/*
 * What a flow socket failed for want of, if every flow holds one of it
 * (then giving up a flow makes room), else NULL. connect() of a UDP socket
 * binds a free port of net.ipv4.ip_local_port_range and says EAGAIN when
 * there is none (EADDRNOTAVAIL where TCP's rules apply).
 */
static const char *udp_server_shortage(int err)
{
	switch (err) {
	case EMFILE:
	case ENFILE:
		return "out of file descriptors";
	case EAGAIN:
	case EADDRNOTAVAIL:
		return "out of local ports";
	default:
		return NULL;
	}
}

/* The flow's socket, in transparent mode bound to client @a where that can
 * work (transparent_open()) */
static int udp_server_socket(struct udp_server *s,
			     const union udp_flow_addr *a)
{
	union addr_sock client;
	int failed, fd;
	bool used;

	memset(&client, 0, sizeof(client));
	memcpy(&client, a, a->sa.sa_family == AF_INET6 ? sizeof(a->sin6)
						       : sizeof(a->sin));
	fd = transparent_open(s->tp, &client, s->target.sa.sa_family,
			      SOCK_DGRAM, &used, &failed);
	if (failed)
		udp_server_log(&udp_server_rl, s, LOG_LVL_WARN,
			       "udp: transparent socket: %s (the container "
			       "sees the host's address)",
			       strerror(failed));
	if (fd < 0)
		return -1;
	if (connect(fd, &s->target.sa, s->target_len)) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int udp_server_socket_room(struct udp_server *s,
				  const union udp_flow_addr *a)
{
	int fd = udp_server_socket(s, a);
	const char *why;

	if (fd >= 0 || !(why = udp_server_shortage(errno)))
		return fd;
	if (udp_server_evict(s, true, why))
		fd = udp_server_socket(s, a);
	return fd;
}

/* Watch @f's socket for replies. Return: 0, or -1 (logged) if it can't be */
static int udp_server_watch(struct udp_server *s, struct udp_flow *f)
{
	f->data = event_new(s->base, f->fd, EV_READ | EV_PERSIST,
			    udp_reply, f);
	if (f->data && !event_add(f->data, NULL))
		return 0;
	udp_server_log(&udp_server_rl, s, LOG_LVL_WARN,
		       "udp: flow socket: cannot watch it for replies (flow "
		       "dropped, the client's next datagram tries again)");
	return -1;
}

static struct udp_flow *udp_server_new_flow(struct udp_server *s,
					    const union udp_flow_addr *a,
					    uint64_t now)
{
	struct udp_flow *f;
	int fd = udp_server_socket_room(s, a);

	if (fd < 0) {
		udp_server_log(&udp_server_rl, s, LOG_LVL_WARN,
			       "udp: flow socket: %s", strerror(errno));
		return NULL;
	}
	f = udp_flow_insert(&s->flows, a, now);
	if (!f && udp_server_evict(s, false, "flow table full"))
		f = udp_flow_insert(&s->flows, a, now);
	if (!f) {
		close(fd);
		return NULL;
	}
	f->fd = fd;
	f->owner = s;
	stats_inc(s->st, STATS_FLOWS_ACTIVE);
	if (udp_server_watch(s, f)) {
		udp_server_drop(s, f);
		return NULL;
	}
	stats_inc(s->st, STATS_FLOWS_CREATED);
	udp_server_flow_log(s, f, "created");
	return f;
}

/* in[from..from+n) went out: count them and their bytes (@c: which way) */
void udp_server_count(struct udp_server *s, int from, int n,
		      enum stats_counter c)
{
	uint64_t bytes = 0;
	int i;

	for (i = from; i < from + n; i++)
		bytes += s->batch->in[i].msg_len;
	stats_add(s->st, c, (uint64_t)n);
	stats_add(s->st,
		  c == STATS_DGRAMS_TO_CONTAINER ? STATS_BYTES_TO_CONTAINER
						 : STATS_BYTES_TO_CLIENT,
		  bytes);
}

/* Datagrams in out[0..k) from @m on */
static int udp_server_segs(const struct udp_batch *b, int m, int k)
{
	int n = 0;

	for (; m < k; m++)
		n += b->nseg[m];
	return n;
}

/*
 * The kernel refused a joined message of datagrams of @len bytes
 * (EMSGSIZE, EINVAL before Linux 6.x: larger than the path's MTU; EIO: no
 * checksum offload on the way): join only shorter ones from now on, or
 * none. Return: true if it was joined.
 */
static bool udp_server_gso_refused(struct udp_server *s, int nseg, size_t len)
{
	if (nseg < 2 ||
	    (errno != EMSGSIZE && errno != EINVAL && errno != EIO))
		return false;
	s->gso_below = errno == EIO ? 0 : (uint32_t)len;
	udp_server_log(&udp_server_rl, s, LOG_LVL_DEBUG,
		       "udp: to container: %zu-byte datagrams joined: %s; "
		       "sent one by one from now on", len, strerror(errno));
	return true;
}

/* Send in[from..to) to @f's container socket: runs of one size joined in
 * one message where the kernel splits them (udp_gso.c) */
static void udp_server_to_container(struct udp_server *s, struct udp_flow *f,
				    int from, int to)
{
	struct udp_batch *b = s->batch;
	int k = udp_gso_build(b, from, to, s->gso_below);
	int m = 0, n, retried = 0;

	while (m < k) {
		n = sendmmsg(f->fd, &b->out[m], (unsigned)(k - m), 0);
		if (n > 0) {
			int segs = udp_server_segs(b, m, m + n);

			udp_server_count(s, from, segs,
					 STATS_DGRAMS_TO_CONTAINER);
			from += segs;
			m += n;
			continue;
		}
		/* a pending ICMP error fails one send and is then consumed */
		if (n < 0 && errno == ECONNREFUSED && !retried++)
			continue;
		if (n < 0 &&
		    udp_server_gso_refused(s, b->nseg[m], b->in[from].msg_len)) {
			k = udp_gso_build(b, from, to, s->gso_below);
			m = 0;
			continue;
		}
		stats_add(s->st, STATS_DGRAMS_DROPPED, (uint64_t)(to - from));
		udp_server_log(&udp_server_rl, s, LOG_LVL_DEBUG,
			       "udp: to container: %s (%d datagrams dropped)",
			       strerror(errno), to - from);
		return;
	}
}

/* Datagrams in[0..n) came from clients: route each to its flow */
static void udp_server_forward(struct udp_server *s, int n, uint64_t now)
{
	struct udp_batch *b = s->batch;
	struct udp_flow *cur = NULL, *f;
	int i, start = 0;

	if (!s->flows.flows &&
	    udp_flow_table_init(&s->flows, s->max_flows, s->key)) {
		stats_add(s->st, STATS_DGRAMS_DROPPED, (uint64_t)n);
		udp_server_log(&udp_server_rl, s, LOG_LVL_WARN,
			       "udp: flow table: out of memory (%d datagrams "
			       "dropped)", n);
		return;
	}
	for (i = 0; i < n; i++) {
		struct msghdr *h = &b->in[i].msg_hdr;

		f = udp_flow_lookup(&s->flows, &b->name[i]);
		if (f != cur || !f) {
			/* send what the previous flow has before any eviction
			 * can reuse its slot */
			if (cur)
				udp_server_to_container(s, cur, start, i);
			cur = NULL;
			if (!f)
				f = udp_server_new_flow(s, &b->name[i], now);
			if (!f) {
				stats_inc(s->st, STATS_DGRAMS_DROPPED);
				continue;
			}
			cur = f;
			start = i;
		}
		udp_server_local(f, h);
		udp_flow_touch(&s->flows, f, now);
		if (h->msg_flags & MSG_TRUNC) {
			/* cannot happen below 64 KiB; never forward a part */
			udp_server_to_container(s, cur, start, i);
			stats_inc(s->st, STATS_DGRAMS_DROPPED);
			start = i + 1;
		}
	}
	if (cur)
		udp_server_to_container(s, cur, start, n);
}

static void udp_server_from_clients(evutil_socket_t fd, short what,
				    void *arg)
{
	struct udp_server *s = arg;
	struct udp_batch *b = s->batch;
	uint64_t now;
	int n;

	(void)what;
	udp_pace_hold(&s->pace);
	udp_server_prep_recv(b, true);
	n = recvmmsg(fd, b->in, UDP_SERVER_BATCH, MSG_DONTWAIT, NULL);
	if (n > 0) {
		now = udp_pace_ns();
		udp_pace_read(&s->pace, (unsigned)n,
			      udp_pace_stamp(&b->in[0].msg_hdr),
			      udp_pace_stamp(&b->in[n - 1].msg_hdr), now,
			      udp_pace_rt_ns());
		udp_server_forward(s, n, now / 1000000);
	} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
		udp_server_log(&udp_server_rl, s, LOG_LVL_WARN,
			       "udp: recvmmsg: %s", strerror(errno));
	}
	/* for new flows, or again after a timer that could not be armed */
	udp_server_arm(s);
}

/**
 * udp_server_init() - start serving datagrams on @lfd
 * @s:		server to set up
 * @base:	event base
 * @lfd:	bound UDP socket with IP_PKTINFO / IPV6_RECVPKTINFO (owned)
 * @target:	container address
 * @target_len:	length of @target
 * @timeout_ms:	idle timeout of a flow
 * @max_flows:	capacity of the flow table
 *
 * Return: 0, or -1 if out of memory or no randomness for the hash key
 */
int udp_server_init(struct udp_server *s, struct event_base *base, int lfd,
		    const union addr_sock *target, socklen_t target_len,
		    uint64_t timeout_ms, uint32_t max_flows)
{
	union addr_sock la;
	socklen_t len = sizeof(la);

	memset(s, 0, sizeof(*s));
	s->base = base;
	s->lfd = lfd;
	s->target = *target;
	s->target_len = target_len;
	s->timeout_ms = timeout_ms;
	s->lfamily = getsockname(lfd, &la.sa, &len) ? AF_INET
						     : la.sa.sa_family;
	s->max_flows = max_flows;
	s->st = stats_discard();
	udp_server_link(s);
	udp_pace_init(lfd);
	s->gso_below = udp_gso_probe(lfd) ? UDP_GSO_BYTES + 1 : 0;
	if (!max_flows || getentropy(s->key, sizeof(s->key)))
		goto fail;
	if (!udp_server_batch)
		udp_server_batch = calloc(1, sizeof(*udp_server_batch));
	if (udp_server_batch) {
		s->batch = udp_server_batch;
		udp_server_batch_users++;
	}
	s->lev = event_new(base, lfd, EV_READ | EV_PERSIST,
			   udp_server_from_clients, s);
	s->timer = evtimer_new(base, udp_server_expire, s);
	if (!s->batch || !s->lev || !s->timer || event_add(s->lev, NULL))
		goto fail;
	return 0;
fail:
	udp_server_close(s);
	return -1;
}

/**
 * udp_server_close() - stop serving, close every flow and the listener
 * @s:		server
 */
void udp_server_close(struct udp_server *s)
{
	struct udp_flow *f;

	udp_server_unlink(s);
	if (s->flows.flows) {
		while ((f = udp_flow_oldest(&s->flows)))
			udp_server_drop(s, f);
		udp_flow_table_free(&s->flows);
	}
	if (s->lev)
		event_free(s->lev);
	if (s->timer)
		event_free(s->timer);
	if (s->batch && --udp_server_batch_users == 0) {
		free(udp_server_batch);
		udp_server_batch = NULL;
	}
	s->lev = s->timer = NULL;
	s->batch = NULL;
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
}
