// SPDX-License-Identifier: MIT
/*
 * tcp_relay.c - a client connection and its connection to the container:
 * their life from connect to close
 *
 * Theory of operation
 *
 * A relay is two sockets and two directions. How a direction moves its
 * bytes (copy, then splice for bulk data; urgent data; what it holds and
 * how that is the backpressure) is tcp_dir.c's; this file is the relay's
 * lifecycle: its states, its events, its timers, the connect and the
 * client's first bytes, and its memory.
 *
 * States (named, changed in one place each, logged at debug): a relay is
 * CONNECTING until the container's connect completes (bounded by the
 * connect timeout), then OPEN, then HALF once either side has closed. A
 * direction is OPEN, then EOF when its source said EOF, then SHUT once
 * every byte read has been written and the destination got our FIN
 * (tcp_dir.c). The relay ends cleanly when both directions are SHUT.
 *
 * Ends that are not clean are resets, both ways, as kernel DNAT would pass
 * them: a reset or a read error from either peer, a failed write, running
 * out of memory for our own buffering, a connect timeout, the half-close
 * timeout (HALF with no byte moving for that long, whatever is still held:
 * a peer that stopped reading must not keep a CLOSE-WAIT pair forever; the
 * peer's FIN is seen by EPOLLRDHUP even while we are not reading it), and
 * the proxy stopping. No peer may ever take a truncated stream for a
 * complete one, so a FIN is sent only after a clean EOF and every byte.
 *
 * Events are level-triggered and persistent; we arm exactly those that can
 * make progress: a read where there is room, a write where bytes wait. An
 * event that cannot be armed ends the relay (reset) rather than wedge it.
 *
 * Setting up costs what it must and no more, since on this kind of
 * machine a connection's cost is mostly its count of system calls and
 * wake-ups. On loopback and a local bridge the container's handshake has
 * completed inside connect() itself, and the client has most likely sent
 * its request by the time we accept it. So tcp_relay_start() reads the
 * client at once and sends what it got (after the PROXY header, in the
 * same sendmsg()): that send going through says the connection is up;
 * EAGAIN says it is still in flight, and the relay then waits for the
 * connect as it always did, holding those bytes (at most
 * TCP_RELAY_EARLY). No wake-up, epoll_ctl() or getsockopt() for the
 * connect, and the request reaches the container one loop iteration
 * sooner. The last direction to finish sends no shutdown(): the close()
 * that follows at once sends the same FIN.
 *
 * Memory: a relay and its five events are one object from a slab of our
 * own (slab.c), mapped apart from the heap, so that what a burst of
 * connections took is given back once it is over (tcp_relay_trim()); a
 * direction holds exactly the bytes its destination did not take.
 */
#include "tcp_relay.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "slab.h"
#include "stats.h"
#include "tcp_dir.h"

/*
 * Where relays come from (see slab.c): each object is the relay, then its
 * TCP_RELAY_NEVENTS events (libevent keeps struct event opaque: its size
 * is asked at run time). Set up by the first tcp_relay_new().
 */
#define TCP_RELAY_NEVENTS 5
#define TCP_RELAY_HEAD ((sizeof(struct tcp_relay) + 15) & ~(size_t)15)
static struct slab tcp_relay_pool;
static size_t tcp_relay_evsz;

/**
 * tcp_relay_now_ms() - the monotonic clock, for a relay's lifetime
 *
 * Return: milliseconds
 */
uint64_t tcp_relay_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/**
 * tcp_relay_state_name() - a relay state's name, for log lines
 * @s:		state
 *
 * Return: static string
 */
const char *tcp_relay_state_name(enum tcp_relay_state s)
{
	static const char *const names[] = { "connecting", "open",
					     "half-closed" };

	return names[s];
}

/* The only place a relay changes state */
static void tcp_relay_to(struct tcp_relay *r, enum tcp_relay_state to)
{
	tcp_relay_debug(r, "%s -> %s", tcp_relay_state_name(r->state),
			tcp_relay_state_name(to));
	r->state = to;
}

/* Return: 0, or -1 if the event could not be armed */
static int tcp_relay_set(struct tcp_relay *r, struct event *ev, unsigned bit,
			 bool want)
{
	if (want == !!(r->on & bit))
		return 0;
	if (want ? event_add(ev, NULL) : event_del(ev))
		return -1;
	r->on ^= bit;
	return 0;
}

/* Return: 0, or -1 if an event could not be armed */
static int tcp_relay_arm(struct tcp_relay *r)
{
	bool connecting = r->state == TCP_RELAY_CONNECTING;
	int i, rc = 0;

	for (i = 0; i < 2; i++) {
		rc |= tcp_relay_set(r, r->rd[i], 1U << i,
				    !connecting &&
					    tcp_dir_can_read(&r->dir[i]));
		rc |= tcp_relay_set(r, r->wr[i], 4U << i,
				    connecting ? i == 1
					       : r->dir[1 - i].pending > 0);
	}
	return rc ? -1 : 0;
}

