// SPDX-License-Identifier: MIT
/*
 * test_tcp_relay.c - the relay's state machine over socketpair()s
 *
 *   cl <-socketpair-> [relay fd0 | relay fd1] <-socketpair-> sv
 *
 * Every test runs twice: in the default mode (copy small reads, splice once a
 * read fills the buffer) and with splicing off (-no-splice).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <stdint.h>

#include "slab.h"
#include "tcp_relay.h"

/* Linked with --wrap=malloc: the relay's own allocations (not libevent's
 * or cmocka's, which live in shared libraries) fail while this is set */
static bool fail_malloc;

void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n);

void *__wrap_malloc(size_t n)
{
	return fail_malloc ? NULL : __real_malloc(n);
}

/* Linked with --wrap=event_add too: the relay's registrations fail while
 * this is set */
static bool fail_event_add;

int __real_event_add(struct event *ev, const struct timeval *tv);
int __wrap_event_add(struct event *ev, const struct timeval *tv);

int __wrap_event_add(struct event *ev, const struct timeval *tv)
{
	return fail_event_add ? -1 : __real_event_add(ev, tv);
}

struct fixture {
	struct event_base *base;
	struct tcp_relay *r;
	int cl, sv;
	int ended, err;
	enum tcp_relay_end end;
	bool copy;
	uint64_t half_close_ms;	/* for relays made after the setup */
};

static void done_cb(struct tcp_relay *r, enum tcp_relay_end end, int err,
		    void *arg)
{
	struct fixture *f = arg;

	f->err = err;
	f->ended++;
	f->end = end;
	tcp_relay_free(r, end != TCP_RELAY_CLOSED);
	f->r = NULL;
}

/* A relay, started: it may have ended already (then f->r is NULL) */
static struct tcp_relay *relay(struct fixture *f, int cfd, int sfd,
			       bool connecting)
{
	struct tcp_relay_opts o = { .copy = f->copy,
				    .half_close_ms = f->half_close_ms };

	f->r = tcp_relay_new(f->base, cfd, sfd, connecting, &o, 1, done_cb, f);
	assert_non_null(f->r);
	tcp_relay_start(f->r);
	return f->r;
}

static int setup(void **state, bool copy)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int a[2], b[2];

	signal(SIGPIPE, SIG_IGN);
	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a),
			 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b),
			 0);
	f->base = event_base_new();
	f->cl = a[0];
	f->sv = b[1];
	f->copy = copy;
	f->r = relay(f, a[1], b[0], false);
	assert_non_null(f->r);
	*state = f;
	return 0;
}

static int setup_auto(void **state)
{
	return setup(state, false);
}

