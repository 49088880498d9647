/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_PRIV_H
#define STRAIT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/**
 * struct priv_user - who to become
 * @set:	switch uid/gid (else keep them and drop capabilities only)
 * @uid:	target user id
 * @gid:	target primary group id
 * @keep_net_raw: keep CAP_NET_RAW, and only it, where we hold it
 *		(effective, permitted, bounding): transparent mode sets
 *		IP_TRANSPARENT on a socket per client
 */
struct priv_user {
	int set;
	uid_t uid;
	gid_t gid;
	bool keep_net_raw;
};

/**
 * struct priv_ids - a process's ids
 * @uid:	real, effective and saved user ids
 * @gid:	real, effective and saved group ids
 */
struct priv_ids {
	uid_t uid[3];
	gid_t gid[3];
};

int priv_lookup_user_in(const char *path, const char *name,
			struct priv_user *u, char *err, size_t errlen);
int priv_lookup_user(const char *name, struct priv_user *u, char *err,
		     size_t errlen);
int priv_has_cap(int cap);
int priv_drop(const struct priv_user *u, char *err, size_t errlen);
int priv_verify(const struct priv_user *u, const struct priv_ids *before,
		char *err, size_t errlen);

#endif
