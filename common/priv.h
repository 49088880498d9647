/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_PRIV_H
#define STRAIT_PRIV_H

#include <stddef.h>
#include <sys/types.h>

/**
 * struct priv_user - who to become
 * @set:	switch uid/gid (else keep them and drop capabilities only)
 * @uid:	target user id
 * @gid:	target primary group id
 */
struct priv_user {
	int set;
	uid_t uid;
	gid_t gid;
};

int priv_lookup_user(const char *name, struct priv_user *u, char *err,
		     size_t errlen);
int priv_drop(const struct priv_user *u, char *err, size_t errlen);
int priv_verify(const struct priv_user *u, char *err, size_t errlen);

#endif
