// SPDX-License-Identifier: MIT
/*
 * test_transparent.c - which clients may be seen by their own address
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "transparent.h"

static union addr_sock sock(const char *ip, uint16_t port)
{
	union addr_sock a;

	memset(&a, 0, sizeof(a));
	if (strchr(ip, ':')) {
		a.sin6.sin6_family = AF_INET6;
		a.sin6.sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &a.sin6.sin6_addr), 1);
	} else {
		a.sin.sin_family = AF_INET;
		a.sin.sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &a.sin.sin_addr), 1);
	}
	return a;
}

static void net(struct transparent *t, const char *ip, unsigned prefix)
{
	struct transparent_net *n = &t->nets[t->nnets++];
	union addr_sock a = sock(ip, 0);

	n->ip.family = a.sa.sa_family;
	if (a.sa.sa_family == AF_INET6)
		n->ip.v6 = a.sin6.sin6_addr;
	else
		n->ip.v4 = a.sin.sin_addr;
	n->prefix = prefix;
}

static void test_in_net(void **state)
{
	static const struct {
		const char *net;
		unsigned prefix;
		const char *ip;
		bool in;
	} cases[] = {
		{ "172.17.0.1", 16, "172.17.5.9", true },
		{ "172.17.0.1", 16, "172.18.0.1", false },
		{ "172.17.0.1", 12, "172.31.255.1", true },
		{ "172.17.0.1", 12, "172.32.0.1", false },
		{ "203.0.113.1", 24, "203.0.113.255", true },
		{ "203.0.113.1", 25, "203.0.113.200", false },
		{ "203.0.113.1", 32, "203.0.113.1", true },
		{ "203.0.113.1", 32, "203.0.113.2", false },
		{ "203.0.113.1", 0, "198.51.100.7", true },
		{ "2001:db8:1::1", 64, "2001:db8:1::abcd", true },
		{ "2001:db8:1::1", 64, "2001:db8:2::1", false },
		{ "2001:db8:1::1", 61, "2001:db8:1:7::1", true },
		{ "2001:db8:1::1", 61, "2001:db8:1:8::1", false },
		/* another family is never inside */
		{ "2001:db8:1::1", 0, "203.0.113.1", false },
		{ "203.0.113.1", 0, "2001:db8:1::1", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct transparent t = { .nnets = 0 };
		union addr_sock a = sock(cases[i].ip, 1);

		net(&t, cases[i].net, cases[i].prefix);
		assert_int_equal(transparent_in_net(&t.nets[0], &a),
				 cases[i].in);
	}
}

static void test_check(void **state)
{
	static const struct {
		int family;
		const char *ip;
		enum transparent_why why;
	} cases[] = {
		{ AF_INET, "198.51.100.2", TRANSPARENT_USED },
		{ AF_INET, "127.0.0.1", TRANSPARENT_LOOPBACK },
		{ AF_INET, "127.9.8.7", TRANSPARENT_LOOPBACK },
		{ AF_INET, "203.0.113.9", TRANSPARENT_BRIDGE },
		{ AF_INET, "2001:db8:9::2", TRANSPARENT_FAMILY },
		{ AF_INET6, "2001:db8:9::2", TRANSPARENT_USED },
		{ AF_INET6, "::1", TRANSPARENT_LOOPBACK },
		{ AF_INET6, "::ffff:127.0.0.1", TRANSPARENT_LOOPBACK },
		{ AF_INET6, "2001:db8:1::7", TRANSPARENT_BRIDGE },
		{ AF_INET6, "198.51.100.2", TRANSPARENT_FAMILY },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct transparent t = { .family = cases[i].family };
		union addr_sock a = sock(cases[i].ip, 40000);

		net(&t, "203.0.113.1", 24);
		net(&t, "2001:db8:1::1", 64);
		assert_int_equal(transparent_check(&t, &a), cases[i].why);
	}
}

/* The container's network is the one of the interface that routes to it:
 * here loopback, so 127.0.0.0/8 (and ::1/128) are learned */