static int setup_copy(void **state)
{
	return setup(state, true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->r)
		tcp_relay_free(f->r, false);
	close(f->cl);
	close(f->sv);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Run the loop until nothing is left to do right now */
static void spin(struct fixture *f)
{
	int i;

	for (i = 0; i < 64; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static void put(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void expect(int fd, const char *s)
{
	char buf[256];
	ssize_t n = read(fd, buf, sizeof(buf));

	assert_int_equal(n, (ssize_t)strlen(s));
	assert_memory_equal(buf, s, (size_t)n);
}

static void expect_eof(int fd)
{
	char c;

	assert_int_equal(read(fd, &c, 1), 0);
}

static void expect_nothing(int fd)
{
	char c;

	assert_int_equal(read(fd, &c, 1), -1);
	assert_int_equal(errno, EAGAIN);
}

/* Drop the fixture's relay and make new socket pairs, for a test that
 * writes before it makes its own relay on a[1], b[0] */
static void fresh_pairs(struct fixture *f, int a[2], int b[2])
{
	tcp_relay_free(f->r, false);
	close(f->cl);
	close(f->sv);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a),
			 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b),
			 0);
	f->cl = a[0];
	f->sv = b[1];
}

static void test_both_ways(void **state)
{
	struct fixture *f = *state;

	put(f->cl, "hello");
	spin(f);
	expect(f->sv, "hello");
	put(f->sv, "world");
	spin(f);
	expect(f->cl, "world");
	/* small messages are copied in either mode: no pipe, and nothing
	 * held once written */
	assert_int_equal(f->r->dir[0].copy, f->copy);
	assert_false(f->r->dir[0].splicing);
	assert_int_equal(f->r->dir[0].pipe[0], -1);
	assert_null(f->r->dir[0].buf);
	assert_null(f->r->dir[1].buf);
	assert_int_equal(f->ended, 0);
}

/*
 * The client sends its request and its FIN before the relay starts, and
 * the connect to the container has completed by then (as on loopback or a
 * local bridge, where the handshake is over when connect() returns): the
 * request and the FIN go on at once, before the loop ever runs, and the
 * relay is open without waiting for the connect's writable event.
 */
static void test_request_before_connected(void **state)
{
	struct fixture *f = *state;
	int a[2], b[2];

	fresh_pairs(f, a, b);
	put(f->cl, "GET / HTTP/1.0\r\n\r\n");
	shutdown(f->cl, SHUT_WR);
	f->r = relay(f, a[1], b[0], true);
	assert_non_null(f->r);
	assert_int_equal(f->r->state, TCP_RELAY_OPEN);
	expect(f->sv, "GET / HTTP/1.0\r\n\r\n");
	assert_int_equal(f->r->on, 3U);	/* both reads, no write waited for */
	spin(f);
	expect_eof(f->sv);
	put(f->sv, "HTTP/1.0 200 OK\r\n\r\n");
	shutdown(f->sv, SHUT_WR);
	spin(f);
	expect(f->cl, "HTTP/1.0 200 OK\r\n\r\n");
	expect_eof(f->cl);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end, TCP_RELAY_CLOSED);
}

/* Client shuts first: server sees EOF, can still answer; then both done */
static void test_half_close_client_first(void **state)
{
	struct fixture *f = *state;

	put(f->cl, "request");
	shutdown(f->cl, SHUT_WR);
	spin(f);
	expect(f->sv, "request");
	expect_eof(f->sv);
	assert_int_equal(f->ended, 0);
	put(f->sv, "late reply");
	spin(f);
	expect(f->cl, "late reply");
	expect_nothing(f->cl);
	assert_int_equal(f->ended, 0);
	shutdown(f->sv, SHUT_WR);
	spin(f);
	expect_eof(f->cl);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end, TCP_RELAY_CLOSED);
}

static void test_half_close_server_first(void **state)
{
	struct fixture *f = *state;

	put(f->sv, "banner");
	shutdown(f->sv, SHUT_WR);
	spin(f);
	expect(f->cl, "banner");
	expect_eof(f->cl);
	put(f->cl, "still talking");
	spin(f);
	expect(f->sv, "still talking");
	assert_int_equal(f->ended, 0);
	shutdown(f->cl, SHUT_WR);
	spin(f);
	expect_eof(f->sv);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end, TCP_RELAY_CLOSED);
}

/* Fill until the client cannot write: the relay holds at most its buffer
 * and stops reading; then every byte arrives, in order, before the EOF */
static void test_backpressure_then_eof(void **state)
{
	struct fixture *f = *state;
	static char chunk[4096];
	size_t sent = 0, got = 0, i;
	char buf[8192];
	ssize_t n;

	for (;;) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = (char)((sent + i) % 251);
		n = write(f->cl, chunk, sizeof(chunk));
		if (n < 0)
			break;
		sent += (size_t)n;
		spin(f);
	}
	assert_int_equal(errno, EAGAIN);
	assert_true(f->r->dir[0].pending > 0);
	assert_true(f->r->dir[0].pending <= f->r->dir[0].cap);
	assert_true(f->r->dir[0].cap <= (f->r->dir[0].splicing
						 ? TCP_RELAY_PIPE
						 : TCP_RELAY_BUF));
	assert_false(f->r->on & 1U);	/* not reading the client */
	assert_true(f->r->on & 8U);	/* waiting to write to the server */
	shutdown(f->cl, SHUT_WR);
	for (;;) {
		spin(f);
		n = read(f->sv, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			continue;
		}
		for (i = 0; i < (size_t)n; i++)
			assert_int_equal((unsigned char)buf[i], (got + i) % 251);
		got += (size_t)n;
	}
	assert_int_equal(got, sent);
}

