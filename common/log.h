/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_LOG_H
#define STRAIT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* A line, "prog: " and newline included, fits one write to a pipe slot */
#define LOG_LINE_MAX 512

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/**
 * struct log_ratelimit - allow at most @burst messages per @interval seconds
 * @interval:	window length in seconds
 * @burst:	messages allowed per window
 * @start:	start of the current window (monotonic seconds)
 * @printed:	messages let through in the current window
 * @missed:	messages suppressed in the current window
 */
struct log_ratelimit {
	time_t interval;
	unsigned burst;
	time_t start;
	unsigned printed;
	unsigned long missed;
};

#define LOG_RATELIMIT_INIT(i, b) { .interval = (i), .burst = (b) }

void log_init(const char *prog, enum log_level level);
enum log_level log_get_level(void);
int log_parse_level(const char *s, enum log_level *level);
size_t log_escape(char *dst, size_t len, const char *src);
void log_output(int fd);
unsigned long log_dropped_count(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool log_ratelimit_ok(struct log_ratelimit *rl, time_t now,
		      unsigned long *missed);
void log_msg_rl(struct log_ratelimit *rl, enum log_level level,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
time_t log_now(void);

#define log_err(...)   log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
