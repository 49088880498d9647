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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ifnames),
		cmocka_unit_test(test_cidrs),
		cmocka_unit_test(test_publish),
	};

	return cmocka_run_group_tests_name("valid", tests, NULL, NULL);
}
