// SPDX-License-Identifier: MIT
/* test_args.c - strait-netsetup's command line, table-driven */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "args.h"

#define MAXARGS 20

static int parse(const char *const *argv, struct args *a, char *err,
		 size_t errlen)
{
	char *v[MAXARGS + 2] = {(char *)"strait-netsetup"};
	int n;

	for (n = 0; argv[n]; n++)
		v[n + 1] = (char *)argv[n];
	return args_parse(n + 1, v, a, err, errlen);
}

/* The same command line in every spelling gives the same result */
static void test_spellings(void **state)
{
	static const char *const forms[][MAXARGS] = {
	    {"up", "--bridge", "docker0", "--uplink", "eth0", "--subnet",
	     "172.17.0.0/16", "--publish", "tcp:192.0.2.11:8000", "--publish",
	     "udp:192.0.2.11:53", "--backend", "iptables"},
	    {"up", "--bridge=docker0", "--uplink=eth0",
	     "--subnet=172.17.0.0/16", "--publish=tcp:192.0.2.11:8000",
	     "--publish=udp:192.0.2.11:53", "--backend=iptables"},
	    {"up", "--backend", "iptables", "--publish", "tcp:192.0.2.11:8000",
	     "--uplink=eth0", "--subnet", "172.17.0.0/16", "--bridge",
	     "docker0", "--publish", "udp:192.0.2.11:53"},
	};
	struct args a;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		assert_int_equal(parse(forms[i], &a, err, sizeof(err)), 0);
		assert_int_equal(a.cmd, ARGS_UP);
		assert_string_equal(a.bridge, "docker0");
		assert_string_equal(a.uplink, "eth0");
		assert_true(a.have_subnet);
		assert_int_equal(a.subnet.len, 16);
		assert_int_equal(a.npublish, 2);
		assert_int_equal(a.publish[1].ipproto, IPPROTO_UDP);
		assert_int_equal(a.backend, ARGS_IPTABLES);
		assert_false(a.ipv6 || a.no_input);
	}
}

/* What each command line means, one field at a time */
static void test_good(void **state)
{
	static const struct {
		const char *argv[MAXARGS];
		enum args_cmd cmd, help;
		enum args_backend backend;
		bool ipv6, routed, no_input, json;
		size_t npattern, nwpub;
	} cases[] = {
	    {.argv = {"down", "--bridge", "docker0"}, .cmd = ARGS_DOWN},
	    /* older scripts pass these to down: accepted */
	    {.argv = {"down", "--uplink", "eth0", "--bridge=docker0",
		      "--backend", "nft"},
	     .cmd = ARGS_DOWN,
	     .backend = ARGS_NFT},
	    {.argv = {"check", "--bridge", "br0", "--uplink", "wan", "--ipv6"},
	     .cmd = ARGS_CHECK,
	     .ipv6 = true},
	    {.argv = {"up", "--bridge", "br0", "--uplink", "wan",
		      "--ipv6-routed"},
	     .cmd = ARGS_UP,
	     .ipv6 = true,
	     .routed = true},
	    {.argv = {"up", "--bridge", "br0", "--uplink", "wan", "--ipv6",
		      "--ipv6"},
	     .cmd = ARGS_UP,
	     .ipv6 = true},
	    {.argv = {"up", "--bridge", "br0", "--uplink", "wan",
		      "--no-input-rules", "--backend=auto"},
	     .cmd = ARGS_UP,
	     .no_input = true},
	    {.argv = {"status"}, .cmd = ARGS_STATUS},
	    {.argv = {"status", "--json", "--bridge", "br0"},
	     .cmd = ARGS_STATUS,
	     .json = true},
	    {.argv = {"watch", "--bridge", "docker0", "--bridge=br-*",
		      "--uplink", "eth0", "--publish", "tcp:192.0.2.1:80",
		      "--publish", "br-?=udp:[2001:db8::1]:53",
		      "--publish-file", "/etc/p"},
	     .cmd = ARGS_WATCH,
	     .npattern = 2,
	     .nwpub = 2},
	    /* help: for the command it follows, wherever it is */
	    {.argv = {"--help"}, .cmd = ARGS_HELP, .help = ARGS_HELP},
	    {.argv = {"-h"}, .cmd = ARGS_HELP, .help = ARGS_HELP},
	    {.argv = {"help"}, .cmd = ARGS_HELP, .help = ARGS_HELP},
	    {.argv = {"help", "watch"}, .cmd = ARGS_HELP, .help = ARGS_WATCH},
	    {.argv = {"help", "frob"}, .cmd = ARGS_HELP, .help = ARGS_HELP},
	    {.argv = {"up", "--help"}, .cmd = ARGS_HELP, .help = ARGS_UP},
	    {.argv = {"down", "--frob", "-h"},
	     .cmd = ARGS_HELP,
	     .help = ARGS_DOWN},
	    {.argv = {"exec", "-h"}, .cmd = ARGS_HELP, .help = ARGS_EXEC},
	    {.argv = {"status", "--help"},
	     .cmd = ARGS_HELP,
	     .help = ARGS_STATUS},
	    /* ... but not the program's own after exec's -- */
	    {.argv = {"exec", "tcp:192.0.2.1:80", "--", "prog", "-h"},
	     .cmd = ARGS_EXEC},
	    {.argv = {"-v"}, .cmd = ARGS_VERSION},
	    {.argv = {"--version"}, .cmd = ARGS_VERSION},
	    {.argv = {"version"}, .cmd = ARGS_VERSION},
	};
	struct args a;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (parse(cases[i].argv, &a, err, sizeof(err)))
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(a.cmd, cases[i].cmd);
		if (a.cmd == ARGS_HELP)
			assert_int_equal(a.help, cases[i].help);
		assert_int_equal(a.backend, cases[i].backend);
		assert_int_equal(a.ipv6, cases[i].ipv6);
		assert_int_equal(a.ipv6_routed, cases[i].routed);
		assert_int_equal(a.no_input, cases[i].no_input);
		assert_int_equal(a.json, cases[i].json);
		assert_int_equal(a.npattern, cases[i].npattern);
		assert_int_equal(a.nwpub, cases[i].nwpub);
	}
}