/*
 * More than a buffer waiting at once is bulk data: the default mode splices
 * it from then on, -no-splice keeps copying; every byte arrives in order
 * either way, and the pipe lasts, with nothing left held in user space.
 */
static void test_bulk_switches_to_splice(void **state)
{
	struct fixture *f = *state;
	static unsigned char out[3 * TCP_RELAY_BUF], in[sizeof(out)];
	size_t sent = 0, got = 0, i;
	int sz = 1 << 20, round;
	ssize_t n;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	setsockopt(f->cl, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(f->sv, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	for (round = 0; round < 10000 && got < sizeof(out); round++) {
		if (sent < sizeof(out)) {
			n = write(f->cl, out + sent, sizeof(out) - sent);
			if (n > 0)
				sent += (size_t)n;
		}
		spin(f);
		n = read(f->sv, in + got, sizeof(in) - got);
		if (n > 0)
			got += (size_t)n;
	}
	assert_int_equal(got, sizeof(out));
	assert_memory_equal(in, out, sizeof(out));
	assert_int_equal(f->r->dir[0].splicing, !f->copy);
	assert_int_equal(f->r->dir[0].pipe[0] >= 0, !f->copy);
	assert_int_equal(f->r->dir[0].pending, 0);
	assert_null(f->r->dir[0].buf);
	/* the other direction carried nothing and holds nothing */
	assert_false(f->r->dir[1].splicing);
	assert_int_equal(f->r->dir[1].pipe[0], -1);
}

/* Run the loop until the relay ends, for at most about @ms */
static void run_until_ended(struct fixture *f, int ms)
{
	struct timeval tick = { 0, 10000 };
	int i;

	for (i = 0; i < ms / 10 && !f->ended; i++) {
		event_base_loopexit(f->base, &tick);
		event_base_dispatch(f->base);
	}
}

/*
 * The client closes its side, the container never closes its own: with a
 * half-close timeout the pair is reset once nothing has moved for that
 * long; bytes moving meanwhile put it off. Without one (the other tests)
 * it stays open.
 */
static void test_half_close_timeout(void **state)
{
	struct fixture *f = *state;
	int a[2], b[2];

	fresh_pairs(f, a, b);
	f->half_close_ms = 200;
	f->r = relay(f, a[1], b[0], false);
	put(f->cl, "request");
	shutdown(f->cl, SHUT_WR);
	spin(f);
	expect(f->sv, "request");
	expect_eof(f->sv);
	assert_int_equal(f->r->state, TCP_RELAY_HALF);
	assert_true(evtimer_pending(f->r->timer, NULL));
	assert_int_equal(f->ended, 0);
	/* the container still talks: every event restarts the clock */
	put(f->sv, "part one");
	spin(f);
	expect(f->cl, "part one");
	assert_int_equal(f->ended, 0);
	/* and then says nothing more */
	run_until_ended(f, 5000);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end, TCP_RELAY_IDLE);
}

/* The server vanishes: the next write fails and the relay resets both */
static void test_abort_on_write_error(void **state)
{
	struct fixture *f = *state;
	char c;

	close(f->sv);
	f->sv = -1;
	put(f->cl, "into the void");
	spin(f);
	assert_int_equal(f->ended, 1);
	assert_int_not_equal(f->end, TCP_RELAY_CLOSED);
	/* the client side is closed too */
	assert_true(read(f->cl, &c, 1) <= 0);
}

/*
 * The container stops reading, so the relay must hold bytes itself, and
 * that allocation fails: the pair is reset (ABORTED), never closed as if
 * the stream had ended, and the client's writes fail.
 */
static void test_out_of_memory_resets(void **state)
{
	struct fixture *f = *state;
	static char chunk[4096];
	int i;

	memset(chunk, 'x', sizeof(chunk));
	fail_malloc = true;
	for (i = 0; i < 10000 && !f->ended; i++) {
		if (write(f->cl, chunk, sizeof(chunk)) < 0)
			assert_int_equal(errno, EAGAIN);
		spin(f);
	}
	fail_malloc = false;
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end, TCP_RELAY_ABORTED);
	assert_int_equal(write(f->cl, chunk, sizeof(chunk)), -1);
	assert_true(errno == EPIPE || errno == ECONNRESET);
}

