/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_SETUP_H
#define STRAIT_SETUP_H

#include <stdio.h>

#include "ipt.h"
#include "state.h"

/* The rules' text, nft's transaction or iptables' input */
#define SETUP_RULES_MAX 16384

/* Outcomes, as strait-netsetup's exit codes */
#define SETUP_OK 0
#define SETUP_FAILED 1 /* nothing of ours left half-applied */
#define SETUP_REFUSED 2 /* bad input: nothing changed */

/**
 * struct setup_io - where up, down and check report
 * @out:	what was done (or would be), one line each; may be NULL
 * @warn:	what went wrong without failing the call; may be NULL
 * @dir:	the state directory
 */
struct setup_io {
	FILE *out, *warn;
	const char *dir;
};

int setup_iface_subnet(const char *bridge, int family, struct valid_cidr *c);
int setup_iface_check(const struct state_cfg *cfg, char *err, size_t errlen);
int setup_up(const struct state_cfg *cfg, const struct setup_io *io,
	     char *err, size_t errlen);
int setup_down(const char *bridge, const char *uplink,
	       const struct setup_io *io, char *err, size_t errlen);
int setup_nft_text(const struct state_cfg *c, char *buf, size_t len);
int setup_ipt_texts(const struct state_cfg *c, struct ipt_texts *t);
size_t setup_wanted(const struct state_cfg *c, struct sysctl_item *it);
int setup_preflight(const struct state_cfg *c, char *err, size_t errlen);
int setup_plan(const struct state_cfg *cfg, const struct setup_io *io,
	       char *err, size_t errlen);

#endif
