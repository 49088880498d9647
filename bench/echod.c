// SPDX-License-Identifier: MIT
/*
 * echod.c - the benchmark's "container": echo servers and a UDP sink
 *
 *   echod tcp ADDR PORT        echo every byte back (epoll, one thread)
 *   echod udp ADDR PORT        echo every datagram back
 *   echod sink ADDR PORT       count datagrams; on SIGTERM print the count
 *
 * Prints "ready" once listening. The soft RLIMIT_NOFILE is raised to the
 * hard limit: the bench holds 10,000 connections open through a proxy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t echod_stop;

static void echod_on_term(int sig)
{
	(void)sig;
	echod_stop = 1;
}

static int echod_socket(const char *addr, int port, int type)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	int fd, one = 1, v6 = strchr(addr, ':') != NULL;

	fd = socket(v6 ? AF_INET6 : AF_INET, type, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		a6.sin6_port = htons((unsigned short)port);
		inet_pton(AF_INET6, addr, &a6.sin6_addr);
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)))
			return -1;
	} else {
		a4.sin_port = htons((unsigned short)port);
		inet_pton(AF_INET, addr, &a4.sin_addr);
		if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)))
			return -1;
	}
	if (type == SOCK_STREAM && listen(fd, 4096))
		return -1;
	return fd;
}

static int echod_tcp(int lfd)
{
	static char buf[1 << 16];
	struct epoll_event ev = { .events = EPOLLIN }, evs[64];
	int ep = epoll_create1(0), i, n, one = 1;

	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!echod_stop) {
		n = epoll_wait(ep, evs, 64, 200);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r;

			if (fd == lfd) {
				int c = accept4(lfd, NULL, NULL, 0);

				if (c < 0)
					continue;
				setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one,
					   sizeof(one));
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				continue;
			}
			r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r > 0 && send(fd, buf, (size_t)r, MSG_NOSIGNAL) == r)
				continue;
			if (r < 0 && errno == EAGAIN)
				continue;
			close(fd);	/* EOF, error, or a short echo */
		}
	}
	return 0;
}

static int echod_udp(int fd, int echo)
{
	static char buf[1 << 16];
	struct sockaddr_storage peer;
	unsigned long long count = 0;
	socklen_t len;
	ssize_t r;

	while (!echod_stop) {
		len = sizeof(peer);
		r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer,
			     &len);
		if (r < 0)
			continue;
		count++;
		if (echo)
			sendto(fd, buf, (size_t)r, 0, (struct sockaddr *)&peer,
			       len);
	}
	printf("%llu\n", count);
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = echod_on_term };
	int fd, rcv = 8 << 20;
	struct rlimit rl;

	if (argc != 4) {
		fprintf(stderr, "usage: echod tcp|udp|sink ADDR PORT\n");
		return 2;
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigaction(SIGTERM, &sa, NULL);	/* no SA_RESTART: recv returns */
	signal(SIGPIPE, SIG_IGN);
	fd = echod_socket(argv[2], atoi(argv[3]),
			  strcmp(argv[1], "tcp") ? SOCK_DGRAM : SOCK_STREAM);
	if (fd < 0) {
		perror("echod: bind");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	printf("ready\n");
	fflush(stdout);
	if (!strcmp(argv[1], "tcp"))
		return echod_tcp(fd);
	return echod_udp(fd, !strcmp(argv[1], "udp"));
}
