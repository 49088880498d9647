// SPDX-License-Identifier: MIT
/* test_rules.c - rule text for both backends, exactly as spec/netsetup.md
 * (with the bridge's name in the table's and chains' names, so that
 * several bridges can be set up side by side) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <string.h>

#include "rules.h"

static struct valid_cidr subnet, subnet6;
static struct valid_publish pub[2];

static struct rules_in spec_in(void)
{
	char err[128];
	struct rules_in in = { "docker0", "eth0", &subnet, NULL,
			       pub,	  1,	  false,   false,
			       false,	  0 };

	assert_int_equal(valid_cidr("172.17.0.0/16", &subnet, err, sizeof(err)),
			 0);
	assert_int_equal(valid_publish("tcp:192.0.2.11:8000", &pub[0], err,
				       sizeof(err)),
			 0);
	return in;
}

/* The spec's input plus an IPv6 publish */
static struct rules_in spec_in_v6(void)
{
	struct rules_in in = spec_in();
	char err[128];

	assert_int_equal(valid_publish("udp:[2001:db8::1]:53", &pub[1], err,
				       sizeof(err)),
			 0);
	in.npublish = 2;
	return in;
}

static void test_nft_spec(void **state)
{
	const char *want =
		"add table ip strait-docker0\n"
		"delete table ip strait-docker0\n"
		"add table inet strait-docker0\n"
		"delete table inet strait-docker0\n"
		"table ip strait-docker0 {\n"
		"\tchain postrouting {\n"
		"\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
		"\t\tip saddr 172.17.0.0/16 oifname \"eth0\" masquerade\n"
		"\t}\n"
		"\tchain forward {\n"
		"\t\ttype filter hook forward priority filter; policy accept;\n"
		"\t\tiifname \"eth0\" oifname \"docker0\" ct state "
		"established,related accept\n"
		"\t\tiifname \"docker0\" oifname \"eth0\" accept\n"
		"\t\tiifname \"docker0\" oifname \"docker0\" accept\n"
		"\t\toifname \"docker0\" drop\n"
		"\t\tiifname \"docker0\" drop\n"
		"\t}\n"
		"\tchain input {\n"
		"\t\ttype filter hook input priority filter; policy accept;\n"
		"\t\tip daddr 192.0.2.11 tcp dport 8000 ct state "
		"established,new accept\n"
		"\t}\n"
		"}\n";
	struct rules_in in = spec_in();
	char buf[4096], small[100];

	(void)state;
	assert_int_equal(rules_nft_up(&in, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
	assert_int_equal(rules_nft_up(&in, small, sizeof(small)), -1);
}

static void test_nft_inet(void **state)
{
	struct rules_in in = spec_in_v6();
	char buf[4096];

	(void)state;
	assert_int_equal(rules_nft_up(&in, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "table inet strait-docker0 {\n"));
	assert_non_null(strstr(buf, "\t\tip6 daddr 2001:db8::1 udp dport 53 "
				    "ct state established,new accept\n"));
	in.npublish = 1;
	in.ipv6 = true;
	assert_int_equal(rules_nft_up(&in, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "table inet strait-docker0 {\n"));
}

static void test_nft_down(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(rules_nft_down("br-1a2b3c4d5e6f", buf, sizeof(buf)),
			 0);
	assert_string_equal(buf, "add table ip strait-br-1a2b3c4d5e6f\n"
				 "delete table ip strait-br-1a2b3c4d5e6f\n"
				 "add table inet strait-br-1a2b3c4d5e6f\n"
				 "delete table inet strait-br-1a2b3c4d5e6f\n");
}

/* Our two chains and the forward rules, the same for both families */
#define IPT_FILTER_HEAD                                                      \
	"*filter\n"                                                          \
	":STRAIT-FWD-docker0 - [0:0]\n"                                      \
	":STRAIT-IN-docker0 - [0:0]\n"                                       \
	"-A STRAIT-FWD-docker0 -i eth0 -o docker0 -m conntrack --ctstate "   \
	"RELATED,ESTABLISHED -j ACCEPT\n"                                    \
	"-A STRAIT-FWD-docker0 -i docker0 -o eth0 -j ACCEPT\n"               \
	"-A STRAIT-FWD-docker0 -i docker0 -o docker0 -j ACCEPT\n"            \
	"-A STRAIT-FWD-docker0 -o docker0 -j DROP\n"                         \
	"-A STRAIT-FWD-docker0 -i docker0 -j DROP\n"

static void test_ipt_spec(void **state)
{
	const char *filter =
		IPT_FILTER_HEAD
		"-A STRAIT-IN-docker0 -d 192.0.2.11/32 -p tcp -m conntrack "
		"--ctstate NEW,ESTABLISHED -m tcp --dport 8000 -j ACCEPT\n"
		"COMMIT\n";
	const char *nat = "*nat\n"
			  ":STRAIT-POST-docker0 - [0:0]\n"
			  "-A STRAIT-POST-docker0 -s 172.17.0.0/16 -o eth0 -j "
			  "MASQUERADE\n"
			  "COMMIT\n";
	struct rules_in in = spec_in();
	char buf[4096];

	(void)state;
	assert_int_equal(rules_ipt_filter(&in, AF_INET, buf, sizeof(buf)), 0);
	assert_string_equal(buf, filter);
	assert_int_equal(rules_ipt_nat(&in, AF_INET, buf, sizeof(buf)), 0);
	assert_string_equal(buf, nat);
	/* no IPv6 subnet: no IPv6 nat text */
	assert_int_equal(rules_ipt_nat(&in, AF_INET6, buf, sizeof(buf)), -1);
}

/* --ipv6 with the bridge's IPv6 subnet: masqueraded as the IPv4 one, in
 * the same postrouting chain (nft) or ip6tables' own nat table */
static void test_masquerade6(void **state)
{
	struct rules_in in = spec_in();
	char buf[4096], err[128];

	(void)state;
	assert_int_equal(valid_cidr("2001:db8:1::/64", &subnet6, err,
				    sizeof(err)),
			 0);
	in.ipv6 = true;
	in.subnet6 = &subnet6;
	assert_int_equal(rules_nft_up(&in, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf,
			       "table inet strait-docker0 {\n"
			       "\tchain postrouting {\n"
			       "\t\ttype nat hook postrouting priority srcnat; "
			       "policy accept;\n"
			       "\t\tip saddr 172.17.0.0/16 oifname \"eth0\" "
			       "masquerade\n"
			       "\t\tip6 saddr 2001:db8:1::/64 oifname \"eth0\" "
			       "masquerade\n"
			       "\t}\n"));
	assert_int_equal(rules_ipt_nat(&in, AF_INET6, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "*nat\n"
				 ":STRAIT-POST-docker0 - [0:0]\n"
				 "-A STRAIT-POST-docker0 -s 2001:db8:1::/64 -o "
				 "eth0 -j MASQUERADE\n"
				 "COMMIT\n");
	/* routed (no subnet6): forwarded, not masqueraded */
	in.subnet6 = NULL;
	assert_int_equal(rules_nft_up(&in, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "ip6 saddr"));
}

/* ip6tables: the same forward chain, the IPv6 publishes only, /128 */
static void test_ipt_ipv6(void **state)
{
	const char *filter6 =
		IPT_FILTER_HEAD
		"-A STRAIT-IN-docker0 -d 2001:db8::1/128 -p udp -m conntrack "
		"--ctstate NEW,ESTABLISHED -m udp --dport 53 -j ACCEPT\n"
		"COMMIT\n";
	struct rules_in in = spec_in_v6();
	char buf[4096];

	(void)state;
	assert_int_equal(rules_ipt_filter(&in, AF_INET6, buf, sizeof(buf)), 0);
	assert_string_equal(buf, filter6);
	/* and the IPv4 text keeps only the IPv4 publish */
	assert_int_equal(rules_ipt_filter(&in, AF_INET, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "-d 192.0.2.11/32 -p tcp"));
	assert_null(strstr(buf, "2001:db8::1"));
}

/* A range of ports is one rule: nft writes it FIRST-LAST, iptables
 * FIRST:LAST */
static void test_port_range(void **state)
{
	struct rules_in in = spec_in();
	char buf[4096], err[128];

	(void)state;
	assert_int_equal(valid_publish("udp:192.0.2.11:10000-10999", &pub[0],
				       err, sizeof(err)),
			 0);
	assert_int_equal(rules_nft_up(&in, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "\t\tip daddr 192.0.2.11 udp dport "
				    "10000-10999 ct state established,new "
				    "accept\n"));
	assert_int_equal(rules_ipt_filter(&in, AF_INET, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "-A STRAIT-IN-docker0 -d 192.0.2.11/32 -p "
				    "udp -m conntrack --ctstate "
				    "NEW,ESTABLISHED -m udp "
				    "--dport 10000:10999 -j ACCEPT\n"));
}

/* --no-input-rules: the admin filters input; forward and nat as ever */
static void test_no_input(void **state)
{
	struct rules_in in = spec_in_v6();
	char buf[4096];

	(void)state;
	in.no_input = true;
	assert_int_equal(rules_nft_up(&in, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "chain input"));
	assert_null(strstr(buf, "dport"));
	assert_non_null(strstr(buf, "\t\tiifname \"docker0\" drop\n\t}\n}\n"));
	assert_int_equal(rules_ipt_filter(&in, AF_INET, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "*filter\n:STRAIT-FWD-docker0 - [0:0]\n"
				 "-A STRAIT-FWD-docker0 -i eth0 -o docker0 -m "
				 "conntrack --ctstate RELATED,ESTABLISHED -j "
				 "ACCEPT\n"
				 "-A STRAIT-FWD-docker0 -i docker0 -o eth0 -j "
				 "ACCEPT\n"
				 "-A STRAIT-FWD-docker0 -i docker0 -o docker0 "
				 "-j ACCEPT\n"
				 "-A STRAIT-FWD-docker0 -o docker0 -j DROP\n"
				 "-A STRAIT-FWD-docker0 -i docker0 -j DROP\n"
				 "COMMIT\n");
	assert_int_equal(rules_ipt_filter(&in, AF_INET6, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "STRAIT-IN"));
}

/* Transparent mode: the mark rule in nft's prerouting at mangle
 * priority, iptables' mangle chain, and an input accept for the marked
 * answers where input rules are ours */
static void test_transparent(void **state)
{
	struct rules_in in = spec_in();
	char buf[4096];

	(void)state;
	assert_int_equal(rules_nft_up(&in, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "prerouting"));
	assert_int_equal(rules_ipt_filter(&in, AF_INET, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "mark"));
	in.transparent = true;
	in.mark = 0x5354;
	assert_int_equal(rules_nft_up(&in, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf,
		"\tchain prerouting {\n"
		"\t\ttype filter hook prerouting priority mangle; policy "
		"accept;\n"
		"\t\tiifname \"docker0\" socket transparent 1 meta mark set "
		"0x00005354\n\t}\n"));
	assert_int_equal(rules_ipt_mangle(&in, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "*mangle\n:STRAIT-TP-docker0 - [0:0]\n"
				 "-A STRAIT-TP-docker0 -i docker0 -m socket "
				 "--transparent -j MARK --set-xmark "
				 "0x5354/0xffffffff\nCOMMIT\n");
	assert_int_equal(rules_ipt_filter(&in, AF_INET, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "-A STRAIT-IN-docker0 -i docker0 -m mark "
				    "--mark 0x5354 -j ACCEPT\nCOMMIT\n"));
	in.no_input = true;
	in.npublish = 0;
	assert_int_equal(rules_ipt_filter(&in, AF_INET, buf, sizeof(buf)), 0);
	assert_null(strstr(buf, "mark"));
	assert_int_equal(rules_ipt_mangle(&in, buf, 20), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nft_spec),
		cmocka_unit_test(test_nft_inet),
		cmocka_unit_test(test_nft_down),
		cmocka_unit_test(test_ipt_spec),
		cmocka_unit_test(test_ipt_ipv6),
		cmocka_unit_test(test_masquerade6),
		cmocka_unit_test(test_port_range),
		cmocka_unit_test(test_no_input),
		cmocka_unit_test(test_transparent),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
