// SPDX-License-Identifier: MIT
/*
 * tcp_dir.c - one direction of a relay: how its bytes move
 *
 * Theory of operation
 *
 * A relay (tcp_relay.c) is two sockets and two directions; this file moves
 * one direction's bytes from its source to its destination. A direction
 * starts out copying: recv() into a buffer shared by the process, send()
 * straight on, and only what the destination does not take is kept, in a
 * 64 KiB buffer of the direction's own that is freed once written.
 * Requests, responses and interactive traffic thus cost two syscalls a
 * message and no memory at rest. Once a read fills the whole 64 KiB the
 * direction carries bulk data and switches to a pipe, filled and drained
 * with splice(2), so the bytes never cross into user space (as HAProxy's
 * splice-auto). Either way at most a buffer's or a pipe's worth (64 KiB,
 * 256 KiB) waits per direction: when it is full we stop reading the
 * source, its receive window closes, and the sender slows down. That is
 * the backpressure; memory per connection is bounded by two holding areas
 * plus the kernel's socket buffers.
 *
 * splice() says EAGAIN for three different things: the socket is empty, the
 * pipe is full (by slots, one per skb fragment, long before it holds its
 * size in bytes), or the socket holds TCP urgent data: splice stops at the
 * urgent mark and says EAGAIN for as long as the mark is there, while epoll
 * keeps reporting the socket readable. So we count the bytes in the pipe
 * ourselves; an EAGAIN while the pipe holds data marks the direction stalled
 * (wait for the destination to take some before reading again), and an
 * EAGAIN with an empty pipe right after the socket was reported readable is
 * read once with recv(), which goes past the mark (HAProxy's
 * raw_sock_to_pipe() does the same). Sockets have SO_OOBINLINE, so the
 * urgent byte itself is passed on in order as an ordinary byte rather than
 * lost: a client cannot stall a pair, nor spin the process, with one
 * urgent byte.
 *
 * A direction is OPEN, then EOF when its source said EOF, then SHUT once
 * every byte read has been written and the destination got our FIN
 * (tcp_dir_to() is the only place it changes, logged at debug). A FIN is
 * sent only after a clean EOF and every byte; a read error is never taken
 * for an EOF, and is the relay's to turn into a reset.
 *
 * A wake-up moves what it can in at most TCP_DIR_ROUNDS rounds of fill and
 * drain (tcp_dir_pump()), then lets other connections run; which events
 * the relay arms next is its business (tcp_dir_can_read() and @pending say
 * what this direction can do).
 */
#include "tcp_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Rounds of fill+drain per wake-up before letting other connections run */
#define TCP_DIR_ROUNDS 8

/*
 * Where a copying direction reads into: one buffer for the whole process
 * (it is single-threaded), borrowed only between a recv() and the send()
 * that follows it (tcp_relay_early() borrows it the same way). Bytes the
 * destination does not take at once move to the direction's own buffer,
 * allocated then and freed once it is written, so an idle or chatty
 * connection holds no buffer at all.
 */
char tcp_dir_scratch[TCP_RELAY_BUF];

/**
 * tcp_dir_state_name() - a direction state's name, for log lines
 * @s:		state
 *
 * Return: static string
 */
const char *tcp_dir_state_name(enum tcp_dir_state s)
{
	static const char *const names[] = { "open", "eof", "shut" };

	return names[s];
}

/* Which way @d goes, for log lines */
static const char *tcp_dir_name(const struct tcp_dir *d)
{
	return d == &d->r->dir[0] ? "client->container" : "container->client";
}

/**
 * tcp_dir_to() - the only place a direction changes state
 * @d:		direction
 * @to:		its new state
 */
void tcp_dir_to(struct tcp_dir *d, enum tcp_dir_state to)
{
	tcp_relay_debug(d->r, "%s %s -> %s (%llu bytes, %zu held)",
			tcp_dir_name(d), tcp_dir_state_name(d->state),
			tcp_dir_state_name(to), d->bytes, d->pending);
	d->state = to;
}

/* Copy from now on (splice refused, or never asked for): no pipe kept */
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

/* Splice from now on. Return: 0, or -1 if no pipe could be had (the
 * direction then copies) */
