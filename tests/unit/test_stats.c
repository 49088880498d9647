// SPDX-License-Identifier: MIT
/* test_stats.c - the counters: their shared memory, what the log says of
 * them, and what -stats finds and prints (text and JSON), also from a
 * memfd that lies */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"
#include "stats.h"

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };

	inet_pton(AF_INET, ip, &sa.sin_addr);
	return sa;
}

/* What a process's fds say it holds: the memfd, as -stats looks for it */
static int memfds_named(void)
{
	char path[64], link[128];
	int fd, n = 0;
	ssize_t len;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		n += !strcmp(link, "/memfd:" STATS_MEMFD_NAME " (deleted)");
	}
	return n;
}

static char *show(bool json, int *rc)
{
	char *out = NULL, *err = NULL;
	size_t olen = 0, elen = 0;
	FILE *o = open_memstream(&out, &olen), *e = open_memstream(&err, &elen);

	assert_non_null(o);
	assert_non_null(e);
	*rc = stats_show(o, e, json);
	fclose(o);
	fclose(e);
	free(err);
	return out;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/* Lines of @out that start with @prefix */
static size_t lines_starting(const char *out, const char *prefix)
{
	size_t n = 0;
	const char *l;

	for (l = out; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
		n += !strncmp(l, prefix, strlen(prefix));
	return n;
}

/* Only the counters of the proxy's protocol, by name, in order */
static void test_format(void **state)
{
	uint64_t c[STATS_NCOUNTERS] = { 0 };
	char buf[1024];

	(void)state;
	c[STATS_ACCEPTED] = 3;
	c[STATS_BYTES_TO_CONTAINER] = 100;
	c[STATS_DGRAMS_TO_CLIENT] = 9;
	stats_format(buf, sizeof(buf), IPPROTO_TCP, c, STATS_NCOUNTERS);
	assert_string_equal(buf, "accepted=3 active=0 closed=0 refused=0 "
				 "reset=0 errors=0 timed_out=0 "
				 "bytes_to_container=100 bytes_to_client=0 "
				 "bytes_spliced=0 bytes_copied=0 "
				 "accept_pauses=0");
	stats_format(buf, sizeof(buf), IPPROTO_UDP, c, STATS_NCOUNTERS);
	assert_string_equal(buf, "bytes_to_container=100 bytes_to_client=0 "
				 "dgrams_to_container=0 dgrams_to_client=9 "
				 "dgrams_dropped=0 flows_active=0 "
				 "flows_created=0 flows_evicted=0 "
				 "flows_expired=0");
	/* an older proxy's fewer counters; a short buffer is cut */
	stats_format(buf, sizeof(buf), IPPROTO_TCP, c, 2);
	assert_string_equal(buf, "accepted=3 active=0");
	assert_int_equal(stats_format(buf, 8, IPPROTO_TCP, c, 2), 7);
	assert_string_equal(buf, "accepte");
	assert_true(stats_counts(STATS_BYTES_TO_CLIENT, IPPROTO_UDP));
	assert_false(stats_counts(STATS_ACCEPTED, IPPROTO_UDP));
	assert_string_equal(stats_name(STATS_FLOWS_EXPIRED), "flows_expired");
}

/* A made-up proxy: a range of three ports, one of them idle */
static void fake_range(struct stats_head *h, struct stats_port *p)
{
	memset(h, 0, sizeof(*h));
	memset(p, 0, 3 * sizeof(*p));
	*h = (struct stats_head){ STATS_MAGIC, STATS_VERSION, sizeof(*h),
				  sizeof(*p), STATS_NCOUNTERS, 3, 4242,
				  IPPROTO_UDP, 1000000, "[::]", "10.0.0.2" };
	p[0] = (struct stats_port){ 8000, 9000, 0, { 0 } };
	p[1] = (struct stats_port){ 8001, 9001, 0, { 0 } };
	p[2] = (struct stats_port){ 8002, 9002, 0, { 0 } };
	p[0].c[STATS_DGRAMS_TO_CONTAINER] = 5;
	p[2].c[STATS_DGRAMS_TO_CONTAINER] = 2;
	p[2].c[STATS_FLOWS_ACTIVE] = 1;
}

static void test_print(void **state)
{
	struct stats_head h;
	struct stats_port p[3];
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	fake_range(&h, p);
	f = open_memstream(&out, &len);
	assert_int_equal(stats_print(f, &h, p, false, 1000000 + 93421), 0);
	fclose(f);
	assert_string_equal(
		out,
		"4242 udp [::]:8000-8002 -> 10.0.0.2:9000-9002, up 1m33.421s\n"
		"  bytes_to_container=0 bytes_to_client=0 "
		"dgrams_to_container=7 dgrams_to_client=0 dgrams_dropped=0 "
		"flows_active=1 flows_created=0 flows_evicted=0 "
		"flows_expired=0\n"
		"  port 8000 -> 9000: bytes_to_container=0 bytes_to_client=0 "
		"dgrams_to_container=5 dgrams_to_client=0 dgrams_dropped=0 "
		"flows_active=0 flows_created=0 flows_evicted=0 "
		"flows_expired=0\n"
		"  port 8002 -> 9002: bytes_to_container=0 bytes_to_client=0 "
		"dgrams_to_container=2 dgrams_to_client=0 dgrams_dropped=0 "
		"flows_active=1 flows_created=0 flows_evicted=0 "
		"flows_expired=0\n");
	free(out);
	out = NULL;
	f = open_memstream(&out, &len);
	assert_int_equal(stats_print(f, &h, p, true, 1000500), 0);
	fclose(f);
	assert_non_null(strstr(out, "{\"pid\":4242,\"proto\":\"udp\","
				    "\"host\":\"[::]\",\"container\":"
				    "\"10.0.0.2\",\"started_ms\":1000000,"
				    "\"uptime_ms\":500,\"total\":{"
				    "\"bytes_to_container\":0,"));
	assert_non_null(strstr(out, "\"dgrams_to_container\":7,"));
	assert_non_null(strstr(out, "{\"host_port\":8001,\"container_port\":"
				    "9001,\"bytes_to_container\":0,"));
	assert_int_equal(count(out, "\"host_port\""), 3);
	assert_int_equal(out[strlen(out) - 1], '}');
	free(out);
}

/*
 * The process's own counters: a sealed memfd -stats can find, the ports
 * of the range, the mapping every log line names, counters that add and
 * go down; SIGUSR1's lines; then -stats itself, finding this process.
 */
static void test_open_and_show(void **state)
{
	struct sockaddr_in host = sin4("127.0.0.1", 8000),
			   box = sin4("10.0.0.2", 9000);
	char err[256], tag[128], buf[4096], want[64];
	struct stats_port *p0, *p1;
	int pipefd[2], rc;
	char *out;
	ssize_t n;

	(void)state;
	assert_int_equal(memfds_named(), 0);
	assert_ptr_equal(stats_port(0), stats_discard());
	assert_int_equal(stats_tag(tag, sizeof(tag), stats_discard()), 0);
	assert_int_equal(stats_open(IPPROTO_TCP, (struct sockaddr *)&host,
				    (struct sockaddr *)&box, 2, err,
				    sizeof(err)),
			 0);
	assert_true(stats_shared());
	assert_int_equal(memfds_named(), 1);
	p0 = stats_port(0);
	p1 = stats_port(1);
	assert_ptr_equal(stats_port(2), stats_discard());
	assert_int_equal(p1->host_port, 8001);
	assert_int_equal(p1->container_port, 9001);
	stats_tag(tag, sizeof(tag), p1);
	assert_string_equal(tag, "tcp 127.0.0.1:8001 -> 10.0.0.2:9001");
	stats_tag(tag, sizeof(tag), NULL);
	assert_string_equal(tag, "tcp 127.0.0.1:8000-8001 -> "
				 "10.0.0.2:9000-9001");
	stats_inc(p0, STATS_ACCEPTED);
	stats_inc(p0, STATS_ACTIVE);
	stats_inc(p1, STATS_ACTIVE);
	stats_dec(p1, STATS_ACTIVE);
	stats_add(p0, STATS_BYTES_TO_CLIENT, 565);

	/* SIGUSR1's lines: the totals, then each port with traffic */
	assert_int_equal(pipe(pipefd), 0);
	log_init("test", LOG_LVL_INFO);
	log_output_mode(pipefd[1], LOG_MODE_STDERR);
	stats_log("counters");
	n = read(pipefd[0], buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(count(buf, "\n"), 2);
	assert_non_null(strstr(buf, "test: info: tcp 127.0.0.1:8000-8001 -> "
				    "10.0.0.2:9000-9001: counters: accepted=1 "
				    "active=1 "));
	assert_non_null(strstr(buf, "bytes_to_client=565 "));
	assert_non_null(strstr(buf, "\ntest: info: tcp 127.0.0.1:8000 -> "
				    "10.0.0.2:9000: counters: accepted=1 "));
	log_output_mode(STDERR_FILENO, LOG_MODE_PLAIN);
	close(pipefd[0]);
	close(pipefd[1]);

	/* -stats finds us, once, as text and as JSON */
	out = show(false, &rc);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof(want), "%d tcp 127.0.0.1:8000-8001 -> ",
		 (int)getpid());
	assert_non_null(strstr(out, want));
	assert_int_equal(count(out, want), 1);
	assert_non_null(strstr(out, "  port 8000 -> 9000: accepted=1 "));
	free(out);
	out = show(true, &rc);
	assert_int_equal(rc, 0);
	snprintf(want, sizeof(want), "{\"pid\":%d,\"proto\":\"tcp\"",
		 (int)getpid());
	assert_non_null(strstr(out, want));
	assert_int_equal(strncmp(out, "{\"proxies\":[", 12), 0);
	assert_string_equal(out + strlen(out) - 3, "]}\n");
	free(out);
}

/* A memfd of the right name whose header lies is not printed: -stats
 * reads what a compromised proxy may have written */
static void test_show_liars(void **state)
{
	struct {
		struct stats_head h;
		struct stats_port p[3];
	} m;
	char want[64], *out;
	int fds[6], i, rc;

	(void)state;
	for (i = 0; i < 6; i++) {
		fake_range(&m.h, m.p);
		m.h.pid = (uint32_t)getpid();
		switch (i) {
		case 0:
			m.h.magic = 0;
			break;
		case 1:
			m.h.nports = 1000; /* more than the file holds */
			break;
		case 2:
			strcpy(m.h.host, "\x1b]0;owned\x07");
			break;
		case 3:
			m.h.pid = 1; /* another process's */
			break;
		case 4:
			m.h.port_size = 4; /* no room for a counter */
			break;
		default:
			m.h.ipproto = 99;
			break;
		}
		fds[i] = memfd_create(STATS_MEMFD_NAME, MFD_CLOEXEC);
		assert_true(fds[i] >= 0);
		assert_int_equal(write(fds[i], &m, sizeof(m)),
				 (ssize_t)sizeof(m));
	}
	out = show(false, &rc);
	snprintf(want, sizeof(want), "%d ", (int)getpid());
	/* only test_open_and_show's own memfd */
	assert_int_equal(lines_starting(out, want), 1);
	assert_null(strstr(out, "owned"));
	snprintf(want, sizeof(want), "%d udp", (int)getpid());
	assert_int_equal(lines_starting(out, want), 0);
	free(out);
	for (i = 0; i < 6; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_open_and_show),
		cmocka_unit_test(test_show_liars),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
