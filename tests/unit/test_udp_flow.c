// SPDX-License-Identifier: MIT
/* test_udp_flow.c - the UDP flow table, with no sockets and no sleeping */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "udp_flow.h"

static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8,
				 9, 10, 11, 12, 13, 14, 15, 16 };

static union udp_flow_addr v4(const char *ip, uint16_t port)
{
	union udp_flow_addr a;

	memset(&a, 0, sizeof(a));
	a.sin.sin_family = AF_INET;
	a.sin.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &a.sin.sin_addr), 1);
	return a;
}

static union udp_flow_addr v6(const char *ip, uint16_t port)
{
	union udp_flow_addr a;

	memset(&a, 0, sizeof(a));
	a.sin6.sin6_family = AF_INET6;
	a.sin6.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6.sin6_addr), 1);
	return a;
}

static void test_insert_lookup_remove(void **state)
{
	struct udp_flow_table t;
	union udp_flow_addr a = v4("192.0.2.1", 5000), b = v4("192.0.2.1", 5001),
			    c = v6("2001:db8::1", 5000);
	struct udp_flow *fa, *fb, *fc;

	(void)state;
	assert_int_equal(udp_flow_table_init(&t, 8, key), 0);
	assert_null(udp_flow_lookup(&t, &a));
	fa = udp_flow_insert(&t, &a, 100);
	fb = udp_flow_insert(&t, &b, 100);
	fc = udp_flow_insert(&t, &c, 100);
	assert_non_null(fa);
	assert_non_null(fb);
	assert_non_null(fc);
	assert_int_equal(fa->fd, -1);
	assert_ptr_equal(udp_flow_lookup(&t, &a), fa);
	assert_ptr_equal(udp_flow_lookup(&t, &b), fb);
	assert_ptr_equal(udp_flow_lookup(&t, &c), fc);
	assert_int_equal(t.n, 3);
	/* same port, other address or family: no flow */
	{
		union udp_flow_addr d = v4("192.0.2.2", 5000),
				    e = v6("::ffff:192.0.2.1", 5000);

		assert_null(udp_flow_lookup(&t, &d));
		assert_null(udp_flow_lookup(&t, &e));
	}
	udp_flow_remove(&t, fb);
	assert_null(udp_flow_lookup(&t, &b));
	assert_ptr_equal(udp_flow_lookup(&t, &a), fa);
	assert_ptr_equal(udp_flow_lookup(&t, &c), fc);
	assert_int_equal(t.n, 2);
	udp_flow_table_free(&t);
	assert_int_equal(udp_flow_table_init(&t, 0, key), -1);
}

/* Idle time counts from the last client datagram: expiry at exactly the
 * timeout, not a millisecond before */
static void test_expiry_exact(void **state)
{
	struct udp_flow_table t;
	union udp_flow_addr a = v4("192.0.2.1", 5000);
	struct udp_flow *f;

	(void)state;
	assert_int_equal(udp_flow_table_init(&t, 4, key), 0);
	f = udp_flow_insert(&t, &a, 1000);
	assert_null(udp_flow_expired(&t, 1000 + 89999, 90000));
	assert_ptr_equal(udp_flow_expired(&t, 1000 + 90000, 90000), f);
	udp_flow_remove(&t, f);
	assert_null(udp_flow_expired(&t, 1000000, 90000));
	udp_flow_table_free(&t);
}

/* A client that keeps sending keeps its flow; a silent one expires */
static void test_keeps_sending(void **state)
{
	struct udp_flow_table t;
	union udp_flow_addr a = v4("192.0.2.1", 5000), b = v4("192.0.2.2", 5000);
	struct udp_flow *fa, *fb, *e;
	uint64_t now;

	(void)state;
	assert_int_equal(udp_flow_table_init(&t, 4, key), 0);
	fa = udp_flow_insert(&t, &a, 0);
	fb = udp_flow_insert(&t, &b, 0);
	for (now = 10; now <= 1000; now += 10) {
		udp_flow_touch(&t, fa, now);
		e = udp_flow_expired(&t, now, 100);
		if (now < 100) {
			assert_null(e);
		} else if (e) {
			assert_ptr_equal(e, fb);
			udp_flow_remove(&t, e);
		}
	}
	assert_ptr_equal(udp_flow_lookup(&t, &a), fa);
	assert_null(udp_flow_lookup(&t, &b));
	assert_null(udp_flow_expired(&t, 1000, 100));
	assert_ptr_equal(udp_flow_expired(&t, 1100, 100), fa);
	udp_flow_table_free(&t);
}

