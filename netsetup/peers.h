/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_PEERS_H
#define STRAIT_PEERS_H

#include <stdbool.h>
#include <stddef.h>

#include "state.h"

/* Most sysctls all other bridges' state files hold together */
#define PEERS_ITEMS 256
/* Most other bridges whose transparent routing is looked at */
#define PEERS_BRIDGES 64

/**
 * struct peers - what the other bridges' state files of this network
 * namespace hold (used from static storage: it is large)
 * @it:		their sysctls, each once, with its value from before the
 *		first up
 * @n:		how many
 * @tp:		the setups of those with transparent routing
 * @ntp:	how many
 */
struct peers {
	struct sysctl_item it[PEERS_ITEMS];
	size_t n;
	struct state_cfg tp[PEERS_BRIDGES];
	size_t ntp;
};

int peers_load(const char *dir, const char *bridge, struct peers *p,
	       char *err, size_t errlen);
bool peers_tp_fam(const struct state_cfg *c, int family);
int peers_tp_up(const struct state_cfg *c, char *err, size_t errlen);
int peers_tp_down(const struct state_cfg *c, const struct state_cfg *keep,
		  const struct peers *p, char *err, size_t errlen);
int peers_tp_check(const struct state_cfg *c, char *err, size_t errlen);

#endif
