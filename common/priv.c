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
 * the kernel gives us, and tries to regain root: if that works, the caller
 * must refuse to run.
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
 * /etc/passwd is read directly (fgetpwent), not through NSS: the proxy is
 * linked statically, where NSS would need the very shared libraries static
 * linking avoids, and the users a port is served as (nobody, a system
 * user) live there.
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

/**
 * priv_drop() - clear all capabilities, optionally change user, set NNP
 * @u:		user to become, or @u->set == 0 to keep the ids
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Changing ids clears the parent-death signal (dockerd sets SIGTERM there),
 * so it is read before and set again after.
 *
 * Return: 0 on success, -1 with @err set
 */
int priv_drop(const struct priv_user *u, char *err, size_t errlen)
{
	int pdeath = 0, bounding, rc;

	prctl(PR_GET_PDEATHSIG, &pdeath);
	/* Clearing the bounding set needs CAP_SETPCAP; without it we have no
	 * capability to lose there, and no_new_privs covers execve */
	capng_get_caps_process();
	bounding = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
	capng_clear(CAPNG_SELECT_ALL);

	if (u->set) {
		rc = capng_change_id((int)u->uid, (int)u->gid,
				     CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
		if (rc) {
			snprintf(err, errlen,
				 "drop privileges: capng_change_id(%u, %u) "
				 "failed (%d)",
				 (unsigned)u->uid, (unsigned)u->gid, rc);
			return -1;
		}
		if (pdeath)
			prctl(PR_SET_PDEATHSIG, pdeath);
	} else {
		if (capng_apply(bounding ? CAPNG_SELECT_BOTH
					 : CAPNG_SELECT_CAPS)) {
			snprintf(err, errlen,
				 "drop privileges: capng_apply failed");
			return -1;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "drop privileges: prctl(NO_NEW_PRIVS): %s",
			 strerror(errno));
		return -1;
	}
	return priv_verify(u, err, errlen);
}

static int priv_verify_ids(const struct priv_user *u, char *err,
			   size_t errlen)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg)) {
		snprintf(err, errlen, "verify privileges: getresuid: %s",
			 strerror(errno));
		return -1;
	}
	if (r != u->uid || e != u->uid || s != u->uid || rg != u->gid ||
	    eg != u->gid || sg != u->gid) {
		snprintf(err, errlen, "verify privileges: ids did not change");
		return -1;
	}
	if (getgroups(0, NULL) > 0 && u->gid != 0) {
		snprintf(err, errlen,
			 "verify privileges: supplementary groups kept");
		return -1;
	}
	/* The proof: try to become root again. This must fail. */
	if (u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "verify privileges: could regain root");
		return -1;
	}
	if (u->gid != 0 && (setgid(0) == 0 || setegid(0) == 0)) {
		snprintf(err, errlen, "verify privileges: could regain gid 0");
		return -1;
	}
	return 0;
}

/**
 * priv_verify() - check that no capability is left and ids are as asked
 * @u:		the user priv_drop() was asked for
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Return: 0 if the drop held, -1 with @err set otherwise
 */
int priv_verify(const struct priv_user *u, char *err, size_t errlen)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_get_caps_process()) {
		snprintf(err, errlen, "verify privileges: cannot read caps");
		return -1;
	}
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE) {
		snprintf(err, errlen, "verify privileges: capabilities left");
		return -1;
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		snprintf(err, errlen, "verify privileges: no_new_privs not set");
		return -1;
	}
	if (u->set)
		return priv_verify_ids(u, err, errlen);
	return 0;
}