/* Full: insert refuses; the oldest by last client datagram goes first */
static void test_full_eviction(void **state)
{
	struct udp_flow_table t;
	struct udp_flow *f[4], *o;
	union udp_flow_addr a[5];
	int i;

	(void)state;
	assert_int_equal(udp_flow_table_init(&t, 4, key), 0);
	for (i = 0; i < 5; i++)
		a[i] = v4("198.51.100.7", (uint16_t)(40000 + i));
	for (i = 0; i < 4; i++)
		f[i] = udp_flow_insert(&t, &a[i], (uint64_t)i);
	assert_null(udp_flow_insert(&t, &a[4], 10));
	udp_flow_touch(&t, f[0], 11);	/* flow 0 is recent again */
	o = udp_flow_oldest(&t);
	assert_ptr_equal(o, f[1]);
	udp_flow_remove(&t, o);
	assert_non_null(udp_flow_insert(&t, &a[4], 12));
	assert_null(udp_flow_lookup(&t, &a[1]));
	assert_ptr_equal(udp_flow_oldest(&t), f[2]);
	for (i = 0; i < 5; i++)
		assert_true(i == 1 || udp_flow_lookup(&t, &a[i]) != NULL);
	udp_flow_table_free(&t);
}

/* Many clients, one address, consecutive ports: spread evenly */
static void test_hash_spread(void **state)
{
	enum { CAP = 4096, N = 4096 };
	struct udp_flow_table t;
	unsigned *count, max = 0, empty = 0;
	union udp_flow_addr a;
	uint8_t other[16];
	int i;

	(void)state;
	assert_int_equal(udp_flow_table_init(&t, CAP, key), 0);
	count = calloc(t.nbuckets, sizeof(*count));
	assert_non_null(count);
	for (i = 0; i < N; i++) {
		a = v4("203.0.113.9", (uint16_t)(1024 + i));
		count[udp_flow_hash(&t, &a) & (t.nbuckets - 1)]++;
	}
	for (i = 0; i < (int)t.nbuckets; i++) {
		if (count[i] > max)
			max = count[i];
		empty += !count[i];
	}
	/* a uniform hash: ~37% empty buckets, longest chain ~7 */
	assert_true(max <= 10);
	assert_in_range(empty, t.nbuckets / 4, t.nbuckets / 2);
	/* the secret matters: another key, another hash */
	memcpy(other, key, sizeof(other));
	other[0] ^= 1;
	{
		struct udp_flow_table t2;

		assert_int_equal(udp_flow_table_init(&t2, CAP, other), 0);
		assert_int_not_equal(udp_flow_hash(&t, &a),
				     udp_flow_hash(&t2, &a));
		udp_flow_table_free(&t2);
	}
	free(count);
	udp_flow_table_free(&t);
}

/* Lookups stay right across heavy churn (remove from chain middles) */
static void test_churn(void **state)
{
	enum { CAP = 64 };
	struct udp_flow_table t;
	union udp_flow_addr a;
	struct udp_flow *f;
	uint64_t now = 0;
	int i, live = 0;

	(void)state;
	assert_int_equal(udp_flow_table_init(&t, CAP, key), 0);
	for (i = 0; i < 10000; i++) {
		a = v4("192.0.2.50", (uint16_t)(1 + (i * 7919) % 200));
		f = udp_flow_lookup(&t, &a);
		if (f) {
			if (i % 3 == 0) {
				udp_flow_remove(&t, f);
				live--;
			} else {
				udp_flow_touch(&t, f, ++now);
			}
			continue;
		}
		f = udp_flow_insert(&t, &a, ++now);
		if (!f) {
			udp_flow_remove(&t, udp_flow_oldest(&t));
			live--;
			f = udp_flow_insert(&t, &a, now);
		}
		assert_non_null(f);
		live++;
		assert_ptr_equal(udp_flow_lookup(&t, &a), f);
	}
	assert_int_equal(t.n, (uint32_t)live);
	assert_true(t.n <= CAP);
	udp_flow_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_lookup_remove),
		cmocka_unit_test(test_expiry_exact),
		cmocka_unit_test(test_keeps_sending),
		cmocka_unit_test(test_full_eviction),
		cmocka_unit_test(test_hash_spread),
		cmocka_unit_test(test_churn),
	};

	return cmocka_run_group_tests_name("udp_flow", tests, NULL, NULL);
}
