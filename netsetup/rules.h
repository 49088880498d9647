/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_RULES_H
#define STRAIT_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "valid.h"

#define RULES_TABLE "strait"
#define RULES_CHAIN_FWD "STRAIT-FWD"
#define RULES_CHAIN_IN "STRAIT-IN"
#define RULES_CHAIN_POST "STRAIT-POST"

/**
 * struct rules_in - validated, canonical input of the rule generators
 * @bridge:	containers' bridge
 * @uplink:	interface towards the outside
 * @subnet:	the bridge's IPv4 subnet (masqueraded out of @uplink)
 * @subnet6:	the bridge's IPv6 subnet to masquerade, or NULL for none
 * @publish:	published host addresses and ports
 * @npublish:	how many
 * @ipv6:	filter IPv6 too (nft: an inet table)
 */
struct rules_in {
	const char *bridge, *uplink;
	const struct valid_cidr *subnet, *subnet6;
	const struct valid_publish *publish;
	size_t npublish;
	bool ipv6;
};

int rules_nft_up(const struct rules_in *in, char *buf, size_t len);
int rules_nft_down(char *buf, size_t len);
int rules_ipt_filter(const struct rules_in *in, int family, char *buf,
		     size_t len);
int rules_ipt_nat(const struct rules_in *in, int family, char *buf,
		  size_t len);

#endif
