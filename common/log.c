// SPDX-License-Identifier: MIT
/*
 * log.c - one-line messages, with a level filter and a rate limiter for
 * messages a peer can trigger at will (per-connection errors, accept
 * failures), so no client can fill a disk through us.
 *
 * Where lines go. dockerd starts the proxy with stderr on /dev/null, so a
 * proxy that only writes there tells nobody anything. log_open() picks a
 * destination once, before any sandbox: syslog (a datagram socket
 * connected to /dev/log, which journald and rsyslog read) when stderr is
 * /dev/null or closed, else stderr; stderr that is the journal (its
 * dev:ino is $JOURNAL_STREAM's) gets sd-daemon "<N>" priority prefixes.
 * The operator can force either. Until log_open() (and in programs that
 * never call it, strait-netsetup) lines are "prog: text" on stderr; after
 * it every line names its level:
 *
 *	stderr		"strait-proxy: warn: text\n"
 *	journal		"<4>warn: text\n"
 *	syslog		"<28>strait-proxy[PID]: warn: text" (LOG_DAEMON;
 *			no timestamp: the receiver stamps it, and the
 *			sandboxed proxy cannot read the time zone)
 *
 * Every line is escaped: a value echoed back (an address, a flag, an
 * environment variable) can hold a newline or a terminal escape, and must
 * never forge a line of its own.
 *
 * Logging never blocks: a relay that waits for a full stderr pipe or a
 * busy journald serves nobody. stderr's file description is shared with
 * whoever started us, so it is not made non-blocking; each line is written
 * only if it fits now (a socket: send(MSG_DONTWAIT); anything else:
 * poll(POLLOUT, 0), then one write() of the whole line, which a free pipe
 * slot always takes), and otherwise dropped and counted. The next line
 * that gets out says how many were lost.
 */
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

/* syslog(3)'s LOG_DAEMON, as a PRI value */
#define LOG_FACILITY_DAEMON (3 << 3)

static const char *log_prog = "strait";
static enum log_level log_level = LOG_LVL_INFO;
static enum log_mode log_mode = LOG_MODE_PLAIN;
static int log_fd = STDERR_FILENO;
static int log_fd_sock = -1;	/* -1: not looked at yet */
static unsigned long log_dropped;
static unsigned long log_pid;
/* What lines that name nothing else are about (log_set_tag()) */
static log_tag_fn log_tag;
static const void *log_tag_arg;

static const char *const log_names[] = { "error", "warn", "info", "debug" };
/* the syslog(3) severity of each level: LOG_ERR, LOG_WARNING, LOG_INFO,
 * LOG_DEBUG (sd-daemon's "<N>" prefixes use the same numbers) */
static const int log_severity[] = { 3, 4, 6, 7 };

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
	unsigned i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (!strcmp(s, log_names[i])) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

/**
 * log_level_name() - "error", "warn", "info" or "debug"
 * @level:	level
 *
 * Return: static name
 */
const char *log_level_name(enum log_level level)
{
	return log_names[level];
}

/**
 * log_parse_dest() - parse "auto", "stderr" or "syslog"
 * @s:		text
 * @dest:	result
 *
 * Return: 0 on success, -1 if @s names no destination
 */
int log_parse_dest(const char *s, enum log_dest *dest)
{
	static const char *const names[] = { "auto", "stderr", "syslog" };
	unsigned i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(s, names[i])) {
			*dest = (enum log_dest)i;
			return 0;
		}
	}
	return -1;
}

/* /dev/null is character device 1:3 on every Linux system */
static bool log_is_devnull(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

/* $JOURNAL_STREAM is "DEV:INO" of the stream journald gave the service:
 * stderr is the journal only if it is still that very stream */
static bool log_is_journal(const struct stat *st, const char *js)
{
	unsigned long long dev, ino;
	char *end;

	if (!js || !*js)
		return false;
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (end == js || *end != ':' || errno)
		return false;
	js = end + 1;
	ino = strtoull(js, &end, 10);
	if (end == js || *end || errno)
		return false;
	return (unsigned long long)st->st_dev == dev &&
	       (unsigned long long)st->st_ino == ino;
}

/**
 * log_pick() - how lines are to be written
 * @dest:	what the operator asked for
 * @err_st:	fstat() of stderr, or NULL if stderr is closed
 * @journal_stream: $JOURNAL_STREAM, or NULL
 *
 * Pure, for tests: auto means syslog where stderr is /dev/null or closed
 * (as dockerd starts us), and stderr is the journal only where its dev:ino
 * is @journal_stream's.
 *
 * Return: LOG_MODE_STDERR, LOG_MODE_JOURNAL or LOG_MODE_SYSLOG
 */
enum log_mode log_pick(enum log_dest dest, const struct stat *err_st,
		       const char *journal_stream)
{
	if (dest == LOG_DEST_SYSLOG ||
	    (dest == LOG_DEST_AUTO && (!err_st || log_is_devnull(err_st))))
		return LOG_MODE_SYSLOG;
	if (err_st && log_is_journal(err_st, journal_stream))
		return LOG_MODE_JOURNAL;
	return LOG_MODE_STDERR;
}

/* A datagram socket connected to /dev/log; Return: fd, or -1 with errno */
static int log_syslog_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX,
				  .sun_path = LOG_SYSLOG_PATH };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -1;
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fd;
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

