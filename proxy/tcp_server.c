// SPDX-License-Identifier: MIT
/*
 * tcp_server.c - accept, connect to the container, hand both to a relay
 *
 * docker-proxy exits on any accept error, EMFILE included, and the port is
 * dead until the container restarts. Here running out of fds, files or
 * memory pauses accepting for TCP_SERVER_PAUSE_MS (clients wait in the
 * backlog meanwhile) and a timer re-arms it; per-connection errors are
 * logged, rate-limited, and never end the process.
 *
 * A client that was accepted is never dropped for want of an fd: the
 * process keeps one spare fd (an unbound socket) that it gives up when the
 * socket towards the container cannot be had, so the last fd accept()
 * took still gets served, and takes it back when fds are free again. A
 * client we cannot serve for any other reason is reset, never closed with
 * a FIN that could pass for a served, empty connection.
 *
 * Every client gets a number when accepted; each log line about it names
 * the port's mapping and that number, and the last one says how it
 * ended (FIN both ways, a reset, a timeout, an error), after how long,
 * with how many bytes each way. A clean end is logged at debug, any other
 * at info or warn, rate-limited. The port's counters (stats.h) count the
 * same events.
 *
 * Per connection, the system calls are what costs (on this VM an empty
 * one costs 1 to 4 us depending on the load, and a short connection
 * makes about 20), so none is made that can be done without. The
 * accepted socket inherits its options from the listener. The socket
 * towards the container gets TCP_NODELAY and SO_OOBINLINE before its
 * connect; its keepalive waits for the server's tick, at most
 * TCP_SERVER_TICK_MS later: a connection that is over by then (most
 * are) never needs it, and one that lasts gets exactly the probes it
 * would have had (the kernel counts the 15 s of idleness from the last
 * byte received, whenever keepalive was switched on). The same tick gives
 * back the memory of relays that ended (tcp_relay_trim()): a burst of
 * connections does not leave its peak behind.
 */
#include "tcp_server.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "proxyhdr.h"
#include "stats.h"
#include "transparent.h"

/* Clients accepted per wake-up before other events get their turn */
#define TCP_SERVER_ACCEPT_BATCH 64
/* With fewer connections open than this, a second client waiting in the
 * queue is unlikely: one accept() per wake-up, and none that only says
 * EAGAIN. A system call per connection saved at 1 client (measured in
 * one run: 1.17x HAProxy's rate instead of 1.08x; at 32 clients 1.17x
 * and 1.20x, within the noise) */
#define TCP_SERVER_FEW 8
/* Go's keepalive defaults on both sockets: 15 s idle, 15 s interval */
#define TCP_SERVER_KEEPALIVE 15
/* How late keepalive comes to the socket towards the container, and
 * memory is given back after connections end */
#define TCP_SERVER_TICK_MS 1000

static struct log_ratelimit tcp_server_rl_accept = LOG_RATELIMIT_INIT(10, 1);
static struct log_ratelimit tcp_server_rl_conn = LOG_RATELIMIT_INIT(10, 5);
static struct log_ratelimit tcp_server_rl_end = LOG_RATELIMIT_INIT(10, 20);

/* A line about connection @id of server @s */
#define tcp_server_log(rl, s, level, id, fmt, ...)                            \
	log_tagged(rl, level, stats_tag, (s)->opts.relay.st,                  \
		   "conn %llu: " fmt, id, __VA_ARGS__)

/* The spare fd of the process (every server of a range shares it) */
static int tcp_server_spare = -1;

static void tcp_server_spare_take(void)
{
	if (tcp_server_spare < 0)
		tcp_server_spare =
			socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/* Return: true if the spare was there and is now free for a socket */
static bool tcp_server_spare_give(void)
{
	if (tcp_server_spare < 0)
		return false;
	close(tcp_server_spare);
	tcp_server_spare = -1;
	return true;
}

/*
 * Options a relay's socket needs from the start. SO_OOBINLINE: an urgent
 * byte is passed on in order as an ordinary byte (the relay has no way to
 * send it urgent, and dropping it would lose a byte of the stream).
 * Return: 0 if every option took
 */
static int tcp_server_sockopts_now(int fd)
{
	int one = 1;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) |
	       setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
}

