// SPDX-License-Identifier: MIT
/*
 * test_udp_server.c - the UDP server over loopback sockets, when the event
 * loop or the fd table says no
 *
 *   client --> [listener | udp_server | flow socket] --> container
 *
 * Linked with --wrap=event_add: the server's own registrations fail on
 * demand (libevent's internal ones, in the shared library, never do); and
 * with --wrap=sendmmsg: a joined message (UDP_SEGMENT) is refused on
 * demand with the errno a kernel gives where it cannot split it.
 *
 * Pacing: how much one wake-up reads and when the next batch may go, from
 * the kernel's arrival stamps and a clock passed in (never a sleep judged).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "udp_server.h"

/* the server arms its timer with a timeout and watches sockets without */
static bool fail_timers, fail_watches;
static int failed;

int __real_event_add(struct event *ev, const struct timeval *tv);
int __wrap_event_add(struct event *ev, const struct timeval *tv);

int __wrap_event_add(struct event *ev, const struct timeval *tv)
{
	if (tv ? fail_timers : fail_watches) {
		failed++;
		return -1;
	}
	return __real_event_add(ev, tv);
}

/* sendmmsg(): joined messages refused with gso_errno (0: sent); counts */
static int gso_errno, gso_refused, gso_sent;

int __real_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags);
int __wrap_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags);

static bool joined(struct msghdr *h)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
		if (c->cmsg_level == IPPROTO_UDP &&
		    c->cmsg_type == UDP_SEGMENT)
			return true;
	return false;
}

/* As the kernel: the messages before a refused one go, and count */
int __wrap_sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	unsigned int j;

	for (j = 0; j < n && !(gso_errno && joined(&v[j].msg_hdr)); j++)
		gso_sent += joined(&v[j].msg_hdr);
	if (j == 0 && n) {
		gso_refused++;
		errno = gso_errno;
		return -1;
	}
	return __real_sendmmsg(fd, v, j, flags);
}

/**
 * struct side - one published port
 * @s:		its server
 * @addr:	its listener's address, for clients
 * @ctr:	the container's socket behind it
 */
struct side {
	struct udp_server s;
	struct sockaddr_in addr;
	int ctr;
};

struct fixture {
	struct event_base *base;
	struct side side[2];
	int nside;
	struct rlimit nofile;
	char log[4096];
};

static int bound_socket(struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	socklen_t len = sizeof(*sa);

	assert_true(fd >= 0);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)sa, sizeof(*sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sa, &len), 0);
	return fd;
}

static struct side *side_new(struct fixture *fx, uint64_t timeout_ms,
			     uint32_t max_flows)
{
	struct side *sd = &fx->side[fx->nside];
	union addr_sock target;
	int one = 1, lfd = bound_socket(&sd->addr);

	assert_int_equal(setsockopt(lfd, IPPROTO_IP, IP_PKTINFO, &one,
				    sizeof(one)), 0);
	sd->ctr = bound_socket(&target.sin);
	assert_int_equal(udp_server_init(&sd->s, fx->base, lfd, &target,
					 sizeof(target.sin), timeout_ms,
					 max_flows), 0);
	fx->nside++;
	return sd;
}

static int client(void)
{
	struct sockaddr_in sa;

	return bound_socket(&sa);
}

static void send_to(int c, struct side *sd, const char *msg)
{
	assert_int_equal(sendto(c, msg, strlen(msg), 0,
				(struct sockaddr *)&sd->addr,
				sizeof(sd->addr)),
			 (ssize_t)strlen(msg));
}

/* Run the loop until @fd has a datagram (its length, its source in @src)
 * or @rounds milliseconds have passed (-1) */
static ssize_t pump(struct fixture *fx, int fd, int rounds,
		    struct sockaddr_in *src)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	socklen_t len = sizeof(*src);
	char buf[256];
	int i;

	for (i = 0; i < rounds; i++) {
		event_base_loop(fx->base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 1) == 1)
			return recvfrom(fd, buf, sizeof(buf), 0,
					(struct sockaddr *)src, &len);
	}
	return -1;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Datagrams waiting on @fd, read and counted */
