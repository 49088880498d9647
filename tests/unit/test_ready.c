// SPDX-License-Identifier: MIT
/* test_ready.c - the bytes dockerd reads on fd 3 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
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

/* A pipe with one page of room, filled; left blocking, as dockerd's is */
static int full_pipe(int p[2])
{
	char junk[4096];

	memset(junk, 'j', sizeof(junk));
	assert_int_equal(pipe(p), 0);
	fcntl(p[1], F_SETPIPE_SZ, 4096);
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	while (write(p[1], junk, 1) > 0)
		;
	assert_int_equal(fcntl(p[1], F_SETFL, 0), 0);
	return p[1];
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A full pipe nobody reads: ETIMEDOUT after the wait, never a hang */
static void test_full_times_out(void **state)
{
	double t0;
	int p[2];

	(void)state;
	alarm(10);
	full_pipe(p);
	t0 = now_s();
	assert_int_equal(ready_write(p[1], "0\n", 2, 200), -1);
	assert_int_equal(errno, ETIMEDOUT);
	assert_true(now_s() - t0 < 5);
	/* once there is room, the write goes through */
	assert_true(read(p[0], (char[4096]){ 0 }, 4096) > 0);
	assert_int_equal(ready_write(p[1], "0\n", 2, 200), 0);
	alarm(0);
	close(p[0]);
	close(p[1]);
}

/* Nobody to read (dockerd gone): EPIPE, told apart from a full pipe */
static void test_no_reader(void **state)
{
	int p[2];

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	assert_int_equal(ready_ok(p[1]), -1);
	assert_int_equal(errno, EPIPE);
	/* closed all the same */
	assert_int_equal(fcntl(p[1], F_GETFD), -1);
}

static volatile sig_atomic_t got_hup, got_term;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup++;
	else
		got_term++;
}

/*
 * During the wait, SIGHUP changes nothing; SIGTERM ends it (EINTR) and has
 * reached its handler by the time ready_write() returns.
 */
static void test_stop_signal_ends_wait(void **state)
{
	struct sigaction sa = { .sa_handler = on_signal,
				.sa_flags = SA_RESTART };
	double t0;
	pid_t kid;
	int p[2];

	(void)state;
	alarm(10);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	full_pipe(p);
	kid = fork();
	assert_true(kid >= 0);
	if (kid == 0) {
		usleep(200000);
		kill(getppid(), SIGHUP);
		usleep(300000);
		kill(getppid(), SIGTERM);
		_exit(0);
	}
	t0 = now_s();
	assert_int_equal(ready_write(p[1], "0\n", 2, 4000), -1);
	assert_int_equal(errno, EINTR);
	assert_true(now_s() - t0 < 3.5);
	assert_int_equal(got_hup, 1);
	assert_int_equal(got_term, 1);
	assert_int_equal(waitpid(kid, NULL, 0), kid);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	alarm(0);
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
		cmocka_unit_test(test_full_times_out),
		cmocka_unit_test(test_no_reader),
		cmocka_unit_test(test_stop_signal_ends_wait),
	};

	return cmocka_run_group_tests_name("ready", tests, NULL, NULL);
}