/*
 * The container stops reading, so the relay must wait for it to be
 * writable, and that event cannot be registered: the pair is reset
 * (ABORTED) instead of holding its bytes forever with nothing armed that
 * could ever move them.
 */
static void test_unarmable_event_resets(void **state)
{
	struct fixture *f = *state;
	static char chunk[4096];
	int i;

	memset(chunk, 'x', sizeof(chunk));
	fail_event_add = true;
	for (i = 0; i < 10000 && !f->ended; i++) {
		if (write(f->cl, chunk, sizeof(chunk)) < 0)
			assert_int_equal(errno, EAGAIN);
		spin(f);
	}
	fail_event_add = false;
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end, TCP_RELAY_ABORTED);
}

/*
 * A preamble (the PROXY header) reaches the container before any of the
 * client's bytes, even those sent before the connect completed, and the
 * buffer it took is freed once written.
 */
static void test_preamble_first(void **state)
{
	struct fixture *f = *state;
	int a[2], b[2];

	struct tcp_relay_opts o = { .copy = f->copy };

	fresh_pairs(f, a, b);
	put(f->cl, "hello");
	f->r = tcp_relay_new(f->base, a[1], b[0], true, &o, 1, done_cb, f);
	assert_non_null(f->r);
	assert_int_equal(tcp_relay_preamble(f->r, "PROXY UNKNOWN\r\n", 15), 0);
	/* one only: a relay holding bytes refuses another */
	assert_int_equal(tcp_relay_preamble(f->r, "x", 1), -1);
	assert_int_equal(errno, EINVAL);
	tcp_relay_start(f->r);
	/* header and request in one send, at start */
	expect(f->sv, "PROXY UNKNOWN\r\nhello");
	assert_null(f->r->dir[0].buf);
	put(f->sv, "world");
	spin(f);
	expect(f->cl, "world");
	assert_int_equal(f->r->dir[0].bytes, 20);
	assert_int_equal(f->ended, 0);
}


/* A connected pair of TCP sockets on loopback, both non-blocking */
static void tcp_pair(int p[2])
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	p[0] = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(p[0], (struct sockaddr *)&sa, sizeof(sa)), 0);
	p[1] = accept(l, NULL, NULL);
	assert_true(p[1] >= 0);
	close(l);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	/* what tcp_server sets on both sockets of a relay */
	setsockopt(p[1], SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
	setsockopt(p[0], SOL_SOCKET, SO_OOBINLINE, &one, sizeof(one));
}

/* The fixture again, over TCP on loopback (urgent data, resets) */
static void tcp_fixture(struct fixture *f)
{
	int a[2], b[2];

	tcp_relay_free(f->r, false);
	close(f->cl);
	close(f->sv);
	tcp_pair(a);
	tcp_pair(b);
	f->cl = a[0];
	f->sv = b[1];
	f->r = relay(f, a[1], b[0], false);
	assert_non_null(f->r);
}

/* Write @n bytes of a pattern to @fd while the loop runs; read them back
 * from @to, checking the pattern */
