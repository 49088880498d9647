// SPDX-License-Identifier: MIT
/* test_state.c - state files: exact format, strict parse, peers, lock */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

static const char good[] = "strait-netsetup-state 1\n"
			   "bridge br0\n"
			   "uplink eth0\n"
			   "uplink-old wan1\n"
			   "backend iptables\n"
			   "ipv6 masquerade\n"
			   "input on\n"
			   "transparent 0x5354 21332\n"
			   "subnet 203.0.113.0/24\n"
			   "subnet6 2001:db8:1::/64\n"
			   "publish tcp:198.51.100.1:8080\n"
			   "publish udp:[2001:db8::1]:10000-10999\n"
			   "sysctl ipv4 br0 forwarding 0\n"
			   "sysctl ipv4 eth0 forwarding 1\n"
			   "sysctl ipv4 br0 rp_filter 2\n"
			   "sysctl ipv6 br0 force_forwarding 0\n"
			   "sysctl ipv6 eth0 force_forwarding 0\n"
			   "sysctl ipv4 wan1 forwarding 0\n";

static void test_roundtrip(void **state)
{
	char buf[STATE_MAX_BYTES], err[256];
	struct state s;

	(void)state;
	assert_int_equal(state_parse(good, strlen(good), "br0", &s, err,
				     sizeof(err)),
			 0);
	assert_string_equal(s.cfg.bridge, "br0");
	assert_string_equal(s.cfg.uplink, "eth0");
	assert_string_equal(s.uplink_old, "wan1");
	assert_int_equal(s.cfg.backend, STATE_IPTABLES);
	assert_true(s.cfg.ipv6 && !s.cfg.ipv6_routed && s.cfg.input);
	assert_true(s.cfg.transparent);
	assert_int_equal(s.cfg.tp.mark, 0x5354);
	assert_int_equal(s.cfg.tp.table, 21332);
	assert_true(s.cfg.have_subnet6);
	assert_int_equal(s.cfg.subnet.len, 24);
	assert_int_equal(s.cfg.npublish, 2);
	assert_int_equal(s.cfg.publish[1].port_last, 10999);
	assert_int_equal(s.nitems, 6);
	assert_string_equal(s.item[3].key, "force_forwarding");
	assert_string_equal(s.item[1].val, "1");
	/* and it writes back byte for byte */
	assert_int_equal(state_format(&s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, good);
	assert_int_equal(state_format(&s, buf, strlen(good)), -1);
	/* the smallest: no IPv6, no publish, no sysctl yet */
	snprintf(buf, sizeof(buf), "strait-netsetup-state 1\nbridge b\n"
		 "uplink u\nbackend nft\nipv6 routed\ninput off\n"
		 "subnet 10.0.0.0/8\n");
	assert_int_equal(state_parse(buf, strlen(buf), "b", &s, err,
				     sizeof(err)),
			 0);
	assert_true(s.cfg.ipv6_routed && !s.cfg.have_subnet6);
	assert_false(s.cfg.input);
	assert_false(s.cfg.transparent);
}

/* @from replaced by @to in the good text (@to NULL: @from appended) */
static const struct {
	const char *from, *to;
} bad[] = {
	{ "sysctl ipv4 br0 forwarding 0\n",
	  "sysctl ipv4 br0 forwarding 0 x\n" },
	{ "sysctl ipv4 eth0 forwarding 1\n",
	  "sysctl ipv4 cli0 forwarding 1\n" },
	{ "sysctl ipv4 eth0 forwarding 1\n", "sysctl ipv4 all forwarding 1\n" },
	{ "sysctl ipv4 br0 rp_filter 2\n", "sysctl ipv4 eth0 rp_filter 2\n" },
	{ "sysctl ipv4 br0 rp_filter 2\n",
	  "sysctl ipv4 br0 route_localnet 0\n" },
	{ "sysctl ipv4 br0 rp_filter 2\n",
	  "sysctl ipv4 br0 force_forwarding 0\n" },
	{ "sysctl ipv4 br0 rp_filter 2\n", "sysctl ipv4 br0 forwarding 1\n" },
	{ "sysctl ipv4 br0 rp_filter 2\n", "sysctl ipv4 br0 rp_filter 02\n" },
	{ "bridge br0\n", "bridge br1\n" },
	{ "uplink eth0\n", "uplink br0\n" },
	{ "uplink-old wan1\n", "uplink-old eth0\n" },
	{ "uplink-old wan1\n", "" },
	{ "uplink eth0\nuplink-old wan1\n", "uplink-old wan1\nuplink eth0\n" },
	{ "backend iptables\n", "backend pf\n" },
	{ "backend iptables\n", "backend  iptables\n" },
	{ "ipv6 masquerade\n", "ipv6 off\n" },
	{ "subnet6 2001:db8:1::/64\n", "" },
	{ "input on\n", "input off\n" },
	{ "subnet 203.0.113.0/24\n", "subnet 203.0.113.1/24\n" },
	{ "subnet 203.0.113.0/24\n", "subnet 2001:db8:9::/64\n" },
	{ "subnet6 2001:db8:1::/64\n", "subnet6 2001:0db8:1::/64\n" },
	{ "publish tcp:198.51.100.1:8080\n",
	  "publish tcp:198.51.100.1:08080\n" },
	{ "publish tcp:198.51.100.1:8080\n", "publish icmp:198.51.100.1:80\n" },
	{ "strait-netsetup-state 1\n", "strait-netsetup-state 2\n" },
	{ "strait-netsetup-state 1\n", "" },
	{ "input on\n", "input on\r\n" },
	{ "input on\n", "input on\ncomment x\n" },
	{ "input on\n", "\n" },
	{ "sysctl ipv4 wan1 forwarding 0\n", "sysctl ipv4 wan1 forwarding 0" },
	{ "sysctl ipv4 wan1 forwarding 0\n",
	  "sysctl ipv4 wan1 forwarding 0\nsysctl ipv4 eth0 forwarding 1\n" },
	{ "sysctl ipv4 wan1 forwarding 0\n",
	  "sysctl ipv4 wan1 forwarding 0\npublish tcp:198.51.100.1:80\n" },
	{ "transparent 0x5354 21332\n", "transparent 0x5354\n" },
	{ "transparent 0x5354 21332\n", "transparent 0x05354 21332\n" },
	{ "transparent 0x5354 21332\n", "transparent 0X5354 21332\n" },
	{ "transparent 0x5354 21332\n", "transparent 21332 21332\n" },
	{ "transparent 0x5354 21332\n", "transparent 0x0 21332\n" },
	{ "transparent 0x5354 21332\n", "transparent 0x5354 254\n" },
	{ "transparent 0x5354 21332\n", "transparent 0x5354 0\n" },
	{ "transparent 0x5354 21332\n", "transparent 0x5354 21332 x\n" },
	{ "transparent 0x5354 21332\n", "transparent on\n" },
	{ "input on\ntransparent 0x5354 21332\n",
	  "transparent 0x5354 21332\ninput on\n" },
	{ "", "junk\n" },
	{ "", "\n" },
};

static void test_strict(void **state)
{
	char text[4096], err[256];
	struct state s;
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *at =
			*bad[i].from ? strstr(good, bad[i].from) : NULL;
		size_t pre = at ? (size_t)(at - good) : strlen(good);
		size_t skip = at ? strlen(bad[i].from) : 0;

		assert_true(at || !*bad[i].from);
		n = (size_t)snprintf(text, sizeof(text), "%.*s%s%s", (int)pre,
				     good, bad[i].to, good + pre + skip);
		err[0] = '\0';
		if (state_parse(text, n, "br0", &s, err, sizeof(err)) != -1)
			fail_msg("accepted case %zu:\n%s", i, text);
		assert_non_null(strstr(err, "not a state file"));
	}
	/* a NUL inside, and a file named after another bridge */
	memcpy(text, good, sizeof(good));
	text[30] = '\0';
	assert_int_equal(state_parse(text, strlen(good), "br0", &s, err,
				     sizeof(err)),
			 -1);
	assert_int_equal(state_parse(good, strlen(good), "br1", &s, err,
				     sizeof(err)),
			 -1);
	assert_int_equal(state_parse("", 0, "br0", &s, err, sizeof(err)), -1);
	/* the message says where */
	assert_int_equal(state_parse(good, strlen(good) - 1, "br0", &s, err,
				     sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "(line 18)"));
}

