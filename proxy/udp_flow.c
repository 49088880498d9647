// SPDX-License-Identifier: MIT
/*
 * udp_flow.c - the UDP flow table: a plain data structure, no sockets
 *
 * Theory of operation: every slot is allocated up front, so no client can
 * grow memory past the capacity. Lookups go through a hash of the client's
 * address and port keyed with a secret chosen at start (SipHash-2-4), so a
 * client cannot choose source ports that pile into one bucket. Flows sit on
 * one list in the order the client last sent to the container: the head is
 * both the least recently used flow (evicted when the table is full) and
 * the next to expire, since the idle timeout counts from the last
 * client-to-container datagram (Docker 28.0.2+ semantics: replies alone do
 * not keep a flow alive, and a client that keeps sending keeps its flow and
 * its source port). Time is passed in, so tests never sleep.
 */
#include "udp_flow.h"

#include <stdlib.h>
#include <string.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void udp_flow_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL(v[2], 32);
}

static uint64_t udp_flow_le64(const uint8_t *p, size_t n)
{
	uint64_t x = 0;
	size_t i;

	for (i = 0; i < n; i++)
		x |= (uint64_t)p[i] << (8 * i);
	return x;
}

/* SipHash-2-4 of @len bytes at @in */
static uint64_t udp_flow_siphash(const uint64_t key[2], const uint8_t *in,
				 size_t len)
{
	uint64_t v[4] = { key[0] ^ 0x736f6d6570736575ULL,
			  key[1] ^ 0x646f72616e646f6dULL,
			  key[0] ^ 0x6c7967656e657261ULL,
			  key[1] ^ 0x7465646279746573ULL };
	uint64_t m, b = (uint64_t)len << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = udp_flow_le64(in + i, 8);
		v[3] ^= m;
		udp_flow_sipround(v);
		udp_flow_sipround(v);
		v[0] ^= m;
	}
	b |= udp_flow_le64(in + i, len - i);
	v[3] ^= b;
	udp_flow_sipround(v);
	udp_flow_sipround(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (i = 0; i < 4; i++)
		udp_flow_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/**
 * udp_flow_hash() - keyed hash of a client address and port
 * @t:		table (holds the key)
 * @a:		client address
 *
 * Return: 64-bit hash
 */
uint64_t udp_flow_hash(const struct udp_flow_table *t,
		       const union udp_flow_addr *a)
{
	uint8_t buf[2 + 2 + 16 + 4];
	size_t n;

	memcpy(buf, &a->sa.sa_family, 2);
	if (a->sa.sa_family == AF_INET) {
		memcpy(buf + 2, &a->sin.sin_port, 2);
		memcpy(buf + 4, &a->sin.sin_addr, 4);
		n = 8;
	} else {
		memcpy(buf + 2, &a->sin6.sin6_port, 2);
		memcpy(buf + 4, &a->sin6.sin6_addr, 16);
		memcpy(buf + 20, &a->sin6.sin6_scope_id, 4);
		n = 24;
	}
	return udp_flow_siphash(t->key, buf, n);
}

static bool udp_flow_same(const union udp_flow_addr *x,
			  const union udp_flow_addr *y)
{
	if (x->sa.sa_family != y->sa.sa_family)
		return false;
	if (x->sa.sa_family == AF_INET)
		return x->sin.sin_port == y->sin.sin_port &&
		       x->sin.sin_addr.s_addr == y->sin.sin_addr.s_addr;
	return x->sin6.sin6_port == y->sin6.sin6_port &&
	       x->sin6.sin6_scope_id == y->sin6.sin6_scope_id &&
	       !memcmp(&x->sin6.sin6_addr, &y->sin6.sin6_addr, 16);
}

/**
 * udp_flow_table_init() - allocate every slot of a table
 * @t:		table
 * @cap:	most flows held, at least 1
 * @key:	16 secret bytes for the hash
 *
 * Return: 0, or -1 if out of memory or @cap is 0
 */
int udp_flow_table_init(struct udp_flow_table *t, uint32_t cap,
			const uint8_t key[16])
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	if (cap == 0 || cap > (1U << 24))
		return -1;
	for (t->nbuckets = 1; t->nbuckets < cap; t->nbuckets <<= 1)
		;
	t->flows = calloc(cap, sizeof(*t->flows));
	t->buckets = malloc(t->nbuckets * sizeof(*t->buckets));
	if (!t->flows || !t->buckets) {
		udp_flow_table_free(t);
		return -1;
	}
	for (i = 0; i < t->nbuckets; i++)
		t->buckets[i] = UDP_FLOW_NONE;
	t->cap = cap;
	t->free = UDP_FLOW_NONE;
	t->oldest = t->newest = UDP_FLOW_NONE;
	t->key[0] = udp_flow_le64(key, 8);
	t->key[1] = udp_flow_le64(key + 8, 8);
	return 0;
}

/**
 * udp_flow_table_free() - release the slots (not the flows' sockets)
 * @t:		table
 */
