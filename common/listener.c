// SPDX-License-Identifier: MIT
/*
 * listener.c - the published socket: bound here, or adopted from fd 4
 *
 * Binding follows Go's net package, which is what docker-proxy does: TCP
 * with SO_REUSEADDR (a restart while old connections sit in TIME_WAIT must
 * still bind), IPV6_V6ONLY for IPv6 (dockerd starts a separate proxy for
 * "0.0.0.0" and "::"), the largest backlog the kernel allows; UDP without
 * SO_REUSEADDR and with IP_PKTINFO / IPV6_RECVPKTINFO. Errors read like Go's,
 * "listen tcp4 0.0.0.0:80: bind: address already in use", because dockerd
 * shows them to the user as they are.
 *
 * Docker 28+ binds the socket itself and passes it as fd 4 (-use-listen-fd):
 * we check it is what -proto says, make it non-blocking, and never re-bind.
 *
 * A UDP listener takes every client's datagrams. The kernel's default
 * receive buffer (net.core.rmem_default, 208 KiB here) holds under 2 ms of
 * a gigabit stream: a proxy that is not scheduled for that long loses the
 * rest. Where we may (CAP_NET_ADMIN, which dockerd and strait-netsetup
 * have when they bind), the listener gets LISTENER_UDP_RCVBUF instead,
 * beyond net.core.rmem_max; the memory is the kernel's and is only used
 * while datagrams wait. Without the capability nothing changes.
 */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>


/**
 * listener_errno_text() - strerror() spelled as Go spells errno values
 * @err:	errno value
 * @buf:	output
 * @len:	size of @buf
 *
 * Go's messages are glibc's with a lower-case first letter ("address already
 * in use"); dockerd users know them in that form.
 *
 * Return: 0, or -1 if truncated
 */
int listener_errno_text(int err, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s", strerror(err));

	if (len && buf[0] >= 'A' && buf[0] <= 'Z' && buf[1] >= 'a' &&
	    buf[1] <= 'z')
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

static void listener_err(int ipproto, const struct addr_ip *ip,
			 uint16_t port, const char *op, int e, char *err,
			 size_t errlen)
{
	char where[ADDR_STRLEN], what[128];
	union addr_sock sa;

	addr_to_sock(ip, port, &sa);
	if (addr_format_sock(&sa.sa, where, sizeof(where)))
		snprintf(where, sizeof(where), "?");
	listener_errno_text(e, what, sizeof(what));
	snprintf(err, errlen, "listen %s%c %s: %s: %s",
		 addr_proto_name(ipproto),
		 ip->family == AF_INET ? '4' : '6', where, op, what);
}

static int listener_sockopts(int fd, int ipproto, int family)
{
	int one = 1, v6 = family == AF_INET6;

	if (ipproto != IPPROTO_UDP &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		return -1;
	if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		return -1;
	if (ipproto != IPPROTO_UDP)
		return 0;
	if (v6)
		return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
				  sizeof(one));
	return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
}

/**
 * listener_raise_nofile() - soft RLIMIT_NOFILE up to the hard limit, as Go
 * does at start: a range of ports needs a socket each, and a busy proxy
 * two per connection
 *
 * Return: 0, or -1 with errno set
 */
int listener_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	if (rl.rlim_cur >= rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

static int listener_getint(int fd, int level, int name, int *v)
{
	socklen_t len = sizeof(*v);

	return getsockopt(fd, level, name, v, &len);
}

/* Grow a UDP listener's receive buffer where we may; never shrink it */
static void listener_udp_rcvbuf(int fd)
{
	int cur = 0, want = LISTENER_UDP_RCVBUF;

	/* the kernel reports (and keeps) twice what was asked */
	if (!listener_getint(fd, SOL_SOCKET, SO_RCVBUF, &cur) &&
	    cur / 2 >= want)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want));
}

/**
 * listener_bind() - create, bind and (for streams) listen on a host address
 * @ipproto:	IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP
 * @ip:		address
 * @port:	port
 * @err:	Go-shaped one-line message on failure
 * @errlen:	size of @err
 *
 * Return: non-blocking, close-on-exec socket, or -1 with @err set
 */
int listener_bind(int ipproto, const struct addr_ip *ip, uint16_t port,
		  char *err, size_t errlen)
{
	int type = ipproto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	union addr_sock sa;
	socklen_t salen;
	int fd, e;

	fd = socket(ip->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, ipproto);
	if (fd < 0) {
		listener_err(ipproto, ip, port, "socket", errno, err, errlen);
		return -1;
	}
	if (listener_sockopts(fd, ipproto, ip->family)) {
		listener_err(ipproto, ip, port, "setsockopt", errno, err,
			     errlen);
		goto fail;
	}
	salen = addr_to_sock(ip, port, &sa);
	if (bind(fd, &sa.sa, salen)) {
		listener_err(ipproto, ip, port, "bind", errno, err, errlen);
		goto fail;
	}
	if (type == SOCK_DGRAM)
		listener_udp_rcvbuf(fd);
	/* The kernel caps the backlog at net.core.somaxconn, as Go asks */
	if (type == SOCK_STREAM && listen(fd, INT_MAX)) {
		listener_err(ipproto, ip, port, "listen", errno, err, errlen);
		goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}


/**
 * listener_adopt() - take over the socket dockerd bound for us on @fd
 * @fd:		LISTENER_FD
 * @ipproto:	the protocol it must be
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: @fd, now non-blocking and close-on-exec, or -1 with @err set
 */
int listener_adopt(int fd, int ipproto, char *err, size_t errlen)
{
	int want = ipproto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM;
	const char *p = addr_proto_name(ipproto);
	int type, proto, domain, acc = 0, fl;

	if (fcntl(fd, F_GETFD) < 0)
		return snprintf(err, errlen, "-use-listen-fd: fd %d is not open",
				fd),
		       -1;
	if (listener_getint(fd, SOL_SOCKET, SO_TYPE, &type) ||
	    listener_getint(fd, SOL_SOCKET, SO_PROTOCOL, &proto) ||
	    listener_getint(fd, SOL_SOCKET, SO_DOMAIN, &domain))
		return snprintf(err, errlen,
				"-use-listen-fd: fd %d is not a socket", fd),
		       -1;
	if (type != want || proto != ipproto ||
	    (domain != AF_INET && domain != AF_INET6))
		return snprintf(err, errlen,
				"-use-listen-fd: fd %d is not an IPv4/IPv6 "
				"%s socket",
				fd, p),
		       -1;
	if (type == SOCK_STREAM &&
	    (listener_getint(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc) || !acc))
		return snprintf(err, errlen,
				"-use-listen-fd: fd %d is not listening", fd),
		       -1;
	/* docker sets these before handing a UDP socket over; make sure */
	if (type == SOCK_DGRAM &&
	    setsockopt(fd, domain == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       domain == AF_INET6 ? IPV6_RECVPKTINFO : IP_PKTINFO,
		       &(int){ 1 }, sizeof(int)))
		return snprintf(err, errlen, "-use-listen-fd: pktinfo: %s",
				strerror(errno)),
		       -1;
	if (type == SOCK_DGRAM)
		listener_udp_rcvbuf(fd);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC))
		return snprintf(err, errlen, "-use-listen-fd: fcntl: %s",
				strerror(errno)),
		       -1;
	return fd;
}
