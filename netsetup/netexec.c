// SPDX-License-Identifier: MIT
/*
 * netexec.c - `strait-netsetup exec`: bind while privileged, then run a
 * program with no privilege at all and the bound socket on fd 4 (for a
 * range of ports, one socket per port from fd 4 on, in port order)
 *
 * This is Docker 28's own -use-listen-fd contract, so PROGRAM can be
 * `strait-proxy ... -use-listen-fd`: a published port (even below 1024)
 * served by a process with every capability set empty, no_new_privs on,
 * another uid, and no supplementary groups.
 */
#include "netexec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "listener.h"
#include "priv.h"

/**
 * netexec_run() - bind, drop, exec; returns only on failure
 * @a:		parsed exec arguments
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: -1 with @err set (on success, execvp() does not return)
 */
int netexec_run(const struct args *a, char *err, size_t errlen)
{
	const struct valid_publish *p = &a->publish[0];
	unsigned n = (unsigned)(p->port_last - p->port) + 1, i;
	struct priv_user user = { 0 };
	int *fds, fd, fl;

	if (priv_lookup_user(a->user, &user, err, errlen))
		return -1;
	/* n sockets, each moved above fd 4 + n: more than a soft limit of
	 * 1024 allows for a large range (if this fails, a bind that runs out
	 * of fds says so) */
	listener_raise_nofile();
	fds = calloc(n, sizeof(*fds));
	if (!fds)
		return snprintf(err, errlen, "out of memory"), -1;
	/* bind every port first, each copied above fd 4 + n so that moving
	 * one into place can never close another (on a failure we exit and
	 * the kernel closes them all: nothing stays bound) */
	for (i = 0; i < n; i++) {
		fd = listener_bind(p->ipproto, &p->ip,
				   (uint16_t)(p->port + i), err, errlen);
		if (fd < 0)
			return -1;
		fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, LISTENER_FD + (int)n);
		if (fds[i] < 0)
			return snprintf(err, errlen, "fcntl: %s",
					strerror(errno)),
			       -1;
		close(fd);
	}
	/* hand them over as dockerd does: blocking, from fd 4 on, inherited
	 * (dup2 clears close-on-exec on the copy) */
	for (i = 0; i < n; i++) {
		fl = fcntl(fds[i], F_GETFL);
		if (fl < 0 || fcntl(fds[i], F_SETFL, fl & ~O_NONBLOCK) ||
		    dup2(fds[i], LISTENER_FD + (int)i) < 0)
			return snprintf(err, errlen, "fd %d: %s",
					LISTENER_FD + (int)i, strerror(errno)),
			       -1;
		close(fds[i]);
	}
	free(fds);
	if (priv_drop(&user, err, errlen))
		return -1;
	execvp(a->prog[0], a->prog);
	snprintf(err, errlen, "exec %s: %s", a->prog[0], strerror(errno));
	return -1;
}
