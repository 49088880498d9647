// SPDX-License-Identifier: MIT
/* test_hostfw.c - where the host's filtering lives, from nft's listing */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/socket.h>

#include "hostfw.h"

/* As libnftables lists them here (stateless, terse): ufw's tables cut
 * short, an admin's inet table, and ours */
static const char ufw[] =
	"table ip filter {\n"
	"\tchain ufw-user-input {\n"
	"\t\ttcp dport 9090 counter accept\n"
	"\t}\n"
	"\n"
	"\tchain INPUT {\n"
	"\t\ttype filter hook input priority filter; policy drop;\n"
	"\t\tcounter jump ufw-before-logging-input\n"
	"\t\tcounter jump ufw-before-input\n"
	"\t}\n"
	"\n"
	"\tchain FORWARD {\n"
	"\t\ttype filter hook forward priority filter; policy drop;\n"
	"\t\tcounter jump ufw-before-forward\n"
	"\t}\n"
	"}\n"
	"table ip6 filter {\n"
	"\tchain INPUT {\n"
	"\t\ttype filter hook input priority filter; policy drop;\n"
	"\t}\n"
	"}\n";

static const char admin[] =
	"table inet admin {\n"
	"\tset s {\n"
	"\t\ttype ipv4_addr\n"
	"\t\telements = { 1.2.3.4 }\n"
	"\t}\n"
	"\n"
	"\tmap m {\n"
	"\t\ttype ipv4_addr : verdict\n"
	"\t\telements = { 1.2.3.4 : drop }\n"
	"\t}\n"
	"\n"
	"\tchain input {\n"
	"\t\ttype filter hook input priority filter; policy drop;\n"
	"\t\tct state invalid drop\n"
	"\t\tip daddr 192.0.2.1 tcp dport 80 ct state established,new "
	"counter packets 3 bytes 180 accept comment \"web { }\"\n"
	"\t\ttcp dport { 22, 80 } accept\n"
	"\t}\n"
	"\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy accept;\n"
	"\t\tiifname \"br0\" oifname \"eth0\" accept\n"
	"\t\tlog prefix \"no: \" level warn counter drop\n"
	"\t\tiifname \"eth0\" oifname \"br0\" ct state established,related "
	"accept\n"
	"\t}\n"
	"\n"
	"\tchain helper {\n"
	"\t\tdrop\n"
	"\t}\n"
	"}\n"
	"table ip strait-br1 {\n"
	"\tchain forward {\n"
	"\t\ttype filter hook forward priority filter; policy drop;\n"
	"\t}\n"
	"}\n";

static struct hostfw_need need(enum hostfw_hook hook, int family,
			       const char *rule)
{
	struct hostfw_need n = { hook, family, "" };

	strncpy(n.rule, rule, sizeof(n.rule) - 1);
	return n;
}

static void test_norm(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "counter packets 0 bytes 0 drop", "drop" },
		{ "  tcp dport 23   counter drop", "tcp dport 23 drop" },
		{ "accept comment \"a \\\" b\"", "accept" },
		{ "log prefix \"x y\" counter reject", "log prefix \"x y\" "
						       "reject" },
		{ "counter", "" },
	};
	char out[HOSTFW_RULE];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hostfw_norm(cases[i].in, strlen(cases[i].in), out,
			    sizeof(out));
		assert_string_equal(out, cases[i].out);
	}
	assert_int_equal(hostfw_norm("accept", 6, out, 4), 0);
}

/* auto: iptables' filter chains that drop (ufw's); not an nft table's,
 * not another chain of iptables', not a rule that drops nothing */
static void test_iptables_drops(void **state)
{
	char why[128];

	(void)state;
	assert_true(hostfw_iptables_drops(ufw, why, sizeof(why)));
	assert_string_equal(why, "table ip filter chain INPUT drops by "
				 "policy");
	assert_false(hostfw_iptables_drops(admin, why, sizeof(why)));
	assert_string_equal(why, "");
	assert_true(hostfw_iptables_drops(
		"table ip6 filter {\n\tchain FORWARD {\n\t\ttype filter hook "
		"forward priority filter; policy accept;\n\t\ttcp dport 23 "
		"counter reject\n\t}\n}\n",
		why, sizeof(why)));
	assert_string_equal(why, "table ip6 filter chain FORWARD drops by a "
				 "rule");
	assert_false(hostfw_iptables_drops(
		"table ip filter {\n\tchain OUTPUT {\n\t\ttype filter hook "
		"output priority filter; policy drop;\n\t}\n\tchain INPUT {\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\tcounter jump ufw-reject-input\n\t}\n}\n",
		why, sizeof(why)));
	assert_false(hostfw_iptables_drops("", why, sizeof(why)));
}

