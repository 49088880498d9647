// SPDX-License-Identifier: MIT
/* test_valid.c - hostile names, addresses, networks and ports */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "valid.h"

static void test_ifnames(void **state)
{
	static const char *const good[] = { "eth0", "docker0", "br-1a2b3c",
					    "a", "wg_0.1", "x123456789abcde",
					    "All", "..." };
	/* spec/netsetup.md: the kernel creates all of these */
	static const char *const bad[] = {
		"x\";drop", "eth+", "-j", "x\"accept;#", "../conf/all", ".",
		"..", "all", "default", "", "x123456789abcdef", "eth 0",
		"eth0\n", "a/b", "eth*", "br0;", "\xc3\xa9th0", "-",
	};
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(valid_ifname(good[i], err, sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(valid_ifname(bad[i], err, sizeof(err)), -1);
		assert_true(strlen(err) > 0);
		assert_null(strchr(err, '\n'));
	}
	/* the spelling is checked before the kernel is asked */
	assert_int_equal(valid_ifname_exists("x\";drop", err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "bad interface name"));
	assert_int_equal(valid_ifname_exists("lo", err, sizeof(err)), 0);
	assert_int_equal(valid_ifname_exists("nosuchif0", err, sizeof(err)),
			 -1);
	assert_string_equal(err, "no interface named \"nosuchif0\"");
}

static void test_cidrs(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{ "172.17.0.0/16", "172.17.0.0/16" },
		{ "192.0.2.0/24", "192.0.2.0/24" },
		{ "192.0.2.128/25", "192.0.2.128/25" },
		{ "192.0.2.7/32", "192.0.2.7/32" },
		{ "2001:db8::/32", "2001:db8::/32" },
		{ "172.17.0.1/16", NULL },	/* host bits */
		{ "0.0.0.0/0", NULL },		/* /0 */
		{ "192.0.2.0/33", NULL },	{ "192.0.2.0/024", NULL },
		{ "192.0.2.0/", NULL },		{ "192.0.2.0", NULL },
		{ "010.0.0.0/8", NULL },	{ "0x7f.0.0.0/8", NULL },
		{ "192.0.2/24", NULL },		{ "192.0.2.0/24x", NULL },
		{ "192.0.2.0/-1", NULL },	{ "2001:DB8::/32", NULL },
		{ "2001:db8::/129", NULL },
	};
	struct valid_cidr c;
	char err[128], buf[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = valid_cidr(cases[i].in, &c, err, sizeof(err));

		assert_int_equal(rc, cases[i].out ? 0 : -1);
		if (!cases[i].out)
			continue;
		assert_int_equal(valid_format_cidr(&c, buf, sizeof(buf)), 0);
		assert_string_equal(buf, cases[i].out);
	}
}

static void test_publish(void **state)
{
	static const struct {
		const char *in;
		int ok, proto, family;
		uint16_t port, last;
	} cases[] = {
		{ "udp:192.0.2.11:10000-10999", 1, IPPROTO_UDP, AF_INET, 10000,
		  10999 },
		{ "tcp:[2001:db8::1]:1-65535", 1, IPPROTO_TCP, AF_INET6, 1,
		  65535 },
		{ "tcp:192.0.2.11:80-80", 1, IPPROTO_TCP, AF_INET, 80, 80 },
		{ "tcp:192.0.2.11:81-80", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:80-", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:-80", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:80--90", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:80-090", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:0-80", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:80-65536", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:80-90 ", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:8000", 1, IPPROTO_TCP, AF_INET, 8000, 0 },
		{ "udp:0.0.0.0:53", 1, IPPROTO_UDP, AF_INET, 53, 0 },
		{ "tcp:[2001:db8::1]:443", 1, IPPROTO_TCP, AF_INET6, 443, 0 },
		{ "tcp:[::]:1", 1, IPPROTO_TCP, AF_INET6, 1, 0 },
		{ "tcp:192.0.2.11:65535", 1, IPPROTO_TCP, AF_INET, 65535, 0 },
		{ "sctp:192.0.2.11:80", 0, 0, 0, 0, 0 },
		{ "TCP:192.0.2.11:80", 0, 0, 0, 0, 0 },
		{ "tcp:2001:db8::1:443", 0, 0, 0, 0, 0 },
		{ "tcp:[192.0.2.1]:80", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:0", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:65536", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:080", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:+80", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:", 0, 0, 0, 0, 0 },
		{ "tcp:0x7f.0.0.1:80", 0, 0, 0, 0, 0 },
		{ "tcp:010.0.0.1:80", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2:80", 0, 0, 0, 0, 0 },
		{ "tcp::80", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11", 0, 0, 0, 0, 0 },
		{ "tcp:[2001:db8::1]443", 0, 0, 0, 0, 0 },
		{ "tcp:192.0.2.11:80 ", 0, 0, 0, 0, 0 },
	};
	struct valid_publish p;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = valid_publish(cases[i].in, &p, err, sizeof(err));

		assert_int_equal(rc, cases[i].ok ? 0 : -1);
		if (!cases[i].ok)
			continue;
		assert_int_equal(p.ipproto, cases[i].proto);
		assert_int_equal(p.ip.family, cases[i].family);
		assert_int_equal(p.port, cases[i].port);
		/* one port: last is the port itself */
		assert_int_equal(p.port_last,
				 cases[i].last ? cases[i].last : cases[i].port);
	}
}

/* What valid_publish() reads, valid_format_publish() writes back */
static void test_publish_format(void **state)
{
	static const char *const same[] = {
		"tcp:192.0.2.10:8080", "udp:[2001:db8::1]:53",
		"tcp:192.0.2.10:8080-8082", "udp:[::]:1-65535",
		"tcp:0.0.0.0:1",
	};
	struct valid_publish p;
	char buf[VALID_PUBLISH_STRLEN], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(valid_publish(same[i], &p, err, sizeof(err)),
				 0);
		assert_int_equal(valid_format_publish(&p, buf, sizeof(buf)), 0);
		assert_string_equal(buf, same[i]);
	}
	/* the longest fits the documented size, one byte less does not */
	assert_int_equal(valid_publish("udp:[ffff:ffff:ffff:ffff:ffff:ffff:"
				       "ffff:ffff]:65534-65535",
				       &p, err, sizeof(err)),
			 0);
	assert_int_equal(valid_format_publish(&p, buf, sizeof(buf)), 0);
	assert_int_equal(valid_format_publish(&p, buf, strlen(buf)), -1);
}

static void test_ports(void **state)
{
	static const struct {
		const char *s;
		int rc;
		unsigned first, last;
	} cases[] = {
		{ "80", 0, 80, 0 },	     { "1-65535", 0, 1, 65535 },
		{ "8080-8080", 0, 8080, 8080 }, { "0", -1, 0, 0 },
		{ "080", -1, 0, 0 },	     { "90-80", -1, 0, 0 },
		{ "80-", -1, 0, 0 },	     { "-80", -1, 0, 0 },
		{ "80-090", -1, 0, 0 },      { "65536", -1, 0, 0 },
		{ "8o", -1, 0, 0 },	     { "", -1, 0, 0 },
		{ "80-81-82", -1, 0, 0 },
	};
	uint16_t first, last;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(valid_ports(cases[i].s, &first, &last),
				 cases[i].rc);
		if (cases[i].rc)
			continue;
		assert_int_equal(first, cases[i].first);
		assert_int_equal(last, cases[i].last);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifnames),
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_publish),
		cmocka_unit_test(test_publish_format),
		cmocka_unit_test(test_ports),
	};

	return cmocka_run_group_tests_name("valid", tests, NULL, NULL);
}
