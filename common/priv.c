// SPDX-License-Identifier: MIT
/*
 * priv.c - give up every privilege, then prove it (OpenSSH uidswap.c style)
 *
 * Theory of operation: everything that needs privilege (binding a low port,
 * adopting a socket) happens before priv_drop(). We then clear every
 * capability set, the bounding set too when we are allowed to, optionally
 * change uid/gid dropping supplementary groups (libcap-ng does setgroups
 * before setuid), and set no_new_privs so no later execve() can gain
 * anything back. priv_verify() then checks the result from the outside view
 * the kernel gives us, and tries to regain the ids we had before (and
 * root): if that works, the caller must refuse to run.
 */
#include "priv.h"

#include <cap-ng.h>
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

/**
 * priv_lookup_user() - find a user in /etc/passwd
 * @name:	user name
 * @u:		result
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * /etc/passwd is read directly (fgetpwent), not through NSS: NSS would
 * load its modules (and may talk to nscd, sssd or systemd-userdbd) in a
 * process about to sandbox itself, and the users a port is served as
 * (nobody, a system user) live in /etc/passwd.
 *
 * Return: 0 on success, -1 with @err set
 */
int priv_lookup_user(const char *name, struct priv_user *u, char *err,
		     size_t errlen)
{
	FILE *f = fopen("/etc/passwd", "re");
	struct passwd *pw;

	if (!f) {
		snprintf(err, errlen, "/etc/passwd: %s", strerror(errno));
		return -1;
	}
	while ((pw = fgetpwent(f))) {
		if (!strcmp(pw->pw_name, name)) {
			u->set = 1;
			u->uid = pw->pw_uid;
			u->gid = pw->pw_gid;
			fclose(f);
			return 0;
		}
	}
	fclose(f);
	snprintf(err, errlen, "unknown user: %s", name);
	return -1;
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
 * What is left after the drop, in libcap-ng's state: nothing, or
 * CAP_NET_RAW alone where it is asked for and held.
 * Return: 1 if CAP_NET_RAW is kept
 */
static int priv_wanted(const struct priv_user *u)
{
	int keep = u->keep_net_raw &&
		   capng_have_capability(CAPNG_PERMITTED, CAP_NET_RAW);

	capng_clear(CAPNG_SELECT_ALL);
	if (keep)
		capng_update(CAPNG_ADD,
			     CAPNG_EFFECTIVE | CAPNG_PERMITTED |
				     CAPNG_BOUNDING_SET,
			     CAP_NET_RAW);
	return keep;
}

/* @bounding: we may change the bounding set; @keep: CAP_NET_RAW stays */
static int priv_change_id(const struct priv_user *u, int bounding, int keep,
			  char *err, size_t errlen)
{
	int pdeath = 0, rc = 0;
	pid_t ppid = getppid();

	prctl(PR_GET_PDEATHSIG, &pdeath);
	/* capng_change_id() clears the bounding set whole: with a kept
	 * capability, bound it here, while CAP_SETPCAP is still ours */
	if (keep && bounding)
		rc = capng_apply(CAPNG_SELECT_BOUNDS);
	if (!rc)
		rc = capng_change_id((int)u->uid, (int)u->gid,
				     CAPNG_DROP_SUPP_GRP |
					     (keep ? 0 : CAPNG_CLEAR_BOUNDING));
	if (rc) {
		snprintf(err, errlen,
			 "drop privileges: capng_change_id(%u, %u) failed (%d)",
			 (unsigned)u->uid, (unsigned)u->gid, rc);
		return -1;
	}
	priv_pdeath_rearm(pdeath, ppid);
	return 0;
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
	int bounding, keep;

	if (priv_get_ids(&before, err, errlen))
		return -1;
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_get_caps_process()) {
		snprintf(err, errlen,
			 "drop privileges: cannot read our capabilities");
		return -1;
	}
	/* Clearing the bounding set needs CAP_SETPCAP; without it we have no
	 * capability to lose there, and no_new_privs covers execve */
	bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	keep = priv_wanted(u);

	if (u->set) {
		if (priv_change_id(u, bounding, keep, err, errlen))
			return -1;
	} else if (capng_apply(bounding ? CAPNG_SELECT_BOTH
					: CAPNG_SELECT_CAPS)) {
		snprintf(err, errlen, "drop privileges: capng_apply failed");
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
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_get_caps_process()) {
		snprintf(err, errlen, "verify privileges: cannot read caps");
		return -1;
	}
	/* CAP_NET_RAW, where asked for, is the one capability allowed */
	if (u->keep_net_raw)
		capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED,
			     CAP_NET_RAW);
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE ||
	    capng_have_permitted_capabilities() != CAPNG_NONE) {
		snprintf(err, errlen, "verify privileges: capabilities left");
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