/**
 * log_open() - choose where lines go from now on, and say so in each
 * @dest:	auto, stderr or syslog
 * @journal_stream: $JOURNAL_STREAM, or NULL
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Opens the syslog socket now, before any sandbox (a sandboxed process
 * cannot make one). auto without a /dev/log stays on stderr.
 *
 * Return: 0, or -1 with @err set: syslog asked for and /dev/log refused
 */
int log_open(enum log_dest dest, const char *journal_stream, char *err,
	     size_t errlen)
{
	struct stat st;
	bool open = !fstat(STDERR_FILENO, &st);
	enum log_mode mode = log_pick(dest, open ? &st : NULL, journal_stream);
	int fd = STDERR_FILENO;

	log_pid = (unsigned long)getpid();
	if (mode == LOG_MODE_SYSLOG) {
		fd = log_syslog_socket();
		if (fd < 0 && dest == LOG_DEST_SYSLOG) {
			snprintf(err, errlen, "syslog: " LOG_SYSLOG_PATH ": %s",
				 strerror(errno));
			return -1;
		}
		if (fd < 0) {
			fd = STDERR_FILENO;
			mode = LOG_MODE_STDERR;
		}
	}
	log_output_mode(fd, mode);
	return 0;
}

/**
 * log_set_tag() - what every line that names nothing else is about
 * @tag:	writes it (the process's mapping), or NULL for nothing
 * @arg:	passed to @tag
 */
void log_set_tag(log_tag_fn tag, const void *arg)
{
	log_tag = tag;
	log_tag_arg = arg;
}

/**
 * log_get_mode() - how lines are written now
 *
 * Return: mode
 */
