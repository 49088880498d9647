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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "listener.h"
#include "priv.h"

/* @path names an executable regular file (as root: any x bit) */
static bool netexec_runnable(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISREG(st.st_mode) && !access(path, X_OK);
}

/*
 * PROGRAM as execvp() would find it, looked up while we can still read
 * every directory: after the drop, a PATH entry that user cannot search
 * would turn "not found" into "Permission denied". Return: 0, or -1
 */
static int netexec_which(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH"), *p, *end;
	int n;

	if (strchr(prog, '/')) {
		n = snprintf(out, len, "%s", prog);
		return n > 0 && (size_t)n < len && netexec_runnable(out) ? 0
									 : -1;
	}
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
		       "/sbin:/bin";
	for (p = path; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		/* an empty entry is the current directory, as in execvp() */
		n = snprintf(out, len, "%.*s%s%s", (int)(end - p), p,
			     end > p ? "/" : "./", prog);
		if (n > 0 && (size_t)n < len && netexec_runnable(out))
			return 0;
	}
	return -1;
}

/* Bind every port of @p, each moved to fd 4 + i, inherited and blocking */
static int netexec_bind(const struct valid_publish *p, char *err,
			size_t errlen)
{
	unsigned n = (unsigned)(p->port_last - p->port) + 1, i;
	int *fds, fd, fl;

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
			goto fail;
		fds[i] = fcntl(fd, F_DUPFD_CLOEXEC, LISTENER_FD + (int)n);
		if (fds[i] < 0) {
			snprintf(err, errlen, "fcntl: %s", strerror(errno));
			goto fail;
		}
		close(fd);
	}
	/* hand them over as dockerd does: blocking, from fd 4 on, inherited
	 * (dup2 clears close-on-exec on the copy) */
	for (i = 0; i < n; i++) {
		fl = fcntl(fds[i], F_GETFL);
		if (fl < 0 || fcntl(fds[i], F_SETFL, fl & ~O_NONBLOCK) ||
		    dup2(fds[i], LISTENER_FD + (int)i) < 0) {
			snprintf(err, errlen, "fd %d: %s", LISTENER_FD + (int)i,
				 strerror(errno));
			goto fail;
		}
		close(fds[i]);
	}
	free(fds);
	return 0;
fail:
	free(fds);	/* the sockets: closed when the caller exits */
	return -1;
}

/**
 * netexec_run() - bind, drop, exec; returns only on failure
 * @a:		parsed exec arguments
 * @err:	one-line message on failure, naming the PROTO:HOSTIP:PORT
 * @errlen:	size of @err
 *
 * Return: -2 with @err set if nothing was done (no such user or
 * program), -1 with @err set otherwise (on success, execv() does not
 * return)
 */
int netexec_run(const struct args *a, char *err, size_t errlen)
{
	struct priv_user user = { 0 };
	char why[512], prog[4096];

	if (priv_lookup_user(a->user, &user, why, sizeof(why)))
		return snprintf(err, errlen, "exec %s: %s", a->spec, why), -2;
	if (netexec_which(a->prog[0], prog, sizeof(prog)))
		return snprintf(err, errlen, "exec %s: %s: %s", a->spec,
				a->prog[0],
				strchr(a->prog[0], '/')
					? "no such executable file"
					: "not found on PATH"),
		       -2;
	if (netexec_bind(&a->publish[0], why, sizeof(why)) ||
	    priv_drop(&user, why, sizeof(why)))
		return snprintf(err, errlen, "exec %s: %s", a->spec, why), -1;
	execv(prog, a->prog);
	snprintf(err, errlen, "exec %s: %s: %s (as user %s)", a->spec, prog,
		 strerror(errno), a->user);
	return -1;
}