static void tcp_relay_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_relay *r = arg;

	(void)fd;
	(void)what;
	tcp_relay_debug(r, "%s too long", tcp_relay_state_name(r->state));
	if (r->state == TCP_RELAY_CONNECTING)
		r->done(r, TCP_RELAY_REFUSED, ETIMEDOUT, r->arg);
	else
		r->done(r, TCP_RELAY_IDLE, ETIMEDOUT, r->arg);
}

/* (Re)start the timer for @ms. Return: 0, or -1 if it cannot be armed */
static int tcp_relay_clock(struct tcp_relay *r, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
			      (suseconds_t)(ms % 1000) * 1000 };

	return evtimer_add(r->timer, &tv);
}

/* Half-closed now: the clock starts. Return: 0, or -1 (cannot arm it) */
static int tcp_relay_half(struct tcp_relay *r)
{
	tcp_relay_to(r, TCP_RELAY_HALF);
	return r->opts.half_close_ms ? tcp_relay_clock(r, r->opts.half_close_ms)
				     : 0;
}

/* A peer closed its side: that starts the half-close clock even if its
 * FIN still sits behind bytes we hold back from a peer that stopped
 * reading (we will not read the FIN until that peer reads) */
static void tcp_relay_hup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_relay *r = arg;

	(void)fd;
	(void)what;
	if (r->state == TCP_RELAY_OPEN && tcp_relay_half(r))
		r->done(r, TCP_RELAY_ABORTED, ENOMEM, r->arg);
}

/* With a half-close timeout, watch both peers for their FIN. Return: 0, or
 * -1 if out of memory */
static int tcp_relay_watch_hup(struct tcp_relay *r)
{
	struct event_base *base = event_get_base(r->timer);
	int i;

	if (!r->opts.half_close_ms ||
	    !(event_base_get_features(base) & EV_FEATURE_EARLY_CLOSE))
		return 0;
	for (i = 0; i < 2; i++) {
		r->hup[i] = event_new(base, r->fd[i], EV_CLOSED,
				      tcp_relay_hup_cb, r);
		if (!r->hup[i] || event_add(r->hup[i], NULL))
			return -1;
	}
	return 0;
}

/* The container's connection is up. Return: 0, or ENOMEM */
static int tcp_relay_open(struct tcp_relay *r)
{
	evtimer_del(r->timer);
	tcp_relay_to(r, TCP_RELAY_OPEN);
	return tcp_relay_watch_hup(r) ? ENOMEM : 0;
}

/* The connect completed: Return: 0, or an errno for the done callback */
static int tcp_relay_connected(struct tcp_relay *r, int fd)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	return err ? err : tcp_relay_open(r);
}

/* After a wake-up of @d: Return: 0, or -1 with errno (reset the relay) */
static int tcp_relay_after(struct tcp_relay *r, bool moved)
{
	bool half = r->dir[0].state != TCP_DIR_OPEN ||
		    r->dir[1].state != TCP_DIR_OPEN;

	if (half && r->state == TCP_RELAY_OPEN) {
		if (tcp_relay_half(r))
			goto nomem;
	} else if (r->state == TCP_RELAY_HALF && r->opts.half_close_ms &&
		   moved && tcp_relay_clock(r, r->opts.half_close_ms)) {
		goto nomem;
	}
	if (tcp_relay_arm(r))
		goto nomem;
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

static void tcp_relay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_dir *d = arg;
	struct tcp_relay *r = d->r;
	unsigned long long before = d->bytes + d->pending;
	int err;

	if (r->state == TCP_RELAY_CONNECTING) {
		err = tcp_relay_connected(r, fd);
		if (err) {
			r->done(r, TCP_RELAY_REFUSED, err, r->arg);
			return;
		}
		/* the client has most likely sent its request already: pass
		 * it on now rather than after another wait (this callback is
		 * the container's wr, which drains dir[0]) */
	}
	if (tcp_dir_pump(d, (what & EV_READ) != 0)) {
		r->done(r, TCP_RELAY_ABORTED, errno, r->arg);
		return;
	}
	if (r->dir[0].state == TCP_DIR_SHUT && r->dir[1].state == TCP_DIR_SHUT) {
		r->done(r, TCP_RELAY_CLOSED, 0, r->arg);
		return;
	}
	if (tcp_relay_after(r, d->bytes + d->pending != before))
		r->done(r, TCP_RELAY_ABORTED, errno, r->arg);
}

