// SPDX-License-Identifier: MIT
/* test_log.c - the rate limiter and level names */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ratelimit),
		cmocka_unit_test(test_levels),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