static void test_subnets_and_watch(void **state)
{
	static const char *const six[] = {"up",
					  "--bridge",
					  "br0",
					  "--uplink",
					  "wan",
					  "--subnet",
					  "2001:db8:1::/64",
					  "--ipv6",
					  "--subnet=172.17.0.0/16",
					  NULL};
	static const char *const watch[] = {"watch",
					    "--bridge",
					    "br-*",
					    "--uplink",
					    "eth0",
					    "--publish",
					    "br-?=udp:[2001:db8::1]:53",
					    "--publish",
					    "tcp:192.0.2.1:80",
					    NULL};
	struct args a;
	char err[256];

	(void)state;
	/* one network per family, either order */
	assert_int_equal(parse(six, &a, err, sizeof(err)), 0);
	assert_true(a.have_subnet && a.have_subnet6);
	assert_int_equal(a.subnet.net.family, AF_INET);
	assert_int_equal(a.subnet6.net.family, AF_INET6);
	assert_int_equal(a.subnet6.len, 64);
	assert_int_equal(parse(watch, &a, err, sizeof(err)), 0);
	assert_string_equal(a.pattern[0], "br-*");
	assert_string_equal(a.uplink, "eth0");
	assert_string_equal(a.wpub[0].pattern, "br-?");
	assert_int_equal(a.wpub[0].p.port, 53);
	assert_string_equal(a.wpub[1].pattern, "*");
	assert_true(args_match("br-*", "br-1a2b3c"));
	assert_true(args_match("br-?", "br-1"));
	assert_false(args_match("br-?", "br-12"));
	assert_false(args_match("br-*", "docker0"));
	assert_true(args_match("*", "docker0"));
}

