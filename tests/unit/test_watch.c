// SPDX-License-Identifier: MIT
/* test_watch.c - watch's publish file */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "watch.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_publish_file(void **state)
{
	char path[] = "/tmp/strait-test-pub-XXXXXX", err[256];
	struct args_wpub w[4];
	size_t n;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "# published\n\n  br-a=tcp:192.0.2.1:80  # web\n"
			 "udp:[2001:db8::1]:53\r\n\t\n");
	assert_int_equal(watch_read_publishes(path, w, 4, &n, err,
					      sizeof(err)),
			 0);
	assert_int_equal(n, 2);
	assert_string_equal(w[0].pattern, "br-a");
	assert_int_equal(w[0].p.port, 80);
	assert_string_equal(w[1].pattern, "*");
	assert_int_equal(w[1].p.port, 53);
	/* the first bad line is named, and nothing is taken */
	write_file(path, "tcp:192.0.2.1:80\nbr-a=tcp:192.0.2.1:0\n");
	assert_int_equal(watch_read_publishes(path, w, 4, &n, err,
					      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, ":2: bad --publish"));
	write_file(path, "x\";y=tcp:192.0.2.1:80\n");
	assert_int_equal(watch_read_publishes(path, w, 4, &n, err,
					      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, ":1: bad bridge pattern"));
	write_file(path, "tcp:192.0.2.1:80\ntcp:192.0.2.1:81\n");
	assert_int_equal(watch_read_publishes(path, w, 1, &n, err,
					      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "more than 1"));
	unlink(path);
	assert_int_equal(watch_read_publishes(path, w, 4, &n, err,
					      sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_file),
	};

	return cmocka_run_group_tests_name("watch", tests, NULL, NULL);
}
