// SPDX-License-Identifier: MIT
/* udp_echo.c - a static UDP echo for the test image (busybox nc has no -u) */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	static char buf[65536];
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 }, peer;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), off = 0;

	if (argc < 2 || fd < 0)
		return 1;
	a.sin6_port = htons((unsigned short)atoi(argv[1]));
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
		return 1;
	for (;;) {
		socklen_t len = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&peer, &len);

		if (n >= 0)
			sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer,
			       len);
	}
}
