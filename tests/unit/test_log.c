// SPDX-License-Identifier: MIT
/* test_log.c - the rate limiter, level names, escaping, output that never
 * blocks, the choice of destination (stderr, the journal, syslog), lines
 * that name their level and what they are about, durations */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
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

/* auto: syslog when stderr is /dev/null or closed (dockerd), else stderr;
 * the journal only where JOURNAL_STREAM is stderr's own dev:ino */
static void test_pick(void **state)
{
	struct stat null_st, file_st;
	char js[64], other[64];
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	FILE *f = tmpfile();

	(void)state;
	assert_true(fd >= 0 && f);
	assert_int_equal(fstat(fd, &null_st), 0);
	assert_int_equal(fstat(fileno(f), &file_st), 0);
	snprintf(js, sizeof(js), "%llu:%llu",
		 (unsigned long long)file_st.st_dev,
		 (unsigned long long)file_st.st_ino);
	snprintf(other, sizeof(other), "%llu:%llu",
		 (unsigned long long)file_st.st_dev,
		 (unsigned long long)file_st.st_ino + 1);
	assert_int_equal(log_pick(LOG_DEST_AUTO, &null_st, NULL),
			 LOG_MODE_SYSLOG);
	assert_int_equal(log_pick(LOG_DEST_AUTO, NULL, NULL), LOG_MODE_SYSLOG);
	assert_int_equal(log_pick(LOG_DEST_AUTO, &file_st, NULL),
			 LOG_MODE_STDERR);
	assert_int_equal(log_pick(LOG_DEST_AUTO, &file_st, js),
			 LOG_MODE_JOURNAL);
	assert_int_equal(log_pick(LOG_DEST_STDERR, &file_st, js),
			 LOG_MODE_JOURNAL);
	/* dockerd's own JOURNAL_STREAM, inherited: not our stderr */
	assert_int_equal(log_pick(LOG_DEST_AUTO, &file_st, other),
			 LOG_MODE_STDERR);
	assert_int_equal(log_pick(LOG_DEST_AUTO, &null_st, js),
			 LOG_MODE_SYSLOG);
	/* forced */
	assert_int_equal(log_pick(LOG_DEST_STDERR, &null_st, NULL),
			 LOG_MODE_STDERR);
	assert_int_equal(log_pick(LOG_DEST_SYSLOG, &file_st, js),
			 LOG_MODE_SYSLOG);
	/* JOURNAL_STREAM that is not DEV:INO */
	strcat(js, "x");
	assert_int_equal(log_pick(LOG_DEST_AUTO, &file_st, js),
			 LOG_MODE_STDERR);
	assert_int_equal(log_pick(LOG_DEST_AUTO, &file_st, ":"),
			 LOG_MODE_STDERR);
	assert_int_equal(log_pick(LOG_DEST_AUTO, &file_st, ""),
			 LOG_MODE_STDERR);
	close(fd);
	fclose(f);
}

static void test_dest_names(void **state)
{
	static const char *const names[] = { "auto", "stderr", "syslog" };
	enum log_dest d;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_int_equal(log_parse_dest(names[i], &d), 0);
		assert_int_equal(d, i);
	}
	assert_int_equal(log_parse_dest("journal", &d), -1);
	assert_int_equal(log_parse_dest("", &d), -1);
	assert_string_equal(log_level_name(LOG_LVL_WARN), "warn");
	assert_string_equal(log_level_name(LOG_LVL_DEBUG), "debug");
}

/* Every line names its level, as each destination reads it */
static void test_modes(void **state)
{
	char buf[1024], want[128];
	int p[2], d[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	log_init("test", LOG_LVL_DEBUG);
	log_output_mode(p[1], LOG_MODE_STDERR);
	log_warn("a %s", "warning");
	read_line(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "test: warn: a warning\n");
	log_output_mode(p[1], LOG_MODE_JOURNAL);
	log_err("gone");
	read_line(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "<3>error: gone\n");
	log_debug("detail");
	read_line(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "<7>debug: detail\n");
	/* syslog: a datagram a line, LOG_DAEMON, pid, no newline, escaped */
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, d), 0);
	log_output_mode(d[1], LOG_MODE_SYSLOG);
	log_info("up\nFORGED");
	read_line(d[0], buf, sizeof(buf));
	snprintf(want, sizeof(want), "<30>test[%d]: info: up\\nFORGED",
		 (int)getpid());
	assert_string_equal(buf, want);
	log_err("down");
	read_line(d[0], buf, sizeof(buf));
	snprintf(want, sizeof(want), "<27>test[%d]: error: down",
		 (int)getpid());
	assert_string_equal(buf, want);
	log_output_mode(STDERR_FILENO, LOG_MODE_PLAIN);
	close(p[0]);
	close(p[1]);
	close(d[0]);
	close(d[1]);
}

/* A full syslog socket drops lines, never blocks; the count comes as a
 * datagram of its own before the next line */
