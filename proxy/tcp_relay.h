/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_TCP_RELAY_H
#define STRAIT_TCP_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "addr.h"

struct event;
struct event_base;
struct stats_port;
struct tcp_relay;

/* Most bytes one copying read takes; most a copying direction holds */
#define TCP_RELAY_BUF (64 * 1024)
/* Most bytes read from the client before the container's connect is
 * known to be up (they are held until it is; HAProxy reads 15 KiB) */
#define TCP_RELAY_EARLY (16 * 1024)
/* Pipe size asked for in splice mode: 4x the default moves bulk data with
 * a quarter of the wake-ups (measured: about 1.3x the throughput of 64 KiB
 * on loopback). The kernel grants less when the user's pipe budget
 * (fs.pipe-user-pages-soft) is spent; the relay then works with that. */
#define TCP_RELAY_PIPE (256 * 1024)

/* How a relay ended, as passed to its done callback */
enum tcp_relay_end {
	TCP_RELAY_CLOSED = 0,	/* both directions finished cleanly */
	TCP_RELAY_REFUSED,	/* connect to the container failed or timed
				 * out (ETIMEDOUT) */
	TCP_RELAY_ABORTED,	/* a read or write failed, or a peer reset:
				 * both sides were reset */
	TCP_RELAY_IDLE,		/* half-closed and idle too long: reset */
};

/* Where a relay is: transitions happen in tcp_relay_to() only */
enum tcp_relay_state {
	TCP_RELAY_CONNECTING = 0, /* the container's connect is in flight */
	TCP_RELAY_OPEN,		/* both directions carry bytes */
	TCP_RELAY_HALF,		/* one side has closed (EOF read); the half
				 * close clock runs, if there is one */
};

/* Where a direction is: transitions happen in tcp_dir_to() only (tcp_dir.c) */
enum tcp_dir_state {
	TCP_DIR_OPEN = 0,	/* reading @src, writing @dst */
	TCP_DIR_EOF,		/* @src said EOF: what is held still goes */
	TCP_DIR_SHUT,		/* all written, FIN sent to @dst */
};

typedef void (*tcp_relay_done_fn)(struct tcp_relay *r, enum tcp_relay_end end,
				  int err, void *arg);

/**
 * struct tcp_relay_opts - how a relay behaves
 * @copy:	never splice, copy through user space
 * @connect_ms:	a connect to the container still in flight after this long
 *		fails (ETIMEDOUT); 0: the kernel's own limit
 * @half_close_ms: once one side has closed, reset the pair after this long
 *		with no byte moving; 0: never
 * @st:		counters of the port (bytes each way, splice or copy), and
 *		what log lines are about; NULL: none
 */
struct tcp_relay_opts {
	bool copy;
	uint64_t connect_ms, half_close_ms;
	struct stats_port *st;
};

/**
 * struct tcp_dir - one direction: bytes read from @src, written to @dst
 * @r:		relay this belongs to
 * @src:	socket read from
 * @dst:	socket written to
 * @state:	open, EOF read, or FIN sent
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
 * @bytes:	bytes written to @dst so far
 * @spliced:	of @bytes, how many went through the pipe
 */
struct tcp_dir {
	struct tcp_relay *r;
	int src, dst;
	enum tcp_dir_state state;
	int pipe[2];
	char *buf;
	size_t off, pending, cap;
	bool copy, splicing, bulk, stalled;
	unsigned long long bytes, spliced;
};

/**
 * struct tcp_relay - a client connection and its connection to the container
 * @fd:		[0] client socket, [1] container socket
 * @dir:	[0] client to container, [1] container to client
 * @state:	connecting, open, or half-closed
 * @rd:		@rd[i] fires when @fd[i] is readable (feeds @dir[i])
 * @wr:		@wr[i] fires when @fd[i] is writable (drains @dir[1 - i])
 * @on:		which of @rd, @wr are armed: bit i for rd[i], 2 + i for wr[i]
 * @hup:		with a half-close timeout: @hup[i] fires once when @fd[i]'s
 *		peer has closed its side, even while we are not reading it
 * @timer:	the connect timeout while connecting, then the half-close
 *		clock (@rd, @wr and @timer live in the relay's own
 *		allocation, after it)
 * @opts:	behaviour
 * @id:		the owner's number for this connection, for log lines
 * @transparent: the socket towards the container carries the client's
 *		address (for the owner's log lines)
 * @keepalive:	the owner has set keepalive on @fd[1] (it does so a moment
 *		after the connection starts, see tcp_server.c)
 * @start_ms:	when the relay was made (monotonic), for its lifetime
 * @peer:	the client's address, set by the owner for its log lines
 * @done:	called once when the relay ends; it must free the relay
 * @arg:	passed to @done
 * @link:	for the owner's list of relays
 */
struct tcp_relay {
	int fd[2];
	struct tcp_dir dir[2];
	enum tcp_relay_state state;
	struct event *rd[2], *wr[2], *hup[2], *timer;
	unsigned on;
	struct tcp_relay_opts opts;
	unsigned long long id;
	bool transparent, keepalive;
	uint64_t start_ms;
	union addr_sock peer;
	tcp_relay_done_fn done;
	void *arg;
	LIST_ENTRY(tcp_relay) link;
};

struct tcp_relay *tcp_relay_new(struct event_base *base, int client,
				int server, bool connecting,
				const struct tcp_relay_opts *opts,
				unsigned long long id, tcp_relay_done_fn done,
				void *arg);
int tcp_relay_preamble(struct tcp_relay *r, const void *p, size_t n);
void tcp_relay_start(struct tcp_relay *r);
void tcp_relay_free(struct tcp_relay *r, bool reset);
size_t tcp_relay_trim(void);
size_t tcp_relay_resident(void);
void tcp_relay_reset(int fd);
const char *tcp_relay_state_name(enum tcp_relay_state s);
uint64_t tcp_relay_now_ms(void);

#endif