static void test_exec(void **state)
{
	static const char *const plain[] = {
	    "exec",	    "tcp:0.0.0.0:80", "--",
	    "strait-proxy", "-use-listen-fd", NULL};
	static const char *const user[] = {
	    "exec", "--user", "daemon", "udp:[::1]:53", "--", "prog", NULL};
	static const char *const user_eq[] = {
	    "exec", "udp:[::1]:53", "--user=daemon", "--", "prog", NULL};
	/* a proxy serving exactly the range, in Go's flag spellings; flags
	 * after "--" or a non-flag argument are the program's business */
	static const char *const proxy[] = {
	    "exec",	   "udp:[2001:db8::1]:53-54",
	    "--",	   "strait-proxy",
	    "--proto=udp", "-host-ip",
	    "2001:db8::1", "-use-listen-fd",
	    "-host-port",  "53-54",
	    "--",	   "-host-port",
	    "1",	   NULL};
	static const char *const other[] = {
	    "exec",	"tcp:192.0.2.1:80", "--",
	    "myserver", "--listen-fd=4",    NULL};
	struct args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(plain, &a, err, sizeof(err)), 0);
	assert_int_equal(a.cmd, ARGS_EXEC);
	assert_string_equal(a.user, "nobody");
	assert_string_equal(a.spec, "tcp:0.0.0.0:80");
	assert_string_equal(a.prog[0], "strait-proxy");
	assert_string_equal(a.prog[1], "-use-listen-fd");
	assert_null(a.prog[2]);
	assert_int_equal(parse(user, &a, err, sizeof(err)), 0);
	assert_string_equal(a.user, "daemon");
	assert_int_equal(a.publish[0].port, 53);
	assert_int_equal(parse(user_eq, &a, err, sizeof(err)), 0);
	assert_string_equal(a.user, "daemon");
	assert_int_equal(parse(proxy, &a, err, sizeof(err)), 0);
	assert_int_equal(parse(other, &a, err, sizeof(err)), 0);
}