static void test_syslog_full(void **state)
{
	char buf[1024], want[128];
	int d[2], i, n = 0;

	(void)state;
	alarm(10);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, d), 0);
	log_init("test", LOG_LVL_INFO);
	log_output_mode(d[1], LOG_MODE_SYSLOG);
	for (i = 0; i < 100000 && !log_dropped_count(); i++, n++)
		log_info("filler %d", i);
	assert_int_equal(log_dropped_count(), 1);
	log_info("lost too");
	assert_int_equal(log_dropped_count(), 2);
	for (i = 0; i < n - 1; i++)
		read_line(d[0], buf, sizeof(buf));
	log_info("back");
	assert_int_equal(log_dropped_count(), 0);
	read_line(d[0], buf, sizeof(buf));
	snprintf(want, sizeof(want), "<28>test[%d]: warn: (2 log lines "
		 "dropped)", (int)getpid());
	assert_string_equal(buf, want);
	read_line(d[0], buf, sizeof(buf));
	snprintf(want, sizeof(want), "<30>test[%d]: info: back",
		 (int)getpid());
	assert_string_equal(buf, want);
	log_output_mode(STDERR_FILENO, LOG_MODE_PLAIN);
	alarm(0);
	close(d[0]);
	close(d[1]);
}

static int tag_calls;

static size_t tag_port(char *buf, size_t len, const void *arg)
{
	tag_calls++;
	return (size_t)snprintf(buf, len, "tcp 0.0.0.0:%d -> 10.0.0.2:80",
				*(const int *)arg);
}

static size_t tag_none(char *buf, size_t len, const void *arg)
{
	(void)arg;
	(void)len;
	buf[0] = '\0';
	return 0;
}

/* What a line is about comes first; a line held back by the level or
 * the rate limiter costs no tag */
static void test_tagged(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(3600, 1);
	char buf[1024];
	int p[2], port = 8080, other = 9090;

	(void)state;
	assert_int_equal(pipe(p), 0);
	log_init("test", LOG_LVL_INFO);
	log_output_mode(p[1], LOG_MODE_STDERR);
	tag_calls = 0;
	log_tagged(NULL, LOG_LVL_INFO, tag_port, &port, "conn %d: closed", 7);
	read_line(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "test: info: tcp 0.0.0.0:8080 -> "
				 "10.0.0.2:80: conn 7: closed\n");
	log_tagged(NULL, LOG_LVL_DEBUG, tag_port, &port, "hidden");
	log_tagged(&rl, LOG_LVL_WARN, tag_port, &port, "once");
	read_line(p[0], buf, sizeof(buf));
	log_tagged(&rl, LOG_LVL_WARN, tag_port, &port, "twice");
	assert_int_equal(tag_calls, 2);
	log_tagged(NULL, LOG_LVL_INFO, tag_none, NULL, "plain");
	read_line(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "test: info: plain\n");
	/* the process's tag, for lines that name none */
	log_set_tag(tag_port, &other);
	log_info("started");
	read_line(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "test: info: tcp 0.0.0.0:9090 -> "
				 "10.0.0.2:80: started\n");
	log_tagged(NULL, LOG_LVL_INFO, tag_port, &port, "own tag wins");
	read_line(p[0], buf, sizeof(buf));
	assert_string_equal(buf, "test: info: tcp 0.0.0.0:8080 -> "
				 "10.0.0.2:80: own tag wins\n");
	log_set_tag(NULL, NULL);
	log_output_mode(STDERR_FILENO, LOG_MODE_PLAIN);
	close(p[0]);
	close(p[1]);
}

/* Spans of time as Go prints them */
static void test_duration(void **state)
{
	static const struct {
		uint64_t ms;
		const char *out;
	} cases[] = {
		{ 0, "0ms" },
		{ 4, "4ms" },
		{ 999, "999ms" },
		{ 1000, "1s" },
		{ 1500, "1.5s" },
		{ 1050, "1.05s" },
		{ 1004, "1.004s" },
		{ 90000, "1m30s" },
		{ 60000, "1m0s" },
		{ 3600000, "1h0m0s" },
		{ 7205004, "2h0m5.004s" },
		{ 93421, "1m33.421s" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(log_duration(buf, sizeof(buf), cases[i].ms),
				 strlen(cases[i].out));
		assert_string_equal(buf, cases[i].out);
	}
	assert_int_equal(log_duration(buf, 4, 93421), 3);
	assert_string_equal(buf, "1m3");
	assert_int_equal(log_duration(buf, 0, 93421), 0);
}

/* syslog asked for where there is no /dev/log: an error that says so;
 * auto there: stderr */
static void test_open(void **state)
{
	char err[128] = "";
	int rc;

	(void)state;
	if (access(LOG_SYSLOG_PATH, F_OK) == 0) {
		/* a host with a syslog daemon: it is used */
		assert_int_equal(log_open(LOG_DEST_SYSLOG, NULL, err,
					  sizeof(err)),
				 0);
		assert_int_equal(log_get_mode(), LOG_MODE_SYSLOG);
	} else {
		rc = log_open(LOG_DEST_SYSLOG, NULL, err, sizeof(err));
		assert_int_equal(rc, -1);
		assert_string_equal(err, "syslog: /dev/log: No such file or "
					 "directory");
		assert_int_equal(log_open(LOG_DEST_AUTO, NULL, err,
					  sizeof(err)),
				 0);
		assert_int_equal(log_get_mode(), LOG_MODE_STDERR);
	}
	assert_int_equal(log_open(LOG_DEST_STDERR, NULL, err, sizeof(err)),
			 0);
	assert_true(log_get_mode() == LOG_MODE_STDERR ||
		    log_get_mode() == LOG_MODE_JOURNAL);
	log_output_mode(STDERR_FILENO, LOG_MODE_PLAIN);
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
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_dest_names),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_syslog_full),
		cmocka_unit_test(test_tagged),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_open),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
