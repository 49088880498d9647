// SPDX-License-Identifier: MIT
/*
 * log.c - one-line messages on stderr, "prog: text", with a level filter
 * and a rate limiter for messages a peer can trigger at will (per-connection
 * errors, accept failures), so no client can fill a disk through us.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *log_prog = "strait";
static enum log_level log_level = LOG_LVL_INFO;

/**
 * log_init() - set the program name prefixed to messages and the level
 * @prog:	program name (kept by reference: pass a string literal)
 * @level:	most verbose level printed
 */
void log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_level = level;
}

/**
 * log_get_level() - the current level
 *
 * Return: most verbose level printed
 */
enum log_level log_get_level(void)
{
	return log_level;
}

/**
 * log_parse_level() - parse "error", "warn", "info" or "debug"
 * @s:		text
 * @level:	result
 *
 * Return: 0 on success, -1 if @s names no level
 */
int log_parse_level(const char *s, enum log_level *level)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[512];
	int n;

	if (level > log_level)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	/* One write per line: lines from several processes never interleave */
	fprintf(stderr, "%s: %s\n", log_prog, line);
}

/**
 * log_msg() - print one line at @level
 * @level:	level of the message
 * @fmt:	printf format
 */
void log_msg(enum log_level level, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
	errno = saved;
}

/**
 * log_now() - monotonic seconds, for rate limits
 *
 * Return: seconds on CLOCK_MONOTONIC
 */
time_t log_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/**
 * log_ratelimit_ok() - account one message against @rl at time @now
 * @rl:		limiter
 * @now:	current monotonic time in seconds
 * @missed:	set to the messages suppressed in the previous window when a
 *		new window opens, 0 otherwise
 *
 * Pure apart from @rl, so tests drive it with any clock.
 *
 * Return: true if the message may be printed
 */
bool log_ratelimit_ok(struct log_ratelimit *rl, time_t now,
		      unsigned long *missed)
{
	*missed = 0;
	if (now - rl->start >= rl->interval || now < rl->start) {
		*missed = rl->missed;
		rl->start = now;
		rl->printed = 0;
		rl->missed = 0;
	}
	if (rl->printed < rl->burst) {
		rl->printed++;
		return true;
	}
	rl->missed++;
	return false;
}

/**
 * log_msg_rl() - print one line at @level unless @rl holds it back
 * @rl:		limiter shared by messages of one kind
 * @level:	level of the message
 * @fmt:	printf format
 */
void log_msg_rl(struct log_ratelimit *rl, enum log_level level,
		const char *fmt, ...)
{
	int saved = errno;
	unsigned long missed;
	va_list ap;

	if (level > log_level)
		return;
	if (!log_ratelimit_ok(rl, log_now(), &missed))
		return;
	if (missed)
		log_msg(level, "(%lu similar messages suppressed)", missed);
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
	errno = saved;
}
