// SPDX-License-Identifier: MIT
/*
 * log.c - one-line messages on stderr, "prog: text", with a level filter
 * and a rate limiter for messages a peer can trigger at will (per-connection
 * errors, accept failures), so no client can fill a disk through us.
 *
 * Every line is escaped: a value echoed back (an address, a flag, an
 * environment variable) can hold a newline or a terminal escape, and must
 * never forge a line of its own.
 *
 * Logging never blocks: a relay that waits for a full stderr pipe serves
 * nobody. stderr's file description is shared with whoever started us, so
 * it is not made non-blocking; each line is written only if it fits now
 * (a socket: send(MSG_DONTWAIT); anything else: poll(POLLOUT, 0), then one
 * write() of the whole line, which a free pipe slot always takes), and
 * otherwise dropped and counted. The next line that gets out says how many
 * were lost.
 */
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *log_prog = "strait";
static enum log_level log_level = LOG_LVL_INFO;
static int log_fd = STDERR_FILENO;
static int log_fd_sock = -1;	/* -1: not looked at yet */
static unsigned long log_dropped;

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

/**
 * log_escape() - @src with every byte outside printable ASCII escaped
 * @dst:	output, always NUL-terminated when @len > 0
 * @len:	size of @dst
 * @src:	text
 *
 * A backslash becomes "\\", newline, CR and tab "\n", "\r", "\t", and any
 * other byte below 0x20 or above 0x7e "\xHH": the output is one line of
 * printable ASCII, and reads back without ambiguity. A @src too long for
 * @dst is cut before the first character that does not fit whole, never
 * inside an escape.
 *
 * Return: bytes in @dst, without the NUL
 */
size_t log_escape(char *dst, size_t len, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	static const char named[] = "\\\n\r\t", letter[] = "\\nrt";
	const unsigned char *s = (const unsigned char *)src;
	const char *c;
	size_t n = 0, k;
	char e[4];

	if (!len)
		return 0;
	for (; *s; s++) {
		k = 0;
		c = strchr(named, *s);
		if (c) {
			e[k++] = '\\';
			e[k++] = letter[c - named];
		} else if (*s < 0x20 || *s > 0x7e) {
			e[k++] = '\\';
			e[k++] = 'x';
			e[k++] = hex[*s >> 4];
			e[k++] = hex[*s & 15];
		} else {
			e[k++] = (char)*s;
		}
		if (n + k >= len)
			break;
		memcpy(dst + n, e, k);
		n += k;
	}
	dst[n] = '\0';
	return n;
}

/**
 * log_output() - send the lines to @fd instead of stderr
 * @fd:		where lines go
 */
void log_output(int fd)
{
	log_fd = fd;
	log_fd_sock = -1;
}

/**
 * log_dropped_count() - lines dropped since the last one that got out
 *
 * Return: count
 */
unsigned long log_dropped_count(void)
{
	return log_dropped;
}

/* Write @n bytes only if that cannot block; true if all went out */
static bool log_put(const char *buf, size_t n)
{
	struct pollfd pfd = { .fd = log_fd, .events = POLLOUT };
	struct stat st;
	ssize_t w = -1;

	if (log_fd_sock < 0)
		log_fd_sock = !fstat(log_fd, &st) && S_ISSOCK(st.st_mode);
	if (log_fd_sock)
		w = send(log_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
	else if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT))
		w = write(log_fd, buf, n);
	return w == (ssize_t)n;
}

/* "prog: @text\n", after the count of lines lost before it, if any */
static void log_emit(const char *text)
{
	char out[2 * LOG_LINE_MAX];
	int n = 0, m;

	if (log_dropped)
		n = snprintf(out, sizeof(out),
			     "%.32s: (%lu log lines dropped)\n", log_prog,
			     log_dropped);
	if (n < 0)
		n = 0;
	/* fits: @text is at most LOG_LINE_MAX bytes, the rest is short */
	m = snprintf(out + n, sizeof(out) - (size_t)n, "%.32s: %s\n", log_prog,
		     text);
	if (m < 0 || (size_t)m >= sizeof(out) - (size_t)n)
		return;
	if (log_put(out, (size_t)(n + m)))
		log_dropped = 0;
	else
		log_dropped++;
}

static void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX - 32 - 3];

	if (level > log_level)
		return;
	if (vsnprintf(raw, sizeof(raw), fmt, ap) < 0)
		return;
	/* with "prog: " and the newline, at most LOG_LINE_MAX bytes */
	log_escape(line, sizeof(line), raw);
	log_emit(line);
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
