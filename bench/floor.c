// SPDX-License-Identifier: MIT
/*
 * floor.c - the smallest process a C proxy could be: binds the port it is
 * given (-proto, -host-ip, -host-port, as docker-proxy takes them), says
 * ready on fd 3 as docker-proxy does, then sleeps. make bench measures its
 * memory beside strait-proxy's, linked the same way (dynamic glibc, PIE,
 * full RELRO), and bench/ports.py its start-up under dockerd: what it shows
 * is the floor that glibc and the kernel set for any such process on the
 * machine, not anything a proxy could save. It forwards nothing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *floor_arg(int argc, char **argv, const char *name)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

/* Bind and listen as docker-proxy does; -1 on any failure. */
static int floor_bind(const char *proto, const char *ip, const char *port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };
	int udp = proto && strcmp(proto, "udp") == 0;
	int v6 = inet_pton(AF_INET6, ip, &a6.sin6_addr) == 1;
	int one = 1, fd;

	if (!v6 && inet_pton(AF_INET, ip, &a4.sin_addr) != 1)
		return -1;
	a6.sin6_port = a4.sin_port = htons((unsigned short)atoi(port));
	fd = socket(v6 ? AF_INET6 : AF_INET, udp ? SOCK_DGRAM : SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	if (v6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (!udp)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if ((v6 ? bind(fd, (struct sockaddr *)&a6, sizeof(a6))
		: bind(fd, (struct sockaddr *)&a4, sizeof(a4))) < 0 ||
	    (!udp && listen(fd, SOMAXCONN) < 0))
		return -1;
	return fd;
}

int main(int argc, char **argv)
{
	const char *ip = floor_arg(argc, argv, "-host-ip");
	const char *port = floor_arg(argc, argv, "-host-port");

	if (ip && port &&
	    floor_bind(floor_arg(argc, argv, "-proto"), ip, port) < 0) {
		if (write(3, "1\nfloor: bind failed", 20) == 20)
			close(3);
		return 1;
	}
	if (write(3, "0\n", 2) == 2)
		close(3);
	pause();
	return 0;
}