static int drain(int fd)
{
	char buf[256];
	int n = 0;

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	assert_int_equal(errno, EAGAIN);
	return n;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/* Messages logged from here to log_end() go to fx->log */
static int log_begin(void)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);

	assert_non_null(tmp);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fileno(tmp), 2), 2);
	fclose(tmp); /* fd 2 keeps the file */
	return saved;
}

static void log_end(struct fixture *fx, int saved)
{
	ssize_t n = pread(2, fx->log, sizeof(fx->log) - 1, 0);

	fx->log[n > 0 ? n : 0] = '\0';
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->base = event_base_new();
	assert_non_null(fx->base);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &fx->nofile), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int i;

	fail_timers = fail_watches = false;
	failed = gso_errno = gso_refused = gso_sent = 0;
	setrlimit(RLIMIT_NOFILE, &fx->nofile);
	for (i = 0; i < fx->nside; i++) {
		udp_server_close(&fx->side[i].s);
		close(fx->side[i].ctr);
	}
	event_base_free(fx->base);
	free(fx);
	return 0;
}

/* The expiry timer cannot be armed for the first flow: the next datagram
 * arms it, and the flow still ends after its idle timeout */
static void test_timer_armed_at_next_datagram(void **state)
{
	struct fixture *fx = *state;
	struct side *a = side_new(fx, 50, 16);
	struct sockaddr_in src;
	int c = client(), saved, i;
	ssize_t got;

	fail_timers = true;
	saved = log_begin();
	send_to(c, a, "one");
	got = pump(fx, a->ctr, 1000, &src);
	log_end(fx, saved);
	assert_int_equal(got, 3);
	assert_true(failed > 0);
	assert_non_null(strstr(fx->log, "expiry timer: cannot arm"));
	assert_int_equal(a->s.flows.n, 1);
	assert_false(evtimer_pending(a->s.timer, NULL));

	fail_timers = false;
	send_to(c, a, "two"); /* the same client: no new flow */
	assert_int_equal(pump(fx, a->ctr, 1000, &src), 3);
	assert_int_equal(a->s.flows.n, 1);
	assert_true(evtimer_pending(a->s.timer, NULL));
	for (i = 0; i < 300 && a->s.flows.n; i++) {
		event_base_loop(fx->base, EVLOOP_NONBLOCK);
		usleep(10000);
	}
	assert_int_equal(a->s.flows.n, 0);
	close(c);
}

/* A flow whose socket cannot be watched is dropped with its datagram and
 * its fd; the client's next datagram makes a flow that works both ways */
static void test_unwatched_flow_dropped(void **state)
{
	struct fixture *fx = *state;
	struct side *a = side_new(fx, 90000, 16);
	struct sockaddr_in src, back;
	int c = client(), nfd = count_fds(), saved;
	ssize_t got;

	fail_watches = true;
	saved = log_begin();
	send_to(c, a, "lost");
	got = pump(fx, a->ctr, 50, &src);
	log_end(fx, saved);
	assert_int_equal(got, -1);
	assert_true(failed > 0);
	assert_non_null(strstr(fx->log, "cannot watch it for replies"));
	assert_int_equal(a->s.flows.n, 0);
	assert_int_equal(count_fds(), nfd);

	fail_watches = false;
	send_to(c, a, "next");
	assert_int_equal(pump(fx, a->ctr, 1000, &src), 4);
	assert_int_equal(a->s.flows.n, 1);
	assert_int_equal(sendto(a->ctr, "reply", 5, 0, (struct sockaddr *)&src,
				sizeof(src)),
			 5);
	assert_int_equal(pump(fx, c, 1000, &back), 5);
	assert_int_equal(back.sin_port, a->addr.sin_port);
	close(c);
}

