// SPDX-License-Identifier: MIT
/*
 * ready.c - the readiness pipe dockerd gives the proxy on fd 3
 *
 * dockerd reads two bytes once: "0\n" must arrive in a single write(2), and
 * only once the listener is usable. A failure is "1\n" and the message, read
 * to EOF, so fd 3 is closed right after either. If fd 3 is not open (the
 * proxy started by hand), there is nobody to tell: that is not an error.
 *
 * Nobody may hold us forever on fd 3: a pipe left full would block a
 * write for good, deaf to SIGTERM (our handler restarts it). So the fd is
 * made non-blocking (as Docker 28's docker-proxy does; dockerd keeps no
 * copy of it) and the write waits a bounded time. A stop signal during
 * that wait ends it: SIGINT and SIGTERM are held back meanwhile, looked
 * for between short polls, and delivered to whatever handler is in place
 * once the wait is over.
 */
#include "ready.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often a blocked write looks for a stop signal */
#define READY_SLICE_MS 100

/**
 * ready_open() - claim the readiness fd if it was inherited
 * @fd:		READY_FD
 *
 * Call before anything opens a file: otherwise our own socket could land on
 * fd 3 and be taken for the pipe (the 20.10 docker-proxy's bug). Marks it
 * close-on-exec.
 *
 * Return: @fd if it is open, -1 if not
 */
int ready_open(int fd)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	return fd;
}

/**
 * ready_format() - the failure message: "1\n" and @msg, without a newline
 * @buf:	output
 * @len:	size of @buf
 * @msg:	error text, or NULL for the success message "0\n"
 *
 * A message too long for @buf is cut, never overflowed.
 *
 * Return: bytes in @buf (no NUL counted), or -1 if @len < 3
 */
ssize_t ready_format(char *buf, size_t len, const char *msg)
{
	size_t n;

	if (len < 3)
		return -1;
	if (!msg) {
		memcpy(buf, "0\n", 2);
		return 2;
	}
	memcpy(buf, "1\n", 2);
	n = strlen(msg);
	if (n > len - 2)
		n = len - 2;
	/* the message is a single line: trailing newlines are not part of it */
	while (n && msg[n - 1] == '\n')
		n--;
	memcpy(buf + 2, msg, n);
	return (ssize_t)(n + 2);
}

static long long ready_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A signal of @stop is pending (it arrived while held back) */
static bool ready_stopped(const sigset_t *stop)
{
	sigset_t pending;

	if (sigpending(&pending))
		return false;
	return (sigismember(stop, SIGINT) && sigismember(&pending, SIGINT)) ||
	       (sigismember(stop, SIGTERM) && sigismember(&pending, SIGTERM));
}

/* The write loop of ready_write(), on a non-blocking @fd */
static int ready_write_nb(int fd, const char *buf, size_t len,
			  int timeout_ms, const sigset_t *stop)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	long long left, end = ready_now_ms() + timeout_ms;
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;	/* EPIPE: nobody reads */
		if (ready_stopped(stop))
			return errno = EINTR, -1;
		left = end - ready_now_ms();
		if (left <= 0)
			return errno = ETIMEDOUT, -1;
		/* EINTR (another signal, e.g. SIGHUP): look again */
		poll(&pfd, 1,
		     (int)(left < READY_SLICE_MS ? left : READY_SLICE_MS));
	}
	return 0;
}

/**
 * ready_write() - write @len bytes to @fd, waiting at most @timeout_ms
 * @fd:		readiness fd
 * @buf:	bytes
 * @len:	count
 * @timeout_ms:	longest wait for room in a full pipe
 *
 * Makes @fd non-blocking. SIGINT and SIGTERM are held back during the
 * wait; one that arrives ends it, and is delivered before this returns.
 *
 * Return: 0 once all is written; -1 with errno EPIPE (nobody reads) or
 * another write error, ETIMEDOUT (still full after @timeout_ms), or EINTR
 * (a stop signal came first)
 */
int ready_write(int fd, const char *buf, size_t len, int timeout_ms)
{
	sigset_t stop, old;
	int fl = fcntl(fd, F_GETFL), rc, saved;

	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &old);
	/* a signal the caller held back itself is not ours to act on */
	if (sigismember(&old, SIGINT))
		sigdelset(&stop, SIGINT);
	if (sigismember(&old, SIGTERM))
		sigdelset(&stop, SIGTERM);
	rc = ready_write_nb(fd, buf, len, timeout_ms, &stop);
	saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return rc;
}

/**
 * ready_ok() - report success in one write and close @fd
 * @fd:		readiness fd, or -1 for none
 *
 * Waits at most READY_TIMEOUT_MS for room in the pipe (see ready_write()).
 *
 * Return: 0 once written; -1 with errno EPIPE (nobody reads: dockerd is
 * gone, nothing to do about it), ETIMEDOUT (the pipe stayed full), EINTR
 * (SIGINT or SIGTERM came first, and has been delivered) or another write
 * error
 */
int ready_ok(int fd)
{
	char buf[3];
	int rc, saved;

	if (fd < 0)
		return 0;
	rc = ready_write(fd, buf, (size_t)ready_format(buf, sizeof(buf), NULL),
			 READY_TIMEOUT_MS);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/**
 * ready_fail() - report @msg as a start-up failure and close @fd
 * @fd:		readiness fd, or -1 for none
 * @msg:	one-line error text
 *
 * Waits at most READY_TIMEOUT_MS, as ready_ok() does: the caller exits
 * anyway.
 */
void ready_fail(int fd, const char *msg)
{
	char buf[1024];
	ssize_t n;

	if (fd < 0)
		return;
	n = ready_format(buf, sizeof(buf), msg);
	if (n > 0)
		ready_write(fd, buf, (size_t)n, READY_TIMEOUT_MS);
	close(fd);
}
