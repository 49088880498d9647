// SPDX-License-Identifier: MIT
/*
 * transparent.c - the container sees the client's own address and port
 *
 * Theory of operation
 *
 * The socket towards the container gets IP_TRANSPARENT (IPV6_TRANSPARENT)
 * and is bound to the client's address and port before connect(), so the
 * container's server sees the client as it is, as with kernel DNAT. The
 * container answers through its default route, the host; there policy
 * routing (a mark for packets of local transparent sockets, a policy rule
 * sending marked packets to a local route: strait-netsetup up
 * --transparent installs them) hands them to our socket instead of
 * forwarding them.
 * Setting the option needs CAP_NET_RAW; bind() and connect() need nothing.
 *
 * Where the client's address cannot work, the plain connect is used, as
 * without transparent mode (the container sees the host's address):
 * - loopback clients: the kernel refuses 127.0.0.0/8 as a source on
 *   another link, and ::1's packets reach the container and die there;
 * - clients on the container's own network (another container): the
 *   container would answer them directly over the bridge, past us;
 * - a client of the other address family than the container's.
 * The container's network is found once, at start: the host's addresses,
 * with their prefixes, on the interface the route to the container leaves
 * by.
 *
 * A client's port may be taken for our side already (the same client port
 * to two published ports of one container): then the client's address is
 * bound with any port.
 *
 * transparent_open() makes the socket towards the container for TCP and
 * UDP alike: the client's, or the plain one with the reason counted. A
 * transparent socket that fails for want of fds or memory is not replaced
 * by a plain one (that would fail too, or take the last fd the caller's
 * recovery needs): the caller sees the shortage, as without the mode.
 */
#include "transparent.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/**
 * transparent_why_name() - a fallback reason's name, for logs and counters
 * @why:	reason
 *
 * Return: static string
 */
const char *transparent_why_name(enum transparent_why why)
{
	static const char *const names[] = { "transparent", "loopback",
					     "container network",
					     "other family", "failed" };

	return why < TRANSPARENT_NWHY ? names[why] : "?";
}

static const unsigned char *transparent_bytes(const union addr_sock *a,
					      size_t *len)
{
	if (a->sa.sa_family == AF_INET6) {
		*len = 16;
		return a->sin6.sin6_addr.s6_addr;
	}
	*len = 4;
	return (const unsigned char *)&a->sin.sin_addr.s_addr;
}

/**
 * transparent_in_net() - is @a inside network @n?
 * @n:		network (address and prefix length)
 * @a:		address
 *
 * Return: true if @a is of @n's family and its first @n->prefix bits match
 */
bool transparent_in_net(const struct transparent_net *n,
			const union addr_sock *a)
{
	const unsigned char *p = n->ip.family == AF_INET6
					 ? n->ip.v6.s6_addr
					 : (const unsigned char *)&n->ip.v4;
	unsigned bits = n->prefix, i;
	const unsigned char *q;
	size_t len;

	if (a->sa.sa_family != n->ip.family)
		return false;
	q = transparent_bytes(a, &len);
	if (bits > len * 8)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (p[i] != q[i])
			return false;
	return !bits || !((p[i] ^ q[i]) & (0xff00 >> bits));
}