/* Out of fds, a client of a port with no flow of its own still gets one:
 * the least recently used flow of the other port gives up its fd */
static void test_out_of_fds_evicts_other_port(void **state)
{
	struct fixture *fx = *state;
	struct side *a = side_new(fx, 90000, 64), *b = side_new(fx, 90000, 64);
	int ca0 = client(), ca1 = client(), cb = client();
	int fill[8], nfill = 0, saved;
	struct rlimit lim = fx->nofile;
	struct sockaddr_in src;
	ssize_t got[3];

	saved = log_begin(); /* it takes fds: before the limit */
	/* leave exactly two free fds below the limit */
	lim.rlim_cur = (rlim_t)fcntl(cb, F_DUPFD_CLOEXEC, 0);
	close((int)lim.rlim_cur);
	lim.rlim_cur += 8;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	while (nfill < 8 && (fill[nfill] = dup(cb)) >= 0)
		nfill++;
	assert_true(nfill >= 2 && nfill < 8 && errno == EMFILE);
	close(fill[--nfill]);
	close(fill[--nfill]);

	send_to(ca0, a, "a0");
	got[0] = pump(fx, a->ctr, 1000, &src);
	send_to(ca1, a, "a1");
	got[1] = pump(fx, a->ctr, 1000, &src);
	send_to(cb, b, "b");
	got[2] = pump(fx, b->ctr, 1000, &src);
	log_end(fx, saved);
	assert_int_equal(got[0], 2);
	assert_int_equal(got[1], 2);
	assert_int_equal(got[2], 1);
	assert_non_null(strstr(fx->log, "out of file descriptors"));
	assert_int_equal(b->s.flows.n, 1);
	assert_int_equal(a->s.flows.n, 1);
	assert_int_equal(a->s.flows.evicted, 1);

	while (nfill)
		close(fill[--nfill]);
	close(ca0);
	close(ca1);
	close(cb);
}

/* A full table makes room from its own flows, never from another port's,
 * even an older one */
static void test_full_table_evicts_own_port(void **state)
{
	struct fixture *fx = *state;
	struct side *a = side_new(fx, 90000, 1), *b = side_new(fx, 90000, 16);
	int cb = client(), ca0 = client(), ca1 = client();
	struct sockaddr_in src;

	send_to(cb, b, "b");
	assert_int_equal(pump(fx, b->ctr, 1000, &src), 1);
	send_to(ca0, a, "a0");
	assert_int_equal(pump(fx, a->ctr, 1000, &src), 2);
	send_to(ca1, a, "a1");
	assert_int_equal(pump(fx, a->ctr, 1000, &src), 2);
	assert_int_equal(a->s.flows.n, 1);
	assert_int_equal(a->s.flows.evicted, 1);
	assert_int_equal(b->s.flows.n, 1);
	assert_int_equal(b->s.flows.evicted, 0);
	close(cb);
	close(ca0);
	close(ca1);
}


/* A backlog of 100 datagrams: one wake-up forwards one batch and goes back
 * to the loop (replies and the other ports of a range get their turn, and
 * the next batch can be paced); the rest follows, all of it */