static void bulk_through(struct fixture *f, int fd, int to, size_t n)
{
	static unsigned char buf[65536];
	size_t sent = 0, got = 0, i;
	int round;
	ssize_t k;

	for (round = 0; round < 100000 && got < n; round++) {
		if (sent < n) {
			size_t want = n - sent < sizeof(buf) ? n - sent
							   : sizeof(buf);

			for (i = 0; i < want; i++)
				buf[i] = (unsigned char)((sent + i) % 251);
			k = write(fd, buf, want);
			if (k > 0)
				sent += (size_t)k;
		}
		spin(f);
		k = read(to, buf, sizeof(buf));
		for (i = 0; k > 0 && i < (size_t)k; i++)
			assert_int_equal(buf[i], (got + i) % 251);
		if (k > 0)
			got += (size_t)k;
	}
	assert_int_equal(got, n);
}

/* Read what arrives at @fd within a few rounds of the loop */
static size_t collect(struct fixture *f, int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t k;
	int round;

	for (round = 0; round < 200 && got < len; round++) {
		spin(f);
		k = read(fd, buf + got, len - got);
		if (k > 0)
			got += (size_t)k;
	}
	return got;
}

/*
 * Bulk data (the direction splices in the default mode), then one urgent
 * byte, then more: splice stops at the urgent mark and says EAGAIN while
 * the socket stays readable. The relay must read past the mark, pass the
 * urgent byte on in order and what follows it, and go idle: before, the
 * level-triggered event fired forever and nothing after the mark arrived.
 */
static void test_urgent_byte(void **state)
{
	struct fixture *f = *state;
	char got[16] = { 0 };

	tcp_fixture(f);
	bulk_through(f, f->cl, f->sv, 4 * TCP_RELAY_BUF);
	assert_int_equal(f->r->dir[0].splicing, !f->copy);
	assert_int_equal(send(f->cl, "!", 1, MSG_OOB), 1);
	put(f->cl, "after");
	assert_int_equal(collect(f, f->sv, got, 6), 6);
	assert_string_equal(got, "!after");
	/* and again, once the direction is back to bulk data */
	bulk_through(f, f->cl, f->sv, 4 * TCP_RELAY_BUF);
	assert_int_equal(send(f->cl, "?", 1, MSG_OOB), 1);
	put(f->cl, "more");
	memset(got, 0, sizeof(got));
	assert_int_equal(collect(f, f->sv, got, 5), 5);
	assert_string_equal(got, "?more");
	assert_int_equal(f->ended, 0);
}

/* Close @fd with a reset */
static void rst_close(int fd)
{
	tcp_relay_reset(fd);
	close(fd);
}

/*
 * A reset from one peer mid-stream reaches the other as a reset, never as
 * a clean end of stream after the bytes so far (a server would commit a
 * truncated upload). Both ways.
 */
static void test_reset_propagates(void **state, bool from_client)
{
	struct fixture *f = *state;
	int *from, *to;
	char buf[64];

	tcp_fixture(f);
	from = from_client ? &f->cl : &f->sv;
	to = from_client ? &f->sv : &f->cl;
	put(*from, "part of an upload");
	assert_int_equal(collect(f, *to, buf, 17), 17);
	rst_close(*from);
	*from = socket(AF_INET, SOCK_STREAM, 0);	/* for the teardown */
	run_until_ended(f, 2000);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end, TCP_RELAY_ABORTED);
	assert_int_equal(read(*to, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ECONNRESET);
}

static void test_reset_from_client(void **state)
{
	test_reset_propagates(state, true);
}

static void test_reset_from_server(void **state)
{
	test_reset_propagates(state, false);
}

/*
 * The client sent a lot and closed its side; the container stopped
 * reading, so the relay holds bytes it can never deliver. The half-close
 * clock runs from the client's EOF whatever is held: the pair is reset.
 * Before, the clock started only once everything was written: never.
 */
