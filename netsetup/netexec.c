// SPDX-License-Identifier: MIT
/*
 * netexec.c - `strait-netsetup exec`: bind while privileged, then run a
 * program with no privilege at all and the bound socket on fd 4
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
	struct priv_user user = { 0 };
	int fd, fl;

	if (priv_lookup_user(a->user, &user, err, errlen))
		return -1;
	fd = listener_bind(p->ipproto, &p->ip, p->port, err, errlen);
	if (fd < 0)
		return -1;
	/* hand it over as dockerd does: blocking, on fd 4, inherited */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK))
		return snprintf(err, errlen, "fcntl: %s", strerror(errno)), -1;
	if (fd != LISTENER_FD) {
		if (dup2(fd, LISTENER_FD) < 0)
			return snprintf(err, errlen, "dup2: %s",
					strerror(errno)),
			       -1;
		close(fd);
	} else if (fcntl(fd, F_SETFD, 0)) {
		return snprintf(err, errlen, "fcntl: %s", strerror(errno)), -1;
	}
	if (priv_drop(&user, err, errlen))
		return -1;
	execvp(a->prog[0], a->prog);
	snprintf(err, errlen, "exec %s: %s", a->prog[0], strerror(errno));
	return -1;
}
