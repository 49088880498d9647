// SPDX-License-Identifier: MIT
/*
 * priv.c - give up every privilege, then prove it (OpenSSH uidswap.c style)
 *
 * Theory of operation: everything that needs privilege (binding a low port,
 * adopting a socket) happens before priv_drop(). We then clear the
 * bounding set when we are allowed to, optionally change uid/gid dropping
 * supplementary groups first, clear every capability set (ambient too),
 * and set no_new_privs so no later execve() can gain anything back.
 * priv_verify() then checks the result from the outside view the kernel
 * gives us, and tries to regain the ids we had before (and root): if that
 * works, the caller must refuse to run.
 *
 * The capability sets are read and written with capget(2) and capset(2)
 * themselves, the bounding set with prctl(2): a proxy starts once per
 * published port and address family, and a library for this (libcap-ng,
 * which strait used before) reads /proc/PID/status six times per drop
 * and costs a shared object to load: 0.3-0.4 ms of each start on the
 * machines we measure (README, "Publishing many ports").
 */
#include "priv.h"

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* glibc has both, without a header (libcap's <sys/capability.h> has them) */
int capget(cap_user_header_t hdrp, cap_user_data_t datap);
int capset(cap_user_header_t hdrp, const cap_user_data_t datap);

/* The largest /etc/passwd read whole: more is an error, not a user */
#define PRIV_PASSWD_MAX (64u << 20)

#define PRIV_BIT(cap) ((uint64_t)1 << (cap))

/**
 * struct priv_caps - a process's capability sets, one bit per capability
 * @eff:	effective
 * @perm:	permitted
 * @inh:	inheritable
 */
struct priv_caps {
	uint64_t eff, perm, inh;
};

/* Return: 0 with @c read from the kernel, or -1 with errno set */
static int priv_caps_get(struct priv_caps *c)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (capget(&h, d))
		return -1;
	c->eff = d[0].effective | (uint64_t)d[1].effective << 32;
	c->perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	c->inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
}

/* Return: 0 with our sets now @c, or -1 with errno set */
static int priv_caps_set(const struct priv_caps *c)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
		{ (uint32_t)c->eff, (uint32_t)c->perm, (uint32_t)c->inh },
		{ (uint32_t)(c->eff >> 32), (uint32_t)(c->perm >> 32),
		  (uint32_t)(c->inh >> 32) },
	};

	return capset(&h, d);
}

/**
 * priv_has_cap() - is @cap in our effective set
 * @cap:	a capability number (CAP_NET_ADMIN, ...)
 *
 * Return: 1 if it is, 0 if not, -1 if our sets cannot be read
 */
int priv_has_cap(int cap)
{
	struct priv_caps c;

	if (cap < 0 || cap > 63)
		return 0;
	if (priv_caps_get(&c))
		return -1;
	return !!(c.eff & PRIV_BIT(cap));
}

/*
 * Empty the bounding set, but for CAP_NET_RAW if @keep. The kernel says
 * EINVAL for the first number past the last capability it knows, which
 * ends the walk: no /proc/sys/kernel/cap_last_cap to read.
 * Return: 0, or -1 with errno set
 */
static int priv_bound(int keep)
{
	int c;

	for (c = 0; c < 64; c++) {
		if (keep && c == CAP_NET_RAW)
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) == 0)
			continue;
		if (errno == EINVAL && c > CAP_NET_RAW)
			return 0;
		return -1;
	}
	return 0;
}

/* Return: the number in @s ("0".."4294967294"), or -1 if it is not one */
static long long priv_id(const char *s, const char *end)
{
	long long v = 0;

	if (s == end)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v >= 0xffffffffLL)
			return -1;
	}
	return v;
}

/*
 * The line @line..@end of /etc/passwd, if it is @name's:
 * "name:password:uid:gid:..."
 * Return: 1 with @u set, 0 if it is another user's, -1 if @name's line
 * has no valid uid or gid
 */
