// SPDX-License-Identifier: MIT
/*
 * test_transparent.c - which clients may be seen by their own address
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "transparent.h"

static union addr_sock sock(const char *ip, uint16_t port)
{
	union addr_sock a;

	memset(&a, 0, sizeof(a));
	if (strchr(ip, ':')) {
		a.sin6.sin6_family = AF_INET6;
		a.sin6.sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6.sin6_addr), 1);
	} else {
		a.sin.sin_family = AF_INET;
		a.sin.sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &a.sin.sin_addr), 1);
	}
	return a;
}

static void net(struct transparent *t, const char *ip, unsigned prefix)
{
	struct transparent_net *n = &t->nets[t->nnets++];
	union addr_sock a = sock(ip, 0);

	n->ip.family = a.sa.sa_family;
	if (a.sa.sa_family == AF_INET6)
		n->ip.v6 = a.sin6.sin6_addr;
	else
		n->ip.v4 = a.sin.sin_addr;
	n->prefix = prefix;
}

static void test_in_net(void **state)
{
	static const struct {
		const char *net;
		unsigned prefix;
		const char *ip;
		bool in;
	} cases[] = {
		{ "172.17.0.1", 16, "172.17.5.9", true },
		{ "172.17.0.1", 16, "172.18.0.1", false },
		{ "172.17.0.1", 12, "172.31.255.1", true },
		{ "172.17.0.1", 12, "172.32.0.1", false },
		{ "203.0.113.1", 24, "203.0.113.255", true },
		{ "203.0.113.1", 25, "203.0.113.200", false },
		{ "203.0.113.1", 32, "203.0.113.1", true },
		{ "203.0.113.1", 32, "203.0.113.2", false },
		{ "203.0.113.1", 0, "198.51.100.7", true },
		{ "2001:db8:1::1", 64, "2001:db8:1::abcd", true },
		{ "2001:db8:1::1", 64, "2001:db8:2::1", false },
		{ "2001:db8:1::1", 61, "2001:db8:1:7::1", true },
		{ "2001:db8:1::1", 61, "2001:db8:1:8::1", false },
		/* another family is never inside */
		{ "2001:db8:1::1", 0, "203.0.113.1", false },
		{ "203.0.113.1", 0, "2001:db8:1::1", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct transparent t = { .nnets = 0 };
		union addr_sock a = sock(cases[i].ip, 1);

		net(&t, cases[i].net, cases[i].prefix);
		assert_int_equal(transparent_in_net(&t.nets[0], &a),
				 cases[i].in);
	}
}

static void test_check(void **state)
{
	static const struct {
		int family;
		const char *ip;
		enum transparent_why why;
	} cases[] = {
		{ AF_INET, "198.51.100.2", TRANSPARENT_USED },
		{ AF_INET, "127.0.0.1", TRANSPARENT_LOOPBACK },
		{ AF_INET, "127.9.8.7", TRANSPARENT_LOOPBACK },
		{ AF_INET, "203.0.113.9", TRANSPARENT_BRIDGE },
		{ AF_INET, "2001:db8:9::2", TRANSPARENT_FAMILY },
		{ AF_INET6, "2001:db8:9::2", TRANSPARENT_USED },
		{ AF_INET6, "::1", TRANSPARENT_LOOPBACK },
		{ AF_INET6, "::ffff:127.0.0.1", TRANSPARENT_LOOPBACK },
		{ AF_INET6, "2001:db8:1::7", TRANSPARENT_BRIDGE },
		{ AF_INET6, "198.51.100.2", TRANSPARENT_FAMILY },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct transparent t = { .family = cases[i].family };
		union addr_sock a = sock(cases[i].ip, 40000);

		net(&t, "203.0.113.1", 24);
		net(&t, "2001:db8:1::1", 64);
		assert_int_equal(transparent_check(&t, &a), cases[i].why);
	}
}

/* The container's network is the one of the interface that routes to it:
 * here loopback, so 127.0.0.0/8 (and ::1/128) are learned */
static void test_init_loopback(void **state)
{
	union addr_sock target = sock("127.0.0.1", 9), c = sock("127.1.2.3", 5);
	struct transparent t;
	char err[128];

	(void)state;
	assert_int_equal(transparent_init(&t, &target, err, sizeof(err)), 0);
	assert_int_equal(t.family, AF_INET);
	assert_true(t.nnets >= 1);
	assert_true(transparent_in_net(&t.nets[0], &c) ||
		    transparent_in_net(&t.nets[t.nnets - 1], &c));
	assert_string_equal(transparent_why_name(TRANSPARENT_BRIDGE),
			    "container network");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_net),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_init_loopback),
	};

	return cmocka_run_group_tests_name("transparent", tests, NULL, NULL);
}
