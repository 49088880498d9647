// SPDX-License-Identifier: MIT
/*
 * tcp_server.c - accept, connect to the container, hand both to a relay
 *
 * docker-proxy exits on any accept error, EMFILE included, and the port is
 * dead until the container restarts. Here running out of fds, files or
 * memory pauses accepting for TCP_SERVER_PAUSE_MS (clients wait in the
 * backlog meanwhile) and a timer re-arms it; per-connection errors are
 * logged, rate-limited, and never end the process.
 */
#include "tcp_server.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "proxyhdr.h"

/* Clients accepted per wake-up before other events get their turn */
#define TCP_SERVER_ACCEPT_BATCH 64
/* Go's keepalive defaults on both sockets: 15 s idle, 15 s interval */
#define TCP_SERVER_KEEPALIVE 15

static struct log_ratelimit tcp_server_rl_accept = LOG_RATELIMIT_INIT(10, 1);
static struct log_ratelimit tcp_server_rl_conn = LOG_RATELIMIT_INIT(10, 5);

/* Return: 0 if every option took */
static int tcp_server_sockopts(int fd)
{
	int one = 1, ka = TCP_SERVER_KEEPALIVE;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) |
	       setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) |
	       setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &ka, sizeof(ka)) |
	       setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &ka, sizeof(ka));
}

static void tcp_server_refused(struct tcp_server *s, int err)
{
	char where[ADDR_STRLEN];

	addr_format_sock(&s->target.sa, where, sizeof(where));
	log_msg_rl(&tcp_server_rl_conn, LOG_LVL_WARN, "connect %s: %s", where,
		   strerror(err));
}

static void tcp_server_done(struct tcp_relay *r, enum tcp_relay_end end,
			    int err, void *arg)
{
	struct tcp_server *s = arg;

	if (end == TCP_RELAY_REFUSED)
		tcp_server_refused(s, err);
	else if (end == TCP_RELAY_IDLE)
		log_debug("reset after %llu ms half-closed and idle: %llu "
			  "bytes to the container, %llu back",
			  (unsigned long long)s->opts.half_close_ms,
			  r->dir[0].bytes, r->dir[1].bytes);
	else
		log_debug("closed%s%s: %llu bytes to the container, %llu back",
			  end == TCP_RELAY_ABORTED ? " with reset: " : "",
			  end == TCP_RELAY_ABORTED ? strerror(err) : "",
			  r->dir[0].bytes, r->dir[1].bytes);
	LIST_REMOVE(r, link);
	s->nrelays--;
	tcp_relay_free(r, end != TCP_RELAY_CLOSED);
}

static void tcp_server_pause(struct tcp_server *s, int err)
{
	struct timeval tv = { 0, TCP_SERVER_PAUSE_MS * 1000 };

	log_msg_rl(&tcp_server_rl_accept, LOG_LVL_WARN,
		   "accept: %s (%lu connections open); pausing %d ms",
		   strerror(err), s->nrelays, TCP_SERVER_PAUSE_MS);
	event_del(s->accept_ev);
	evtimer_add(s->pause_ev, &tv);
	s->paused = true;
}

static void tcp_server_resume(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_server *s = arg;

	(void)fd;
	(void)what;
	s->paused = false;
	event_add(s->accept_ev, NULL);
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

/* Return: 0, or an errno that should pause accepting */
static int tcp_server_open(struct tcp_server *s, int cfd,
			   const union addr_sock *peer)
{
	char hdr[PROXYHDR_MAX];
	int hlen = 0;
	struct tcp_relay *r;
	bool connecting = false;
	int sfd, err;

	if (s->opts.pp_version) {
		hlen = tcp_server_pp(s, cfd, peer, hdr);
		if (hlen < 0) {
			/* never pass a client on without its header */
			log_msg_rl(&tcp_server_rl_conn, LOG_LVL_WARN,
				   "PROXY header: %s", strerror(errno));
			tcp_relay_reset(cfd);
			close(cfd);
			return 0;
		}
	}
	sfd = socket(s->target.sa.sa_family,
		     SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sfd < 0) {
		err = errno;
		close(cfd);
		return err;
	}
	if (!s->inherit)
		tcp_server_sockopts(cfd);
	tcp_server_sockopts(sfd);
	if (connect(sfd, &s->target.sa, s->target_len) == 0) {
		connecting = false;
	} else if (errno == EINPROGRESS) {
		connecting = true;
	} else {
		err = errno;
		tcp_server_refused(s, err);
		tcp_relay_reset(cfd);
		close(cfd);
		close(sfd);
		return err;
	}

	r = tcp_relay_new(s->base, cfd, sfd, connecting, s->opts.copy,
			  tcp_server_done, s);
	if (!r)
		return ENOMEM;
	if (hlen && tcp_relay_preamble(r, hdr, (size_t)hlen)) {
		tcp_relay_free(r, true);
		return ENOMEM;
	}
	r->half_close_ms = s->opts.half_close_ms;
	LIST_INSERT_HEAD(&s->relays, r, link);
	s->nrelays++;
	return 0;
}

static bool tcp_server_resource_err(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM;
}

static void tcp_server_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct tcp_server *s = arg;
	union addr_sock peer;
	int i, cfd, err;

	(void)what;
	for (i = 0; i < TCP_SERVER_ACCEPT_BATCH; i++) {
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
			log_msg_rl(&tcp_server_rl_conn, LOG_LVL_WARN,
				   "accept: %s", strerror(err));
			continue;
		}
		if (log_get_level() >= LOG_LVL_DEBUG) {
			char who[ADDR_STRLEN];

			addr_format_sock(&peer.sa, who, sizeof(who));
			log_debug("accepted %s", who);
		}
		err = tcp_server_open(s, cfd, &peer);
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
	/* Linux copies these options from a listener to the sockets it
	 * accepts (and arms their keepalive timers): set them once here */
	s->inherit = tcp_server_sockopts(lfd) == 0;
	LIST_INIT(&s->relays);
	s->accept_ev = event_new(base, lfd, EV_READ | EV_PERSIST,
				 tcp_server_accept, s);
	s->pause_ev = evtimer_new(base, tcp_server_resume, s);
	if (!s->accept_ev || !s->pause_ev || event_add(s->accept_ev, NULL)) {
		tcp_server_close(s);
		return -1;
	}
	return 0;
}

/**
 * tcp_server_close() - stop listening and drop every connection
 * @s:		server
 */
void tcp_server_close(struct tcp_server *s)
{
	struct tcp_relay *r;

	while ((r = LIST_FIRST(&s->relays))) {
		LIST_REMOVE(r, link);
		tcp_relay_free(r, false);
	}
	s->nrelays = 0;
	if (s->accept_ev)
		event_free(s->accept_ev);
	if (s->pause_ev)
		event_free(s->pause_ev);
	s->accept_ev = s->pause_ev = NULL;
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
}
