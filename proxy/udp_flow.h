/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_UDP_FLOW_H
#define STRAIT_UDP_FLOW_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define UDP_FLOW_NONE UINT32_MAX

/**
 * union udp_flow_addr - a client's IPv4 or IPv6 address and port
 * @sa:		generic view
 * @sin:	IPv4
 * @sin6:	IPv6
 */
union udp_flow_addr {
	struct sockaddr sa;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
};

/**
 * struct udp_flow - one client and its connected socket towards the container
 * @client:	the client's address (the key)
 * @local:	where the client sent to: replies leave from there
 * @ifindex:	interface the client's last datagram came in on
 * @fd:		connected socket towards the container, -1 if none yet
 * @data:	the owner's per-flow state (its event)
 * @owner:	the owner of the table, for callbacks that only get the flow
 * @last_ms:	last client-to-container datagram, in the caller's clock
 * @hnext:	next flow in the same hash bucket
 * @prev:	less recently used flow
 * @next:	more recently used flow
 * @used:	slot holds a flow
 */
struct udp_flow {
	union udp_flow_addr client;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} local;
	int ifindex;
	int fd;
	void *data, *owner;
	uint64_t last_ms;
	uint32_t hnext, prev, next;
	bool used;
};

/**
 * struct udp_flow_table - fixed-capacity flow table, keyed hash, LRU order
 * @flows:	@cap slots
 * @buckets:	heads of the hash chains, @nbuckets of them (a power of two)
 * @nbuckets:	number of buckets
 * @cap:	most flows held
 * @n:		flows held
 * @free:	first free slot (chained through @hnext)
 * @unused:	slots from here on were never used (not even touched, so an
 *		idle table costs no memory)
 * @oldest:	least recently used flow
 * @newest:	most recently used flow
 * @key:	SipHash key, secret, chosen at start
 * @evicted:	flows dropped to make room, for the logs
 */
struct udp_flow_table {
	struct udp_flow *flows;
	uint32_t *buckets;
	uint32_t nbuckets, cap, n, free, unused;
	uint32_t oldest, newest;
	uint64_t key[2];
	unsigned long long evicted;
};

int udp_flow_table_init(struct udp_flow_table *t, uint32_t cap,
			const uint8_t key[16]);
void udp_flow_table_free(struct udp_flow_table *t);
uint64_t udp_flow_hash(const struct udp_flow_table *t,
		       const union udp_flow_addr *a);
struct udp_flow *udp_flow_lookup(struct udp_flow_table *t,
				 const union udp_flow_addr *a);
struct udp_flow *udp_flow_insert(struct udp_flow_table *t,
				 const union udp_flow_addr *a, uint64_t now);
void udp_flow_touch(struct udp_flow_table *t, struct udp_flow *f,
		    uint64_t now);
void udp_flow_remove(struct udp_flow_table *t, struct udp_flow *f);
struct udp_flow *udp_flow_oldest(struct udp_flow_table *t);
struct udp_flow *udp_flow_expired(struct udp_flow_table *t, uint64_t now,
				  uint64_t timeout);

#endif