/*
 * Go's keepalive. SO_KEEPALIVE first: TCP_KEEPIDLE on a socket that has
 * it then re-arms the timer for 15 s less the idle time so far, so
 * keepalive switched on late probes exactly when it would have anyway.
 * Return: 0 if every option took
 */
static int tcp_server_keepalive(int fd)
{
	int one = 1, ka = TCP_SERVER_KEEPALIVE;

	return setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) |
	       setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &ka, sizeof(ka)) |
	       setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &ka, sizeof(ka));
}

/* Every option, on the listener (accepted sockets inherit them) */
static int tcp_server_sockopts(int fd)
{
	return tcp_server_sockopts_now(fd) | tcp_server_keepalive(fd);
}

/*
 * The tick: keepalive for the sockets towards the container of relays
 * that started since the last one (the newest are first in the list, and
 * every earlier tick did all those before them), and memory back from
 * relays that ended.
 */
static void tcp_server_tick(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_server *s = arg;
	struct tcp_relay *r;

	(void)fd;
	(void)what;
	LIST_FOREACH(r, &s->relays, link) {
		if (r->keepalive)
			break;
		tcp_server_keepalive(r->fd[1]);
		r->keepalive = true;
	}
	if (s->ended) {
		s->ended = false;
		tcp_relay_trim();
	}
}

/* The tick, once TCP_SERVER_TICK_MS from now; if it cannot be armed,
 * what it would do is done now */
static void tcp_server_tick_soon(struct tcp_server *s)
{
	struct timeval tv = { TCP_SERVER_TICK_MS / 1000,
			      (TCP_SERVER_TICK_MS % 1000) * 1000 };

	if (evtimer_pending(s->tick_ev, NULL))
		return;
	if (evtimer_add(s->tick_ev, &tv))
		tcp_server_tick(-1, 0, s);
}

/* A client we will not serve: reset, never a FIN */
static void tcp_server_reject(int cfd)
{
	tcp_relay_reset(cfd);
	close(cfd);
}

/* The container did not take connection @id: refused, or timed out */
static void tcp_server_refused(struct tcp_server *s, unsigned long long id,
			       const union addr_sock *peer, int err, bool tp)
{
	char where[ADDR_STRLEN], who[ADDR_STRLEN] = "?";

	stats_inc(s->opts.relay.st,
		  err == ETIMEDOUT ? STATS_TIMED_OUT : STATS_REFUSED);
	addr_format_sock(&s->target.sa, where, sizeof(where));
	addr_format_sock(&peer->sa, who, sizeof(who));
	tcp_server_log(&tcp_server_rl_conn, s, LOG_LVL_WARN, id,
		       "from %s: connect %s: %s%s", who, where, strerror(err),
		       tp ? " (transparent)" : "");
	/* the likely cause, once: the container's answers to the client's
	 * address are not handed back to us */
	if (tp && !s->opts.tp->warned) {
		s->opts.tp->warned = true;
		log_tagged(NULL, LOG_LVL_WARN, stats_tag, s->opts.relay.st,
			   "transparent mode: a connect from a client's "
			   "address failed (%s): is the routing in place? "
			   "strait-netsetup up --transparent installs it",
			   strerror(err));
	}
}

/* A relay that did connect ended: count how. Return: its last line's
 * level (a clean end is routine) */
static enum log_level tcp_server_count_end(struct tcp_server *s,
					   enum tcp_relay_end end, int err)
{
	enum stats_counter c = STATS_ERRORS;

	if (end == TCP_RELAY_CLOSED)
		c = STATS_CLOSED;
	else if (end == TCP_RELAY_IDLE)
		c = STATS_TIMED_OUT;
	else if (err == ECONNRESET || err == EPIPE)
		c = STATS_RESET;
	stats_inc(s->opts.relay.st, c);
	return c == STATS_CLOSED ? LOG_LVL_DEBUG : LOG_LVL_INFO;
}

