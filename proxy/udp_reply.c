// SPDX-License-Identifier: MIT
/*
 * udp_reply.c - UDP: replies from the container back to each client
 *
 * Theory of operation
 *
 * Replies are read from the flow's socket, many per recvmmsg(), and sent
 * from the listener to the client in one sendmmsg(), with IP_PKTINFO /
 * IPV6_PKTINFO naming the local address the client last sent to: on a host
 * with several addresses and a wildcard listener, the reply must come from
 * the address the client used, or it is dropped as an answer from a
 * stranger (the 20.10 docker-proxy gets this wrong).
 *
 * A flow's socket is connected to the container, so whatever it reads is
 * that flow's client's reply; the batch and its buffers are the process's
 * one (udp_server.c), borrowed for the length of the callback.
 */
#include "udp_batch.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "stats.h"

/* Fill ctrl[0] with the pktinfo that makes replies leave from f->local */
static socklen_t udp_reply_ctrl(struct udp_server *s, struct udp_flow *f,
				struct msghdr *h)
{
	struct cmsghdr *cm;

	memset(&s->batch->ctrl[0], 0, sizeof(s->batch->ctrl[0]));
	h->msg_control = &s->batch->ctrl[0];
	h->msg_controllen = sizeof(s->batch->ctrl[0]);
	cm = CMSG_FIRSTHDR(h);
	if (s->lfamily == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = f->local.v4 };

		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	} else {
		struct in6_pktinfo pi = { .ipi6_addr = f->local.v6 };

		/* a link-local address means nothing without its link */
		if (IN6_IS_ADDR_LINKLOCAL(&f->local.v6))
			pi.ipi6_ifindex = (unsigned)f->ifindex;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
		return CMSG_SPACE(sizeof(pi));
	}
}

/* Send the @n replies in the batch to @f's client */
static void udp_reply_send(struct udp_server *s, struct udp_flow *f, int n)
{
	struct udp_batch *b = s->batch;
	socklen_t clen = 0;
	int i, sent = 0, k;

	for (i = 0; i < n; i++) {
		struct msghdr *h = &b->out[i].msg_hdr;

		memset(h, 0, sizeof(*h));
		b->iov[i].iov_len = b->in[i].msg_len;
		h->msg_iov = &b->iov[i];
		h->msg_iovlen = 1;
		h->msg_name = &f->client;
		h->msg_namelen = f->client.sa.sa_family == AF_INET
					 ? sizeof(struct sockaddr_in)
					 : sizeof(struct sockaddr_in6);
		if (i == 0)
			clen = udp_reply_ctrl(s, f, h);
		h->msg_control = &b->ctrl[0];
		h->msg_controllen = clen;
	}
	while (sent < n) {
		k = sendmmsg(s->lfd, &b->out[sent], (unsigned)(n - sent), 0);
		if (k <= 0) {
			stats_add(s->st, STATS_DGRAMS_DROPPED,
				  (uint64_t)(n - sent));
			udp_server_log(&udp_server_rl, s, LOG_LVL_DEBUG,
				       "udp: to client: %s (%d datagrams "
				       "dropped)",
				       strerror(errno), n - sent);
			return;
		}
		udp_server_count(s, sent, k, STATS_DGRAMS_TO_CLIENT);
		sent += k;
	}
}

/**
 * udp_reply() - a flow's socket is readable: replies go to its client
 * @fd:		the flow's socket
 * @what:	unused
 * @arg:	the flow
 */
void udp_reply(evutil_socket_t fd, short what, void *arg)
{
	struct udp_flow *f = arg;
	struct udp_server *s = f->owner;
	int round, n;

	(void)what;
	/*
	 * The event is level-triggered, so a callback that left the socket
	 * readable would run again at once, forever. It cannot: a pending
	 * error (ECONNREFUSED, or EHOSTUNREACH and the like from other ICMP
	 * errors) is cleared by the recvmmsg() that reports it, and there is
	 * no error queue (IP_RECVERR is off). Four full batches do leave the
	 * socket readable, on purpose: the next round serves the others first.
	 */
	for (round = 0; round < 4; round++) {
		udp_server_prep_recv(s->batch, false);
		n = recvmmsg(fd, s->batch->in, UDP_SERVER_BATCH, MSG_DONTWAIT,
			     NULL);
		if (n < 0 && errno == ECONNREFUSED)
			continue; /* nobody listening there yet: not fatal */
		if (n <= 0)
			return;
		udp_reply_send(s, f, n);
		if (n < UDP_SERVER_BATCH)
			return;
	}
}
