// SPDX-License-Identifier: MIT
/*
 * test_udp_gso.c - which datagrams towards the container are joined into
 * one message, and what the kernel is told: runs of one size, a shorter
 * one ending a run, empty datagrams alone, the byte and size limits, and
 * a real socket pair that gets back exactly what was sent
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp_batch.h"
#include "udp_gso.h"

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

static struct udp_batch *b;

static int setup(void **state)
{
	(void)state;
	b = calloc(1, sizeof(*b));
	return b ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(b);
	return 0;
}

/* Batch in[0..n) with these lengths, buffers pointing at data[] */
static void lengths(const size_t *len, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		b->iov[i].iov_base = b->data[i];
		b->in[i].msg_len = (unsigned)len[i];
	}
}

/* Return: message @k's segment size, or 0 if it carries no control */
static unsigned gso_size(int k)
{
	struct msghdr *h = &b->out[k].msg_hdr;
	struct cmsghdr *c;
	uint16_t v;

	if (!h->msg_controllen)
		return 0;
	c = CMSG_FIRSTHDR(h);
	if (!c) {
		fail_msg("message %d: a control length but no header", k);
		return 0;
	}
	assert_int_equal(c->cmsg_level, SOL_UDP);
	assert_int_equal(c->cmsg_type, UDP_SEGMENT);
	assert_int_equal(c->cmsg_len, CMSG_LEN(sizeof(v)));
	memcpy(&v, CMSG_DATA(c), sizeof(v));
	return v;
}

/* Message @k: @nseg datagrams from in[@first], segment size @size */
static void msg(int k, int first, int nseg, unsigned size)
{
	int i;

	assert_int_equal(b->nseg[k], nseg);
	assert_ptr_equal(b->out[k].msg_hdr.msg_iov, &b->iov[first]);
	assert_int_equal(b->out[k].msg_hdr.msg_iovlen, nseg);
	assert_null(b->out[k].msg_hdr.msg_name);
	for (i = first; i < first + nseg; i++)
		assert_int_equal(b->iov[i].iov_len, b->in[i].msg_len);
	assert_int_equal(gso_size(k), nseg > 1 ? size : 0);
}

static void test_runs(void **state)
{
	const size_t len[] = { 1400, 1400, 1400, 1400, 1400, 700,
			       1400, 1400, 1400 };

	(void)state;
	lengths(len, 9);
	assert_int_equal(udp_gso_build(b, 0, 9, UDP_GSO_BYTES + 1), 2);
	msg(0, 0, 6, 1400); /* the shorter 700 ends the first run */
	msg(1, 6, 3, 1400);
	/* from the middle of the batch, as for a second flow */
	assert_int_equal(udp_gso_build(b, 3, 8, UDP_GSO_BYTES + 1), 2);
	msg(0, 3, 3, 1400);
	msg(1, 6, 2, 1400);
}

static void test_alone(void **state)
{
	const size_t len[] = { 100, 200, 0, 0, 1400, 0, 5, 5 };
	int k;

	(void)state;
	lengths(len, 8);
	/* a longer one starts a new run; an empty one is never joined
	 * (the kernel could not tell it from nothing): six alone, then
	 * the two of 5 bytes */
	assert_int_equal(udp_gso_build(b, 0, 8, UDP_GSO_BYTES + 1), 7);
	for (k = 0; k < 6; k++)
		msg(k, k, 1, 0);
	msg(6, 6, 2, 5);
}

static void test_limits(void **state)
{
	const size_t big[] = { 30000, 30000, 30000, 30000, 30000 };
	size_t same[UDP_SERVER_BATCH];
	int i;

	(void)state;
	/* at most UDP_GSO_BYTES of payload in one message */
	lengths(big, 5);
	assert_int_equal(udp_gso_build(b, 0, 5, UDP_GSO_BYTES + 1), 3);
	msg(0, 0, 2, 30000);
	msg(1, 2, 2, 30000);
	msg(2, 4, 1, 0);
	/* sizes the kernel refused are sent alone; below them, joined */
	for (i = 0; i < UDP_SERVER_BATCH; i++)
		same[i] = 1400;
	lengths(same, UDP_SERVER_BATCH);
	assert_int_equal(udp_gso_build(b, 0, UDP_SERVER_BATCH, 1400),
			 UDP_SERVER_BATCH);
	msg(31, 31, 1, 0);
	assert_int_equal(udp_gso_build(b, 0, UDP_SERVER_BATCH, 1401), 1);
	msg(0, 0, UDP_SERVER_BATCH, 1400);
	/* 0: the kernel cannot, nothing is joined */
	assert_int_equal(udp_gso_build(b, 0, UDP_SERVER_BATCH, 0),
			 UDP_SERVER_BATCH);
}

/* Through a real socket pair on loopback: what arrives is what was sent,
 * datagram by datagram */
static void test_kernel_splits(void **state)
{
	const size_t len[] = { 1000, 1000, 1000, 999, 1000, 1000, 3 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	char buf[2048];
	int rx, tx, k, i, sent = 0;

	(void)state;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	tx = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(rx >= 0 && tx >= 0);
	assert_int_equal(bind(rx, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(rx, (struct sockaddr *)&a, &alen), 0);
	assert_int_equal(connect(tx, (struct sockaddr *)&a, sizeof(a)), 0);
	if (!udp_gso_probe(tx)) {
		close(rx);
		close(tx);
		skip(); /* a kernel before 4.18 */
	}
	lengths(len, 7);
	for (i = 0; i < 7; i++)
		memset(b->data[i], 'a' + i, len[i]);
	k = udp_gso_build(b, 0, 7, UDP_GSO_BYTES + 1);
	assert_int_equal(k, 2);
	while (sent < k) {
		int n = sendmmsg(tx, &b->out[sent], (unsigned)(k - sent), 0);

		assert_true(n > 0);
		sent += n;
	}
	for (i = 0; i < 7; i++) {
		ssize_t n = recv(rx, buf, sizeof(buf), MSG_DONTWAIT);

		assert_int_equal(n, (ssize_t)len[i]);
		assert_int_equal(buf[0], 'a' + i);
		assert_int_equal(buf[n - 1], 'a' + i);
	}
	assert_int_equal(recv(rx, buf, sizeof(buf), MSG_DONTWAIT), -1);
	close(rx);
	close(tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_alone),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_kernel_splits),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
