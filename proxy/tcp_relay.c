// SPDX-License-Identifier: MIT
/*
 * tcp_relay.c - move bytes both ways between a client and the container
 *
 * Theory of operation
 *
 * A relay is two sockets and two directions. A direction starts out copying:
 * recv() into a buffer shared by the process, send() straight on, and only
 * what the destination does not take is kept, in a 64 KiB buffer of the
 * direction's own that is freed once written. Requests, responses and
 * interactive traffic thus cost two syscalls a message and no memory at
 * rest. Once a read fills the whole 64 KiB the direction carries bulk data
 * and switches to a pipe, filled and drained with splice(2), so the bytes
 * never cross into user space (as HAProxy's splice-auto). Either way at most
 * a buffer's or a pipe's worth (64 KiB, 256 KiB) waits per direction: when
 * it is full we stop reading the source, its receive window closes, and the
 * sender slows down. That is the backpressure; memory per connection is
 * bounded by two holding areas plus the kernel's socket buffers.
 *
 * splice() says EAGAIN both for "socket empty" and "pipe full", and a pipe
 * can be full by slots (one per skb fragment) long before it holds
 * its size in bytes. So we count the bytes in the pipe ourselves, and an
 * EAGAIN while the pipe holds data marks the direction stalled: we wait for
 * the destination to take some bytes before reading again, rather than
 * waiting on a source that is readable and spinning.
 *
 * Half-close: when a source reaches EOF we shut down the destination's write
 * side only after every byte read has been written, and the relay ends only
 * when both directions have done so. A peer that never closes its side
 * keeps a half-closed pair forever (docker-proxy's CLOSE_WAIT pile-ups);
 * with a half-close timeout the pair is reset once it has been half-closed
 * and without any event for that long. A reset from a source counts as EOF (as
 * docker-proxy does); a failed write ends the relay at once and resets both
 * sides, so no peer mistakes a truncated stream for a complete one.
 *
 * Events are level-triggered and persistent; we arm exactly those that can
 * make progress: a read where there is room, a write where bytes wait.
 */
#include "tcp_relay.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Rounds of fill+drain per wake-up before letting other connections run */
#define TCP_RELAY_ROUNDS 8

/*
 * Where a copying direction reads into: one buffer for the whole process
 * (it is single-threaded), borrowed only between a recv() and the send()
 * that follows it. Bytes the destination does not take at once move to the
 * direction's own buffer, allocated then and freed once it is written, so
 * an idle or chatty connection holds no buffer at all.
 */
static char tcp_relay_scratch[TCP_RELAY_BUF];

static void tcp_dir_to_copy(struct tcp_dir *d)
{
	if (d->pipe[0] >= 0) {
		close(d->pipe[0]);
		close(d->pipe[1]);
		d->pipe[0] = d->pipe[1] = -1;
	}
	d->copy = true;
	d->splicing = false;
	d->cap = TCP_RELAY_BUF;
}

/* Return: 0, or -1 if no pipe could be had (the direction then copies) */
static int tcp_dir_pipe(struct tcp_dir *d)
{
	int sz;

	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC)) {
		d->pipe[0] = d->pipe[1] = -1;
		tcp_dir_to_copy(d);
		return -1;
	}
	sz = fcntl(d->pipe[1], F_SETPIPE_SZ, TCP_RELAY_PIPE);
	if (sz < 0)
		sz = fcntl(d->pipe[1], F_GETPIPE_SZ);
	d->cap = sz > 0 ? (size_t)sz : 4096;
	d->splicing = true;
	return 0;
}

/* Return: bytes read, 0 at EOF, -1 with errno */
static ssize_t tcp_dir_fill(struct tcp_dir *d, size_t want)
{
	ssize_t n;

	if (!d->splicing)
		return recv(d->src, tcp_relay_scratch, want, 0);
	n = splice(d->src, NULL, d->pipe[1], NULL, want,
		   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n < 0 && (errno == EINVAL || errno == ENOSYS) && !d->pending) {
		/* this pair of sockets cannot splice: copy from now on */
		tcp_dir_to_copy(d);
		return recv(d->src, tcp_relay_scratch, TCP_RELAY_BUF, 0);
	}
	return n;
}

/*
 * Send @n bytes just read into the scratch buffer; keep what the
 * destination does not take. Return: 0, or -1 with errno if the write
 * failed or nothing could hold the rest.
 */
