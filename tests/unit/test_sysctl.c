// SPDX-License-Identifier: MIT
/* test_sysctl.c - no path escapes /proc/sys/net/FAMILY/conf/IF; state files */
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

static void test_state_parse(void **state)
{
	static const char *const bad[] = {
		"ipv4 eth0 forwarding",	      "ipv5 eth0 forwarding 0",
		"ipv4 all forwarding 0",      "ipv4 ../x forwarding 0",
		"ipv4 eth0 ip_forward 0",     "ipv4 eth0 forwarding -1",
		"ipv4 eth0 forwarding 1x",    "",
		"ipv4 eth0 forwarding 12345678901234567",
	};
	struct sysctl_item it;
	size_t i;

	(void)state;
	assert_int_equal(sysctl_state_parse("ipv4 eth0 forwarding 0\n", &it),
			 0);
	assert_string_equal(it.fam, "ipv4");
	assert_string_equal(it.ifname, "eth0");
	assert_string_equal(it.key, "forwarding");
	assert_string_equal(it.val, "0");
	assert_int_equal(sysctl_state_parse("ipv6 br-x force_forwarding 1", &it),
			 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(sysctl_state_parse(bad[i], &it), -1);
}

static void test_state_roundtrip(void **state)
{
	char dir[] = "/tmp/strait-test-XXXXXX", path[4096], err[256];
	struct sysctl_item in[3], out[8];
	size_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sysctl_state_path(dir, "br0", path, sizeof(path)), 0);
	assert_non_null(strstr(path, "/netsetup-"));
	assert_non_null(strstr(path, "-br0.state"));
	assert_int_equal(sysctl_state_load(path, out, 8, &n, err, sizeof(err)),
			 0);
	item(&in[0], "ipv4", "br0", "forwarding");
	strcpy(in[0].val, "0");
	item(&in[1], "ipv4", "eth0", "forwarding");
	strcpy(in[1].val, "1");
	item(&in[2], "ipv4", "br0", "rp_filter");
	strcpy(in[2].val, "2");
	assert_int_equal(sysctl_state_save(path, in, 3, err, sizeof(err)), 0);
	assert_int_equal(sysctl_state_load(path, out, 8, &n, err, sizeof(err)),
			 1);
	assert_int_equal(n, 3);
	assert_string_equal(out[1].ifname, "eth0");
	assert_string_equal(out[2].val, "2");
	/* a tampered file is refused as a whole */
	{
		FILE *f = fopen(path, "a");

		assert_non_null(f);
		fputs("ipv4 all forwarding 1\n", f);
		fclose(f);
	}
	assert_int_equal(sysctl_state_load(path, out, 8, &n, err, sizeof(err)),
			 -1);
	unlink(path);
	rmdir(dir);
}

/*
 * The other bridges' files of this namespace, each sysctl once with the
 * first file's value; our own file, other namespaces' files and
 * temporaries are left out; a bad peer file is an error.
 */
static void test_state_peers(void **state)
{
	char dir[] = "/tmp/strait-test-XXXXXX", a[4096], b[4096], c[4096];
	char other[4200], tmp[4200], err[256];
	struct sysctl_item in[2], out[8];
	size_t n;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(sysctl_state_peers(dir, "br-a", out, 8, &n, err,
					    sizeof(err)),
			 0);
	assert_int_equal(n, 0);
	assert_int_equal(sysctl_state_path(dir, "br-a", a, sizeof(a)), 0);
	assert_int_equal(sysctl_state_path(dir, "br-b", b, sizeof(b)), 0);
	assert_int_equal(sysctl_state_path(dir, "br-b.x", c, sizeof(c)), 0);
	item(&in[0], "ipv4", "eth0", "forwarding");
	strcpy(in[0].val, "0");
	item(&in[1], "ipv4", "br-a", "forwarding");
	strcpy(in[1].val, "0");
	assert_int_equal(sysctl_state_save(a, in, 2, err, sizeof(err)), 0);
	strcpy(in[0].val, "1");	/* what br-b's up found: br-a's doing */
	item(&in[1], "ipv4", "br-b", "forwarding");
	strcpy(in[1].val, "0");
	assert_int_equal(sysctl_state_save(b, in, 2, err, sizeof(err)), 0);
	/* another namespace's file, and a temporary: not peers */
	snprintf(other, sizeof(other), "%s/netsetup-1-br-z.state", dir);
	assert_int_equal(sysctl_state_save(other, in, 1, err, sizeof(err)),
			 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", b);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs("garbage\n", f);
	fclose(f);

	assert_int_equal(sysctl_state_peers(dir, "br-c", out, 8, &n, err,
					    sizeof(err)),
			 0);
	assert_int_equal(n, 3);	/* eth0 once, br-a, br-b */
	assert_int_equal(sysctl_state_peers(dir, "br-a", out, 8, &n, err,
					    sizeof(err)),
			 0);
	assert_int_equal(n, 2);
	assert_non_null(sysctl_find(out, n, &in[0]));
	assert_string_equal(sysctl_find(out, n, &in[0])->val, "1");
	assert_null(sysctl_find(out, n, &(struct sysctl_item){
						.fam = "ipv4",
						.ifname = "br-a",
						.key = "forwarding" }));
	assert_int_equal(sysctl_state_peers(dir, "br-a", out, 1, &n, err,
					    sizeof(err)),
			 -1);
	f = fopen(c, "w");	/* a bad peer file */
	assert_non_null(f);
	fputs("ipv4 all forwarding 1\n", f);
	fclose(f);
	assert_int_equal(sysctl_state_peers(dir, "br-a", out, 8, &n, err,
					    sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "bad state file"));
	unlink(a);
	unlink(b);
	unlink(c);
	unlink(other);
	unlink(tmp);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_escapes),
		cmocka_unit_test(test_state_parse),
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_peers),
	};

	return cmocka_run_group_tests_name("sysctl", tests, NULL, NULL);
}
