/* SPDX-License-Identifier: MIT */
/*
 * udp_batch.h - what udp_server.c and udp_reply.c share: the batch of
 * messages a callback moves, and the log line of a port. Not part of the
 * server's API.
 */
#ifndef STRAIT_UDP_BATCH_H
#define STRAIT_UDP_BATCH_H

#include <event2/util.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"
#include "stats.h"
#include "udp_flow.h"
#include "udp_server.h"

/* A datagram from a client: where it was sent to, and when it arrived */
union udp_ctrl {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
		 CMSG_SPACE(sizeof(struct timespec))];
	size_t align;
};

/* The UDP_SEGMENT control message of one joined message (udp_gso.c) */
union udp_gso_ctrl {
	char buf[CMSG_SPACE(sizeof(uint16_t))];
	size_t align;
};

/**
 * struct udp_batch - vectors for one recvmmsg() and the matching sendmmsg()
 * @in:		received messages
 * @out:	messages to send
 * @iov:	one buffer each
 * @name:	source of each received datagram
 * @ctrl:	ancillary data of each received datagram; ctrl[0] also holds
 *		the pktinfo of replies
 * @gso:	the segment size of each joined message towards the container
 * @nseg:	datagrams in each message towards the container
 * @data:	the buffers (touched only as far as datagrams fill them)
 */
struct udp_batch {
	struct mmsghdr in[UDP_SERVER_BATCH], out[UDP_SERVER_BATCH];
	struct iovec iov[UDP_SERVER_BATCH];
	union udp_flow_addr name[UDP_SERVER_BATCH];
	union udp_ctrl ctrl[UDP_SERVER_BATCH];
	union udp_gso_ctrl gso[UDP_SERVER_BATCH];
	int nseg[UDP_SERVER_BATCH];
	char data[UDP_SERVER_BATCH][UDP_SERVER_DGRAM];
};

/* Every line names the port's mapping */
#define udp_server_log(rl, s, level, ...)                                     \
	log_tagged(rl, level, stats_tag, (s)->st, __VA_ARGS__)

extern struct log_ratelimit udp_server_rl;

void udp_server_prep_recv(struct udp_batch *b, bool named);
void udp_server_count(struct udp_server *s, int from, int n,
		      enum stats_counter c);
void udp_reply(evutil_socket_t fd, short what, void *arg);

#endif
