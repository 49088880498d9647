// SPDX-License-Identifier: MIT
/*
 * loadgen.c - the benchmark's clients; every mode is bounded in time
 *
 *   loadgen tcp-rr HOST PORT SECS           64-byte ping-pong on one
 *                                           connection: "n p50_us p99_us"
 *   loadgen tcp-cr HOST PORT SECS CONC      connect, 64 B each way, close,
 *                                           CONC threads: "n per_s p99_us"
 *   loadgen udp-rr HOST PORT SECS           64-byte UDP ping-pong:
 *                                           "n p50_us p99_us lost"
 *   loadgen udp-blast HOST PORT SECS MBPS SIZE
 *                                           datagrams at MBPS (0: as fast
 *                                           as possible): "sent"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LG_MAX_SAMPLES (1 << 20)

static struct sockaddr_storage lg_addr;
static socklen_t lg_addrlen;
static double lg_secs;

static double lg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int lg_resolve(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST }, *ai;

	if (getaddrinfo(host, port, &hints, &ai))
		return -1;
	memcpy(&lg_addr, ai->ai_addr, ai->ai_addrlen);
	lg_addrlen = ai->ai_addrlen;
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
	if (type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
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
	printf("%zu %.1f %.1f %ld\n", total, (double)total / (lg_now() - t0),
	       lg_pct(all, total, 0.99), fails);
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

int main(int argc, char **argv)
{
	if (argc < 5 || lg_resolve(argv[2], argv[3])) {
		fprintf(stderr, "usage: see loadgen.c\n");
		return 2;
	}
	lg_secs = atof(argv[4]);
	if (!strcmp(argv[1], "tcp-rr"))
		return lg_rr(SOCK_STREAM);
	if (!strcmp(argv[1], "udp-rr"))
		return lg_rr(SOCK_DGRAM);
	if (!strcmp(argv[1], "tcp-cr") && argc == 6)
		return lg_cr(atoi(argv[5]));
	if (!strcmp(argv[1], "udp-blast") && argc == 7)
		return lg_blast(atof(argv[5]), (size_t)atoi(argv[6]));
	fprintf(stderr, "loadgen: unknown mode %s\n", argv[1]);
	return 2;
}