static int tcp_dir_pipe(struct tcp_dir *d)
{
	int sz;

	if (d->pipe[0] >= 0)	/* kept from before an urgent-data detour */
		goto splice;
	if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC)) {
		d->pipe[0] = d->pipe[1] = -1;
		tcp_dir_to_copy(d);
		return -1;
	}
	sz = fcntl(d->pipe[1], F_SETPIPE_SZ, TCP_RELAY_PIPE);
	if (sz < 0)
		sz = fcntl(d->pipe[1], F_GETPIPE_SZ);
	d->cap = sz > 0 ? (size_t)sz : 4096;
	tcp_relay_debug(d->r, "%s splices (pipe of %zu bytes)",
			tcp_dir_name(d), d->cap);
splice:
	d->splicing = true;
	return 0;
}

/*
 * Read up to @want bytes: into the pipe when splicing, else into the
 * scratch buffer. @readable: the source's read event is what woke us.
 * Return: bytes read, 0 at EOF, -1 with errno; *@spliced says where the
 * bytes went
 */
static ssize_t tcp_dir_fill(struct tcp_dir *d, size_t want, bool readable,
			    bool *spliced)
{
	ssize_t n;

	*spliced = d->splicing;
	if (!d->splicing)
		return recv(d->src, tcp_dir_scratch, want, 0);
	n = splice(d->src, NULL, d->pipe[1], NULL, want,
		   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n >= 0 || d->pending)
		return n;	/* with bytes held, EINVAL is an error too */
	if (errno == EINVAL || errno == ENOSYS) {
		/* this pair of sockets cannot splice: copy from now on */
		tcp_dir_to_copy(d);
	} else if (errno == EAGAIN && readable) {
		/*
		 * Readable, yet nothing to splice and an empty pipe: urgent
		 * data blocks splice at its mark. One recv() goes past it
		 * (the byte comes inline: SO_OOBINLINE); the next bulk read
		 * splices again.
		 */
		tcp_relay_debug(d->r, "%s: splice stopped at urgent data, "
				"reading past it",
				tcp_dir_name(d));
		d->splicing = false;	/* the pipe (and @cap) stay */
		d->bulk = true;
	} else {
		return n;
	}
	*spliced = false;
	return recv(d->src, tcp_dir_scratch, TCP_RELAY_BUF, 0);
}

/**
 * tcp_dir_count() - @n more bytes reached @d's destination
 * @d:		direction
 * @n:		bytes
 * @spliced:	they went by splice, else copied
 */
void tcp_dir_count(struct tcp_dir *d, size_t n, bool spliced)
{
	struct stats_port *st = d->r->opts.st;

	d->bytes += n;
	if (spliced)
		d->spliced += n;
	stats_add(st, d == &d->r->dir[0] ? STATS_BYTES_TO_CONTAINER
					 : STATS_BYTES_TO_CLIENT, n);
	stats_add(st, spliced ? STATS_BYTES_SPLICED : STATS_BYTES_COPIED, n);
}

/**
 * tcp_dir_hold() - keep @n bytes the destination did not take, after those
 * @d already holds (a preamble's rest), in a buffer of exactly their size
 * @d:		direction
 * @p:		bytes
 * @n:		how many
 *
 * Return: 0, or -1 with errno ENOMEM
 */
int tcp_dir_hold(struct tcp_dir *d, const char *p, size_t n)
{
	char *buf;

	if (!n)
		return 0;
	buf = malloc(d->pending + n);
	if (!buf) {
		errno = ENOMEM;
		return -1;
	}
	if (d->pending)
		memcpy(buf, d->buf + d->off, d->pending);
	memcpy(buf + d->pending, p, n);
	free(d->buf);
	d->buf = buf;
	d->off = 0;
	d->pending += n;
	return 0;
}

/*
 * Send @n bytes just read into the scratch buffer; keep what the
 * destination does not take. Return: 0, or -1 with errno if the write
 * failed or nothing could hold the rest.
 */
static int tcp_dir_pass(struct tcp_dir *d, size_t n)
{
	ssize_t w = send(d->dst, tcp_dir_scratch, n, MSG_NOSIGNAL);

	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR)
			return -1;
		w = 0;
	}
	tcp_dir_count(d, (size_t)w, false);
	return tcp_dir_hold(d, tcp_dir_scratch + w, n - (size_t)w);
}

