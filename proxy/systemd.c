// SPDX-License-Identifier: MIT
/*
 * systemd.c - socket activation and readiness notification, without
 * libsystemd
 *
 * Socket activation (sd_listen_fds(3)): systemd binds the ports and
 * passes them from fd 3 on, with LISTEN_PID set to the pid it started and
 * LISTEN_FDS to their count (LISTEN_FDNAMES may name them). The variables
 * count only for the process whose pid LISTEN_PID is: a child started by
 * an activated dockerd inherits them, and must not take its fd 3 (the
 * readiness pipe) for a socket.
 *
 * Readiness (sd_notify(3)): "READY=1", "STATUS=...", "STOPPING=1" in
 * datagrams to the AF_UNIX socket NOTIFY_SOCKET names, a path or, with a
 * leading '@', an abstract name. The socket is made and connected before
 * the sandbox; later messages are send()s on it (Landlock lets a socket
 * connected before it keep talking to an abstract peer outside it).
 *
 * dockerd runs as a Type=notify service, so every proxy it starts
 * inherits its NOTIFY_SOCKET: a proxy that told systemd "READY=1" or
 * "STOPPING=1" there would speak for dockerd (or be refused, and logged,
 * by systemd). A proxy started by dockerd has a readiness pipe on fd 3;
 * one started by systemd has none (or the activated sockets there), and
 * its SYSTEMD_EXEC_PID, where systemd sets it, is its own pid.
 */
#include "systemd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A decimal number with nothing else; Return: 0, or -1 */
static int systemd_number(const char *s, unsigned long max,
			  unsigned long *v)
{
	size_t i;

	*v = 0;
	if (!s || !*s)
		return -1;
	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return -1;
		*v = *v * 10 + (unsigned long)(s[i] - '0');
	}
	return *v <= max ? 0 : -1;
}

/**
 * systemd_listen_fds() - how many sockets systemd passed us from fd 3 on
 * @listen_pid:	$LISTEN_PID, or NULL
 * @listen_fds:	$LISTEN_FDS, or NULL
 * @self:	our pid
 *
 * Pure. Variables meant for another process (LISTEN_PID not ours, or
 * unset) mean none.
 *
 * Return: the count (0: not socket-activated), or -1 if LISTEN_PID is
 * ours and LISTEN_FDS is not a count from 1 to SYSTEMD_LISTEN_FDS_MAX
 */
int systemd_listen_fds(const char *listen_pid, const char *listen_fds,
		       pid_t self)
{
	unsigned long pid, n;

	if (systemd_number(listen_pid, 0x7fffffffUL, &pid) ||
	    pid != (unsigned long)self)
		return 0;
	if (systemd_number(listen_fds, SYSTEMD_LISTEN_FDS_MAX, &n) || !n)
		return -1;
	return (int)n;
}

/**
 * systemd_fd_name() - the name LISTEN_FDNAMES gives socket @i
 * @names:	$LISTEN_FDNAMES ("a:b:c"), or NULL
 * @i:		socket index, 0 for fd 3
 * @buf:	output, always NUL-terminated when @len > 0
 * @len:	size of @buf
 *
 * Return: length of the name (0: none)
 */
size_t systemd_fd_name(const char *names, unsigned i, char *buf, size_t len)
{
	const char *p = names, *end;
	size_t n;

	if (len)
		buf[0] = '\0';
	for (; p && i; i--) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	if (!p || !len)
		return 0;
	end = strchr(p, ':');
	n = end ? (size_t)(end - p) : strlen(p);
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return n;
}

/**
 * systemd_notify_addr() - the socket address NOTIFY_SOCKET names
 * @s:		"/path" or "@abstract"
 * @sa:		result
 * @len:	its length, for connect()
 *
 * Return: 0, or -1 if @s is empty, too long or of another kind (a
 * "vsock:" address, a relative path)
 */
int systemd_notify_addr(const char *s, struct sockaddr_un *sa,
			socklen_t *len)
{
	size_t n = s ? strlen(s) : 0;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n < 2 || n >= sizeof(sa->sun_path) || (s[0] != '/' && s[0] != '@'))
		return -1;
	memcpy(sa->sun_path, s, n);
	if (s[0] == '@')
		sa->sun_path[0] = '\0'; /* abstract: no NUL at the end */
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
			   (s[0] == '/'));
	return 0;
}

/**
 * systemd_notify_wanted() - is NOTIFY_SOCKET ours to tell?
 * @notify_socket: $NOTIFY_SOCKET, or NULL
 * @ready_pipe:	fd 3 is a readiness pipe: dockerd started us
 * @exec_pid:	$SYSTEMD_EXEC_PID, or NULL (systemd before 248)
 * @self:	our pid
 *
 * Pure. Never under dockerd (its own NOTIFY_SOCKET is inherited), nor in
 * a process systemd did not start itself.
 *
 * Return: true if readiness goes to NOTIFY_SOCKET
 */
bool systemd_notify_wanted(const char *notify_socket, bool ready_pipe,
			   const char *exec_pid, pid_t self)
{
	unsigned long pid;

	if (!notify_socket || !*notify_socket || ready_pipe)
		return false;
	if (exec_pid && *exec_pid &&
	    (systemd_number(exec_pid, 0x7fffffffUL, &pid) ||
	     pid != (unsigned long)self))
		return false;
	return true;
}

/**
 * systemd_notify_open() - a datagram socket connected to NOTIFY_SOCKET
 * @notify_socket: $NOTIFY_SOCKET
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Return: the socket (close-on-exec), or -1 with @err set
 */
int systemd_notify_open(const char *notify_socket, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, e;

	if (systemd_notify_addr(notify_socket, &sa, &len)) {
		snprintf(err, errlen, "NOTIFY_SOCKET \"%.64s\": not a path or "
			 "an abstract name", notify_socket);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, len))
		return fd;
	e = errno;
	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "NOTIFY_SOCKET %.64s: %s", notify_socket,
		 strerror(e));
	return -1;
}

/**
 * systemd_notify() - one message ("READY=1\nSTATUS=...") to systemd
 * @fd:		from systemd_notify_open(), or -1 (then nothing is sent)
 * @msg:	newline-separated assignments
 *
 * Never blocks: systemd reads its notification socket promptly, and a
 * message it cannot take now is not worth a stalled proxy.
 *
 * Return: 0 (also for @fd -1), or -1 with errno
 */
int systemd_notify(int fd, const char *msg)
{
	size_t n = strlen(msg);

	if (fd < 0)
		return 0;
	return send(fd, msg, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n
		       ? 0
		       : -1;
}
