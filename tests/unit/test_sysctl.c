// SPDX-License-Identifier: MIT
/* test_sysctl.c - no path escapes /proc/sys/net/FAMILY/conf/IF; saved lines */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysctl.h"

static void item(struct sysctl_item *it, const char *fam, const char *ifn,
		 const char *key)
{
	memset(it, 0, sizeof(*it));
	it->fam = fam;
	snprintf(it->ifname, sizeof(it->ifname), "%s", ifn);
	it->key = key;
}

/* Hostile components are refused before anything is opened */
static void test_refuses_escapes(void **state)
{
	static const char *const ifn[] = { "../conf/all", "all", "default",
					   "..", "lo/../all", "" };
	struct sysctl_item it;
	char val[16];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ifn) / sizeof(ifn[0]); i++) {
		item(&it, "ipv4", ifn[i], "forwarding");
		errno = 0;
		assert_int_equal(sysctl_write(&it, "1"), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(sysctl_read(&it, val, sizeof(val)), -1);
	}
	item(&it, "ipv4", "lo", "../../ip_forward");
	assert_int_equal(sysctl_write(&it, "1"), -1);
	item(&it, "../ipv4", "lo", "forwarding");
	assert_int_equal(sysctl_write(&it, "1"), -1);
	item(&it, "ipv4", "lo", "forwarding");
	assert_int_equal(sysctl_write(&it, "1; reboot"), -1);
	assert_int_equal(sysctl_write(&it, ""), -1);
	/* and a real one can be read */
	assert_int_equal(sysctl_read(&it, val, sizeof(val)), 0);
	assert_true(!strcmp(val, "0") || !strcmp(val, "1"));
	assert_true(sysctl_exists(&it));
}

/* A saved line is input: exactly four fields, single spaces, canonical */
static void test_item_parse(void **state)
{
	static const char *const bad[] = {
		"ipv4 eth0 forwarding",	      "ipv5 eth0 forwarding 0",
		"ipv4 all forwarding 0",      "ipv4 ../x forwarding 0",
		"ipv4 eth0 ip_forward 0",     "ipv4 eth0 forwarding -1",
		"ipv4 eth0 forwarding 1x",    "",
		"ipv4 eth0 forwarding 12345678901234567",
		"ipv4 eth0 forwarding 0 junk", "ipv4 eth0 forwarding 0 ",
		" ipv4 eth0 forwarding 0",    "ipv4  eth0 forwarding 0",
		"ipv4\teth0 forwarding 0",    "ipv4 eth0 forwarding 01",
		"ipv4 eth0 forwarding 0\n",
	};
	struct sysctl_item it;
	size_t i;

	(void)state;
	assert_int_equal(sysctl_item_parse("ipv4 eth0 forwarding 0", 22, &it),
			 0);
	assert_string_equal(it.fam, "ipv4");
	assert_string_equal(it.ifname, "eth0");
	assert_string_equal(it.key, "forwarding");
	assert_string_equal(it.val, "0");
	/* the length given is what counts, not a NUL */
	assert_int_equal(sysctl_item_parse("ipv6 br-x force_forwarding 1\nX",
					   28, &it),
			 0);
	assert_string_equal(it.val, "1");
	assert_int_equal(sysctl_item_parse("ipv4 br0 rp_filter 2", 20, &it), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sysctl_item_parse(bad[i], strlen(bad[i]), &it),
				 -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_escapes),
		cmocka_unit_test(test_item_parse),
	};

	return cmocka_run_group_tests_name("sysctl", tests, NULL, NULL);
}
