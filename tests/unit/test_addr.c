// SPDX-License-Identifier: MIT
/* test_addr.c - address and port parsing, formatting in Go's shape */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "addr.h"

struct ip_case {
	const char *in;
	int lax;	/* family when parsed leniently, 0 if refused */
	int strict;	/* family when parsed strictly, 0 if refused */
	const char *out;	/* canonical form */
};

static const struct ip_case ip_cases[] = {
	{ "127.0.0.1", AF_INET, AF_INET, "127.0.0.1" },
	{ "0.0.0.0", AF_INET, AF_INET, "0.0.0.0" },
	{ "255.255.255.255", AF_INET, AF_INET, "255.255.255.255" },
	{ "::", AF_INET6, AF_INET6, "::" },
	{ "::1", AF_INET6, AF_INET6, "::1" },
	{ "2001:db8::1", AF_INET6, AF_INET6, "2001:db8::1" },
	{ "2001:DB8::1", AF_INET6, 0, "2001:db8::1" },
	{ "2001:db8:0:0:0:0:0:1", AF_INET6, 0, "2001:db8::1" },
	{ "::ffff:192.0.2.1", AF_INET6, AF_INET6, "::ffff:192.0.2.1" },
	/* the hostile spellings from spec/netsetup.md */
	{ "0x7f.0.0.1", 0, 0, NULL },
	{ "010.0.0.1", 0, 0, NULL },
	{ "192.0.2", 0, 0, NULL },
	{ "192.0.2.1/24", 0, 0, NULL },
	{ "192.0.2.256", 0, 0, NULL },
	{ " 192.0.2.1", 0, 0, NULL },
	{ "192.0.2.1\n", 0, 0, NULL },
	{ "fe80::1%lo", 0, 0, NULL },
	{ "[::1]", 0, 0, NULL },
	{ "", 0, 0, NULL },
	{ "localhost", 0, 0, NULL },
};

static void test_parse_ip(void **state)
{
	char buf[INET6_ADDRSTRLEN];
	struct addr_ip ip;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ip_cases) / sizeof(ip_cases[0]); i++) {
		const struct ip_case *c = &ip_cases[i];

		assert_int_equal(addr_parse_ip(c->in, false, &ip),
				 c->lax ? 0 : -1);
		if (c->lax) {
			assert_int_equal(ip.family, c->lax);
			assert_int_equal(addr_format_ip(&ip, buf, sizeof(buf)),
					 0);
			assert_string_equal(buf, c->out);
		}
		assert_int_equal(addr_parse_ip(c->in, true, &ip),
				 c->strict ? 0 : -1);
	}
}

static void test_parse_port(void **state)
{
	static const struct {
		const char *in;
		int ok;
		uint16_t port;
	} cases[] = {
		{ "1", 1, 1 },	     { "80", 1, 80 },	  { "65535", 1, 65535 },
		{ "08080", 1, 8080 }, { "0", 0, 0 },	  { "65536", 0, 0 },
		{ "99999", 0, 0 },   { "100000", 0, 0 }, { "-1", 0, 0 },
		{ "+80", 0, 0 },     { " 80", 0, 0 },	  { "80 ", 0, 0 },
		{ "0x50", 0, 0 },    { "", 0, 0 },	  { "4294967377", 0, 0 },
	};
	uint16_t port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		port = 7;
		assert_int_equal(addr_parse_port(cases[i].in, &port),
				 cases[i].ok ? 0 : -1);
		assert_int_equal(port, cases[i].ok ? cases[i].port : 7);
	}
}

