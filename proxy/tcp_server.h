/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_TCP_SERVER_H
#define STRAIT_TCP_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "addr.h"
#include "tcp_relay.h"

struct event;
struct event_base;
struct transparent;

/* How long accepting pauses after running out of fds or memory */
#define TCP_SERVER_PAUSE_MS 250

/**
 * struct tcp_server_opts - how a server's relays behave
 * @relay:	copy or splice, connect timeout, half-close timeout
 * @pp_version:	PROXY protocol header (1, 2) sent to the container first;
 *		0: none
 * @tp:		transparent mode (the container sees the client's address
 *		where it can), or NULL
 */
struct tcp_server_opts {
	struct tcp_relay_opts relay;
	int pp_version;
	struct transparent *tp;
};

/**
 * struct tcp_server - accepts clients and relays each to the container
 * @base:	event base
 * @lfd:	listening socket
 * @target:	container address and port
 * @target_len:	length of @target
 * @opts:	how relays behave
 * @inherit:	accepted sockets inherit TCP_NODELAY and keepalive from the
 *		listener (set there once), so they need no setsockopt() each
 * @accept_ev:	readable listener
 * @pause_ev:	timer that re-arms @accept_ev after a pause
 * @tick_ev:	the tick: keepalive for new relays, memory back from ended
 *		ones (tcp_server.c)
 * @paused:	accepting is paused
 * @ended:	a relay ended since the last tick
 * @relays:	open relays, reset on shutdown
 * @nrelays:	number of open relays
 * @next_id:	number of the next connection, for log lines
 */
struct tcp_server {
	struct event_base *base;
	int lfd;
	union addr_sock target;
	socklen_t target_len;
	struct tcp_server_opts opts;
	bool inherit;
	struct event *accept_ev, *pause_ev, *tick_ev;
	bool paused, ended;
	LIST_HEAD(, tcp_relay) relays;
	unsigned long nrelays;
	unsigned long long next_id;
};

int tcp_server_init(struct tcp_server *s, struct event_base *base, int lfd,
		    const union addr_sock *target, socklen_t target_len,
		    const struct tcp_server_opts *opts);
void tcp_server_close(struct tcp_server *s);

#endif