/* Write what @d holds, from the pipe or its buffer. Return: bytes
 * written, or -1 with errno (EAGAIN: the destination is full) */
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
		tcp_dir_count(d, (size_t)n, d->splicing);
		d->stalled = false;
		if (!d->pending && !d->splicing) {
			free(d->buf);
			d->buf = NULL;
		}
	}
	return n;
}

/**
 * tcp_dir_can_read() - whether reading @d's source now can make progress
 * @d:		direction
 *
 * Return: true if it is open, not stalled, and has room
 */
bool tcp_dir_can_read(const struct tcp_dir *d)
{
	if (d->state != TCP_DIR_OPEN || d->stalled)
		return false;
	/* a copying direction reads again once all it holds is written */
	return d->splicing ? d->pending < d->cap : !d->pending;
}

/*
 * One read and what follows it. Return: 1 if the source may have more
 * right now, 0 if not (short read, EAGAIN, EOF), -1 with errno if the
 * relay must be reset: a read error (a reset from the peer included), a
 * failed write, or our own buffering failing.
 */
static int tcp_dir_read(struct tcp_dir *d, bool readable)
{
	size_t want = d->splicing ? d->cap - d->pending : TCP_RELAY_BUF;
	bool spliced;
	ssize_t n = tcp_dir_fill(d, want, readable, &spliced);

	if (n > 0) {
		if (spliced)
			d->pending += (size_t)n;
		else if (tcp_dir_pass(d, (size_t)n))
			return -1;
		if ((size_t)n < want)
			return 0;
		if (!spliced)
			d->bulk = true;
		return 1;
	}
	if (n == 0) {
		tcp_dir_to(d, TCP_DIR_EOF);
		return 0;
	}
	if (errno == EINTR)
		return 1;
	if (errno != EAGAIN)
		return -1;	/* never an EOF: that would pass for complete */
	if (d->pending)
		d->stalled = true;	/* a pipe full by slots */
	return 0;
}

/**
 * tcp_dir_finish() - EOF read and every byte written: our FIN
 * @d:		direction
 *
 * If the other direction is done too, the relay ends now and close() sends
 * that FIN (our destination's peer said EOF, so nothing unread can turn the
 * close into a reset): no shutdown() for it.
 */
void tcp_dir_finish(struct tcp_dir *d)
{
	if (d->state != TCP_DIR_EOF || d->pending)
		return;
	if (d->r->dir[d == &d->r->dir[0]].state != TCP_DIR_SHUT)
		shutdown(d->dst, SHUT_WR);
	tcp_dir_to(d, TCP_DIR_SHUT);
}

/**
 * tcp_dir_pump() - move what can be moved now
 * @d:		direction
 * @readable:	the source's read event is what woke us
 *
 * A read that comes back short means the source is empty for the moment:
 * we stop there rather than ask again for an EAGAIN (the level-triggered
 * event says when there is more). A copying direction whose read fills the
 * whole buffer carries bulk data: unless told to copy, it splices from its
 * next read on, when nothing is held.
 *
 * Return: 0, or -1 with errno if the relay must be reset.
 */
int tcp_dir_pump(struct tcp_dir *d, bool readable)
{
	int round, more = 1;

	for (round = 0; round < TCP_DIR_ROUNDS; round++) {
		if (d->pending && tcp_dir_drain(d) < 0 && errno != EAGAIN &&
		    errno != EINTR)
			return -1;
		if (!more || !tcp_dir_can_read(d))
			break;
		if (!d->splicing && !d->copy && d->bulk && !d->pending &&
		    tcp_dir_pipe(d) == 0)
			d->bulk = false;
		more = tcp_dir_read(d, readable && round == 0);
		if (more < 0)
			return -1;
	}
	tcp_dir_finish(d);
	return 0;
}

/**
 * tcp_dir_init() - set up direction @i of a new relay: it reads @r's fd[i]
 * and writes the other, copying until it carries bulk data
 * @r:		relay, its fds set
 * @i:		0 (client to container) or 1 (container to client)
 * @copy:	never splice
 */
void tcp_dir_init(struct tcp_relay *r, int i, bool copy)
{
	struct tcp_dir *d = &r->dir[i];

	d->r = r;
	d->src = r->fd[i];
	d->dst = r->fd[1 - i];
	d->pipe[0] = d->pipe[1] = -1;
	d->copy = copy;
	d->cap = TCP_RELAY_BUF;
}
