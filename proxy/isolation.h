/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_ISOLATION_H
#define STRAIT_ISOLATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "priv.h"

/* Whom a proxy started as root without -user becomes (else nobody) */
#define ISOLATION_ENV_USER "STRAIT_USER"

/* The uid and gid of nobody where /etc/passwd has no such user */
#define ISOLATION_NOBODY 65534

/**
 * enum isolation_state - what a sandbox layer did
 * @ISOLATION_APPLIED:	in force from now on
 * @ISOLATION_NO_KERNEL:	the running kernel lacks it (Landlock only)
 * @ISOLATION_BUILT_OUT:	compiled without the sandbox (SANDBOX=0)
 */
enum isolation_state {
	ISOLATION_APPLIED = 0,
	ISOLATION_NO_KERNEL,
	ISOLATION_BUILT_OUT,
};

/**
 * struct isolation_net - what the running proxy does on the network
 * @tcp_port:	first container port a TCP proxy connects to
 * @tcp_nports:	ports from @tcp_port on; 0: no TCP connect at all (UDP)
 * @transparent: sockets towards the container are bound to the client's
 *		address and port first (IP_TRANSPARENT): bind() to any port,
 *		and that one socket option, are allowed
 */
struct isolation_net {
	uint16_t tcp_port;
	uint32_t tcp_nports;
	bool transparent;
};

int isolation_user(const char *opt, const char *env, struct priv_user *u,
		   char *err, size_t errlen);
int isolation_id_mapped(const char *map, uint32_t id);
int isolation_preopen(char *err, size_t errlen);
int isolation_landlock(const struct isolation_net *net,
		       enum isolation_state *state, char *err, size_t errlen);
int isolation_seccomp(const struct isolation_net *net,
		      enum isolation_state *state, char *err, size_t errlen);
#ifndef STRAIT_NO_SANDBOX
struct sock_filter;
size_t isolation_seccomp_prog(bool transparent, uint32_t pid,
			      struct sock_filter *buf, size_t cap);
#endif
int isolation_sandbox(const struct isolation_net *net, char *err,
		      size_t errlen);

#endif