/* How a relay that did connect ended, in words */
static void tcp_server_how(const struct tcp_server *s, enum tcp_relay_end end,
			   int err, char *how, size_t len)
{
	char idle[24];

	if (end == TCP_RELAY_CLOSED) {
		snprintf(how, len, "closed (FIN both ways)");
	} else if (end == TCP_RELAY_IDLE) {
		cfg_duration_format(idle, sizeof(idle),
				    s->opts.relay.half_close_ms);
		snprintf(how, len, "timed out (half-closed and idle for %s), "
			 "reset", idle);
	} else if (err == ECONNRESET || err == EPIPE) {
		snprintf(how, len, "reset (%s)", strerror(err));
	} else {
		snprintf(how, len, "error (%s), reset", strerror(err));
	}
}

/* The last line about a relay that did connect (formatted only if it is
 * to be printed: one ends at every connection) */
static void tcp_server_ended(struct tcp_server *s, struct tcp_relay *r,
			     enum tcp_relay_end end, int err)
{
	char how[96], who[ADDR_STRLEN] = "?", age[32];
	enum log_level level = tcp_server_count_end(s, end, err);

	if (level > log_get_level())
		return;
	tcp_server_how(s, end, err, how, sizeof(how));
	addr_format_sock(&r->peer.sa, who, sizeof(who));
	log_duration(age, sizeof(age), tcp_relay_now_ms() - r->start_ms);
	tcp_server_log(level == LOG_LVL_DEBUG ? NULL : &tcp_server_rl_end, s,
		       level, r->id,
		       "from %s: %s after %s: %llu bytes to the container, "
		       "%llu back (%llu and %llu spliced)",
		       who, how, age, r->dir[0].bytes, r->dir[1].bytes,
		       r->dir[0].spliced, r->dir[1].spliced);
}

static void tcp_server_done(struct tcp_relay *r, enum tcp_relay_end end,
			    int err, void *arg)
{
	struct tcp_server *s = arg;

	if (end == TCP_RELAY_REFUSED)
		tcp_server_refused(s, r->id, &r->peer, err, r->transparent);
	else
		tcp_server_ended(s, r, end, err);
	stats_dec(s->opts.relay.st, STATS_ACTIVE);
	LIST_REMOVE(r, link);
	s->nrelays--;
	tcp_relay_free(r, end != TCP_RELAY_CLOSED);
	tcp_server_spare_take();
	s->ended = true;
	tcp_server_tick_soon(s);
}

/*
 * Stop accepting for a while. If the timer that resumes cannot be armed,
 * accepting goes on instead: a port that stops for good is worse than one
 * that keeps hitting its limit.
 */
static void tcp_server_pause(struct tcp_server *s, int err)
{
	struct timeval tv = { 0, TCP_SERVER_PAUSE_MS * 1000 };

	log_tagged(&tcp_server_rl_accept, LOG_LVL_WARN, stats_tag,
		   s->opts.relay.st,
		   "accept: %s (%lu connections open); pausing %dms",
		   strerror(err), s->nrelays, TCP_SERVER_PAUSE_MS);
	if (evtimer_add(s->pause_ev, &tv)) {
		log_tagged(&tcp_server_rl_accept, LOG_LVL_ERROR, stats_tag,
			   s->opts.relay.st,
			   "accept: cannot arm the pause timer: not pausing");
		return;
	}
	event_del(s->accept_ev);
	s->paused = true;
	stats_inc(s->opts.relay.st, STATS_ACCEPT_PAUSES);
}

static void tcp_server_resume(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_server *s = arg;
	struct timeval tv = { 0, TCP_SERVER_PAUSE_MS * 1000 };

	(void)fd;
	(void)what;
	tcp_server_spare_take();
	if (event_add(s->accept_ev, NULL) == 0) {
		s->paused = false;
		return;
	}
	/* try again later; only if even that fails is the port lost */
	log_tagged(&tcp_server_rl_accept, LOG_LVL_ERROR, stats_tag,
		   s->opts.relay.st,
		   "accept: cannot re-arm the listener; retrying");
	if (evtimer_add(s->pause_ev, &tv))
		log_tagged(NULL, LOG_LVL_ERROR, stats_tag, s->opts.relay.st,
			   "accept: cannot re-arm the listener: port stopped");
}

/*
 * The PROXY protocol header for client @peer on @cfd, in @buf.
 * Return: its length, or -1 with errno
 */
