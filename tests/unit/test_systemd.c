// SPDX-License-Identifier: MIT
/* test_systemd.c - socket activation's variables, and readiness to
 * NOTIFY_SOCKET (a path or an abstract name), never to dockerd's */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "systemd.h"

/* LISTEN_PID / LISTEN_FDS count only for the process they name */
static void test_listen_fds(void **state)
{
	static const struct {
		const char *pid, *fds;
		int want;
	} cases[] = {
		{ "1234", "1", 1 },
		{ "1234", "3", 3 },
		{ "1234", "65535", 65535 },
		{ NULL, "1", 0 },	/* no LISTEN_PID: not ours */
		{ "1", "1", 0 },	/* another process's (dockerd's) */
		{ "12345", "1", 0 },
		{ "", "1", 0 },
		{ "1234x", "1", 0 },
		{ "1234", NULL, -1 },	/* ours, but no count */
		{ "1234", "0", -1 },
		{ "1234", "65536", -1 },
		{ "1234", "-1", -1 },
		{ "1234", "2 ", -1 },
		{ "1234", "", -1 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(systemd_listen_fds(cases[i].pid, cases[i].fds,
						    1234),
				 cases[i].want);
}

static void test_fd_names(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(systemd_fd_name("web:dns:x", 0, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "web");
	assert_int_equal(systemd_fd_name("web:dns:x", 1, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "dns");
	assert_int_equal(systemd_fd_name("web:dns:x", 2, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "x");
	assert_int_equal(systemd_fd_name("web:dns:x", 3, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(systemd_fd_name(NULL, 0, buf, sizeof(buf)), 0);
	assert_int_equal(systemd_fd_name("strait-proxy@web.socket", 0, buf,
					 sizeof(buf)),
			 15);
	assert_string_equal(buf, "strait-proxy@we");
}

static void test_notify_addr(void **state)
{
	char longer[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	struct sockaddr_un sa;
	socklen_t len;

	(void)state;
	assert_int_equal(systemd_notify_addr("/run/systemd/notify", &sa, &len),
			 0);
	assert_string_equal(sa.sun_path, "/run/systemd/notify");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 20);
	assert_int_equal(systemd_notify_addr("@strait/notify", &sa, &len), 0);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "strait/notify", 13);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 14);
	assert_int_equal(systemd_notify_addr("run/notify", &sa, &len), -1);
	assert_int_equal(systemd_notify_addr("vsock:2:1234", &sa, &len), -1);
	assert_int_equal(systemd_notify_addr("@", &sa, &len), -1);
	assert_int_equal(systemd_notify_addr("", &sa, &len), -1);
	assert_int_equal(systemd_notify_addr(NULL, &sa, &len), -1);
	memset(longer, 'x', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(systemd_notify_addr(longer, &sa, &len), -1);
}

/* dockerd's NOTIFY_SOCKET reaches every proxy it starts: never ours */
static void test_notify_wanted(void **state)
{
	(void)state;
	assert_true(systemd_notify_wanted("/run/n", false, NULL, 77));
	assert_true(systemd_notify_wanted("@n", false, "77", 77));
	/* started by dockerd: fd 3 is its readiness pipe */
	assert_false(systemd_notify_wanted("/run/n", true, NULL, 77));
	assert_false(systemd_notify_wanted("/run/n", true, "77", 77));
	/* systemd started another process, we are its child */
	assert_false(systemd_notify_wanted("/run/n", false, "76", 77));
	assert_false(systemd_notify_wanted("/run/n", false, "x", 77));
	assert_true(systemd_notify_wanted("/run/n", false, "", 77));
	assert_false(systemd_notify_wanted(NULL, false, NULL, 77));
	assert_false(systemd_notify_wanted("", false, NULL, 77));
}

static int bound(struct sockaddr_un *sa, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sa, len), 0);
	return fd;
}

static void expect(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

/* The messages arrive whole, at a path and at an abstract name */
static void test_notify(void **state)
{
	char path[64], name[64], err[256];
	struct sockaddr_un sa;
	socklen_t len;
	int rfd, fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/strait-notify-%d", (int)getpid());
	unlink(path);
	assert_int_equal(systemd_notify_addr(path, &sa, &len), 0);
	rfd = bound(&sa, len);
	fd = systemd_notify_open(path, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(systemd_notify(fd, "READY=1\nSTATUS=serving"), 0);
	expect(rfd, "READY=1\nSTATUS=serving");
	close(fd);
	close(rfd);
	unlink(path);

	snprintf(name, sizeof(name), "@strait-notify-%d", (int)getpid());
	assert_int_equal(systemd_notify_addr(name, &sa, &len), 0);
	rfd = bound(&sa, len);
	fd = systemd_notify_open(name, err, sizeof(err));
	assert_true(fd >= 0);
	assert_int_equal(systemd_notify(fd, "STOPPING=1"), 0);
	expect(rfd, "STOPPING=1");
	close(fd);
	close(rfd);

	/* nobody there: an error that names the socket */
	assert_int_equal(systemd_notify_open(path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	assert_int_equal(systemd_notify_open("vsock:1:2", err, sizeof(err)),
			 -1);
	assert_int_equal(systemd_notify(-1, "READY=1"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_fds),
		cmocka_unit_test(test_fd_names),
		cmocka_unit_test(test_notify_addr),
		cmocka_unit_test(test_notify_wanted),
		cmocka_unit_test(test_notify),
	};

	return cmocka_run_group_tests_name("systemd", tests, NULL, NULL);
}
