/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_TCP_RELAY_H
#define STRAIT_TCP_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

struct event;
struct event_base;
struct tcp_relay;

/* Most bytes one copying read takes; most a copying direction holds */
#define TCP_RELAY_BUF (64 * 1024)
/* Pipe size asked for in splice mode: 4x the default moves bulk data with
 * a quarter of the wake-ups (measured: about 1.3x the throughput of 64 KiB
 * on loopback). The kernel grants less when the user's pipe budget
 * (fs.pipe-user-pages-soft) is spent; the relay then works with that. */
#define TCP_RELAY_PIPE (256 * 1024)

enum tcp_relay_end {
	TCP_RELAY_CLOSED = 0,	/* both directions finished cleanly */
	TCP_RELAY_REFUSED,	/* connect to the container failed */
	TCP_RELAY_ABORTED,	/* a write failed: both sides were reset */
	TCP_RELAY_IDLE,		/* half-closed and idle too long: reset */
};

typedef void (*tcp_relay_done_fn)(struct tcp_relay *r, enum tcp_relay_end end,
				  int err, void *arg);

/**
 * struct tcp_dir - one direction: bytes read from @src, written to @dst
 * @r:		relay this belongs to
 * @src:	socket read from
 * @dst:	socket written to
 * @pipe:	splice pipe, -1 until the direction carries bulk data
 * @buf:	bytes the destination did not take yet (copying), else NULL
 * @off:	start of pending bytes in @buf
 * @pending:	bytes read and not yet written (in the pipe or @buf)
 * @cap:	most bytes the pipe or @buf can hold
 * @copy:	never splice (-no-splice, or splice refused here)
 * @splicing:	bytes go through @pipe (from the first read after @bulk)
 * @bulk:	a copying read filled the whole buffer: splice from now on
 * @stalled:	splice into the pipe said EAGAIN while it held data: the pipe
 *		may be full by slots rather than bytes, so wait for a drain
 * @eof:	nothing more will be read from @src
 * @shut:	SHUT_WR sent to @dst
 * @bytes:	bytes written to @dst so far
 */
struct tcp_dir {
	struct tcp_relay *r;
	int src, dst;
	int pipe[2];
	char *buf;
	size_t off, pending, cap;
	bool copy, splicing, bulk, stalled, eof, shut;
	unsigned long long bytes;
};

/**
 * struct tcp_relay - a client connection and its connection to the container
 * @fd:		[0] client socket, [1] container socket
 * @dir:	[0] client to container, [1] container to client
 * @rd:		@rd[i] fires when @fd[i] is readable (feeds @dir[i])
 * @wr:		@wr[i] fires when @fd[i] is writable (drains @dir[1 - i])
 * @on:		which of @rd, @wr are armed: bit i for rd[i], 2 + i for wr[i]
 * @idle:	half-close timer, made when one direction first ends
 * @half_close_ms: once one direction has ended, end the relay (reset)
 *		after this long without an event; 0: never
 * @connecting:	waiting for the container's connect to complete
 * @done:	called once when the relay ends; it must free the relay
 * @arg:	passed to @done
 * @link:	for the owner's list of relays
 */
struct tcp_relay {
	int fd[2];
	struct tcp_dir dir[2];
	struct event *rd[2], *wr[2], *idle;
	uint64_t half_close_ms;
	unsigned on;
	bool connecting;
	tcp_relay_done_fn done;
	void *arg;
	LIST_ENTRY(tcp_relay) link;
};

struct tcp_relay *tcp_relay_new(struct event_base *base, int client,
				int server, bool connecting, bool copy,
				tcp_relay_done_fn done, void *arg);
int tcp_relay_preamble(struct tcp_relay *r, const void *p, size_t n);
void tcp_relay_free(struct tcp_relay *r, bool reset);
void tcp_relay_reset(int fd);

#endif
