/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_ARGS_H
#define STRAIT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "valid.h"

#define ARGS_MAX_PUBLISH 64

enum args_cmd { ARGS_UP, ARGS_DOWN, ARGS_CHECK, ARGS_EXEC, ARGS_HELP,
		ARGS_VERSION };
enum args_backend { ARGS_NFT, ARGS_IPTABLES };

/**
 * struct args - strait-netsetup's command line
 * @cmd:	subcommand
 * @bridge:	the containers' bridge
 * @uplink:	the interface towards the outside
 * @subnet:	the bridge's IPv4 subnet, if given
 * @have_subnet: @subnet was given (else it is read from the bridge)
 * @subnet6:	the bridge's IPv6 subnet, if given (--ipv6 only)
 * @have_subnet6: @subnet6 was given (else read from the bridge)
 * @publish:	published ports
 * @npublish:	how many
 * @backend:	nft (default) or iptables
 * @ipv6:	also forward IPv6 (per interface, where the kernel can),
 *		masquerading the bridge's IPv6 subnet as Docker does
 * @ipv6_routed: --ipv6 with the IPv6 subnet routed, not masqueraded
 * @user:	exec: user to become (default "nobody")
 * @prog:	exec: the program and its arguments (NULL-terminated)
 */
struct args {
	enum args_cmd cmd;
	const char *bridge, *uplink;
	struct valid_cidr subnet, subnet6;
	bool have_subnet, have_subnet6;
	struct valid_publish publish[ARGS_MAX_PUBLISH];
	size_t npublish;
	enum args_backend backend;
	bool ipv6, ipv6_routed;
	const char *user;
	char *const *prog;
};

int args_parse(int argc, char *const argv[], struct args *a, char *err,
	       size_t errlen);
extern const char args_usage[];

#endif