static void test_half_close_timeout_holding(void **state)
{
	struct fixture *f = *state;
	static char chunk[4096];
	int a[2], b[2], i;

	fresh_pairs(f, a, b);
	f->half_close_ms = 200;
	f->r = relay(f, a[1], b[0], false);
	for (i = 0; i < 10000; i++) {
		if (write(f->cl, chunk, sizeof(chunk)) < 0)
			break;
		spin(f);
	}
	assert_int_equal(errno, EAGAIN);
	assert_true(f->r->dir[0].pending > 0);
	shutdown(f->cl, SHUT_WR);
	spin(f);
	run_until_ended(f, 5000);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end, TCP_RELAY_IDLE);
}

/*
 * The container never answers the SYN (here: a listener whose accept queue
 * is full drops it): with a connect timeout the relay gives up with
 * ETIMEDOUT instead of holding the client for the kernel's two minutes.
 */
static void test_connect_timeout(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tcp_relay_opts o = { .copy = f->copy, .connect_ms = 200 };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0), first, c, a[2], b[2];

	fresh_pairs(f, a, b);
	close(b[0]);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 0), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	first = socket(AF_INET, SOCK_STREAM, 0);	/* fills the queue */
	assert_int_equal(connect(first, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), -1);
	assert_int_equal(errno, EINPROGRESS);
	f->r = tcp_relay_new(f->base, a[1], c, true, &o, 1, done_cb, f);
	assert_non_null(f->r);
	tcp_relay_start(f->r);
	assert_non_null(f->r);
	assert_int_equal(f->r->state, TCP_RELAY_CONNECTING);
	run_until_ended(f, 5000);
	assert_int_equal(f->ended, 1);
	assert_int_equal(f->end, TCP_RELAY_REFUSED);
	assert_int_equal(f->err, ETIMEDOUT);
	close(first);
	close(l);
}

/*
 * The connect to the container is still in flight when the relay starts
 * (its SYN was dropped: the listener's queue is full): the client's first
 * bytes are read and held after the PROXY header, nothing more is read
 * from the client, and once the connect completes (the queue has room
 * and the SYN is sent again) header and bytes arrive, in order.
 */
static void test_connect_in_flight_holds(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct tcp_relay_opts o = { .copy = f->copy, .connect_ms = 10000 };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0), first, c, a[2], b[2], i;

	fresh_pairs(f, a, b);
	close(b[0]);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 0), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sa, &len), 0);
	first = socket(AF_INET, SOCK_STREAM, 0);	/* fills the queue */
	assert_int_equal(connect(first, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
	c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), -1);
	assert_int_equal(errno, EINPROGRESS);
	put(f->cl, "hello");
	f->r = tcp_relay_new(f->base, a[1], c, true, &o, 1, done_cb, f);
	assert_non_null(f->r);
	assert_int_equal(tcp_relay_preamble(f->r, "PROXY X\r\n", 9), 0);
	tcp_relay_start(f->r);
	assert_non_null(f->r);
	assert_int_equal(f->r->state, TCP_RELAY_CONNECTING);
	assert_int_equal(f->r->dir[0].pending, 14);
	assert_int_equal(f->r->on, 8U);	/* only the connect is waited for */
	put(f->cl, "more");
	/* make room: the connect completes at its SYN's next try */
	close(accept(l, NULL, NULL));
	close(first);
	for (i = 0; i < 500 && f->r && f->r->state == TCP_RELAY_CONNECTING;
	     i++)
		run_until_ended(f, 10);
	assert_non_null(f->r);
	assert_int_equal(f->r->state, TCP_RELAY_OPEN);
	f->sv = accept(l, NULL, NULL);
	assert_true(f->sv >= 0);
	fcntl(f->sv, F_SETFL, O_NONBLOCK);
	spin(f);
	expect(f->sv, "PROXY X\r\nhellomore");
	assert_null(f->r->dir[0].buf);
	close(l);
}