static void test_init_loopback(void **state)
{
	union addr_sock target = sock("127.0.0.1", 9), c = sock("127.1.2.3", 5);
	struct transparent t;
	char err[128];

	(void)state;
	assert_int_equal(transparent_init(&t, &target, err, sizeof(err)), 0);
	assert_int_equal(t.family, AF_INET);
	assert_true(t.nnets >= 1);
	assert_true(transparent_in_net(&t.nets[0], &c) ||
		    transparent_in_net(&t.nets[t.nnets - 1], &c));
	assert_string_equal(transparent_why_name(TRANSPARENT_BRIDGE),
			    "container network");
}

/* Where the socket towards the container is bound (the family's any
 * address if it is not) */
static union addr_sock bound(int fd)
{
	union addr_sock a;
	socklen_t len = sizeof(a);

	memset(&a, 0, sizeof(a));
	assert_int_equal(getsockname(fd, &a.sa, &len), 0);
	return a;
}

/* The mode off, a fallback, and the client's address used (as root) */
static void test_open(void **state)
{
	struct transparent t = { .family = AF_INET };
	union addr_sock lo = sock("127.0.0.1", 40000),
			out = sock("198.51.100.7", 40001), b;
	int failed = -1, fd, type;
	socklen_t len = sizeof(type);
	bool used = true;

	(void)state;
	fd = transparent_open(NULL, &out, AF_INET, SOCK_DGRAM, &used, &failed);
	assert_true(fd >= 0);
	assert_false(used);
	assert_int_equal(failed, 0);
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len), 0);
	assert_int_equal(type, SOCK_DGRAM);
	close(fd);

	fd = transparent_open(&t, &lo, AF_INET, SOCK_STREAM, &used, &failed);
	assert_true(fd >= 0);
	assert_false(used);
	assert_int_equal(t.count[TRANSPARENT_LOOPBACK], 1);
	assert_int_equal(bound(fd).sin.sin_port, 0);
	close(fd);

	if (geteuid()) {
		skip();
		return;
	}
	fd = transparent_open(&t, &out, AF_INET, SOCK_STREAM, &used, &failed);
	assert_true(fd >= 0);
	assert_true(used);
	assert_int_equal(failed, 0);
	assert_int_equal(t.count[TRANSPARENT_USED], 1);
	b = bound(fd);
	assert_memory_equal(&b.sin.sin_addr, &out.sin.sin_addr, 4);
	assert_int_equal(b.sin.sin_port, out.sin.sin_port);
	close(fd);
}

/* Without the capability the plain socket is used, the reason handed to
 * the caller (which logs it) and counted; out of fds, the shortage is
 * returned as it is, with no plain socket taking the last fd */
static void test_open_failures(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct __user_cap_header_struct h = {
			.version = _LINUX_CAPABILITY_VERSION_3 };
		struct __user_cap_data_struct none[2];
		struct transparent t = { .family = AF_INET6 };
		union addr_sock out = sock("2001:db8:5::7", 40002);
		struct rlimit rl;
		int failed, fd, fd2;
		bool used;

		memset(none, 0, sizeof(none));
		if (syscall(SYS_capset, &h, none))
			_exit(10);
		fd = transparent_open(&t, &out, AF_INET6, SOCK_DGRAM, &used,
				      &failed);
		if (fd < 0 || used || failed != EPERM ||
		    t.count[TRANSPARENT_FAILED] != 1 ||
		    t.count[TRANSPARENT_USED] != 0)
			_exit(11);
		/* fds: every one up to fd in use, the limit just above */
		rl.rlim_cur = rl.rlim_max = (rlim_t)fd + 1;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			_exit(12);
		fd2 = transparent_open(&t, &out, AF_INET6, SOCK_DGRAM, &used,
				       &failed);
		if (fd2 != -1 || errno != EMFILE || failed ||
		    t.count[TRANSPARENT_FAILED] != 1)
			_exit(13);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_net),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_init_loopback),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_open_failures),
	};

	return cmocka_run_group_tests_name("transparent", tests, NULL, NULL);
}
