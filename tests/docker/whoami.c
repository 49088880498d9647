// SPDX-License-Identifier: MIT
/*
 * whoami.c - a static server for the test image that tells each client,
 * and its own log (docker logs), the address and port it sees the client
 * at: TCP (one line, then close) and UDP (one datagram back), on PORT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int peer_line(const struct sockaddr_in6 *p, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	const char *shown = ip;

	inet_ntop(AF_INET6, &p->sin6_addr, ip, sizeof(ip));
	if (!strncmp(ip, "::ffff:", 7))
		shown = ip + 7;
	return snprintf(buf, len, "%s %u\n", shown,
			(unsigned)ntohs(p->sin6_port));
}

static int listen_on(int type, unsigned short port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	int fd = socket(AF_INET6, type, 0), off = 0, on = 1;

	a.sin6_port = htons(port);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    (type == SOCK_STREAM && listen(fd, 64)))
		exit(1);
	return fd;
}

int main(int argc, char **argv)
{
	struct pollfd pf[2];
	char line[128], buf[2048];

	if (argc < 2)
		return 1;
	pf[0].fd = listen_on(SOCK_STREAM, (unsigned short)atoi(argv[1]));
	pf[1].fd = listen_on(SOCK_DGRAM, (unsigned short)atoi(argv[1]));
	pf[0].events = pf[1].events = POLLIN;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		struct sockaddr_in6 peer;
		socklen_t plen = sizeof(peer);
		int n, c;

		if (poll(pf, 2, -1) < 0)
			continue;
		if (pf[0].revents & POLLIN) {
			c = accept(pf[0].fd, (struct sockaddr *)&peer, &plen);
			if (c >= 0) {
				n = peer_line(&peer, line, sizeof(line));
				printf("tcp %s", line);
				if (write(c, line, (size_t)n) < 0)
					perror("write");
				close(c);
			}
		}
		if (pf[1].revents & POLLIN) {
			plen = sizeof(peer);
			if (recvfrom(pf[1].fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&peer, &plen) >= 0) {
				n = peer_line(&peer, line, sizeof(line));
				printf("udp %s", line);
				sendto(pf[1].fd, line, (size_t)n, 0,
				       (struct sockaddr *)&peer, plen);
			}
		}
	}
}