static int tcp_server_pp(const struct tcp_server *s, int cfd,
			 const union addr_sock *peer, char *buf)
{
	union addr_sock local;
	socklen_t len = sizeof(local);
	int n;

	if (getsockname(cfd, &local.sa, &len))
		return -1;
	n = proxyhdr_build(s->opts.pp_version, &peer->sa, &local.sa, buf,
			   PROXYHDR_MAX);
	if (n < 0)
		errno = EINVAL;
	return n;
}

/*
 * The socket towards the container, in transparent mode bound to the
 * client's address where that can work (transparent_open()).
 * Return: the socket, or -1 with errno; *@tp says which it is
 */
static int tcp_server_socket1(const struct tcp_server *s,
			      const union addr_sock *peer, bool *tp)
{
	int failed, fd = transparent_open(s->opts.tp, peer,
					  s->target.sa.sa_family, SOCK_STREAM,
					  tp, &failed);

	if (failed)
		log_tagged(&tcp_server_rl_conn, LOG_LVL_WARN, stats_tag,
			   s->opts.relay.st,
			   "transparent socket: %s (the container sees the "
			   "host's address)",
			   strerror(failed));
	return fd;
}

/*
 * The socket towards the container; out of fds, the spare makes room.
 * Return: the socket, or -1 with *@err set; *@spare_used says whether the
 * spare was given up for it, *@tp whether it carries the client's address
 */
static int tcp_server_socket(const struct tcp_server *s,
			     const union addr_sock *peer, int *err,
			     bool *spare_used, bool *tp)
{
	int fd = tcp_server_socket1(s, peer, tp);

	*spare_used = false;
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
	    tcp_server_spare_give()) {
		*spare_used = true;
		fd = tcp_server_socket1(s, peer, tp);
	}
	*err = errno;
	return fd;
}

static bool tcp_server_resource_err(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM;
}

/* A client accepted as connection @id is turned away: reset. Running out
 * of fds or memory is not logged here: accepting pauses, and says so */
static void tcp_server_drop(struct tcp_server *s, unsigned long long id,
			    int cfd, const char *what, int err)
{
	stats_inc(s->opts.relay.st, STATS_ERRORS);
	if (!tcp_server_resource_err(err))
		tcp_server_log(&tcp_server_rl_conn, s, LOG_LVL_WARN, id,
			       "%s: %s, reset", what, strerror(err));
	if (cfd >= 0)
		tcp_server_reject(cfd);
}

/* Return: 0, or an errno that should pause accepting */
static int tcp_server_open(struct tcp_server *s, int cfd,
			   const union addr_sock *peer, unsigned long long id)
{
	char hdr[PROXYHDR_MAX];
	int hlen = 0;
	struct tcp_relay *r;
	bool connecting = false, spare_used, tp;
	int sfd, err;

	if (s->opts.pp_version) {
		hlen = tcp_server_pp(s, cfd, peer, hdr);
		if (hlen < 0) {
			/* never pass a client on without its header */
			tcp_server_drop(s, id, cfd, "PROXY header", errno);
			return 0;
		}
	}
	sfd = tcp_server_socket(s, peer, &err, &spare_used, &tp);
	if (sfd < 0) {
		tcp_server_drop(s, id, cfd, "socket", err);
		return err;
	}
	if (!s->inherit)
		tcp_server_sockopts(cfd);
	tcp_server_sockopts_now(sfd);
	if (connect(sfd, &s->target.sa, s->target_len) == 0) {
		connecting = false;
	} else if (errno == EINPROGRESS) {
		connecting = true;
	} else {
		err = errno;
		tcp_server_refused(s, id, peer, err, tp);
		tcp_server_reject(cfd);
		close(sfd);
		return err;
	}

	r = tcp_relay_new(s->base, cfd, sfd, connecting, &s->opts.relay, id,
			  tcp_server_done, s);
	if (!r) {
		tcp_server_drop(s, id, -1, "relay", ENOMEM);
		return ENOMEM;
	}
	r->transparent = tp;
	r->peer = *peer;
	if (hlen && tcp_relay_preamble(r, hdr, (size_t)hlen)) {
		tcp_relay_free(r, true);
		tcp_server_drop(s, id, -1, "relay", ENOMEM);
		return ENOMEM;
	}
	LIST_INSERT_HEAD(&s->relays, r, link);
	s->nrelays++;
	stats_inc(s->opts.relay.st, STATS_ACTIVE);
	tcp_server_tick_soon(s);
	/* may end it at once (refused): tcp_server_done() then ran */
	tcp_relay_start(r);
	/* the spare went into this client's socket: take no more for now */
	return spare_used ? EMFILE : 0;
}