void udp_flow_table_free(struct udp_flow_table *t)
{
	free(t->flows);
	free(t->buckets);
	t->flows = NULL;
	t->buckets = NULL;
	t->cap = t->n = 0;
}

static uint32_t udp_flow_idx(const struct udp_flow_table *t,
			     const struct udp_flow *f)
{
	return (uint32_t)(f - t->flows);
}

/**
 * udp_flow_lookup() - the flow of a client, if it has one
 * @t:		table
 * @a:		client address
 *
 * Return: the flow, or NULL
 */
struct udp_flow *udp_flow_lookup(struct udp_flow_table *t,
				 const union udp_flow_addr *a)
{
	uint32_t i;

	if (!t->n)
		return NULL;
	i = t->buckets[udp_flow_hash(t, a) & (t->nbuckets - 1)];
	for (; i != UDP_FLOW_NONE; i = t->flows[i].hnext) {
		if (udp_flow_same(&t->flows[i].client, a))
			return &t->flows[i];
	}
	return NULL;
}

static void udp_flow_unlink(struct udp_flow_table *t, struct udp_flow *f)
{
	if (f->prev != UDP_FLOW_NONE)
		t->flows[f->prev].next = f->next;
	else
		t->oldest = f->next;
	if (f->next != UDP_FLOW_NONE)
		t->flows[f->next].prev = f->prev;
	else
		t->newest = f->prev;
}

static void udp_flow_append(struct udp_flow_table *t, struct udp_flow *f)
{
	uint32_t i = udp_flow_idx(t, f);

	f->prev = t->newest;
	f->next = UDP_FLOW_NONE;
	if (t->newest != UDP_FLOW_NONE)
		t->flows[t->newest].next = i;
	else
		t->oldest = i;
	t->newest = i;
}

/**
 * udp_flow_insert() - add a flow for a client that has none
 * @t:		table
 * @a:		client address
 * @now:	current time
 *
 * Return: the new flow (fd -1, data NULL), or NULL if the table is full:
 *	   the caller then frees the oldest flow's resources, removes it, and
 *	   tries again
 */
struct udp_flow *udp_flow_insert(struct udp_flow_table *t,
				 const union udp_flow_addr *a, uint64_t now)
{
	struct udp_flow *f;
	uint32_t b;

	if (t->free != UDP_FLOW_NONE) {
		f = &t->flows[t->free];
		t->free = f->hnext;
	} else if (t->unused < t->cap) {
		f = &t->flows[t->unused++];
	} else {
		return NULL;
	}
	memset(f, 0, sizeof(*f));
	f->client = *a;
	f->fd = -1;
	f->used = true;
	f->last_ms = now;
	b = (uint32_t)(udp_flow_hash(t, a) & (t->nbuckets - 1));
	f->hnext = t->buckets[b];
	t->buckets[b] = udp_flow_idx(t, f);
	udp_flow_append(t, f);
	t->n++;
	return f;
}

/**
 * udp_flow_touch() - the client sent again: newest, and idle from @now
 * @t:		table
 * @f:		flow
 * @now:	current time
 */
void udp_flow_touch(struct udp_flow_table *t, struct udp_flow *f,
		    uint64_t now)
{
	f->last_ms = now;
	if (t->newest == udp_flow_idx(t, f))
		return;
	udp_flow_unlink(t, f);
	udp_flow_append(t, f);
}

/**
 * udp_flow_remove() - drop a flow (its socket is the caller's to close)
 * @t:		table
 * @f:		flow
 */
void udp_flow_remove(struct udp_flow_table *t, struct udp_flow *f)
{
	uint32_t i = udp_flow_idx(t, f);
	uint32_t *p = &t->buckets[udp_flow_hash(t, &f->client) &
				  (t->nbuckets - 1)];

	while (*p != i)
		p = &t->flows[*p].hnext;
	*p = f->hnext;
	udp_flow_unlink(t, f);
	f->used = false;
	f->fd = -1;
	f->data = NULL;
	f->hnext = t->free;
	t->free = i;
	t->n--;
}

/**
 * udp_flow_oldest() - the least recently used flow
 * @t:		table
 *
 * Return: the flow, or NULL if the table is empty or was never set up
 */
struct udp_flow *udp_flow_oldest(struct udp_flow_table *t)
{
	/* a table never set up (all zero) holds nothing either */
	return !t->flows || t->oldest == UDP_FLOW_NONE ? NULL
						     : &t->flows[t->oldest];
}

/**
 * udp_flow_expired() - the oldest flow if it has been idle @timeout or more
 * @t:		table
 * @now:	current time
 * @timeout:	idle timeout, same unit as @now
 *
 * Return: an expired flow (to be removed by the caller), or NULL if none
 */
struct udp_flow *udp_flow_expired(struct udp_flow_table *t, uint64_t now,
				  uint64_t timeout)
{
	struct udp_flow *f = udp_flow_oldest(t);

	if (f && now >= f->last_ms && now - f->last_ms >= timeout)
		return f;
	return NULL;
}