static int priv_passwd_line(const char *line, const char *end,
			    const char *name, size_t len, struct priv_user *u)
{
	const char *f[4];
	long long uid, gid;
	int i;

	if ((size_t)(end - line) <= len || memcmp(line, name, len) ||
	    line[len] != ':')
		return 0;
	f[0] = line + len + 1;
	for (i = 1; i < 4; i++) {
		f[i] = memchr(f[i - 1], ':', (size_t)(end - f[i - 1]));
		if (!f[i])
			return -1;
		f[i]++;
	}
	uid = priv_id(f[1], f[2] - 1);
	gid = priv_id(f[2], f[3] - 1);
	if (uid < 0 || gid < 0)
		return -1;
	u->set = 1;
	u->uid = (uid_t)uid;
	u->gid = (gid_t)gid;
	return 1;
}

/* Return: 1 with @u set, 0 if @name has no line in @buf, -1 if it has a
 * bad one */
static int priv_passwd_find(const char *buf, size_t n, const char *name,
			    struct priv_user *u)
{
	const char *line = buf, *end = buf + n, *nl;
	size_t len = strlen(name);
	int rc;

	for (; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		rc = priv_passwd_line(line, nl, name, len, u);
		if (rc)
			return rc;
	}
	return 0;
}

/* Return: @path's bytes in a new buffer, @n set, or NULL with @err set */
static char *priv_read_file(const char *path, size_t *n, char *err,
			    size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	ssize_t r = 0;

	if (fd < 0 || fstat(fd, &st))
		goto fail;
	errno = EFBIG;
	if (st.st_size < 0 || (uint64_t)st.st_size > PRIV_PASSWD_MAX ||
	    !(buf = malloc((size_t)st.st_size + 1)))
		goto fail;
	/* read what fits: a file that grows meanwhile is read to its size
	 * at the fstat, one that shrinks to its end */
	for (*n = 0; *n < (size_t)st.st_size; *n += (size_t)r) {
		r = read(fd, buf + *n, (size_t)st.st_size - *n);
		if (r < 0 && errno == EINTR) {
			r = 0;
			continue;
		}
		if (r <= 0)
			break;
	}
	if (r < 0)
		goto fail;
	close(fd);
	return buf;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	free(buf);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/**
 * priv_lookup_user_in() - find a user in a passwd(5) file
 * @path:	the file, /etc/passwd but in tests
 * @name:	user name
 * @u:		result
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * The file is read whole and parsed here (one read, where fgetpwent()
 * makes a system call per line): the first line of @name counts, as for
 * getpwnam().
 *
 * Return: 0 on success, -1 with @err set
 */
int priv_lookup_user_in(const char *path, const char *name,
			struct priv_user *u, char *err, size_t errlen)
{
	size_t n = 0;
	char *buf;
	int rc;

	if (!*name || strchr(name, ':') || strchr(name, '\n')) {
		snprintf(err, errlen, "unknown user: %s", name);
		return -1;
	}
	buf = priv_read_file(path, &n, err, errlen);
	if (!buf)
		return -1;
	rc = priv_passwd_find(buf, n, name, u);
	free(buf);
	if (rc > 0)
		return 0;
	if (rc < 0)
		snprintf(err, errlen, "%s: user %s has no valid uid and gid",
			 path, name);
	else
		snprintf(err, errlen, "unknown user: %s", name);
	return -1;
}

/**
 * priv_lookup_user() - find a user in /etc/passwd
 * @name:	user name
 * @u:		result
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * /etc/passwd is read directly, not through NSS: NSS would load its
 * modules (and may talk to nscd, sssd or systemd-userdbd) in a process
 * about to sandbox itself, and the users a port is served as (nobody, a
 * system user) live in /etc/passwd.
 *
 * Return: 0 on success, -1 with @err set
 */
int priv_lookup_user(const char *name, struct priv_user *u, char *err,
		     size_t errlen)
{
	return priv_lookup_user_in("/etc/passwd", name, u, err, errlen);
}

/* Return: 0 with @ids set to our real, effective and saved ids, or -1 */
static int priv_get_ids(struct priv_ids *ids, char *err, size_t errlen)
{
	if (getresuid(&ids->uid[0], &ids->uid[1], &ids->uid[2]) ||
	    getresgid(&ids->gid[0], &ids->gid[1], &ids->gid[2])) {
		snprintf(err, errlen, "privileges: getresuid: %s",
			 strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Changing ids clears the parent-death signal (dockerd sets one): set it
 * again. If the parent died in between, no signal will come any more (we
 * have a new parent by now): deliver it ourselves, as the kernel would
 * have, to whatever handler or default action it has.
 */
static void priv_pdeath_rearm(int sig, pid_t ppid)
{
	if (!sig)
		return;
	prctl(PR_SET_PDEATHSIG, sig);
	if (getppid() != ppid)
		raise(sig);
}

/*
 * The id change, with CAP_NET_RAW kept through it where @keep: groups
 * first (setgroups needs CAP_SETGID, which the gid change does not take
 * but the uid change does), then the uid. Leaving uid 0 empties the
 * effective and permitted sets unless PR_SET_KEEPCAPS holds them;
 * priv_drop() sets them to what is wanted right after.
 * Return: 0, or -1 with @err set
 */
static int priv_change_id(const struct priv_user *u, int keep, char *err,
			  size_t errlen)
{
	int pdeath = 0;
	pid_t ppid = getppid();
	const char *what = "PR_SET_KEEPCAPS";

	prctl(PR_GET_PDEATHSIG, &pdeath);
	if (keep && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0))
		goto fail;
	what = "setgroups";
	if (setgroups(0, NULL))
		goto fail;
	what = "setresgid";
	if (setresgid(u->gid, u->gid, u->gid))
		goto fail;
	what = "setresuid";
	if (setresuid(u->uid, u->uid, u->uid))
		goto fail;
	if (keep)
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	priv_pdeath_rearm(pdeath, ppid);
	return 0;
fail:
	snprintf(err, errlen, "drop privileges: %s (uid %u, gid %u): %s",
		 what, (unsigned)u->uid, (unsigned)u->gid, strerror(errno));
	return -1;
}

/**
 * priv_drop() - clear all capabilities, optionally change user, set NNP
 * @u:		user to become, or @u->set == 0 to keep the ids; with
 *		@u->keep_net_raw, CAP_NET_RAW stays if we hold it
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Return: 0 on success, -1 with @err set
 */
int priv_drop(const struct priv_user *u, char *err, size_t errlen)
{
	struct priv_ids before;
	struct priv_caps now, want = { 0, 0, 0 };
	int keep;

	if (priv_get_ids(&before, err, errlen))
		return -1;
	if (priv_caps_get(&now)) {
		snprintf(err, errlen,
			 "drop privileges: cannot read our capabilities: %s",
			 strerror(errno));
		return -1;
	}
	keep = u->keep_net_raw && (now.perm & PRIV_BIT(CAP_NET_RAW));
	if (keep)
		want.eff = want.perm = PRIV_BIT(CAP_NET_RAW);
	/* Emptying the bounding set needs CAP_SETPCAP; without it we have
	 * no capability to lose there, and no_new_privs covers execve */
	if ((now.eff & PRIV_BIT(CAP_SETPCAP)) && priv_bound(keep)) {
		snprintf(err, errlen, "drop privileges: PR_CAPBSET_DROP: %s",
			 strerror(errno));
		return -1;
	}
	if (u->set && priv_change_id(u, keep, err, errlen))
		return -1;
	if (priv_caps_set(&want)) {
		snprintf(err, errlen, "drop privileges: capset: %s",
			 strerror(errno));
		return -1;
	}
	/* ambient capabilities (Linux 4.3+) need permitted and
	 * inheritable, both gone: clear them all the same */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) &&
	    errno != EINVAL) {
		snprintf(err, errlen, "drop privileges: PR_CAP_AMBIENT: %s",
			 strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen,
			 "drop privileges: prctl(NO_NEW_PRIVS): %s",
			 strerror(errno));
		return -1;
	}
	return priv_verify(u, &before, err, errlen);
}

/* Return: 0 if neither setuid() nor seteuid() to @uid works (and the same
 * for @gid), -1 with @err set if one did */
static int priv_cannot_become(uid_t uid, gid_t gid, const struct priv_user *u,
			      char *err, size_t errlen)
{
	if (uid != u->uid && (setuid(uid) == 0 || seteuid(uid) == 0)) {
		snprintf(err, errlen,
			 "verify privileges: uid %u could become uid %u again",
			 (unsigned)u->uid, (unsigned)uid);
		return -1;
	}
	if (gid != u->gid && (setgid(gid) == 0 || setegid(gid) == 0)) {
		snprintf(err, errlen,
			 "verify privileges: gid %u could become gid %u again",
			 (unsigned)u->gid, (unsigned)gid);
		return -1;
	}
	return 0;
}

static int priv_verify_ids(const struct priv_user *u,
			   const struct priv_ids *before, char *err,
			   size_t errlen)
{
	struct priv_ids now;
	int i, n;

	if (priv_get_ids(&now, err, errlen))
		return -1;
	for (i = 0; i < 3; i++) {
		if (now.uid[i] == u->uid && now.gid[i] == u->gid)
			continue;
		snprintf(err, errlen,
			 "verify privileges: uids %u/%u/%u gids %u/%u/%u, "
			 "want uid %u gid %u",
			 (unsigned)now.uid[0], (unsigned)now.uid[1],
			 (unsigned)now.uid[2], (unsigned)now.gid[0],
			 (unsigned)now.gid[1], (unsigned)now.gid[2],
			 (unsigned)u->uid, (unsigned)u->gid);
		return -1;
	}
	n = getgroups(0, NULL);
	if (n != 0) {
		snprintf(err, errlen,
			 "verify privileges: %d supplementary groups kept", n);
		return -1;
	}
	/* The proof: try to become who we were, and root. This must fail. */
	for (i = 0; i < 3; i++)
		if (priv_cannot_become(before->uid[i], before->gid[i], u, err,
				       errlen))
			return -1;
	return priv_cannot_become(0, 0, u, err, errlen);
}

/**
 * priv_verify() - check that no capability is left and ids are as asked
 * @u:		the user priv_drop() was asked for
 * @before:	our ids before the drop, which we must not get back
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Return: 0 if the drop held, -1 with @err set otherwise
 */
int priv_verify(const struct priv_user *u, const struct priv_ids *before,
		char *err, size_t errlen)
{
	struct priv_caps c;
	uint64_t allowed = 0;

	if (priv_caps_get(&c)) {
		snprintf(err, errlen, "verify privileges: cannot read our "
			 "capabilities: %s", strerror(errno));
		return -1;
	}
	/* CAP_NET_RAW, where asked for, is the one capability allowed */
	if (u->keep_net_raw)
		allowed = PRIV_BIT(CAP_NET_RAW);
	if ((c.eff | c.perm) & ~allowed || c.inh) {
		snprintf(err, errlen, "verify privileges: capabilities left "
			 "(effective %#llx, permitted %#llx, inheritable %#llx)",
			 (unsigned long long)c.eff, (unsigned long long)c.perm,
			 (unsigned long long)c.inh);
		return -1;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, errlen,
			 "verify privileges: no_new_privs not set");
		return -1;
	}
	if (u->set)
		return priv_verify_ids(u, before, err, errlen);
	return 0;
}
