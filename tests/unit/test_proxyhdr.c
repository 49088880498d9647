// SPDX-License-Identifier: MIT
/* test_proxyhdr.c - PROXY protocol headers, byte for byte as HAProxy's
 * proxy-protocol.txt lays them out */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "proxyhdr.h"

static const unsigned char sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				       0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static struct sockaddr_in6 v6(const char *ip, uint16_t port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6,
				  .sin6_port = htons(port) };

	assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6_addr), 1);
	return a;
}

/* proxyhdr_build() over two sockaddr_* of any kind */
#define BUILD(v, src, dst, buf, len)                                         \
	proxyhdr_build(v, (const void *)(src), (const void *)(dst),          \
		       (char *)(buf), len)

static void test_v1(void **state)
{
	struct sockaddr_in c = v4("192.0.2.10", 56324);
	struct sockaddr_in l = v4("198.51.100.1", 443);
	struct sockaddr_in6 c6 = v6("2001:db8::10", 40000);
	struct sockaddr_in6 l6 = v6("2001:db8::1", 8080);
	const char *want4 = "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n";
	const char *want6 =
		"PROXY TCP6 2001:db8::10 2001:db8::1 40000 8080\r\n";
	char buf[PROXYHDR_MAX];

	(void)state;
	assert_int_equal(BUILD(1, &c, &l, buf, sizeof(buf)),
			 (int)strlen(want4));
	assert_memory_equal(buf, want4, strlen(want4));
	assert_int_equal(BUILD(1, &c6, &l6, buf, sizeof(buf)),
			 (int)strlen(want6));
	assert_memory_equal(buf, want6, strlen(want6));
	/* ends of two families: the receiver uses the connection's own */
	assert_int_equal(BUILD(1, &c, &l6, buf, sizeof(buf)), 15);
	assert_memory_equal(buf, "PROXY UNKNOWN\r\n", 15);
	/* too small a buffer is refused, never truncated */
	assert_int_equal(BUILD(1, &c, &l, buf, strlen(want4)), -1);
}

/* The longest text header there can be fits PROXYHDR_MAX, within the 107
 * bytes the specification allows */
static void test_v1_longest(void **state)
{
	struct sockaddr_in6 a =
		v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
	char buf[PROXYHDR_MAX];
	int n;

	(void)state;
	n = BUILD(1, &a, &a, buf, sizeof(buf));
	assert_true(n > 0 && n <= 107);
}

static void test_v2(void **state)
{
	static const unsigned char tail4[] = {
		0x21, 0x11, 0x00, 0x0c, /* v2 PROXY, TCP over IPv4, 12 */
		192,  0,    2,    10,	/* source */
		198,  51,   100,  1,	/* destination */
		0xdc, 0x04,		/* 56324 */
		0x01, 0xbb,		/* 443 */
	};
	static const unsigned char tail6[] = {
		0x21, 0x21, 0x00, 0x24, /* v2 PROXY, TCP over IPv6, 36 */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
		0x9c, 0x40,		/* 40000 */
		0x1f, 0x90,		/* 8080 */
	};
	static const unsigned char unspec[] = { 0x21, 0x00, 0x00, 0x00 };
	struct sockaddr_in c = v4("192.0.2.10", 56324);
	struct sockaddr_in l = v4("198.51.100.1", 443);
	struct sockaddr_in6 c6 = v6("2001:db8::10", 40000);
	struct sockaddr_in6 l6 = v6("2001:db8::1", 8080);
	unsigned char buf[PROXYHDR_MAX];

	(void)state;
	assert_int_equal(BUILD(2, &c, &l, buf, sizeof(buf)), 28);
	assert_memory_equal(buf, sig, 12);
	assert_memory_equal(buf + 12, tail4, sizeof(tail4));
	assert_int_equal(BUILD(2, &c6, &l6, buf, sizeof(buf)), 52);
	assert_memory_equal(buf, sig, 12);
	assert_memory_equal(buf + 12, tail6, sizeof(tail6));
	assert_int_equal(BUILD(2, &c6, &l, buf, sizeof(buf)), 16);
	assert_memory_equal(buf + 12, unspec, sizeof(unspec));
	assert_int_equal(BUILD(2, &c6, &l6, buf, 51), -1);
	assert_int_equal(BUILD(3, &c, &l, buf, sizeof(buf)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1),
		cmocka_unit_test(test_v1_longest),
		cmocka_unit_test(test_v2),
	};

	return cmocka_run_group_tests_name("proxyhdr", tests, NULL, NULL);
}