/* A zeroed relay with room for its events after it, or NULL */
static struct tcp_relay *tcp_relay_alloc(void)
{
	struct tcp_relay *r;
	size_t esz;

	if (!tcp_relay_evsz) {
		esz = (event_get_struct_event_size() + 15) & ~(size_t)15;
		if (slab_init(&tcp_relay_pool,
			      TCP_RELAY_HEAD + TCP_RELAY_NEVENTS * esz))
			return NULL;
		tcp_relay_evsz = esz;
	}
	r = slab_alloc(&tcp_relay_pool);
	if (r)
		memset(r, 0, tcp_relay_pool.size);
	return r;
}

/* The events, in the relay's own object; none armed yet.
 * Return: 0, or -1 if libevent refused one */
static int tcp_relay_events(struct tcp_relay *r, struct event_base *base)
{
	char *ev = (char *)r + TCP_RELAY_HEAD;
	int i, rc;

	r->timer = (struct event *)ev;
	rc = evtimer_assign(r->timer, base, tcp_relay_timer_cb, r);
	for (i = 0; i < 2; i++) {
		r->rd[i] = (struct event *)(ev + (1 + 2 * i) * tcp_relay_evsz);
		r->wr[i] = (struct event *)(ev + (2 + 2 * i) * tcp_relay_evsz);
		rc |= event_assign(r->rd[i], base, r->fd[i],
				   EV_READ | EV_PERSIST, tcp_relay_cb,
				   &r->dir[i]);
		rc |= event_assign(r->wr[i], base, r->fd[i],
				   EV_WRITE | EV_PERSIST, tcp_relay_cb,
				   &r->dir[1 - i]);
	}
	return rc ? -1 : 0;
}

/**
 * tcp_relay_new() - a relay between two non-blocking stream sockets, to
 * be started with tcp_relay_start()
 * @base:	event base
 * @client:	accepted client socket
 * @server:	socket towards the container
 * @connecting:	@server's non-blocking connect() is still in progress
 * @opts:	behaviour (copied)
 * @id:		number for log lines
 * @done:	called once when the relay ends; must call tcp_relay_free()
 * @arg:	passed to @done
 *
 * The relay owns both sockets from here on, also on failure. Nothing is
 * read, written or armed before tcp_relay_start().
 *
 * Return: the relay, or NULL (sockets reset and closed) if out of memory
 */
struct tcp_relay *tcp_relay_new(struct event_base *base, int client,
				int server, bool connecting,
				const struct tcp_relay_opts *opts,
				unsigned long long id, tcp_relay_done_fn done,
				void *arg)
{
	struct tcp_relay *r = tcp_relay_alloc();
	int i;

	if (r) {
		r->fd[0] = client;
		r->fd[1] = server;
	}
	if (!r || tcp_relay_events(r, base)) {
		slab_free(&tcp_relay_pool, r);
		tcp_relay_reset(client);
		close(client);
		close(server);
		return NULL;
	}
	r->state = connecting ? TCP_RELAY_CONNECTING : TCP_RELAY_OPEN;
	r->opts = *opts;
	if (!r->opts.st)
		r->opts.st = stats_discard();
	r->start_ms = tcp_relay_now_ms();
	r->id = id;
	r->done = done;
	r->arg = arg;
	for (i = 0; i < 2; i++)
		tcp_dir_init(r, i, opts->copy);
	return r;
}

/*
 * Right after a non-blocking connect(): read what the client sent (at most
 * TCP_RELAY_EARLY) and send it on after what dir[0] holds (the preamble),
 * in one sendmsg(). The send is also the question whether the connect is
 * done: a send waits for the handshake like any other, so on this
 * non-blocking socket it says EAGAIN while it is in flight, the connect's
 * error if it failed, and sends once it is up. With nothing to send, a
 * send of no bytes asks the same and sends nothing. Unsent bytes are held.
 * Return: 0 (up), EINPROGRESS (still in flight), or an errno: *@end says
 * whether the connect failed or something else did
 */
static int tcp_relay_early(struct tcp_relay *r, enum tcp_relay_end *end)
{
	struct tcp_dir *d = &r->dir[0];
	struct iovec iov[2];
	struct msghdr mh = { .msg_iov = iov };
	size_t held = d->pending, sent;
	ssize_t n, w;

	*end = TCP_RELAY_ABORTED;
	n = recv(d->src, tcp_dir_scratch, TCP_RELAY_EARLY, 0);
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return errno;	/* a reset from the client, already */
	if (n == 0)
		tcp_dir_to(d, TCP_DIR_EOF);
	n = n < 0 ? 0 : n;
	if (held)
		iov[mh.msg_iovlen++] = (struct iovec){ d->buf + d->off, held };
	if (n)
		iov[mh.msg_iovlen++] =
			(struct iovec){ tcp_dir_scratch, (size_t)n };
	w = sendmsg(d->dst, &mh, MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN) {
		*end = TCP_RELAY_REFUSED;
		return errno;
	}
	sent = w < 0 ? 0 : (size_t)w;
	tcp_dir_count(d, sent, false);
	if (sent < held) {
		d->off += sent;
		d->pending -= sent;
		sent = 0;
	} else {
		if (held) {
			free(d->buf);
			d->buf = NULL;
			d->off = d->pending = 0;
		}
		sent -= held;
	}
	if (tcp_dir_hold(d, tcp_dir_scratch + sent, (size_t)n - sent))
		return ENOMEM;
	return w < 0 ? EINPROGRESS : 0;
}