static int tcp_dir_pass(struct tcp_dir *d, size_t n)
{
	ssize_t w = send(d->dst, tcp_relay_scratch, n, MSG_NOSIGNAL);

	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		w = 0;
	}
	d->bytes += (unsigned long long)w;
	if ((size_t)w == n)
		return 0;
	if (!d->buf)
		d->buf = malloc(TCP_RELAY_BUF);
	if (!d->buf) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(d->buf, tcp_relay_scratch + w, n - (size_t)w);
	d->off = 0;
	d->pending = n - (size_t)w;
	return 0;
}

static ssize_t tcp_dir_drain(struct tcp_dir *d)
{
	ssize_t n;

	if (d->splicing)
		n = splice(d->pipe[0], NULL, d->dst, NULL, d->pending,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	else
		n = send(d->dst, d->buf + d->off, d->pending, MSG_NOSIGNAL);
	if (n > 0) {
		d->pending -= (size_t)n;
		d->off += (size_t)n;
		d->bytes += (unsigned long long)n;
		d->stalled = false;
		if (!d->pending && !d->splicing) {
			free(d->buf);
			d->buf = NULL;
		}
	}
	return n;
}

static bool tcp_dir_can_read(const struct tcp_dir *d)
{
	if (d->eof || d->stalled)
		return false;
	/* a copying direction reads again once all it holds is written */
	return d->splicing ? d->pending < d->cap : !d->pending;
}

/*
 * Move what can be moved now. A read that comes back short means the source
 * is empty for the moment: we stop there rather than ask again for an
 * EAGAIN (the level-triggered event says when there is more). A copying
 * direction whose read fills the whole buffer carries bulk data: unless
 * told to copy, it splices from its next read on, when nothing is held.
 *
 * Return: 0, or -1 with errno if writing to the destination or our own
 * buffering failed: the relay must then be reset. Out of memory in
 * particular must never pass for an EOF and end a stream short with a
 * clean FIN.
 */
static int tcp_dir_pump(struct tcp_dir *d)
{
	bool more = true;
	int round;

	for (round = 0; round < TCP_RELAY_ROUNDS; round++) {
		size_t want;
		ssize_t n;

		if (d->pending && tcp_dir_drain(d) < 0 && errno != EAGAIN &&
		    errno != EINTR)
			return -1;
		if (!more || !tcp_dir_can_read(d))
			break;
		if (!d->splicing && !d->copy && d->bulk && tcp_dir_pipe(d) == 0)
			d->bulk = false;
		want = d->splicing ? d->cap - d->pending : TCP_RELAY_BUF;
		n = tcp_dir_fill(d, want);
		if (n > 0) {
			if (d->splicing)
				d->pending += (size_t)n;
			else if (tcp_dir_pass(d, (size_t)n))
				return -1;
			more = (size_t)n == want;
			if (more && !d->splicing)
				d->bulk = true;
			continue;
		}
		if (n < 0 && (errno == ENOMEM || errno == ENOBUFS))
			return -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* a pipe full by slots rather than bytes */
			if (d->pending)
				d->stalled = true;
		} else {
			d->eof = true;	/* EOF, or a reset: treated alike */
		}
		more = false;
	}
	if (d->eof && !d->pending && !d->shut) {
		shutdown(d->dst, SHUT_WR);
		d->shut = true;
	}
	return 0;
}

static void tcp_relay_set(struct tcp_relay *r, struct event *ev, unsigned bit,
			  bool want)
{
	if (want == !!(r->on & bit))
		return;
	if (want)
		event_add(ev, NULL);
	else
		event_del(ev);
	r->on ^= bit;
}

static void tcp_relay_arm(struct tcp_relay *r)
{
	int i;

	for (i = 0; i < 2; i++) {
		tcp_relay_set(r, r->rd[i], 1U << i,
			      !r->connecting && tcp_dir_can_read(&r->dir[i]));
		tcp_relay_set(r, r->wr[i], 4U << i,
			      r->connecting ? i == 1
					    : r->dir[1 - i].pending > 0);
	}
}

static void tcp_relay_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_relay *r = arg;

	(void)fd;
	(void)what;
	r->done(r, TCP_RELAY_IDLE, ETIMEDOUT, r->arg);
}

/* Half-closed: (re)start the idle clock. Return: 0, or -1 out of memory */
static int tcp_relay_idle(struct tcp_relay *r)
{
	struct timeval tv = { (time_t)(r->half_close_ms / 1000),
			      (suseconds_t)(r->half_close_ms % 1000) * 1000 };

	if (!r->idle)
		r->idle = evtimer_new(event_get_base(r->rd[0]),
				      tcp_relay_idle_cb, r);
	return r->idle ? evtimer_add(r->idle, &tv) : -1;
}