static void tcp_server_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct tcp_server *s = arg;
	int i, cfd, err, batch = s->nrelays < TCP_SERVER_FEW
					 ? 1
					 : TCP_SERVER_ACCEPT_BATCH;
	union addr_sock peer;

	(void)what;
	for (i = 0; i < batch; i++) {
		socklen_t len = sizeof(peer);

		cfd = accept4(lfd, &peer.sa, &len,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			err = errno;
			if (err == EAGAIN || err == EWOULDBLOCK)
				return;
			if (tcp_server_resource_err(err)) {
				tcp_server_pause(s, err);
				return;
			}
			/* ECONNABORTED, EPROTO, ENETDOWN...: that client only */
			log_tagged(&tcp_server_rl_conn, LOG_LVL_WARN, stats_tag,
				   s->opts.relay.st, "accept: %s",
				   strerror(err));
			continue;
		}
		stats_inc(s->opts.relay.st, STATS_ACCEPTED);
		if (log_get_level() >= LOG_LVL_DEBUG) {
			char who[ADDR_STRLEN];

			addr_format_sock(&peer.sa, who, sizeof(who));
			tcp_server_log(NULL, s, LOG_LVL_DEBUG, s->next_id,
				       "accepted from %s", who);
		}
		err = tcp_server_open(s, cfd, &peer, s->next_id++);
		if (err && tcp_server_resource_err(err)) {
			tcp_server_pause(s, err);
			return;
		}
	}
}

/**
 * tcp_server_init() - start accepting on @lfd
 * @s:		server to set up
 * @base:	event base
 * @lfd:	non-blocking listening socket (owned from here on)
 * @target:	container address
 * @target_len:	length of @target
 * @opts:	how relays behave
 *
 * Return: 0, or -1 if out of memory
 */
int tcp_server_init(struct tcp_server *s, struct event_base *base, int lfd,
		    const union addr_sock *target, socklen_t target_len,
		    const struct tcp_server_opts *opts)
{
	memset(s, 0, sizeof(*s));
	s->base = base;
	s->lfd = lfd;
	s->target = *target;
	s->target_len = target_len;
	s->opts = *opts;
	if (!s->opts.relay.st)
		s->opts.relay.st = stats_discard();
	tcp_server_spare_take();
	/* Linux copies these options from a listener to the sockets it
	 * accepts (and arms their keepalive timers): set them once here */
	s->inherit = tcp_server_sockopts(lfd) == 0;
	LIST_INIT(&s->relays);
	s->accept_ev = event_new(base, lfd, EV_READ | EV_PERSIST,
				 tcp_server_accept, s);
	s->pause_ev = evtimer_new(base, tcp_server_resume, s);
	s->tick_ev = evtimer_new(base, tcp_server_tick, s);
	if (!s->accept_ev || !s->pause_ev || !s->tick_ev ||
	    event_add(s->accept_ev, NULL)) {
		tcp_server_close(s);
		return -1;
	}
	return 0;
}

/**
 * tcp_server_close() - stop listening and reset every connection
 * @s:		server
 *
 * A connection still open has not finished cleanly, whatever it still
 * holds: both its peers get a reset, never a FIN that could pass for the
 * end of a complete stream.
 */
void tcp_server_close(struct tcp_server *s)
{
	struct tcp_relay *r;

	while ((r = LIST_FIRST(&s->relays))) {
		LIST_REMOVE(r, link);
		stats_dec(s->opts.relay.st, STATS_ACTIVE);
		tcp_relay_free(r, true);
	}
	s->nrelays = 0;
	if (s->accept_ev)
		event_free(s->accept_ev);
	if (s->pause_ev)
		event_free(s->pause_ev);
	if (s->tick_ev)
		event_free(s->tick_ev);
	s->accept_ev = s->pause_ev = s->tick_ev = NULL;
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
}
