/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_LOG_H
#define STRAIT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

/* A line, header and newline included, fits one write to a pipe slot
 * (and one datagram to the syslog socket) */
#define LOG_LINE_MAX 1024

/* Where syslog(3) sends: journald's or rsyslog's datagram socket */
#define LOG_SYSLOG_PATH "/dev/log"

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Where the operator asked lines to go (log_open()) */
enum log_dest {
	LOG_DEST_AUTO = 0,	/* syslog where stderr is /dev/null or closed
				 * (as under dockerd), else stderr */
	LOG_DEST_STDERR,
	LOG_DEST_SYSLOG,
};

/* How lines are written */
enum log_mode {
	LOG_MODE_PLAIN = 0,	/* "prog: text" on stderr: before log_open(),
				 * and for programs that never call it */
	LOG_MODE_STDERR,	/* "prog: level: text" */
	LOG_MODE_JOURNAL,	/* "<N>level: text": stderr is the journal */
	LOG_MODE_SYSLOG,	/* "<PRI>prog[pid]: level: text", a datagram
				 * each */
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

/*
 * Writes what a line is about ("tcp 0.0.0.0:80 -> 172.17.0.2:80") into
 * @buf, from @arg; called only for lines that are printed.
 * Return: bytes written, without the NUL
 */
typedef size_t (*log_tag_fn)(char *buf, size_t len, const void *arg);

void log_init(const char *prog, enum log_level level);
enum log_level log_get_level(void);
int log_parse_level(const char *s, enum log_level *level);
const char *log_level_name(enum log_level level);
int log_parse_dest(const char *s, enum log_dest *dest);
enum log_mode log_pick(enum log_dest dest, const struct stat *err_st,
		       const char *journal_stream);
int log_open(enum log_dest dest, const char *journal_stream, char *err,
	     size_t errlen);
enum log_mode log_get_mode(void);
void log_set_tag(log_tag_fn tag, const void *arg);
size_t log_escape(char *dst, size_t len, const char *src);
void log_output(int fd);
void log_output_mode(int fd, enum log_mode mode);
unsigned long log_dropped_count(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool log_ratelimit_ok(struct log_ratelimit *rl, time_t now,
		      unsigned long *missed);
void log_msg_rl(struct log_ratelimit *rl, enum log_level level,
		const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void log_tagged(struct log_ratelimit *rl, enum log_level level,
		log_tag_fn tag, const void *arg, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
size_t log_duration(char *buf, size_t len, uint64_t ms);
time_t log_now(void);

#define log_err(...)   log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
