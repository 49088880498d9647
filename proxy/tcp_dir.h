/* SPDX-License-Identifier: MIT */
/*
 * tcp_dir.h - one direction of a relay (tcp_dir.c), for tcp_relay.c only:
 * not part of the relay's API
 */
#ifndef STRAIT_TCP_DIR_H
#define STRAIT_TCP_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "log.h"
#include "stats.h"
#include "tcp_relay.h"

/* Every log line of a relay names its port's mapping and its id */
#define tcp_relay_debug(r, fmt, ...)                                          \
	log_tagged(NULL, LOG_LVL_DEBUG, stats_tag, (r)->opts.st,              \
		   "conn %llu: " fmt, (r)->id, __VA_ARGS__)

/* Where a copying direction reads into, and the relay's early read: one
 * buffer for the whole process (see tcp_dir.c) */
extern char tcp_dir_scratch[TCP_RELAY_BUF];

void tcp_dir_init(struct tcp_relay *r, int i, bool copy);
const char *tcp_dir_state_name(enum tcp_dir_state s);
void tcp_dir_to(struct tcp_dir *d, enum tcp_dir_state to);
void tcp_dir_count(struct tcp_dir *d, size_t n, bool spliced);
int tcp_dir_hold(struct tcp_dir *d, const char *p, size_t n);
bool tcp_dir_can_read(const struct tcp_dir *d);
void tcp_dir_finish(struct tcp_dir *d);
int tcp_dir_pump(struct tcp_dir *d, bool readable);

#endif
