/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_ARGS_H
#define STRAIT_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "tproute.h"
#include "valid.h"

#define ARGS_MAX_PUBLISH 64
#define ARGS_MAX_PATTERNS 16
/* A bridge name pattern: an interface name with '*' and '?' */
#define ARGS_PATTERN_LEN 16

enum args_cmd { ARGS_UP, ARGS_DOWN, ARGS_CHECK, ARGS_EXEC, ARGS_STATUS,
		ARGS_WATCH, ARGS_HELP, ARGS_VERSION, ARGS_NCMDS };
enum args_backend { ARGS_AUTO, ARGS_NFT, ARGS_IPTABLES };

/**
 * struct args_wpub - watch: a publish for the bridges matching a pattern
 * @pattern:	bridge name pattern ("*" for every bridge watched)
 * @p:		the published address and ports
 */
struct args_wpub {
	char pattern[ARGS_PATTERN_LEN];
	struct valid_publish p;
};

/**
 * struct args - strait-netsetup's command line
 * @cmd:	subcommand
 * @help:	ARGS_HELP: the subcommand whose help is asked for (ARGS_HELP
 *		for the overview)
 * @bridge:	the containers' bridge
 * @uplink:	the interface towards the outside
 * @subnet:	the bridge's IPv4 subnet, if given
 * @have_subnet: @subnet was given (else it is read from the bridge)
 * @subnet6:	the bridge's IPv6 subnet, if given (--ipv6 only)
 * @have_subnet6: @subnet6 was given (else read from the bridge)
 * @publish:	published ports
 * @npublish:	how many
 * @backend:	auto (default), nft or iptables
 * @ipv6:	also forward IPv6 (per interface, where the kernel can),
 *		masquerading the bridge's IPv6 subnet as Docker does
 * @ipv6_routed: --ipv6 with the IPv6 subnet routed, not masqueraded
 * @no_input:	no input rules: the admin filters input
 * @transparent: transparent mode's mark rule and policy routing
 * @tp:		their mark and table (defaults TPROUTE_MARK, TPROUTE_TABLE)
 * @have_tp:	--transparent-mark or --transparent-table was given
 * @json:	status: machine-readable
 * @user:	exec: user to become (default "nobody")
 * @spec:	exec: PROTO:HOSTIP:PORT as given
 * @prog:	exec: the program and its arguments (NULL-terminated)
 * @pattern:	watch: the bridge names or patterns to set up
 * @npattern:	how many
 * @wpub:	watch: --publish [PATTERN=]PROTO:HOSTIP:PORT
 * @nwpub:	how many
 * @publish_file: watch: more of those, one a line, re-read on SIGHUP
 */
struct args {
	enum args_cmd cmd, help;
	const char *bridge, *uplink;
	struct valid_cidr subnet, subnet6;
	bool have_subnet, have_subnet6;
	struct valid_publish publish[ARGS_MAX_PUBLISH];
	size_t npublish;
	enum args_backend backend;
	bool ipv6, ipv6_routed, no_input, json, transparent, have_tp;
	struct tproute tp;
	const char *user, *spec;
	char *const *prog;
	char pattern[ARGS_MAX_PATTERNS][ARGS_PATTERN_LEN];
	size_t npattern;
	struct args_wpub wpub[ARGS_MAX_PUBLISH];
	size_t nwpub;
	const char *publish_file;
};

int args_parse(int argc, char *const argv[], struct args *a, char *err,
	       size_t errlen);
const char *args_usage(enum args_cmd cmd);
const char *args_cmd_name(enum args_cmd cmd);
int args_pattern(const char *s, char *out, char *err, size_t errlen);
bool args_match(const char *pattern, const char *name);
int args_wpub(const char *s, struct args_wpub *w, char *err, size_t errlen);

/* args_exec.c, for args_parse() */
int args_exec_spec(const char *s, struct args *a, char *err, size_t errlen);
int args_exec_prog(const struct args *a, char *err, size_t errlen);

#endif