/* The one range parser: whole strings, and an item of a list (@n short) */
static void test_parse_range(void **state)
{
	static const struct {
		const char *in;
		size_t n;	/* 0: strlen(in) */
		int ok;
		uint16_t first, last;
	} cases[] = {
		{ "80", 0, 1, 80, 80 },
		{ "8000-8010", 0, 1, 8000, 8010 },
		{ "1-65535", 0, 1, 1, 65535 },
		{ "5-5", 0, 1, 5, 5 },
		{ "08000-08001", 0, 1, 8000, 8001 },
		{ "8010-8000", 0, 0, 0, 0 },	/* backwards */
		{ "-80", 0, 0, 0, 0 },		/* a sign */
		{ "80-", 0, 0, 0, 0 },
		{ "-", 0, 0, 0, 0 },
		{ "", 0, 0, 0, 0 },
		{ "0-80", 0, 0, 0, 0 },
		{ "80-65536", 0, 0, 0, 0 },
		{ "1-2-3", 0, 0, 0, 0 },
		{ "80 -90", 0, 0, 0, 0 },
		{ "100000-100001", 0, 0, 0, 0 },
		{ "443,8000-8010", 3, 1, 443, 443 },	/* a list's items */
		{ "8000-8010,443", 9, 1, 8000, 8010 },
		{ "8000-8010,443", 6, 0, 0, 0 },	/* "8000-8" < 8000 */
		{ "8000-8010,443", 5, 0, 0, 0 },	/* "8000-" */
		{ "80,90", 0, 0, 0, 0 },	/* a comma is no digit */
	};
	uint16_t first, last;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		first = last = 7;
		n = cases[i].n ? cases[i].n : strlen(cases[i].in);
		assert_int_equal(addr_parse_range(cases[i].in, n, &first,
						  &last),
				 cases[i].ok ? 0 : -1);
		if (cases[i].ok) {
			assert_int_equal(first, cases[i].first);
			assert_int_equal(last, cases[i].last);
		}
	}
}

static void test_proto_name(void **state)
{
	(void)state;
	assert_string_equal(addr_proto_name(IPPROTO_TCP), "tcp");
	assert_string_equal(addr_proto_name(IPPROTO_UDP), "udp");
	assert_string_equal(addr_proto_name(IPPROTO_SCTP), "sctp");
}

static void test_format_sock(void **state)
{
	static const struct {
		const char *ip;
		uint16_t port;
		const char *out;
	} cases[] = {
		{ "0.0.0.0", 8001, "0.0.0.0:8001" },
		{ "127.0.0.1", 80, "127.0.0.1:80" },
		{ "::", 8001, "[::]:8001" },
		{ "::1", 65535, "[::1]:65535" },
		{ "2001:db8::5", 1, "[2001:db8::5]:1" },
	};
	char buf[ADDR_STRLEN], small[8];
	union addr_sock sa;
	struct addr_ip ip;
	socklen_t len;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(addr_parse_ip(cases[i].ip, true, &ip), 0);
		len = addr_to_sock(&ip, cases[i].port, &sa);
		assert_int_equal(len, ip.family == AF_INET
					      ? sizeof(struct sockaddr_in)
					      : sizeof(struct sockaddr_in6));
		assert_int_equal(addr_format_sock(&sa.sa, buf, sizeof(buf)), 0);
		assert_string_equal(buf, cases[i].out);
	}
	/* the longest address fits ADDR_STRLEN; a short buffer is refused */
	assert_int_equal(addr_parse_ip("ffff:ffff:ffff:ffff:ffff:ffff:255.255."
				       "255.255",
				       false, &ip),
			 0);
	addr_to_sock(&ip, 65535, &sa);
	assert_int_equal(addr_format_sock(&sa.sa, buf, sizeof(buf)), 0);
	assert_int_equal(addr_format_sock(&sa.sa, small, sizeof(small)), -1);
	sa.sa.sa_family = AF_UNIX;
	assert_int_equal(addr_format_sock(&sa.sa, buf, sizeof(buf)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ip),
		cmocka_unit_test(test_parse_port),
		cmocka_unit_test(test_parse_range),
		cmocka_unit_test(test_proto_name),
		cmocka_unit_test(test_format_sock),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
