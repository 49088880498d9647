// SPDX-License-Identifier: MIT
/*
 * setup_iface.c - the interfaces up is given: that they exist under exactly
 * their names and are not loopback devices, and the networks on a bridge
 * (its subnets, when --subnet is not given)
 */
#include "setup.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "valid.h"

/* The prefix length of a netmask: its leading one bits */
static unsigned setup_iface_mask_len(const unsigned char *m, size_t n)
{
	unsigned len = 0;
	size_t i;

	for (i = 0; i < n && m[i] == 0xff; i++)
		len += 8;
	if (i < n)
		for (unsigned char b = m[i]; b & 0x80;
		     b = (unsigned char)(b << 1))
			len++;
	return len;
}

/* One address of getifaddrs() as a network of its family, in @c */
static int setup_iface_net(const struct ifaddrs *i, struct valid_cidr *c)
{
	const unsigned char *a, *m;
	unsigned char *net;
	size_t n, k;

	if (i->ifa_addr->sa_family == AF_INET) {
		a = (const void *)&((const struct sockaddr_in *)(const void *)
				    i->ifa_addr)->sin_addr;
		m = (const void *)&((const struct sockaddr_in *)(const void *)
				    i->ifa_netmask)->sin_addr;
		net = (void *)&c->net.v4;
		n = 4;
	} else {
		a = ((const struct sockaddr_in6 *)(const void *)i->ifa_addr)
			    ->sin6_addr.s6_addr;
		m = ((const struct sockaddr_in6 *)(const void *)i->ifa_netmask)
			    ->sin6_addr.s6_addr;
		net = c->net.v6.s6_addr;
		n = 16;
		/* link-local is never routed */
		if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
			return -1;
	}
	memset(&c->net, 0, sizeof(c->net));
	c->net.family = i->ifa_addr->sa_family;
	for (k = 0; k < n; k++)
		net[k] = a[k] & m[k];
	c->len = setup_iface_mask_len(m, n);
	return c->len ? 0 : -1;
}

/**
 * setup_iface_subnet() - the bridge's first network of a family; for IPv6 the
 * first outside fe80::/10
 * @bridge:	interface
 * @family:	AF_INET or AF_INET6
 * @c:		result
 *
 * Return: 0, or -1 if there is none
 */
int setup_iface_subnet(const char *bridge, int family, struct valid_cidr *c)
{
	struct ifaddrs *ifa, *i;
	int rc = -1;

	if (getifaddrs(&ifa))
		return -1;
	for (i = ifa; i && rc; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_netmask &&
		    i->ifa_addr->sa_family == family &&
		    !strcmp(i->ifa_name, bridge))
			rc = setup_iface_net(i, c);
	}
	freeifaddrs(ifa);
	return rc;
}

/* Whether @ifn is a loopback device (lo, whatever it is called) */
static bool setup_iface_loopback(const char *ifn)
{
	struct ifreq ifr;
	bool lo;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifn);
	lo = !ioctl(fd, SIOCGIFFLAGS, &ifr) && (ifr.ifr_flags & IFF_LOOPBACK);
	close(fd);
	return lo;
}

/**
 * setup_iface_check() - both interfaces exist under exactly their names,
 * and neither is a loopback device (masquerade out of lo, or forwarding
 * on it, is never what anyone wants)
 * @cfg:	what up is asked for
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int setup_iface_check(const struct state_cfg *cfg, char *err, size_t errlen)
{
	const char *ifn[2] = { cfg->bridge, cfg->uplink };
	int i;

	for (i = 0; i < 2; i++) {
		if (valid_ifname_exists(ifn[i], err, errlen))
			return -1;
		if (setup_iface_loopback(ifn[i]))
			return snprintf(err, errlen, "%s %s is a loopback "
					"device", i ? "--uplink" : "--bridge",
					ifn[i]),
			       -1;
	}
	return 0;
}
