// SPDX-License-Identifier: MIT
/*
 * ready.c - the readiness pipe dockerd gives the proxy on fd 3
 *
 * dockerd reads two bytes once: "0\n" must arrive in a single write(2), and
 * only once the listener is usable. A failure is "1\n" and the message, read
 * to EOF, so fd 3 is closed right after either. If fd 3 is not open (the
 * proxy started by hand), there is nobody to tell: that is not an error.
 */
#include "ready.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

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

static int ready_write(int fd, const char *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)len ? 0 : -1;
}

/**
 * ready_ok() - report success in one write and close @fd
 * @fd:		readiness fd, or -1 for none
 *
 * Return: 0, or -1 if the write failed (dockerd gone: nothing to do about it)
 */
int ready_ok(int fd)
{
	char buf[3];
	int rc;

	if (fd < 0)
		return 0;
	rc = ready_write(fd, buf, (size_t)ready_format(buf, sizeof(buf), NULL));
	close(fd);
	return rc;
}

/**
 * ready_fail() - report @msg as a start-up failure and close @fd
 * @fd:		readiness fd, or -1 for none
 * @msg:	one-line error text
 */
void ready_fail(int fd, const char *msg)
{
	char buf[1024];
	ssize_t n;

	if (fd < 0)
		return;
	n = ready_format(buf, sizeof(buf), msg);
	if (n > 0)
		ready_write(fd, buf, (size_t)n);
	close(fd);
}
