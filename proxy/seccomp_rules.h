/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_SECCOMP_RULES_H
#define STRAIT_SECCOMP_RULES_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The running proxy's seccomp filter, as libseccomp rules. Only the
 * build-time generator (seccomp_gen.c) and the unit test that checks its
 * output link this: the proxy itself loads the program the generator made
 * (isolation.c), without libseccomp.
 */

/* What tgkill's first argument is compared with in the generator's two
 * builds: pids as the kernel hands them out (at most 2^22), so that the
 * program is the same as for a real pid but for these constants */
#define SECCOMP_RULES_SENTINEL_A 0x2a5a5aU
#define SECCOMP_RULES_SENTINEL_B 0x35c3c3U

long seccomp_rules_program(bool transparent, uint32_t pid,
			   struct sock_filter *buf, size_t cap);

#endif