static void test_bad(void **state)
{
	static const struct {
		const char *argv[MAXARGS];
		const char *msg;
		enum args_cmd cmd; /* the command whose --help to see */
	} cases[] = {
	    {{NULL},
	     "missing command (up, down, check, status, watch, exec)",
	     ARGS_HELP},
	    {{"sideways"}, "unknown command \"sideways\"", ARGS_HELP},
	    {{"--frob"}, "unknown command \"--frob\"", ARGS_HELP},
	    {{"up", "--bridge", "docker0"},
	     "--bridge and --uplink are required",
	     ARGS_UP},
	    {{"down"}, "down needs --bridge", ARGS_DOWN},
	    {{"down", "--uplink", "eth0"}, "down needs --bridge", ARGS_DOWN},
	    {{"up", "--bridge", "x\";drop", "--uplink", "eth0"},
	     "bad interface name: only letters, digits, '_', '.' and "
	     "'-' are allowed",
	     ARGS_UP},
	    {{"up", "--bridge", "all", "--uplink", "eth0"},
	     "bad interface name \"all\": reserved",
	     ARGS_UP},
	    {{"up", "--bridge=-j", "--uplink", "eth0"},
	     "bad interface name \"-j\": starts with '-'",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "br0"},
	     "--bridge and --uplink must differ",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--subnet",
	      "172.17.0.1/16"},
	     "bad subnet \"172.17.0.1/16\": host bits set",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--backend", "pf"},
	     "bad --backend \"pf\": auto, nft or iptables",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--frob"},
	     "unknown option \"--frob\" for up",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "-x"},
	     "unknown option \"-x\" for up",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "extra"},
	     "unexpected argument \"extra\" for up",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink"},
	     "--uplink needs a value",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink="},
	     "--uplink needs a value",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--ipv6=yes"},
	     "--ipv6 takes no value",
	     ARGS_UP},
	    {{"down", "--bridge", "br0", "--subnet", "172.17.0.0/16"},
	     "unknown option \"--subnet\" for down",
	     ARGS_DOWN},
	    {{"down", "--bridge", "br0", "--ipv6-routed"},
	     "unknown option \"--ipv6-routed\" for down",
	     ARGS_DOWN},
	    {{"status", "--uplink", "eth0"},
	     "unknown option \"--uplink\" for status",
	     ARGS_STATUS},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--json"},
	     "unknown option \"--json\" for up",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--subnet",
	      "10.0.0.0/8", "--subnet", "10.1.0.0/16"},
	     "--subnet: one IPv4 network only",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--subnet",
	      "2001:db8:1::/64"},
	     "an IPv6 --subnet needs --ipv6",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--subnet",
	      "2001:db8:1::/64", "--ipv6-routed"},
	     "--ipv6-routed masquerades no IPv6: an IPv6 --subnet has no "
	     "use",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "lo"},
	     "--uplink lo: the loopback device is neither a bridge nor "
	     "an uplink",
	     ARGS_UP},
	    {{"up", "--bridge", "lo", "--uplink", "eth0"},
	     "--bridge lo: the loopback device is neither a bridge nor "
	     "an uplink",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--ipv6",
	      "--ipv6-routed"},
	     "--ipv6 and --ipv6-routed exclude each other: --ipv6 "
	     "masquerades the bridge's IPv6 subnet, --ipv6-routed does "
	     "not",
	     ARGS_UP},
	    {{"check", "--ipv6-routed", "--bridge", "br0", "--uplink", "eth0",
	      "--ipv6"},
	     "--ipv6 and --ipv6-routed exclude each other: --ipv6 "
	     "masquerades the bridge's IPv6 subnet, --ipv6-routed does "
	     "not",
	     ARGS_CHECK},
	    {{"up", "--bridge", "br0", "--uplink", "eth0",
	      "--transparent-mark", "0x10"},
	     "--transparent-mark and --transparent-table need --transparent",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--transparent",
	      "--transparent-mark", "0"},
	     "bad --transparent-mark \"0\": a number from 1 to 0xffffffff",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--transparent",
	      "--transparent-mark", "0x100000000"},
	     "bad --transparent-mark \"0x100000000\": a number from 1 to "
	     "0xffffffff",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--transparent",
	      "--transparent-table", "12x"},
	     "bad --transparent-table \"12x\": a number from 1 to 0xffffffff",
	     ARGS_UP},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--transparent",
	      "--transparent-table", "254"},
	     "--transparent-table 254 is one of the kernel's own tables "
	     "(252-255)",
	     ARGS_UP},
	    {{"down", "--bridge", "br0", "--transparent"},
	     "unknown option \"--transparent\" for down",
	     ARGS_DOWN},
	    {{"up", "--bridge", "br0", "--uplink", "eth0", "--no-input-rules",
	      "--publish", "tcp:192.0.2.1:80"},
	     "--no-input-rules: --publish would have no effect (the "
	     "admin's input rules decide)",
	     ARGS_UP},
	    {{"watch", "--uplink", "eth0"},
	     "watch needs --bridge PATTERN and --uplink",
	     ARGS_WATCH},
	    {{"watch", "--bridge", "br-[a]", "--uplink", "eth0"},
	     "bad bridge pattern \"br-[a]\": an interface name, with '*' "
	     "and '?'",
	     ARGS_WATCH},
	    {{"watch", "--bridge", "br-*", "--uplink", "eth0", "--publish",
	      "b\"r=tcp:192.0.2.1:80"},
	     "bad bridge pattern \"b\"r\": an interface name, with '*' "
	     "and '?'",
	     ARGS_WATCH},
	    {{"exec", "tcp:192.0.2.1:80"},
	     "exec tcp:192.0.2.1:80 needs -- PROGRAM [ARGS...]",
	     ARGS_EXEC},
	    {{"exec", "tcp:192.0.2.1:80", "--"},
	     "exec tcp:192.0.2.1:80 needs -- PROGRAM [ARGS...]",
	     ARGS_EXEC},
	    {{"exec", "tcp:192.0.2.1:80", "prog"},
	     "exec takes one PROTO:HOSTIP:PORT (\"prog\" is a second; "
	     "PROGRAM goes after --)",
	     ARGS_EXEC},
	    {{"exec", "--user", "", "tcp:192.0.2.1:80", "--", "p"},
	     "--user needs a value",
	     ARGS_EXEC},
	    {{"exec"}, "exec needs PROTO:HOSTIP:PORT", ARGS_EXEC},
	    /* the program serves what exec binds, from the fds exec
	     * hands it, or ports stay bound and unserved */
	    {{"exec", "tcp:192.0.2.1:80-82", "--", "strait-proxy", "-host-port",
	      "80-81", "-use-listen-fd"},
	     "exec tcp:192.0.2.1:80-82: the program serves -host-port "
	     "80-81, not the 3 port(s) exec binds: the others would stay "
	     "bound and unserved",
	     ARGS_EXEC},
	    {{"exec", "tcp:192.0.2.1:80", "--", "docker-proxy",
	      "--host-port=81", "-use-listen-fd=true"},
	     "exec tcp:192.0.2.1:80: the program serves -host-port 81, "
	     "not the 1 port(s) exec binds: the others would stay bound "
	     "and unserved",
	     ARGS_EXEC},
	    {{"exec", "tcp:192.0.2.1:80", "--", "strait-proxy", "-host-port",
	      "80"},
	     "exec tcp:192.0.2.1:80: the program has no -use-listen-fd: "
	     "it would bind the port itself and never serve the socket "
	     "exec hands it",
	     ARGS_EXEC},
	    {{"exec", "tcp:192.0.2.1:80", "--", "strait-proxy",
	      "-use-listen-fd=false", "-host-port", "80"},
	     "exec tcp:192.0.2.1:80: the program has no -use-listen-fd: "
	     "it would bind the port itself and never serve the socket "
	     "exec hands it",
	     ARGS_EXEC},
	    {{"exec", "udp:192.0.2.1:53", "--", "strait-proxy", "-proto", "tcp",
	      "-host-port", "53", "-use-listen-fd"},
	     "exec udp:192.0.2.1:53: the program's -proto is \"tcp\"",
	     ARGS_EXEC},
	    {{"exec", "udp:192.0.2.1:53", "--", "strait-proxy", "-host-ip",
	      "192.0.2.2", "-host-port", "53", "-use-listen-fd"},
	     "exec udp:192.0.2.1:53: the program's -host-ip is "
	     "\"192.0.2.2\"",
	     ARGS_EXEC},
	    {{"exec", "udp:192.0.2.1:53", "--", "strait-proxy", "-host-port",
	      "0x35", "-use-listen-fd"},
	     "exec udp:192.0.2.1:53: the program's -host-port \"0x35\" is "
	     "not a port or range",
	     ARGS_EXEC},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256];
		struct args a;

		if (parse(cases[i].argv, &a, err, sizeof(err)) != -1)
			fail_msg("case %zu accepted", i);
		assert_string_equal(err, cases[i].msg);
		assert_int_equal(a.cmd, cases[i].cmd);
	}
}

