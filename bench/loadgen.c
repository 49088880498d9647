// SPDX-License-Identifier: MIT
/*
 * loadgen.c - the benchmark's clients; every mode is bounded in time
 *
 *   loadgen tcp-rr HOST PORT SECS           64-byte ping-pong on one
 *                                           connection: "n p50_us p99_us"
 *   loadgen tcp-cr HOST PORT SECS CONC      connect, 64 B each way, close,
 *                                           CONC threads: "n per_s p50_us
 *                                           p99_us fails cpu_s" (cpu_s:
 *                                           this process's user + system)
 *   loadgen udp-rr HOST PORT SECS           64-byte UDP ping-pong:
 *                                           "n p50_us p99_us lost"
 *   loadgen udp-blast HOST PORT SECS MBPS SIZE
 *                                           datagrams at MBPS (0: as fast
 *                                           as possible): "sent"
 *   loadgen tcp-hold HOST PORT SECS N       open N connections one by one,
 *                                           each proven by a 1-byte echo
 *                                           (10 failures in a row: stop);
 *                                           "held K fails F", then hold
 *                                           them until stdin closes (or
 *                                           SECS), close all: "closed"
 *   loadgen tcp-touch HOST PORT SECS N      connect to PORT .. PORT+N-1
 *                                           once each and close: "n"
 *
 * Every socket operation times out after 2 s; the soft RLIMIT_NOFILE is
 * raised to the hard limit (the bench sets that). LOADGEN_SRC=ADDR in the
 * environment: connect from ADDR.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LG_MAX_SAMPLES (1 << 20)

static struct sockaddr_storage lg_addr, lg_src;
static socklen_t lg_addrlen, lg_srclen;
static double lg_secs;

static double lg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* user + system CPU seconds of this process, all threads */
static double lg_cpu(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int lg_resolve(const char *host, const char *port,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST }, *ai;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int lg_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double lg_pct(double *v, size_t n, double p)
{
	if (!n)
		return 0;
	return v[(size_t)(p * (double)(n - 1))];
}

static int lg_connect(int type)
{
	int fd = socket(lg_addr.ss_family, type, 0), one = 1;
	struct timeval tv = { 2, 0 };

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* SO_SNDTIMEO bounds a blocking connect() too */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* LOADGEN_SRC: the source address; the port is still chosen by
	 * connect(), against the 4-tuple, not by bind() */
	if (lg_srclen && (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
				     &one, sizeof(one)) ||
			  bind(fd, (struct sockaddr *)&lg_src, lg_srclen))) {
		close(fd);
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&lg_addr, lg_addrlen)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int lg_exchange(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
		return -1;
	while (got < n) {
		r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int lg_rr(int type)
{
	double *v = malloc(LG_MAX_SAMPLES * sizeof(double)), end, t;
	char buf[64] = "ping";
	size_t n = 0;
	long lost = 0;
	int fd = lg_connect(type);

	if (fd < 0 || !v)
		return perror("loadgen: connect"), 1;
	end = lg_now() + lg_secs;
	while ((t = lg_now()) < end && n < LG_MAX_SAMPLES) {
		if (type == SOCK_DGRAM) {
			if (send(fd, buf, 64, 0) != 64 ||
			    recv(fd, buf, 64, 0) != 64) {
				lost++;
				continue;
			}
		} else if (lg_exchange(fd, buf, 64)) {
			return fprintf(stderr, "loadgen: connection lost\n"), 1;
		}
		v[n++] = (lg_now() - t) * 1e6;
	}
	qsort(v, n, sizeof(*v), lg_cmp);
	printf("%zu %.1f %.1f", n, lg_pct(v, n, 0.5), lg_pct(v, n, 0.99));
	if (type == SOCK_DGRAM)
		printf(" %ld", lost);
	printf("\n");
	return 0;
}

struct lg_cr {
	pthread_t t;
	double *v;
	size_t n, cap;
	long fails;
};

static void *lg_cr_thread(void *arg)
{
	struct lg_cr *c = arg;
	double end = lg_now() + lg_secs, t;
	char buf[64];

	while ((t = lg_now()) < end) {
		int fd = lg_connect(SOCK_STREAM);

		memset(buf, 'c', sizeof(buf));
		if (fd < 0 || lg_exchange(fd, buf, sizeof(buf))) {
			c->fails++;
			if (fd >= 0)
				close(fd);
			continue;
		}
		close(fd);
		if (c->n < c->cap)
			c->v[c->n++] = (lg_now() - t) * 1e6;
	}
	return NULL;
}

static int lg_cr(int conc)
{
	struct lg_cr *c = calloc((size_t)conc, sizeof(*c));
	size_t total = 0, k = 0, i;
	long fails = 0;
	double *all, t0 = lg_now();
	int j;

	for (j = 0; j < conc; j++) {
		c[j].cap = LG_MAX_SAMPLES / (size_t)conc;
		c[j].v = malloc(c[j].cap * sizeof(double));
		pthread_create(&c[j].t, NULL, lg_cr_thread, &c[j]);
	}
	for (j = 0; j < conc; j++) {
		pthread_join(c[j].t, NULL);
		total += c[j].n;
		fails += c[j].fails;
	}
	all = malloc((total + 1) * sizeof(double));
	for (j = 0; j < conc; j++)
		for (i = 0; i < c[j].n; i++)
			all[k++] = c[j].v[i];
	qsort(all, total, sizeof(*all), lg_cmp);
	printf("%zu %.1f %.1f %.1f %ld %.4f\n", total,
	       (double)total / (lg_now() - t0), lg_pct(all, total, 0.5),
	       lg_pct(all, total, 0.99), fails, lg_cpu());
	return 0;
}

static int lg_blast(double mbps, size_t size)
{
	enum { BATCH = 32 };
	static char buf[65536];
	struct mmsghdr m[BATCH];
	struct iovec iov = { buf, size };
	double start = lg_now(), end = start + lg_secs, now;
	unsigned long long sent = 0, due;
	int fd = lg_connect(SOCK_DGRAM), i, n;

	if (fd < 0)
		return perror("loadgen: connect"), 1;
	memset(m, 0, sizeof(m));
	for (i = 0; i < BATCH; i++) {
		m[i].msg_hdr.msg_iov = &iov;
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while ((now = lg_now()) < end) {
		due = mbps > 0 ? (unsigned long long)((now - start) * mbps *
						      1e6 / 8 / (double)size)
			       : sent + BATCH;
		if (sent >= due) {
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
			continue;
		}
		n = (int)(due - sent < BATCH ? due - sent : BATCH);
		n = sendmmsg(fd, m, (unsigned)n, 0);
		if (n > 0)
			sent += (unsigned long long)n;
	}
	printf("%llu\n", sent);
	return 0;
}

static int lg_hold(int n)
{
	int *fds = calloc((size_t)n, sizeof(int)), k = 0, i, row = 0;
	double end = lg_now() + lg_secs;
	long fails = 0;
	char c = 'h';

	if (!fds)
		return perror("loadgen: calloc"), 1;
	/* a proxy out of fds refuses the rest: 10 failures in a row end it */
	for (i = 0; i < n && row < 10 && lg_now() < end; i++) {
		int fd = lg_connect(SOCK_STREAM);

		if (fd < 0 || lg_exchange(fd, &c, 1)) {
			fails++;
			row++;
			if (fd >= 0)
				close(fd);
			continue;
		}
		row = 0;
		fds[k++] = fd;
	}
	printf("held %d fails %ld\n", k, fails);
	fflush(stdout);
	/* until the bench closes our stdin (or SECS runs out) */
	while (lg_now() < end) {
		struct pollfd in = { .fd = 0, .events = POLLIN };

		if (poll(&in, 1, 100) > 0 && read(0, &c, 1) <= 0)
			break;
	}
	for (i = 0; i < k; i++)
		close(fds[i]);
	printf("closed\n");
	return 0;
}

static int lg_touch(int n)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&lg_addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&lg_addr;
	int port =
	    ntohs(lg_addr.ss_family == AF_INET ? a4->sin_port : a6->sin6_port);
	int i, done = 0;

	for (i = 0; i < n; i++) {
		int fd;

		if (lg_addr.ss_family == AF_INET)
			a4->sin_port = htons((unsigned short)(port + i));
		else
			a6->sin6_port = htons((unsigned short)(port + i));
		fd = lg_connect(SOCK_STREAM);
		if (fd >= 0) {
			done++;
			close(fd);
		}
	}
	printf("%d\n", done);
	return 0;
}

/* as many fds as the hard limit allows: the hold mode needs thousands */
static void lg_raise_nofile(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	const char *src = getenv("LOADGEN_SRC");

	if (argc < 5 || lg_resolve(argv[2], argv[3], &lg_addr, &lg_addrlen) ||
	    (src && lg_resolve(src, "0", &lg_src, &lg_srclen))) {
		fprintf(stderr, "usage: see loadgen.c\n");
		return 2;
	}
	lg_secs = atof(argv[4]);
	lg_raise_nofile();
	if (!strcmp(argv[1], "tcp-rr"))
		return lg_rr(SOCK_STREAM);
	if (!strcmp(argv[1], "udp-rr"))
		return lg_rr(SOCK_DGRAM);
	if (!strcmp(argv[1], "tcp-cr") && argc == 6)
		return lg_cr(atoi(argv[5]));
	if (!strcmp(argv[1], "tcp-hold") && argc == 6)
		return lg_hold(atoi(argv[5]));
	if (!strcmp(argv[1], "tcp-touch") && argc == 6)
		return lg_touch(atoi(argv[5]));
	if (!strcmp(argv[1], "udp-blast") && argc == 7)
		return lg_blast(atof(argv[5]), (size_t)atoi(argv[6]));
	fprintf(stderr, "loadgen: unknown mode %s\n", argv[1]);
	return 2;
}