enum log_mode log_get_mode(void)
{
	return log_mode;
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
 * log_output_mode() - send the lines to @fd, written as @mode says
 * @fd:		where lines go (a datagram socket for LOG_MODE_SYSLOG)
 * @mode:	line format
 */
void log_output_mode(int fd, enum log_mode mode)
{
	log_output(fd);
	log_mode = mode;
	if (!log_pid)
		log_pid = (unsigned long)getpid();
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

/*
 * A syslog daemon that was restarted (rsyslog makes a new /dev/log) left
 * our socket unconnected, for good: from then on each line is sent to
 * the path itself, found anew each time (a sandboxed process cannot make
 * a new socket, and needs none for this).
 */
static ssize_t log_send(const char *buf, size_t n)
{
	static bool unconnected;
	struct sockaddr_un sa = { .sun_family = AF_UNIX,
				  .sun_path = LOG_SYSLOG_PATH };
	ssize_t w = -1;

	if (!unconnected) {
		w = send(log_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w >= 0 || log_mode != LOG_MODE_SYSLOG ||
		    (errno != ECONNREFUSED && errno != ENOTCONN))
			return w;
		unconnected = true;
	}
	return sendto(log_fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL,
		      (struct sockaddr *)&sa, sizeof(sa));
}

/* Write @n bytes only if that cannot block; true if all went out */
static bool log_put(const char *buf, size_t n)
{
	struct pollfd pfd = { .fd = log_fd, .events = POLLOUT };
	struct stat st;
	ssize_t w = -1;

	if (log_fd_sock < 0)
		log_fd_sock = !fstat(log_fd, &st) && S_ISSOCK(st.st_mode);
	if (log_fd_sock) {
		w = log_send(buf, n);
	} else if (poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLOUT)) {
		w = write(log_fd, buf, n);
	}
	return w == (ssize_t)n;
}

/* The start of a line at @level, as the mode wants it. Return: length */
static int log_header(char *buf, size_t len, enum log_level level)
{
	const char *name = log_names[level];

	switch (log_mode) {
	case LOG_MODE_STDERR:
		return snprintf(buf, len, "%.32s: %s: ", log_prog, name);
	case LOG_MODE_JOURNAL:
		return snprintf(buf, len, "<%d>%s: ", log_severity[level],
				name);
	case LOG_MODE_SYSLOG:
		return snprintf(buf, len, "<%d>%.32s[%lu]: %s: ",
				LOG_FACILITY_DAEMON | log_severity[level],
				log_prog, log_pid, name);
	default:
		return snprintf(buf, len, "%.32s: ", log_prog);
	}
}

/* One whole line (a datagram, for syslog) into @out. Return: its length,
 * or -1 if it did not fit */
static int log_format(char *out, size_t len, enum log_level level,
		      const char *text)
{
	int h = log_header(out, len, level), m;
	const char *nl = log_mode == LOG_MODE_SYSLOG ? "" : "\n";

	if (h < 0 || (size_t)h >= len)
		return -1;
	m = snprintf(out + h, len - (size_t)h, "%s%s", text, nl);
	if (m < 0 || (size_t)m >= len - (size_t)h)
		return -1;
	return h + m;
}

/* The count of lines lost, ahead of the next one: in the same write on a
 * stream, as a datagram of its own to syslog. Return: bytes put in @out */
static int log_lost(char *out, size_t len)
{
	char note[64];
	int n;

	if (!log_dropped)
		return 0;
	snprintf(note, sizeof(note), "(%lu log lines dropped)", log_dropped);
	n = log_format(out, len, LOG_LVL_WARN, note);
	if (n < 0)
		return 0;
	if (log_mode != LOG_MODE_SYSLOG)
		return n;
	if (log_put(out, (size_t)n))
		log_dropped = 0;
	return 0;
}

/* @text as a line at @level, after the count of lines lost, if any */
static void log_emit(enum log_level level, const char *text)
{
	char out[2 * LOG_LINE_MAX];
	int n = log_lost(out, sizeof(out)), m;

	/* fits: @text is under LOG_LINE_MAX bytes, the rest is short */
	m = log_format(out + n, sizeof(out) - (size_t)n, level, text);
	if (m < 0)
		return;
	if (log_put(out, (size_t)(n + m)))
		log_dropped = 0;
	else
		log_dropped++;
}

/* Room for the text of a line: LOG_LINE_MAX less the longest header
 * ("<31>" or "prog: ", at most 32 bytes of name, "[pid]", the level) and
 * the newline */
#define LOG_TEXT_MAX (LOG_LINE_MAX - 32 - 32)

static void log_vtagged(struct log_ratelimit *rl, enum log_level level,
			log_tag_fn tag, const void *arg, const char *fmt,
			va_list ap)
{
	char raw[LOG_TEXT_MAX], line[LOG_TEXT_MAX];
	unsigned long missed = 0;
	size_t n = 0;

	if (level > log_level)
		return;
	if (rl && !log_ratelimit_ok(rl, log_now(), &missed))
		return;
	if (!tag) {
		tag = log_tag;
		arg = log_tag_arg;
	}
	if (tag) {
		n = tag(raw, sizeof(raw) - 2, arg);
		if (n >= sizeof(raw) - 2)
			n = 0;
	}
	if (n) {
		raw[n++] = ':';
		raw[n++] = ' ';
	}
	if (missed) {
		snprintf(raw + n, sizeof(raw) - n,
			 "(%lu similar messages suppressed)", missed);
		log_escape(line, sizeof(line), raw);
		log_emit(level, line);
	}
	if (vsnprintf(raw + n, sizeof(raw) - n, fmt, ap) < 0)
		return;
	log_escape(line, sizeof(line), raw);
	log_emit(level, line);
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
	log_vtagged(NULL, level, NULL, NULL, fmt, ap);
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
	va_list ap;

	va_start(ap, fmt);
	log_vtagged(rl, level, NULL, NULL, fmt, ap);
	va_end(ap);
	errno = saved;
}

/**
 * log_tagged() - print one line at @level about what @tag names
 * @rl:		limiter shared by messages of one kind, or NULL for none
 * @level:	level of the message
 * @tag:	writes what the line is about (the mapping of a port), or
 *		NULL; called only if the line is printed
 * @arg:	passed to @tag
 * @fmt:	printf format
 *
 * The line reads "TAG: text" (with @tag NULL, log_set_tag()'s); a line
 * the level or @rl holds back costs neither @tag nor the formatting.
 */
void log_tagged(struct log_ratelimit *rl, enum log_level level,
		log_tag_fn tag, const void *arg, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vtagged(rl, level, tag, arg, fmt, ap);
	va_end(ap);
	errno = saved;
}

/**
 * log_duration() - a time span as Go prints one: "4ms", "2.5s", "1m30s",
 * "2h0m5.004s"
 * @buf:	output, always NUL-terminated when @len > 0
 * @len:	size of @buf; 32 is always enough
 * @ms:		milliseconds
 *
 * Return: bytes in @buf, without the NUL
 */
size_t log_duration(char *buf, size_t len, uint64_t ms)
{
	uint64_t h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60;
	unsigned frac = (unsigned)(ms % 1000);
	char out[64], hm[32] = "", sec[32];
	size_t n;

	if (ms < 1000) {
		snprintf(out, sizeof(out), "%ums", frac);
	} else {
		if (h)
			snprintf(hm, sizeof(hm), "%lluh%llum",
				 (unsigned long long)h, (unsigned long long)m);
		else if (m)
			snprintf(hm, sizeof(hm), "%llum",
				 (unsigned long long)m);
		/* the fraction without its trailing zeros: 2.5s, 1.05s */
		snprintf(sec, sizeof(sec), "%llu.%03u",
			 (unsigned long long)s, frac);
		n = strlen(sec);
		while (sec[n - 1] == '0')
			sec[--n] = '\0';
		if (sec[n - 1] == '.')
			sec[--n] = '\0';
		snprintf(out, sizeof(out), "%s%ss", hm, sec);
	}
	if (!len)
		return 0;
	n = strlen(out);
	if (n >= len)
		n = len - 1;
	memcpy(buf, out, n);
	buf[n] = '\0';
	return n;
}