/* Relays come from chunks of their own; once they are gone, a trim gives
 * back all but one chunk's header page */
static void test_trim_gives_back(void **state)
{
	struct fixture *f = *state;
	enum { N = 70 };	/* more than a chunk holds */
	struct tcp_relay_opts o = { .copy = f->copy };
	struct tcp_relay *r[N];
	size_t peak;
	int a[2], b[2], i;

	for (i = 0; i < N; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
		close(a[0]);
		close(b[1]);
		r[i] = tcp_relay_new(f->base, a[1], b[0], false, &o, 1,
				     done_cb, f);
		assert_non_null(r[i]);
	}
	peak = tcp_relay_resident();
	assert_true(peak > SLAB_CHUNK);
	for (i = 0; i < N; i++)
		tcp_relay_free(r[i], false);
	assert_int_equal(tcp_relay_resident(), peak);	/* not at each free */
	assert_true(tcp_relay_trim() > 0);
	assert_true(tcp_relay_resident() <= SLAB_CHUNK);
	assert_true(tcp_relay_resident() < peak / 2);
	assert_int_equal(tcp_relay_trim(), 0);	/* nothing more to give */
}

/* The slab itself: objects packed low, pages with a live object kept, the
 * rest given back; a page given back comes back zeroed when used again */
static void test_slab_pages(void **state)
{
	struct slab s;
	enum { N = 200 };
	char *p[N];
	size_t page = (size_t)sysconf(_SC_PAGESIZE), full;
	int i;

	(void)state;
	assert_int_equal(slab_init(&s, 1000), 0);
	assert_int_equal(s.size, 1008);
	for (i = 0; i < N; i++) {
		p[i] = slab_alloc(&s);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 16, 0);
		memset(p[i], 0xa5, s.size);
	}
	assert_int_equal(s.used, N);
	full = slab_resident(&s);
	assert_int_equal(full, s.chunks * SLAB_CHUNK);
	/* keep the first object of the first chunk only */
	for (i = 1; i < N; i++)
		slab_free(&s, p[i]);
	assert_true(slab_trim(&s) > 0);
	assert_int_equal(s.chunks, 2);	/* the partly used one, one spare */
	if (page < SLAB_CHUNK)
		assert_true(slab_resident(&s) <= 4 * page);
	assert_int_equal((unsigned char)p[0][s.size - 1], 0xa5);
	/* the objects that come next are the lowest ones of that chunk */
	p[1] = slab_alloc(&s);
	assert_true(p[1] == p[0] + s.size);
	slab_free(&s, p[1]);
	slab_free(&s, p[0]);
	slab_trim(&s);
	assert_int_equal(s.chunks, 1);
	assert_int_equal(s.used, 0);
}

int main(void)
{
#define BOTH(t)                                                              \
	cmocka_unit_test_setup_teardown(t, setup_auto, teardown),          \
		cmocka_unit_test_setup_teardown(t, setup_copy, teardown)
	const struct CMUnitTest tests[] = {
		BOTH(test_both_ways),
		BOTH(test_request_before_connected),
		BOTH(test_half_close_client_first),
		BOTH(test_half_close_server_first),
		BOTH(test_backpressure_then_eof),
		BOTH(test_bulk_switches_to_splice),
		BOTH(test_abort_on_write_error),
		BOTH(test_out_of_memory_resets),
		BOTH(test_unarmable_event_resets),
		BOTH(test_half_close_timeout),
		BOTH(test_preamble_first),
		BOTH(test_urgent_byte),
		BOTH(test_reset_from_client),
		BOTH(test_reset_from_server),
		BOTH(test_half_close_timeout_holding),
		BOTH(test_connect_timeout),
		BOTH(test_connect_in_flight_holds),
		BOTH(test_trim_gives_back),
		cmocka_unit_test(test_slab_pages),
	};

	return cmocka_run_group_tests_name("tcp_relay", tests, NULL, NULL);
}
