/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_UDP_SERVER_H
#define STRAIT_UDP_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "udp_flow.h"
#include "udp_pace.h"

struct event;
struct event_base;
struct stats_port;
struct transparent;
struct udp_batch;

/* Datagrams moved per system call, each direction; from clients, also the
 * most read per wake-up */
#define UDP_SERVER_BATCH 32
/* Largest datagram: 65507 (IPv4) and 65527 (IPv6) fit, with room to spare */
#define UDP_SERVER_DGRAM 65536

/**
 * struct udp_server - a UDP listener, its flows, and their sockets
 * @base:	event base
 * @lfd:	listening socket (IP_PKTINFO / IPV6_RECVPKTINFO on)
 * @lfamily:	its family
 * @target:	container address and port
 * @target_len:	length of @target
 * @timeout_ms:	idle timeout of a flow, from its last client datagram
 * @max_flows:	capacity of the flow table
 * @key:	its hash secret, drawn at start
 * @flows:	the flow table, allocated when the first client comes (a
 *		range of ports has one per port, most of them maybe unused)
 * @lev:	readable listener
 * @timer:	next expiry
 * @batch:	message vectors and buffers for recvmmsg/sendmmsg (shared by
 *		every server of the process)
 * @prev:	previous server of the process (a range has many)
 * @next:	next one: fds and local ports are the process's, so when
 *		either runs out, the least recently used flow of any server
 *		makes room
 * @tp:		transparent mode, or NULL: flow sockets carry the client's
 *		address and port where it can be used (set after init)
 * @st:		the port's counters, and what its log lines are about
 *		(stats_discard() unless set after init)
 * @pace:	pacing of datagrams from clients (udp_pace.c)
 * @gso_below:	datagrams shorter than this are joined towards the
 *		container (udp_gso.c); 0 where the kernel cannot
 */
struct udp_server {
	struct event_base *base;
	int lfd, lfamily;
	union addr_sock target;
	socklen_t target_len;
	uint64_t timeout_ms;
	uint32_t max_flows;
	uint8_t key[16];
	struct udp_flow_table flows;
	struct event *lev, *timer;
	struct udp_batch *batch;
	struct udp_server *prev, *next;
	struct transparent *tp;
	struct stats_port *st;
	struct udp_pace pace;
	uint32_t gso_below;
};

int udp_server_init(struct udp_server *s, struct event_base *base, int lfd,
		    const union addr_sock *target, socklen_t target_len,
		    uint64_t timeout_ms, uint32_t max_flows);
void udp_server_close(struct udp_server *s);

#endif