/* The connect is done (and the client's first bytes sent on): the
 * relay is open. Return: 0, or -1 with errno (reset the relay) */
static int tcp_relay_up(struct tcp_relay *r)
{
	errno = tcp_relay_open(r);
	if (errno)
		return -1;
	tcp_dir_finish(&r->dir[0]);	/* the client said EOF already */
	return tcp_relay_after(r, true);
}

/**
 * tcp_relay_start() - set a new relay going
 * @r:		relay from tcp_relay_new(), with its preamble if any
 *
 * While the container's connect is in flight, the client's first bytes
 * are read and sent at once, which tells whether the connect is done
 * (tcp_relay_early()); if it is not, the relay waits for it, bounded by
 * the connect timeout. Then exactly the events that can make progress
 * are armed. The relay may end before this returns: its done callback has
 * run then (the connect refused, the client reset, out of memory).
 */
void tcp_relay_start(struct tcp_relay *r)
{
	enum tcp_relay_end end = TCP_RELAY_ABORTED;
	int err = 0;

	if (r->state == TCP_RELAY_CONNECTING) {
		err = tcp_relay_early(r, &end);
		if (err == EINPROGRESS) {
			err = 0;
			if ((r->opts.connect_ms &&
			     tcp_relay_clock(r, r->opts.connect_ms)) ||
			    tcp_relay_arm(r))
				err = ENOMEM;
		} else if (!err && tcp_relay_up(r)) {
			err = errno;
		}
	} else if (tcp_relay_watch_hup(r) || tcp_relay_arm(r)) {
		err = ENOMEM;
	}
	if (err)
		r->done(r, end, err, r->arg);
}

/**
 * tcp_relay_preamble() - bytes the container gets before any of the
 * client's (a PROXY protocol header)
 * @r:		relay just made, before tcp_relay_start()
 * @p:		bytes
 * @n:		how many, at most TCP_RELAY_BUF
 *
 * They wait as bytes the container has not taken yet: the client's are
 * sent only after these.
 *
 * Return: 0, or -1 with errno (ENOMEM; EINVAL if the relay already holds
 * bytes or @n is too large)
 */
int tcp_relay_preamble(struct tcp_relay *r, const void *p, size_t n)
{
	struct tcp_dir *d = &r->dir[0];

	if (n > TCP_RELAY_BUF || d->pending || d->splicing) {
		errno = EINVAL;
		return -1;
	}
	return tcp_dir_hold(d, p, n);
}

/**
 * tcp_relay_reset() - make the coming close() send RST instead of FIN
 * @fd:		TCP socket
 */
void tcp_relay_reset(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

/**
 * tcp_relay_free() - close both sockets and release everything
 * @r:		relay
 * @reset:	close with RST rather than FIN, so peers see an abort
 */
void tcp_relay_free(struct tcp_relay *r, bool reset)
{
	int i;

	event_del(r->timer);
	for (i = 0; i < 2; i++) {
		event_del(r->rd[i]);
		event_del(r->wr[i]);
		if (r->hup[i])
			event_free(r->hup[i]);
		if (reset)
			tcp_relay_reset(r->fd[i]);
		close(r->fd[i]);
		if (r->dir[i].pipe[0] >= 0) {
			close(r->dir[i].pipe[0]);
			close(r->dir[i].pipe[1]);
		}
		free(r->dir[i].buf);
	}
	slab_free(&tcp_relay_pool, r);
}

/**
 * tcp_relay_trim() - give back the memory relays no longer use: for the
 * owner to call once things are quiet (after a burst), not at every end
 *
 * Return: bytes given back
 */
size_t tcp_relay_trim(void)
{
	return tcp_relay_evsz ? slab_trim(&tcp_relay_pool) : 0;
}

/**
 * tcp_relay_resident() - bytes relays may hold resident (their slab's
 * chunks, less what was given back), for tests and the log
 *
 * Return: bytes
 */
size_t tcp_relay_resident(void)
{
	return tcp_relay_evsz ? slab_resident(&tcp_relay_pool) : 0;
}
