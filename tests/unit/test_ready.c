// SPDX-License-Identifier: MIT
/* test_ready.c - the bytes dockerd reads on fd 3 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "ready.h"

static void test_format(void **state)
{
	char buf[16], tiny[3];

	(void)state;
	assert_int_equal(ready_format(buf, sizeof(buf), NULL), 2);
	assert_memory_equal(buf, "0\n", 2);
	assert_int_equal(ready_format(buf, sizeof(buf), "bad port"), 10);
	assert_memory_equal(buf, "1\nbad port", 10);
	/* a trailing newline is not part of the message */
	assert_int_equal(ready_format(buf, sizeof(buf), "x\n\n"), 3);
	assert_memory_equal(buf, "1\nx", 3);
	/* long messages are cut to the buffer, never past it */
	assert_int_equal(ready_format(buf, sizeof(buf),
				      "listen tcp4 0.0.0.0:80: bind: x"),
			 16);
	assert_memory_equal(buf, "1\nlisten tcp4 0.", 16);
	assert_int_equal(ready_format(tiny, sizeof(tiny), "e"), 3);
	assert_int_equal(ready_format(tiny, 2, NULL), -1);
}

static int pipe_fds(int p[2])
{
	assert_int_equal(pipe(p), 0);
	return p[1];
}

/* One read of two bytes gets "0\n", then EOF: the writer closed it */
static void test_ok(void **state)
{
	char buf[8];
	int p[2];

	(void)state;
	assert_int_equal(ready_ok(pipe_fds(p)), 0);
	assert_int_equal(read(p[0], buf, 2), 2);
	assert_memory_equal(buf, "0\n", 2);
	assert_int_equal(read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
	assert_int_equal(ready_ok(-1), 0);
}

static void test_fail(void **state)
{
	const char *msg = "listen tcp4 127.0.0.1:8000: bind: address already "
			  "in use";
	char buf[128];
	ssize_t n;
	int p[2];

	(void)state;
	ready_fail(pipe_fds(p), msg);
	n = read(p[0], buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)strlen(msg) + 2);
	assert_memory_equal(buf, "1\n", 2);
	assert_memory_equal(buf + 2, msg, strlen(msg));
	assert_int_equal(read(p[0], buf, sizeof(buf)), 0);
	close(p[0]);
	ready_fail(-1, msg);
}

/* fd 3 closed: nothing to report to; fd 3 open: claimed, close-on-exec */
static void test_open(void **state)
{
	int p[2], fd;

	(void)state;
	assert_int_equal(pipe(p), 0);
	fd = p[1];
	close(fd);
	assert_int_equal(ready_open(fd), -1);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(ready_open(p[1]), p[1]);
	assert_true(fcntl(p[1], F_GETFD) & FD_CLOEXEC);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_ok),
		cmocka_unit_test(test_fail),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests_name("ready", tests, NULL, NULL);
}