static void test_one_batch_per_wakeup(void **state)
{
	struct fixture *fx = *state;
	struct side *a = side_new(fx, 90000, 16);
	int c = client(), i, got;

	for (i = 0; i < 100; i++)
		send_to(c, a, "backlog");
	event_base_loop(fx->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	got = drain(a->ctr);
	assert_int_equal(got, UDP_SERVER_BATCH);
	for (i = 0; i < 1000 && got < 100; i++) {
		event_base_loop(fx->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		got += drain(a->ctr);
	}
	assert_int_equal(got, 100);
	close(c);
}

/* A full batch whose datagrams arrived over 31 ms or more, the last one a
 * millisecond before the read (behind): the next one waits until half
 * that has passed (its wait capped per wake-up); a batch that empties the
 * queue lifts the gate */
static void test_full_batch_paces_next(void **state)
{
	struct fixture *fx = *state;
	struct side *a = side_new(fx, 90000, 16);
	int c = client(), i, got;
	uint64_t t;

	for (i = 0; i < UDP_SERVER_BATCH; i++) {
		send_to(c, a, "paced");
		usleep(1000);
	}
	send_to(c, a, "one more");
	t = mono_ns();
	event_base_loop(fx->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(drain(a->ctr), UDP_SERVER_BATCH);
	/* the batch took 31 ms or more to arrive */
	assert_true(a->s.pace.release >=
		    t + 31 * (uint64_t)1000000 / UDP_PACE_CATCHUP);
	assert_int_equal(udp_pace_wait(&a->s.pace, t), UDP_PACE_WAIT_MAX_NS);
	for (i = 0, got = 0; i < 1000 && !got; i++) {
		event_base_loop(fx->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		got = drain(a->ctr);
	}
	assert_int_equal(got, 1);
	assert_int_equal(a->s.pace.release, 0);
	close(c);
}

/* @n datagrams of @len bytes, the k-th starting with byte 'a' + k */
static void send_run(int c, struct side *sd, int n, size_t len)
{
	char buf[512];
	int k;

	assert_true(len <= sizeof(buf));
	for (k = 0; k < n; k++) {
		memset(buf, 'a' + k, len);
		assert_int_equal(sendto(c, buf, len, 0,
					(struct sockaddr *)&sd->addr,
					sizeof(sd->addr)),
				 (ssize_t)len);
	}
}

/* Pump until the container has had @n datagrams: each of @len bytes, the
 * k-th all 'a' + k, in order */
static void expect_run(struct fixture *fx, struct side *sd, int n,
		       size_t len)
{
	struct pollfd p = { .fd = sd->ctr, .events = POLLIN };
	char buf[512], want[512];
	ssize_t got;
	int k, rounds;

	for (k = 0; k < n; k++) {
		for (rounds = 0; rounds < 1000; rounds++) {
			event_base_loop(fx->base, EVLOOP_NONBLOCK);
			if (poll(&p, 1, 1) == 1)
				break;
		}
		got = recv(sd->ctr, buf, sizeof(buf), MSG_DONTWAIT);
		if (got != (ssize_t)len)
			fail_msg("datagram %d: %zd bytes, want %zu", k, got,
				 len);
		memset(want, 'a' + k, len);
		assert_memory_equal(buf, want, len);
	}
	assert_int_equal(drain(sd->ctr), 0);
}

/* No checksum offload on the way (EIO): the refused run goes one by one,
 * and nothing is joined again, whatever the size */
static void test_joined_refused_eio(void **state)
{
	struct fixture *fx = *state;
	struct side *a = side_new(fx, 90000, 16);
	int c = client();

	if (!a->s.gso_below)
		skip(); /* a kernel without UDP_SEGMENT joins nothing */
	gso_errno = EIO;
	send_run(c, a, 10, 100);
	expect_run(fx, a, 10, 100);
	assert_int_equal(gso_refused, 1);
	assert_int_equal(a->s.gso_below, 0);
	send_run(c, a, 10, 60);
	expect_run(fx, a, 10, 60);
	assert_int_equal(gso_refused, 1);
	assert_int_equal(gso_sent, 0);
	close(c);
}

/* Larger than the path's MTU (EMSGSIZE; EINVAL before Linux 6.x): that
 * size and larger go one by one from then on; shorter ones are still
 * joined */
static void test_joined_refused_too_big(void **state)
{
	static const int errs[] = { EMSGSIZE, EINVAL };
	struct fixture *fx = *state;
	size_t e;

	for (e = 0; e < sizeof(errs) / sizeof(errs[0]); e++) {
		struct side *a = side_new(fx, 90000, 16);
		int c = client();

		if (!a->s.gso_below)
			skip();
		gso_errno = errs[e];
		gso_refused = gso_sent = 0;
		send_run(c, a, 10, 200);
		expect_run(fx, a, 10, 200);
		assert_int_equal(gso_refused, 1);
		assert_int_equal(a->s.gso_below, 200);
		gso_errno = 0;
		send_run(c, a, 10, 100);
		expect_run(fx, a, 10, 100);
		assert_int_equal(gso_sent, 1);
		send_run(c, a, 10, 300);
		expect_run(fx, a, 10, 300);
		assert_int_equal(gso_sent, 1);
		assert_int_equal(gso_refused, 1);
		close(c);
	}
}

#define US 1000
#define MS 1000000
/* arrival stamps: any CLOCK_REALTIME value; only differences count */
#define T0 ((int64_t)1700000000 * 1000000000)

struct pace_case {
	const char *what;
	unsigned n;		/* datagrams read */
	int64_t first, last;	/* their arrival stamps */
	int64_t lag;		/* the read's CLOCK_REALTIME - last */
	uint64_t read_at;	/* monotonic ns of the read */
	uint64_t asked_at;	/* when the next wake-up asks */
	uint64_t want_wait;
};

/* A server asks for its listener's arrival stamps and for a timer slack
 * that keeps pacing's short waits short (the process's: a range's second
 * port changes nothing) */
static void test_pacing_set_up(void **state)
{
	struct fixture *fx = *state;
	struct side *a;
	int on = 0;
	socklen_t len = sizeof(on);

	assert_int_equal(prctl(PR_SET_TIMERSLACK, 50000UL, 0UL, 0UL, 0UL), 0);
	a = side_new(fx, 90000, 16);
	assert_int_equal(getsockopt(a->s.lfd, SOL_SOCKET, SO_TIMESTAMPNS, &on,
				    &len),
			 0);
	assert_true(on);
	assert_int_equal(prctl(PR_GET_TIMERSLACK, 0UL, 0UL, 0UL, 0UL), 1000);
}

/* Each case starts from a fresh state */
static const struct pace_case pace_cases[] = {
	{ "one datagram: no rate known, no wait", 1, T0, T0, 10 * US, 5 * MS,
	  5 * MS + 100 * US, 0 },
	{ "a partial batch of a slow stream (100 us apart)", 5, T0,
	  T0 + 400 * US, 10 * US, 5 * MS, 5 * MS + 100 * US, 0 },
	{ "a partial batch of a fast stream (10 us apart): coalesce", 5, T0,
	  T0 + 40 * US, 10 * US, 5 * MS, 5 * MS + 100 * US,
	  UDP_PACE_COALESCE_NS },
	{ "... unless the stream has stopped", 5, T0, T0 + 40 * US, 10 * US,
	  5 * MS, 5 * MS + UDP_PACE_STREAM_NS, 0 },
	{ "a full batch over 200 us, read as it came: the next waits 200 us",
	  UDP_SERVER_BATCH, T0, T0 + 200 * US, 20 * US, 5 * MS, 5 * MS,
	  200 * US },
	{ "... 150 us of which have passed", UDP_SERVER_BATCH, T0,
	  T0 + 200 * US, 20 * US, 5 * MS, 5 * MS + 150 * US, 50 * US },
	{ "... read just in time: still the same gaps", UDP_SERVER_BATCH, T0,
	  T0 + 200 * US, UDP_PACE_LAG_NS, 5 * MS, 5 * MS, 200 * US },
	{ "a full batch over 320 us read 2 ms late (behind): the next waits "
	  "160 us",
	  UDP_SERVER_BATCH, T0, T0 + 320 * US, 2 * MS, 5 * MS, 5 * MS,
	  160 * US },
	{ "... read just too late", UDP_SERVER_BATCH, T0, T0 + 320 * US,
	  UDP_PACE_LAG_NS + 1, 5 * MS, 5 * MS, 160 * US },
	{ "... 100 us of which have passed", UDP_SERVER_BATCH, T0,
	  T0 + 320 * US, 2 * MS, 5 * MS, 5 * MS + 100 * US, 60 * US },
	{ "... all of which have passed: a backlog waits, read at once (no "
	  "coalescing, though 10 us apart)",
	  UDP_SERVER_BATCH, T0, T0 + 310 * US, 2 * MS, 5 * MS,
	  5 * MS + 200 * US, 0 },
	{ "a full batch over 31 ms: a wake-up waits at most the cap",
	  UDP_SERVER_BATCH, T0, T0 + 31 * MS, 10 * US, 5 * MS, 5 * MS,
	  UDP_PACE_WAIT_MAX_NS },
	{ "... behind as well", UDP_SERVER_BATCH, T0, T0 + 31 * MS, 40 * MS,
	  5 * MS, 5 * MS, UDP_PACE_WAIT_MAX_NS },
	{ "a full batch that arrived at once leaves at once",
	  UDP_SERVER_BATCH, T0, T0, 10 * US, 5 * MS, 5 * MS, 0 },
	{ "no arrival stamps: no pacing", UDP_SERVER_BATCH, 0, 0, 10 * US,
	  5 * MS, 5 * MS, 0 },
	{ "the clock stepped back between two datagrams: no pacing",
	  UDP_SERVER_BATCH, T0, T0 - 10 * MS, 10 * US, 5 * MS, 5 * MS, 0 },
	{ "the clock stepped back between arrival and read: as if prompt",
	  UDP_SERVER_BATCH, T0, T0 + 200 * US, -10 * MS, 5 * MS, 5 * MS,
	  200 * US },
	{ "... forward: as if late", UDP_SERVER_BATCH, T0, T0 + 200 * US,
	  3600000 * (int64_t)MS, 5 * MS, 5 * MS, 100 * US },
};

static void test_pace_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pace_cases) / sizeof(pace_cases[0]); i++) {
		const struct pace_case *k = &pace_cases[i];
		struct udp_pace p = { 0 };
		uint64_t got;

		udp_pace_read(&p, k->n, k->first, k->last, k->read_at,
			      k->last + k->lag);
		got = udp_pace_wait(&p, k->asked_at);
		if (got != k->want_wait)
			fail_msg("%s: wait %llu ns, want %llu", k->what,
				 (unsigned long long)got,
				 (unsigned long long)k->want_wait);
	}
}

/* One datagram per wake-up: the rate is known from one read to the next,
 * and follows the stream as it speeds up and slows down */
static void test_pace_rate_across_reads(void **state)
{
	struct udp_pace p = { 0 };
	uint64_t now = 5 * MS;
	int64_t at = T0;
	int i;

	(void)state;
	for (i = 0; i < 20; i++, at += 100 * US, now += 100 * US)
		udp_pace_read(&p, 1, at, at, now, at + 10 * US);
	assert_int_equal(udp_pace_wait(&p, now), 0);
	for (i = 0; i < 20; i++, at += 10 * US, now += 10 * US)
		udp_pace_read(&p, 1, at, at, now, at + 10 * US);
	assert_int_equal(udp_pace_wait(&p, now), UDP_PACE_COALESCE_NS);
	for (i = 0; i < 20; i++, at += 100 * US, now += 100 * US)
		udp_pace_read(&p, 1, at, at, now, at + 10 * US);
	assert_int_equal(udp_pace_wait(&p, now), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		/* first: the process's timer slack is set once */
		cmocka_unit_test_setup_teardown(test_pacing_set_up, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_timer_armed_at_next_datagram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwatched_flow_dropped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_out_of_fds_evicts_other_port, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_full_table_evicts_own_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_batch_per_wakeup,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_batch_paces_next,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_joined_refused_eio, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_joined_refused_too_big,
						setup, teardown),
		cmocka_unit_test(test_pace_table),
		cmocka_unit_test(test_pace_rate_across_reads),
	};

	log_init("test_udp_server", LOG_LVL_WARN);
	return cmocka_run_group_tests_name("udp_server", tests, NULL, NULL);
}