/* Every command has its own help, and the overview names them all */
static void test_usage(void **state)
{
	enum args_cmd c;

	(void)state;
	for (c = ARGS_UP; c < ARGS_HELP; c++) {
		assert_non_null(
		    strstr(args_usage(c), "Usage: strait-netsetup "));
		assert_non_null(strstr(args_usage(c), args_cmd_name(c)));
		assert_non_null(
		    strstr(args_usage(ARGS_HELP), args_cmd_name(c)));
	}
	assert_non_null(strstr(args_usage(ARGS_UP), "--no-input-rules"));
	assert_non_null(strstr(args_usage(ARGS_WATCH), "--publish-file"));
	assert_non_null(strstr(args_usage(ARGS_UP), "--transparent-table"));
	assert_non_null(strstr(args_usage(ARGS_WATCH), "--transparent"));
}

/* --transparent: defaults, and the mark and table as given */
static void test_transparent(void **state)
{
	static const char *const dflt[] = { "up", "--bridge", "br0",
					    "--uplink", "eth0",
					    "--transparent", NULL };
	static const char *const given[] = {
		"watch", "--bridge", "br-*", "--uplink", "eth0",
		"--transparent", "--transparent-mark=0xFFFFFFFF",
		"--transparent-table", "4000000000", NULL
	};
	static const char *const dec[] = { "check", "--bridge", "br0",
					   "--uplink", "eth0",
					   "--transparent-mark", "42",
					   "--transparent", NULL };
	static const char *const off[] = { "up", "--bridge", "br0",
					   "--uplink", "eth0", NULL };
	struct args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(dflt, &a, err, sizeof(err)), 0);
	assert_true(a.transparent);
	assert_int_equal(a.tp.mark, 0x5354);
	assert_int_equal(a.tp.table, 21332);
	assert_int_equal(parse(given, &a, err, sizeof(err)), 0);
	assert_true(a.transparent);
	assert_int_equal(a.tp.mark, 0xffffffffU);
	assert_int_equal(a.tp.table, 4000000000U);
	assert_int_equal(parse(dec, &a, err, sizeof(err)), 0);
	assert_int_equal(a.tp.mark, 42);
	assert_int_equal(a.tp.table, 21332);
	assert_int_equal(parse(off, &a, err, sizeof(err)), 0);
	assert_false(a.transparent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spellings),
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_subnets_and_watch),
	    cmocka_unit_test(test_exec),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_usage),
	    cmocka_unit_test(test_transparent),
	};

	return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
