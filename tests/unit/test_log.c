// SPDX-License-Identifier: MIT
/* test_log.c - the rate limiter, level names, escaping, and output that
 * never blocks */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

static void test_ratelimit(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(10, 3);
	unsigned long missed;
	int i, ok = 0;

	(void)state;
	rl.start = 1000;
	for (i = 0; i < 10; i++)
		ok += log_ratelimit_ok(&rl, 1005, &missed);
	assert_int_equal(ok, 3);
	assert_int_equal(missed, 0);
	/* one second before the window closes: still held back */
	assert_false(log_ratelimit_ok(&rl, 1009, &missed));
	/* the next window reports how many were suppressed */
	assert_true(log_ratelimit_ok(&rl, 1010, &missed));
	assert_int_equal(missed, 8);
	assert_true(log_ratelimit_ok(&rl, 1011, &missed));
	assert_int_equal(missed, 0);
	/* a clock that goes backwards opens a new window, never blocks */
	assert_true(log_ratelimit_ok(&rl, 5, &missed));
}

static void test_levels(void **state)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	enum log_level l;
	int i;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(log_parse_level(names[i], &l), 0);
		assert_int_equal(l, i);
	}
	assert_int_equal(log_parse_level("DEBUG", &l), -1);
	assert_int_equal(log_parse_level("", &l), -1);
	log_init("test", LOG_LVL_WARN);
	assert_int_equal(log_get_level(), LOG_LVL_WARN);
}

/* Every byte outside printable ASCII escaped, the backslash too; a cut
 * never splits an escape */
static void test_escape(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
		{ "listen tcp4 0.0.0.0:80", 64, "listen tcp4 0.0.0.0:80" },
		{ "127.0.0.1\nstrait-proxy: FORGED", 64,
		  "127.0.0.1\\nstrait-proxy: FORGED" },
		{ "a\rb\tc", 64, "a\\rb\\tc" },
		{ "\x1b[31mred", 64, "\\x1b[31mred" },
		{ "\x01\x1f\x7f", 64, "\\x01\\x1f\\x7f" },
		{ "\x80\xff", 64, "\\x80\\xff" },
		{ "caf\xc3\xa9", 64, "caf\\xc3\\xa9" },
		{ "C:\\n", 64, "C:\\\\n" },
		{ " ~", 64, " ~" },
		{ "", 64, "" },
		/* cut whole: a character or escape that does not fit is left
		 * out, with room kept for the NUL */
		{ "abcdef", 4, "abc" },
		{ "ab\ncd", 5, "ab\\n" },
		{ "ab\ncd", 4, "ab" },
		{ "ab\ncd", 3, "ab" },
		{ "a\x1b", 6, "a\\x1b" },
		{ "a\x1b", 5, "a" },
		{ "\\\\", 4, "\\\\" },
		{ "\\\\", 3, "\\\\" },
		{ "x", 1, "" },
	};
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, '#', sizeof(out));
		assert_int_equal(log_escape(out, cases[i].len, cases[i].in),
				 strlen(cases[i].out));
		assert_string_equal(out, cases[i].out);
		/* nothing written past @len */
		if (cases[i].len < sizeof(out))
			assert_int_equal(out[cases[i].len], '#');
	}
	out[0] = '#';
	assert_int_equal(log_escape(out, 0, "x"), 0);
	assert_int_equal(out[0], '#');
}

/* A pipe with one page of room, filled to the brim; left blocking, as a
 * stderr shared with our parent would be */
static void full_pipe(int p[2])
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
}

static void drain(int fd)
{
	char buf[4096];
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	fcntl(fd, F_SETFL, fl);
}

static ssize_t read_line(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len - 1);

	assert_true(n > 0);
	buf[n] = '\0';
	return n;
}

/*
 * Lines for a full pipe are dropped and counted, never waited for (a hang
 * here is the bug: alarm() turns it into a failure); the next line that
 * gets out says how many were lost.
 */
static void test_full_pipe_drops(void **state)
{
	char buf[1024];
	int p[2], i;

	(void)state;
	alarm(10);
	full_pipe(p);
	log_init("test", LOG_LVL_DEBUG);
	log_output(p[1]);
	for (i = 0; i < 3; i++)
		log_debug("accepted 127.0.0.1:%d", 40000 + i);
	assert_int_equal(log_dropped_count(), 3);
	drain(p[0]);
	log_info("after");
	assert_int_equal(log_dropped_count(), 0);
	read_line(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "test: (3 log lines dropped)\ntest: after\n");
	log_info("again");
	read_line(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "test: again\n");
	log_output(STDERR_FILENO);
	alarm(0);
	close(p[0]);
	close(p[1]);
}

/* The same on a stream socket (journald's stderr): never a blocking send */
static void test_full_socket_drops(void **state)
{
	char junk[4096], buf[1024];
	int sv[2];

	(void)state;
	alarm(10);
	memset(junk, 'j', sizeof(junk));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	while (send(sv[1], junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	while (send(sv[1], junk, 1, MSG_DONTWAIT) > 0)
		;
	log_init("test", LOG_LVL_INFO);
	log_output(sv[1]);
	log_info("lost");
	log_err("lost too");
	log_debug("below the level: not counted");
	assert_int_equal(log_dropped_count(), 2);
	drain(sv[0]);
	log_warn("back");
	read_line(sv[0], buf, sizeof(buf));
	assert_string_equal(buf, "test: (2 log lines dropped)\ntest: back\n");
	log_output(STDERR_FILENO);
	alarm(0);
	close(sv[0]);
	close(sv[1]);
}

/* Each line is escaped, and a long one is cut to LOG_LINE_MAX without
 * splitting an escape */
static void test_lines_escaped(void **state)
{
	char msg[1200], buf[2048];
	ssize_t n, k;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	log_init("test", LOG_LVL_INFO);
	log_output(p[1]);
	log_err("flag provided but not defined: -%s", "x\nstrait: FORGED");
	read_line(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "test: flag provided but not defined: "
				 "-x\\nstrait: FORGED\n");
	memset(msg, '\n', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	log_info("%s", msg);
	n = read_line(p[0], buf, sizeof(buf));
	assert_true(n <= LOG_LINE_MAX);
	assert_int_equal(buf[n - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
	/* an even run of backslashes before "n": whole escapes only */
	for (k = n - 2; k >= 0 && buf[k] != ' '; k--)
		assert_int_equal(buf[k], (n - 2 - k) % 2 ? '\\' : 'n');
	log_output(STDERR_FILENO);
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_full_pipe_drops),
		cmocka_unit_test(test_full_socket_drops),
		cmocka_unit_test(test_lines_escaped),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