static bool transparent_loopback(const union addr_sock *a)
{
	if (a->sa.sa_family == AF_INET)
		return (ntohl(a->sin.sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&a->sin6.sin6_addr) ||
	       (IN6_IS_ADDR_V4MAPPED(&a->sin6.sin6_addr) &&
		a->sin6.sin6_addr.s6_addr[12] == 127);
}

static unsigned transparent_prefix(const struct sockaddr *mask)
{
	union addr_sock m;
	const unsigned char *b;
	unsigned n = 0;
	size_t len, i;

	memcpy(&m, mask, mask->sa_family == AF_INET6
				 ? sizeof(struct sockaddr_in6)
				 : sizeof(struct sockaddr_in));
	b = transparent_bytes(&m, &len);
	for (i = 0; i < len; i++)
		n += (unsigned)__builtin_popcount(b[i]);
	return n;
}

/* The local address the kernel would use towards @target: -1 or 0 */
static int transparent_local(const union addr_sock *target,
			     union addr_sock *local)
{
	socklen_t len = target->sa.sa_family == AF_INET6
				? sizeof(struct sockaddr_in6)
				: sizeof(struct sockaddr_in);
	int fd = socket(target->sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd < 0)
		return -1;
	if (!connect(fd, &target->sa, len) &&
	    !getsockname(fd, &local->sa, &len))
		rc = 0;
	close(fd);
	return rc;
}

static bool transparent_same_ip(const struct sockaddr *a,
				const union addr_sock *b)
{
	union addr_sock x;
	const unsigned char *p, *q;
	size_t n, m;

	if (a->sa_family != b->sa.sa_family)
		return false;
	memcpy(&x, a, a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					       : sizeof(struct sockaddr_in));
	p = transparent_bytes(&x, &n);
	q = transparent_bytes(b, &m);
	return n == m && !memcmp(p, q, n);
}

static void transparent_add(struct transparent *t, const struct ifaddrs *i)
{
	struct transparent_net *n = &t->nets[t->nnets];
	union addr_sock a;

	if (t->nnets == TRANSPARENT_NETS || !i->ifa_netmask)
		return;
	memcpy(&a, i->ifa_addr, i->ifa_addr->sa_family == AF_INET6
					? sizeof(struct sockaddr_in6)
					: sizeof(struct sockaddr_in));
	n->ip.family = a.sa.sa_family;
	if (a.sa.sa_family == AF_INET6)
		n->ip.v6 = a.sin6.sin6_addr;
	else
		n->ip.v4 = a.sin.sin_addr;
	n->prefix = transparent_prefix(i->ifa_netmask);
	t->nnets++;
}

/**
 * transparent_init() - learn the container's network, before any sandbox
 * @t:		state to fill
 * @target:	the container's address
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set (no route to the container, or the
 * interface list could not be read)
 */
int transparent_init(struct transparent *t, const union addr_sock *target,
		     char *err, size_t errlen)
{
	struct ifaddrs *all, *i;
	const char *dev = NULL;
	union addr_sock local;

	memset(t, 0, sizeof(*t));
	t->family = target->sa.sa_family;
	if (transparent_local(target, &local) || getifaddrs(&all)) {
		snprintf(err, errlen, "transparent: no route to the container: "
			 "%s", strerror(errno));
		return -1;
	}
	for (i = all; i && !dev; i = i->ifa_next)
		if (i->ifa_addr && transparent_same_ip(i->ifa_addr, &local))
			dev = i->ifa_name;
	for (i = all; i && dev; i = i->ifa_next)
		if (i->ifa_addr && !strcmp(i->ifa_name, dev) &&
		    (i->ifa_addr->sa_family == AF_INET ||
		     i->ifa_addr->sa_family == AF_INET6))
			transparent_add(t, i);
	freeifaddrs(all);
	return 0;
}

/**
 * transparent_check() - may this client's address be used?
 * @t:		state from transparent_init()
 * @client:	the client's address
 *
 * Return: TRANSPARENT_USED, or why not
 */
enum transparent_why transparent_check(const struct transparent *t,
				       const union addr_sock *client)
{
	unsigned i;

	if (client->sa.sa_family != t->family)
		return TRANSPARENT_FAMILY;
	if (transparent_loopback(client))
		return TRANSPARENT_LOOPBACK;
	for (i = 0; i < t->nnets; i++)
		if (transparent_in_net(&t->nets[i], client))
			return TRANSPARENT_BRIDGE;
	return TRANSPARENT_USED;
}

/**
 * transparent_socket() - a socket bound to the client's address
 * @client:	the client's address and port
 * @type:	SOCK_STREAM or SOCK_DGRAM
 *
 * Return: a non-blocking, close-on-exec socket ready for connect(), or -1
 * with errno (EPERM: no CAP_NET_RAW)
 */
int transparent_socket(const union addr_sock *client, int type)
{
	int fam = client->sa.sa_family, one = 1, fd, e;
	socklen_t len = fam == AF_INET6 ? sizeof(struct sockaddr_in6)
					: sizeof(struct sockaddr_in);
	union addr_sock any = *client;

	fd = socket(fam, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, fam == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       fam == AF_INET6 ? IPV6_TRANSPARENT : IP_TRANSPARENT,
		       &one, sizeof(one)))
		goto fail;
	if (!bind(fd, &client->sa, len))
		return fd;
	if (errno != EADDRINUSE)
		goto fail;
	/* the client's port is ours already: any port, the same address */
	if (fam == AF_INET6)
		any.sin6.sin6_port = 0;
	else
		any.sin.sin_port = 0;
	if (!bind(fd, &any.sa, len))
		return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Failures of a new socket that are a shortage, not a refusal */
static bool transparent_shortage(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS ||
	       err == ENOMEM || err == EAGAIN || err == EADDRNOTAVAIL;
}

/**
 * transparent_open() - the socket towards the container for one client
 * @t:		state from transparent_init(), NULL if the mode is off
 * @client:	the client's address and port
 * @family:	the container's address family
 * @type:	SOCK_STREAM or SOCK_DGRAM
 * @used:	set to whether the socket carries the client's address
 * @failed:	set to the errno of a transparent socket that could not be
 *		made (the plain one is used instead: the caller logs it), or 0
 *
 * The outcome is counted in @t's count[]. A shortage (fds, memory, local
 * ports) is returned as it is, never replaced by a plain socket.
 *
 * Return: a non-blocking, close-on-exec socket, or -1 with errno
 */
int transparent_open(struct transparent *t, const union addr_sock *client,
		     int family, int type, bool *used, int *failed)
{
	enum transparent_why why;
	int fd;

	*used = false;
	*failed = 0;
	if (!t)
		return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	why = transparent_check(t, client);
	if (why == TRANSPARENT_USED) {
		fd = transparent_socket(client, type);
		if (fd >= 0 || transparent_shortage(errno)) {
			*used = fd >= 0;
			if (fd >= 0)
				t->count[why]++;
			return fd;
		}
		*failed = errno;
		why = TRANSPARENT_FAILED;
	}
	t->count[why]++;
	return socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}
