// SPDX-License-Identifier: MIT
/*
 * udp_gso.c - consecutive datagrams of one client, of one size, leave as
 * one message (UDP generic segmentation offload, Linux 4.18)
 *
 * Theory of operation
 *
 * A run of datagrams of the same length (the last may be shorter) goes to
 * the kernel as one sendmsg() message whose buffers are the datagrams, with
 * a UDP_SEGMENT control message giving that length: the kernel builds one
 * packet, takes it through routing, netfilter and the device once, and
 * splits it back into the very same datagrams as late as it can (at the
 * receiving socket, on veth, a bridge or loopback). The container's server
 * receives exactly what it would have; the proxy spends a fraction of the
 * CPU per datagram, which on a busy host is CPU the server gets instead.
 *
 * Where the kernel refuses a message (EMSGSIZE, or EINVAL before Linux
 * 6.x: a datagram larger than the path's MTU, which the kernel would
 * otherwise fragment, and which it will not segment; EIO: a device
 * without checksum offload, or IPsec on the way), the server sends
 * those datagrams again one by one and stops joining that size or larger
 * (udp_server.c). A kernel without UDP_SEGMENT is found at start, by
 * asking the listening socket for the option: an older kernel would send
 * the joined buffers as one big datagram, so nothing is joined there.
 */
#include "udp_gso.h"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "udp_batch.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

/**
 * udp_gso_probe() - does the kernel split messages (UDP_SEGMENT)
 * @fd:		any UDP socket
 *
 * Return: 1 if it does, 0 if not
 */
int udp_gso_probe(int fd)
{
	int v = 0;
	socklen_t len = sizeof(v);

	return getsockopt(fd, SOL_UDP, UDP_SEGMENT, &v, &len) == 0;
}

/* Return: how many datagrams from in[i] on (before @to) one message takes */
static int udp_gso_run(const struct udp_batch *b, int i, int to, size_t below)
{
	size_t len = b->in[i].msg_len, next;
	int c = 1;

	if (!len || len >= below)
		return 1;
	for (; i + c < to && (size_t)(c + 1) * len <= UDP_GSO_BYTES; c++) {
		next = b->in[i + c].msg_len;
		if (!next || next > len)
			break;
		if (next < len)
			return c + 1; /* a shorter one ends the run */
	}
	return c;
}

/**
 * udp_gso_build() - the messages that send in[from..to) to one flow
 * @b:		the batch: out[], nseg[] and gso[] are filled from 0
 * @from:	first datagram
 * @to:		one past the last
 * @below:	join only datagrams shorter than this (0: join none)
 *
 * Return: the number of messages in out[]; message k carries nseg[k]
 * datagrams, in order
 */
int udp_gso_build(struct udp_batch *b, int from, int to, size_t below)
{
	struct msghdr *h;
	struct cmsghdr *c;
	uint16_t size;
	int i, k = 0, n;

	for (i = from; i < to; i++)
		b->iov[i].iov_len = b->in[i].msg_len;
	for (i = from; i < to; i += n, k++) {
		n = udp_gso_run(b, i, to, below);
		h = &b->out[k].msg_hdr;
		memset(h, 0, sizeof(*h));
		h->msg_iov = &b->iov[i];
		h->msg_iovlen = (size_t)n;
		b->nseg[k] = n;
		if (n == 1)
			continue;
		h->msg_control = b->gso[k].buf;
		h->msg_controllen = sizeof(b->gso[k].buf);
		c = CMSG_FIRSTHDR(h);
		c->cmsg_level = SOL_UDP;
		c->cmsg_type = UDP_SEGMENT;
		c->cmsg_len = CMSG_LEN(sizeof(size));
		size = (uint16_t)b->in[i].msg_len;
		memcpy(CMSG_DATA(c), &size, sizeof(size));
	}
	return k;
}
