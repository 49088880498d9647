/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_TRANSPARENT_H
#define STRAIT_TRANSPARENT_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

/* Networks of the container's own link we remember (its bridge's) */
#define TRANSPARENT_NETS 16

/* Why a client went through the plain connect instead */
enum transparent_why {
	TRANSPARENT_USED = 0,	/* it did not: the client's address was used */
	TRANSPARENT_LOOPBACK,	/* a loopback client (127.0.0.0/8, ::1) */
	TRANSPARENT_BRIDGE,	/* a client on the container's own network */
	TRANSPARENT_FAMILY,	/* IPv6 client, IPv4 container or the reverse */
	TRANSPARENT_FAILED,	/* the transparent socket could not be made */
	TRANSPARENT_NWHY,
};

/**
 * struct transparent_net - one network of the container's link
 * @ip:		an address of the host there
 * @prefix:	its prefix length
 */
struct transparent_net {
	struct addr_ip ip;
	unsigned prefix;
};

/**
 * struct transparent - what transparent mode needs to decide per client
 * @nets:	the container's link's networks, from the host's addresses on
 *		the interface that routes to the container
 * @nnets:	entries in @nets
 * @family:	the container's address family
 * @count:	clients per outcome, [TRANSPARENT_USED] those that used it
 * @warned:	the warning about missing routing was logged
 */
struct transparent {
	struct transparent_net nets[TRANSPARENT_NETS];
	unsigned nnets;
	int family;
	unsigned long long count[TRANSPARENT_NWHY];
	bool warned;
};

int transparent_init(struct transparent *t, const union addr_sock *target,
		     char *err, size_t errlen);
enum transparent_why transparent_check(const struct transparent *t,
				       const union addr_sock *client);
int transparent_socket(const union addr_sock *client, int type);
int transparent_open(struct transparent *t, const union addr_sock *client,
		     int family, int type, bool *used, int *failed);
bool transparent_in_net(const struct transparent_net *n,
			const union addr_sock *a);
const char *transparent_why_name(enum transparent_why why);

#endif