static void test_blocking(void **state)
{
	struct hostfw_chain b[4];
	struct hostfw_need n;

	(void)state;
	/* ufw: the nft backend is blocked on input, v4 and v6 */
	n = need(HOSTFW_INPUT, AF_INET,
		 "ip daddr 192.0.2.1 tcp dport 81 ct state established,new "
		 "accept");
	assert_int_equal(hostfw_blocking(ufw, &n, false, b, 4), 1);
	assert_string_equal(b[0].family, "ip");
	assert_string_equal(b[0].table, "filter");
	assert_string_equal(b[0].name, "INPUT");
	assert_true(b[0].iptables && b[0].policy_drop);
	/* ... the iptables backend is not: its jump goes first */
	assert_int_equal(hostfw_blocking(ufw, &n, true, b, 4), 0);
	n.family = AF_INET6;
	assert_int_equal(hostfw_blocking(ufw, &n, false, b, 4), 1);
	assert_string_equal(b[0].family, "ip6");
	/* the admin's drop policy, but this very accept is there: covered
	 * (counters and comments aside); another port is not */
	n = need(HOSTFW_INPUT, AF_INET,
		 "ip daddr 192.0.2.1 tcp dport 80 ct state established,new "
		 "accept");
	assert_int_equal(hostfw_blocking(admin, &n, true, b, 4), 0);
	n.rule[strlen("ip daddr 192.0.2.1 tcp dport 8")] = '1';
	assert_int_equal(hostfw_blocking(admin, &n, true, b, 4), 1);
	assert_string_equal(b[0].table, "admin");
	assert_false(b[0].iptables);
	/* forward: a logged drop of everything, before the reply accept
	 * (which is too late) but after the outgoing one; our own tables
	 * never count */
	n = need(HOSTFW_FORWARD, AF_INET, "iifname \"br0\" oifname \"eth0\" "
					  "accept");
	assert_int_equal(hostfw_blocking(admin, &n, false, b, 4), 0);
	n = need(HOSTFW_FORWARD, AF_INET6,
		 "iifname \"eth0\" oifname \"br0\" ct state "
		 "established,related accept");
	assert_int_equal(hostfw_blocking(admin, &n, false, b, 4), 1);
	assert_false(b[0].policy_drop);
	assert_string_equal(b[0].drop_rule, "log prefix \"no: \" level warn "
					    "drop");
	/* @max bounds what is filled, not what is counted */
	n = need(HOSTFW_INPUT, AF_INET6, "x");
	assert_int_equal(hostfw_blocking(ufw, &n, false, b, 0), 1);
}

/* Conditional drops are the admin's: a drop-everything rule is not */
static void test_conditional(void **state)
{
	static const char rs[] =
		"table inet f {\n"
		"\tchain i {\n"
		"\t\ttype filter hook input priority 0; policy accept;\n"
		"\t\tct state invalid drop\n"
		"\t\tip saddr vmap @m\n"
		"\t\ttcp dport 23 reject with tcp reset\n"
		"\t}\n"
		"\tchain j {\n"
		"\t\ttype filter hook input priority 10; policy accept;\n"
		"\t\treject with icmpx admin-prohibited\n"
		"\t}\n"
		"\tchain k {\n"
		"\t\ttype nat hook prerouting priority -100; policy accept;\n"
		"\t\tdrop\n"
		"\t}\n"
		"}\n";
	struct hostfw_chain b[4];
	struct hostfw_need n = need(HOSTFW_INPUT, AF_INET, "accept");

	(void)state;
	assert_int_equal(hostfw_blocking(rs, &n, false, b, 4), 1);
	assert_string_equal(b[0].name, "j");
	assert_string_equal(b[0].drop_rule, "reject with icmpx "
					    "admin-prohibited");
}

/* "list chains": which base chains to list rule by rule */
static void test_filter_chains(void **state)
{
	static const char rs[] =
		"table ip filter {\n"
		"\tchain INPUT {\n"
		"\t\ttype filter hook input priority filter; policy drop;\n"
		"\t}\n"
		"\tchain ufw-user-input {\n"
		"\t}\n"
		"}\n"
		"table ip6 nat {\n"
		"\tchain POSTROUTING {\n"
		"\t\ttype nat hook postrouting priority srcnat; policy "
		"accept;\n"
		"\t}\n"
		"\tchain INPUT {\n"
		"\t\ttype nat hook input priority 100; policy accept;\n"
		"\t}\n"
		"}\n"
		"table inet \"odd name\" {\n"
		"\tchain fwd {\n"
		"\t\ttype filter hook forward priority 0; policy accept;\n"
		"\t}\n"
		"}\n";
	struct hostfw_chain c[4];

	(void)state;
	assert_int_equal(hostfw_filter_chains(rs, c, 4), 2);
	assert_string_equal(c[0].name, "INPUT");
	assert_int_equal(c[0].hook, HOSTFW_INPUT);
	assert_true(c[0].policy_drop);
	assert_false(c[0].iptables);
	/* a name nft needs quoted is never put into a command */
	assert_string_equal(c[1].name, "fwd");
	assert_int_equal(c[1].hook, HOSTFW_FORWARD);
	assert_true(c[1].iptables);
	assert_int_equal(hostfw_filter_chains(rs, c, 1), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_norm),
		cmocka_unit_test(test_iptables_drops),
		cmocka_unit_test(test_blocking),
		cmocka_unit_test(test_conditional),
		cmocka_unit_test(test_filter_chains),
	};

	return cmocka_run_group_tests_name("hostfw", tests, NULL, NULL);
}