static void tcp_relay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_dir *d = arg;
	struct tcp_relay *r = d->r;
	socklen_t len = sizeof(int);
	int err = 0;

	(void)what;
	if (r->connecting) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err) {
			r->done(r, TCP_RELAY_REFUSED, err, r->arg);
			return;
		}
		/* connected: the client has most likely sent its request
		 * already; pass it on now rather than after another wait
		 * (this callback is the container's wr, which drains dir[0]) */
		r->connecting = false;
	}
	if (tcp_dir_pump(d)) {
		r->done(r, TCP_RELAY_ABORTED, errno, r->arg);
		return;
	}
	if (r->dir[0].shut && r->dir[1].shut) {
		r->done(r, TCP_RELAY_CLOSED, 0, r->arg);
		return;
	}
	if (r->half_close_ms && (r->dir[0].shut || r->dir[1].shut) &&
	    tcp_relay_idle(r)) {
		r->done(r, TCP_RELAY_ABORTED, ENOMEM, r->arg);
		return;
	}
	tcp_relay_arm(r);
}

static void tcp_dir_init(struct tcp_relay *r, int i, bool copy)
{
	struct tcp_dir *d = &r->dir[i];

	d->r = r;
	d->src = r->fd[i];
	d->dst = r->fd[1 - i];
	d->pipe[0] = d->pipe[1] = -1;
	d->copy = copy;
	d->cap = TCP_RELAY_BUF;
}

/**
 * tcp_relay_new() - start relaying between two non-blocking stream sockets
 * @base:	event base
 * @client:	accepted client socket
 * @server:	socket towards the container
 * @connecting:	@server's non-blocking connect() is still in progress
 * @copy:	never splice, copy through user space
 * @done:	called once when the relay ends; must call tcp_relay_free()
 * @arg:	passed to @done
 *
 * The relay owns both sockets from here on, also on failure.
 *
 * Return: the relay, or NULL (sockets closed) if out of memory
 */
struct tcp_relay *tcp_relay_new(struct event_base *base, int client,
				int server, bool connecting, bool copy,
				tcp_relay_done_fn done, void *arg)
{
	struct tcp_relay *r = calloc(1, sizeof(*r));
	int i;

	if (!r)
		goto fail;
	r->fd[0] = client;
	r->fd[1] = server;
	r->connecting = connecting;
	r->done = done;
	r->arg = arg;
	for (i = 0; i < 2; i++)
		tcp_dir_init(r, i, copy);
	for (i = 0; i < 2; i++) {
		r->rd[i] = event_new(base, r->fd[i], EV_READ | EV_PERSIST,
				     tcp_relay_cb, &r->dir[i]);
		r->wr[i] = event_new(base, r->fd[i], EV_WRITE | EV_PERSIST,
				     tcp_relay_cb, &r->dir[1 - i]);
		if (!r->rd[i] || !r->wr[i]) {
			tcp_relay_free(r, true);
			return NULL;
		}
	}
	tcp_relay_arm(r);
	return r;
fail:
	close(client);
	close(server);
	return NULL;
}

/**
 * tcp_relay_preamble() - bytes the container gets before any of the
 * client's (a PROXY protocol header)
 * @r:		relay just made, before the event loop ran it
 * @p:		bytes
 * @n:		how many, at most TCP_RELAY_BUF
 *
 * They wait as bytes the container has not taken yet: the client's are
 * read only once these are written.
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
	if (!n)
		return 0;
	d->buf = malloc(TCP_RELAY_BUF);
	if (!d->buf)
		return -1;
	memcpy(d->buf, p, n);
	d->off = 0;
	d->pending = n;
	tcp_relay_arm(r);
	return 0;
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

	if (r->idle)
		event_free(r->idle);
	for (i = 0; i < 2; i++) {
		if (r->rd[i])
			event_free(r->rd[i]);
		if (r->wr[i])
			event_free(r->wr[i]);
		if (reset)
			tcp_relay_reset(r->fd[i]);
		close(r->fd[i]);
		if (r->dir[i].pipe[0] >= 0) {
			close(r->dir[i].pipe[0]);
			close(r->dir[i].pipe[1]);
		}
		free(r->dir[i].buf);
	}
	free(r);
}
