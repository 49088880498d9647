/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_RULES_H
#define STRAIT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "valid.h"

/*
 * Each bridge has rules of its own, so several bridges (a Docker network
 * each) can be set up side by side and taken down one at a time: the nft
 * table "strait-BRIDGE", the iptables chains "STRAIT-FWD-BRIDGE",
 * "STRAIT-IN-BRIDGE", "STRAIT-POST-BRIDGE" and, in mangle for transparent
 * mode, "STRAIT-TP-BRIDGE" (28 characters at most with a 15-character
 * name, iptables' limit).
 */
#define RULES_NAME_MAX 32

/**
 * struct rules_names - the names of one bridge's table and chains
 */
struct rules_names {
	char table[RULES_NAME_MAX], fwd[RULES_NAME_MAX], in[RULES_NAME_MAX],
		post[RULES_NAME_MAX], tp[RULES_NAME_MAX];
};

/**
 * struct rules_in - validated, canonical input of the rule generators
 * @bridge:	containers' bridge
 * @uplink:	interface towards the outside
 * @subnet:	the bridge's IPv4 subnet (masqueraded out of @uplink)
 * @subnet6:	the bridge's IPv6 subnet to masquerade, or NULL for none
 * @publish:	published host addresses and ports
 * @npublish:	how many
 * @ipv6:	filter IPv6 too (nft: an inet table)
 * @no_input:	no input rules at all (the admin filters input)
 * @transparent: mark packets from the bridge that belong to a local
 *		transparent socket with @mark (transparent mode's replies)
 * @mark:	that mark
 */
struct rules_in {
	const char *bridge, *uplink;
	const struct valid_cidr *subnet, *subnet6;
	const struct valid_publish *publish;
	size_t npublish;
	bool ipv6, no_input, transparent;
	unsigned mark;
};

void rules_names(const char *bridge, struct rules_names *n);
int rules_nft_up(const struct rules_in *in, char *buf, size_t len);
int rules_nft_down(const char *bridge, char *buf, size_t len);
int rules_nft_accept(const struct valid_publish *p, char *buf, size_t len);
int rules_nft_fwd(const char *in_if, const char *out_if, bool replies,
		  char *buf, size_t len);
int rules_ipt_filter(const struct rules_in *in, int family, char *buf,
		     size_t len);
int rules_ipt_nat(const struct rules_in *in, int family, char *buf,
		  size_t len);
int rules_ipt_mangle(const struct rules_in *in, char *buf, size_t len);

#endif
