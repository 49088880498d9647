// SPDX-License-Identifier: MIT
/* test_args.c - strait-netsetup's command line */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "args.h"

#define ARGV(...) ((char *[]){ (char *)"strait-netsetup", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof(ARGV(__VA_ARGS__)) / sizeof(char *)) - 1)
#define PARSE(a, e, ...) args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), a, \
				    e, sizeof(e))

static void test_up(void **state)
{
	struct args a;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&a, err, (char *)"up", (char *)"--bridge",
			       (char *)"docker0", (char *)"--uplink",
			       (char *)"eth0", (char *)"--subnet",
			       (char *)"172.17.0.0/16", (char *)"--publish",
			       (char *)"tcp:192.0.2.11:8000", (char *)"--publish",
			       (char *)"udp:192.0.2.11:53", (char *)"--backend",
			       (char *)"iptables"),
			 0);
	assert_int_equal(a.cmd, ARGS_UP);
	assert_string_equal(a.bridge, "docker0");
	assert_string_equal(a.uplink, "eth0");
	assert_true(a.have_subnet);
	assert_int_equal(a.subnet.len, 16);
	assert_int_equal(a.npublish, 2);
	assert_int_equal(a.backend, ARGS_IPTABLES);
	assert_false(a.ipv6);
	assert_int_equal(PARSE(&a, err, (char *)"down", (char *)"--uplink",
			       (char *)"eth0", (char *)"--bridge",
			       (char *)"docker0"),
			 0);
	assert_int_equal(a.cmd, ARGS_DOWN);
	assert_int_equal(a.backend, ARGS_NFT);
	assert_int_equal(PARSE(&a, err, (char *)"check", (char *)"--bridge",
			       (char *)"br0", (char *)"--uplink", (char *)"wan",
			       (char *)"--ipv6"),
			 0);
	assert_true(a.ipv6);
	assert_false(a.ipv6_routed);
	assert_false(a.have_subnet6);
	/* one network per family, either order */
	assert_int_equal(PARSE(&a, err, (char *)"up", (char *)"--bridge",
			       (char *)"br0", (char *)"--uplink", (char *)"wan",
			       (char *)"--subnet", (char *)"2001:db8:1::/64",
			       (char *)"--ipv6", (char *)"--subnet",
			       (char *)"172.17.0.0/16"),
			 0);
	assert_true(a.have_subnet && a.have_subnet6);
	assert_int_equal(a.subnet.net.family, AF_INET);
	assert_int_equal(a.subnet6.net.family, AF_INET6);
	assert_int_equal(a.subnet6.len, 64);
	assert_int_equal(PARSE(&a, err, (char *)"up", (char *)"--bridge",
			       (char *)"br0", (char *)"--uplink", (char *)"wan",
			       (char *)"--ipv6-routed"),
			 0);
	assert_true(a.ipv6 && a.ipv6_routed);
}

static void test_exec(void **state)
{
	struct args a;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&a, err, (char *)"exec", (char *)"tcp:0.0.0.0:80",
			       (char *)"--", (char *)"strait-proxy",
			       (char *)"-use-listen-fd"),
			 0);
	assert_int_equal(a.cmd, ARGS_EXEC);
	assert_string_equal(a.user, "nobody");
	assert_string_equal(a.prog[0], "strait-proxy");
	assert_string_equal(a.prog[1], "-use-listen-fd");
	assert_null(a.prog[2]);
	assert_int_equal(PARSE(&a, err, (char *)"exec", (char *)"--user",
			       (char *)"daemon", (char *)"udp:[::1]:53",
			       (char *)"--", (char *)"prog"),
			 0);
	assert_string_equal(a.user, "daemon");
	assert_int_equal(a.publish[0].port, 53);
}

static void test_bad(void **state)
{
	static const struct {
		const char *argv[12];
		const char *msg;
	} cases[] = {
		{ { NULL }, "missing subcommand (up, down, check, exec)" },
		{ { "sideways" }, "unknown subcommand \"sideways\"" },
		{ { "up", "--bridge", "docker0" },
		  "--bridge and --uplink are required" },
		{ { "up", "--bridge", "x\";drop", "--uplink", "eth0" },
		  "bad interface name: only letters, digits, '_', '.' and "
		  "'-' are allowed" },
		{ { "up", "--bridge", "all", "--uplink", "eth0" },
		  "bad interface name \"all\": reserved" },
		{ { "up", "--bridge", "-j", "--uplink", "eth0" },
		  "bad interface name \"-j\": starts with '-'" },
		{ { "up", "--bridge", "br0", "--uplink", "br0" },
		  "--bridge and --uplink must differ" },
		{ { "up", "--bridge", "br0", "--uplink", "eth0", "--subnet",
		    "172.17.0.1/16" },
		  "bad subnet \"172.17.0.1/16\": host bits set" },
		{ { "up", "--bridge", "br0", "--uplink", "eth0", "--backend",
		    "pf" },
		  "bad --backend \"pf\": nft or iptables" },
		{ { "up", "--bridge", "br0", "--uplink", "eth0", "--frob" },
		  "unknown option \"--frob\"" },
		{ { "up", "--bridge", "br0", "--uplink" },
		  "--uplink needs a value" },
		{ { "down", "--bridge", "br0", "--uplink", "eth0", "--subnet",
		    "172.17.0.0/16" },
		  "unknown option \"--subnet\"" },
		{ { "up", "--bridge", "br0", "--uplink", "eth0", "--subnet",
		    "10.0.0.0/8", "--subnet", "10.1.0.0/16" },
		  "--subnet: one IPv4 network only" },
		{ { "up", "--bridge", "br0", "--uplink", "eth0", "--subnet",
		    "2001:db8:1::/64" },
		  "an IPv6 --subnet needs --ipv6" },
		{ { "up", "--bridge", "br0", "--uplink", "eth0", "--subnet",
		    "2001:db8:1::/64", "--ipv6-routed" },
		  "--ipv6-routed masquerades no IPv6: an IPv6 --subnet has no "
		  "use" },
		{ { "down", "--bridge", "br0", "--uplink", "eth0",
		    "--ipv6-routed" },
		  "unknown option \"--ipv6-routed\"" },
		{ { "exec", "tcp:192.0.2.1:80" },
		  "exec needs -- PROGRAM [ARGS...]" },
		{ { "exec", "tcp:192.0.2.1:80", "--" },
		  "exec needs -- PROGRAM [ARGS...]" },
		{ { "exec", "--user", "", "tcp:192.0.2.1:80", "--", "p" },
		  "empty --user" },
		{ { "exec" }, "exec needs PROTO:HOSTIP:PORT" },
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[14] = { (char *)"strait-netsetup" };
		char err[256];
		struct args a;

		for (n = 0; cases[i].argv[n]; n++)
			argv[n + 1] = (char *)cases[i].argv[n];
		assert_int_equal(args_parse((int)n + 1, argv, &a, err,
					    sizeof(err)),
				 -1);
		assert_string_equal(err, cases[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up),
		cmocka_unit_test(test_exec),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