static void test_files(void **state)
{
	char dir[] = "/tmp/strait-test-XXXXXX", path[4096], err[256];
	struct state s, back;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(state_path(dir, "br0", path, sizeof(path)), 0);
	assert_non_null(strstr(path, "/netsetup-"));
	assert_non_null(strstr(path, "-br0.state"));
	assert_int_equal(state_load(path, "br0", &s, err, sizeof(err)), 0);
	assert_int_equal(state_parse(good, strlen(good), "br0", &s, err,
				     sizeof(err)),
			 0);
	assert_int_equal(state_save(path, &s, err, sizeof(err)), 0);
	assert_int_equal(state_load(path, "br0", &back, err, sizeof(err)), 1);
	assert_memory_equal(&s, &back, sizeof(s));
	/* a tampered file is refused as a whole, naming the file */
	f = fopen(path, "a");
	assert_non_null(f);
	fputs("sysctl ipv4 all forwarding 1\n", f);
	fclose(f);
	assert_int_equal(state_load(path, "br0", &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad state file"));
	assert_non_null(strstr(err, path));
	/* as is one too big to be ours */
	f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < STATE_MAX_BYTES / 8 + 1; i++)
		fputs("xxxxxxx\n", f);
	fclose(f);
	assert_int_equal(state_load(path, "br0", &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "too long"));
	unlink(path);
	rmdir(dir);
}

static void save(const char *dir, const char *br, const char *uplink,
		 const char *upval, char *path, size_t len)
{
	char err[256];
	struct state s;

	memset(&s, 0, sizeof(s));
	snprintf(s.cfg.bridge, sizeof(s.cfg.bridge), "%s", br);
	snprintf(s.cfg.uplink, sizeof(s.cfg.uplink), "%s", uplink);
	s.cfg.subnet.net.family = AF_INET;
	s.cfg.subnet.len = 8;
	s.cfg.input = true;
	assert_int_equal(sysctl_item_parse("ipv4 eth0 forwarding 0", 22,
					   &s.item[0]),
			 0);
	snprintf(s.item[0].val, sizeof(s.item[0].val), "%s", upval);
	snprintf(s.item[1].ifname, sizeof(s.item[1].ifname), "%s", br);
	s.item[1].fam = "ipv4";
	s.item[1].key = "forwarding";
	snprintf(s.item[1].val, sizeof(s.item[1].val), "0");
	s.nitems = 2;
	assert_int_equal(state_path(dir, br, path, len), 0);
	assert_int_equal(state_save(path, &s, err, sizeof(err)), 0);
}

/*
 * The other bridges' files of this namespace, each sysctl once with the
 * first file's value; our own file, other namespaces' files and
 * temporaries are left out; a bad peer file is an error.
 */
static void test_peers(void **state)
{
	char dir[] = "/tmp/strait-test-XXXXXX", a[4096], b[4096], c[4096];
	char other[4200], tmp[4200], err[256], br[8][IFNAMSIZ];
	struct sysctl_item out[8], eth0;
	size_t n;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(state_peers(dir, "br-a", out, 8, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 0);
	save(dir, "br-a", "eth0", "0", a, sizeof(a));
	/* what br-b's up found: br-a's doing */
	save(dir, "br-b", "eth0", "1", b, sizeof(b));
	/* another namespace's file, and a temporary: not peers */
	snprintf(other, sizeof(other), "%s/netsetup-1-br-z.state", dir);
	assert_int_equal(rename(b, other), 0);
	save(dir, "br-b", "eth0", "1", b, sizeof(b));
	snprintf(tmp, sizeof(tmp), "%s.tmp", b);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("garbage\n", f);
	fclose(f);

	assert_int_equal(state_bridges(dir, br, 8, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(state_bridges(dir, br, 1, &n, err, sizeof(err)), -1);
	assert_int_equal(state_peers(dir, "br-c", out, 8, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 3); /* eth0 once, br-a, br-b */
	assert_int_equal(state_peers(dir, "br-a", out, 8, &n, err, sizeof(err)),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(sysctl_item_parse("ipv4 eth0 forwarding 9", 22, &eth0),
			 0);
	assert_non_null(sysctl_find(out, n, &eth0));
	assert_string_equal(sysctl_find(out, n, &eth0)->val, "1");
	assert_int_equal(state_peers(dir, "br-a", out, 1, &n, err, sizeof(err)),
			 -1);
	assert_int_equal(state_path(dir, "br-b.x", c, sizeof(c)), 0);
	f = fopen(c, "w"); /* a bad peer file */
	assert_non_null(f);
	fputs("ipv4 all forwarding 1\n", f);
	fclose(f);
	assert_int_equal(state_peers(dir, "br-a", out, 8, &n, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "bad state file"));
	unlink(a);
	unlink(b);
	unlink(c);
	unlink(other);
	unlink(tmp);
	rmdir(dir);
}

/* flock: per open file, so two opens in one process contend */
static void test_lock(void **state)
{
	char dir[] = "/tmp/strait-test-XXXXXX", sub[64], err[256];
	int x, y;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/state", dir);
	x = state_lock(sub, true, 0, err, sizeof(err)); /* made if missing */
	assert_true(x >= 0);
	assert_int_equal(state_lock(sub, true, 20, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "held by another"));
	assert_int_equal(state_lock(sub, false, 0, err, sizeof(err)), -1);
	close(x);
	x = state_lock(sub, false, 0, err, sizeof(err));
	y = state_lock(sub, false, 0, err, sizeof(err));
	assert_true(x >= 0 && y >= 0);
	assert_int_equal(state_lock(sub, true, 0, err, sizeof(err)), -1);
	close(x);
	close(y);
	x = state_lock(sub, true, 0, err, sizeof(err));
	assert_true(x >= 0);
	close(x);
	assert_int_equal(state_lock("/proc/nonexistent/x", true, 0, err,
				    sizeof(err)),
			 -1);
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_strict),
		cmocka_unit_test(test_files),	  cmocka_unit_test(test_peers),
		cmocka_unit_test(test_lock),
	};

	return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
