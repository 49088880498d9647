// SPDX-License-Identifier: MIT
/*
 * tcp_relay.c - move bytes both ways between a client and the container
 *
 * Theory of operation
 *
 * A relay is two sockets and two directions. Each direction reads from its
 * source into a holding area and writes from there to its destination: a
 * pipe, filled and drained with splice(2) so the bytes never cross into user
 * space, or (where splice is refused, or with -no-splice) a 64 KiB buffer.
 * Either way at most a pipe's or buffer's worth of bytes (256 KiB, 64 KiB)
 * wait per direction: when the holding area is full we stop reading the
 * source, its receive window closes, and the sender slows down. That is the backpressure; memory per connection is
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
 * when both directions have done so. A reset from a source counts as EOF (as
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
#include <unistd.h>

/* Rounds of fill+drain per wake-up before letting other connections run */
#define TCP_RELAY_ROUNDS 8

static void tcp_dir_to_copy(struct tcp_dir *d)
{
	if (d->pipe[0] >= 0) {
		close(d->pipe[0]);
		close(d->pipe[1]);
		d->pipe[0] = d->pipe[1] = -1;
	}
	d->copy = true;
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
	return 0;
}

static ssize_t tcp_dir_fill_copy(struct tcp_dir *d)
{
	if (!d->buf) {
		d->buf = malloc(TCP_RELAY_BUF);
		if (!d->buf)
			return -1;
	}
	if (!d->pending)
		d->off = 0;
	if (d->off + d->pending == TCP_RELAY_BUF) {
		memmove(d->buf, d->buf + d->off, d->pending);
		d->off = 0;
	}
	return recv(d->src, d->buf + d->off + d->pending,
		    TCP_RELAY_BUF - d->off - d->pending, 0);
}

/* Return: bytes read, 0 at EOF, -1 with errno */
static ssize_t tcp_dir_fill(struct tcp_dir *d)
{
	ssize_t n;

	if (d->copy)
		return tcp_dir_fill_copy(d);
	/* No fd to spare for a pipe: this direction copies instead */
	if (d->pipe[0] < 0 && tcp_dir_pipe(d))
		return tcp_dir_fill_copy(d);
	n = splice(d->src, NULL, d->pipe[1], NULL, d->cap - d->pending,
		   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n < 0 && (errno == EINVAL || errno == ENOSYS) && !d->pending) {
		tcp_dir_to_copy(d);
		return tcp_dir_fill_copy(d);
	}
	return n;
}

static ssize_t tcp_dir_drain(struct tcp_dir *d)
{
	ssize_t n;

	if (d->copy)
		n = send(d->dst, d->buf + d->off, d->pending, MSG_NOSIGNAL);
	else
		n = splice(d->pipe[0], NULL, d->dst, NULL, d->pending,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0) {
		d->pending -= (size_t)n;
		d->off += (size_t)n;
		d->bytes += (unsigned long long)n;
		d->stalled = false;
	}
	return n;
}

static bool tcp_dir_can_read(const struct tcp_dir *d)
{
	return !d->eof && !d->stalled && d->pending < d->cap;
}

/*
 * One fill attempt. Return: 1 if bytes moved or the state changed, 0 if
 * not, -1 (errno set) if we failed ourselves: out of memory must reset the
 * pair, never pass for an EOF and end a stream short with a clean FIN.
 */
static int tcp_dir_fill_once(struct tcp_dir *d)
{
	ssize_t n = tcp_dir_fill(d);

	if (n > 0) {
		d->pending += (size_t)n;
		return 1;
	}
	if (n < 0 && (errno == ENOMEM || errno == ENOBUFS))
		return -1;
	if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		d->eof = true;	/* EOF, or a reset: treated alike */
		return 1;
	}
	if (errno == EAGAIN && d->pending)
		d->stalled = true;
	return errno == EINTR;
}

/* Return: 0, or -1 with errno if writing to the destination (or our own
 * buffering) failed: the relay must then be reset */
static int tcp_dir_pump(struct tcp_dir *d)
{
	int round;

	for (round = 0; round < TCP_RELAY_ROUNDS; round++) {
		bool moved = false;

		if (tcp_dir_can_read(d)) {
			int rc = tcp_dir_fill_once(d);

			if (rc < 0)
				return -1;
			moved = rc > 0;
		}
		if (d->pending) {
			ssize_t n = tcp_dir_drain(d);

			if (n > 0)
				moved = true;
			else if (errno != EAGAIN && errno != EINTR)
				return -1;
		}
		if (!moved)
			break;
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
		r->connecting = false;
	} else if (tcp_dir_pump(d)) {
		r->done(r, TCP_RELAY_ABORTED, errno, r->arg);
		return;
	}
	if (r->dir[0].shut && r->dir[1].shut) {
		r->done(r, TCP_RELAY_CLOSED, 0, r->arg);
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
	/* until the pipe exists, any room at all lets reading start */
	d->cap = copy ? TCP_RELAY_BUF : TCP_RELAY_PIPE;
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
