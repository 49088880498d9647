/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_STATE_H
#define STRAIT_STATE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "sysctl.h"
#include "tproute.h"
#include "valid.h"

#define STATE_MAX_PUBLISH 64
/* A state file is small; anything bigger is not one of ours */
#define STATE_MAX_BYTES 16384
/* How long up/down wait for another one holding the lock */
#define STATE_LOCK_MS 30000

enum state_backend { STATE_NFT, STATE_IPTABLES };

/**
 * struct state_cfg - what up sets up for one bridge
 * @bridge:	the containers' bridge
 * @uplink:	the interface towards the outside
 * @backend:	whose rules (resolved: never "auto")
 * @ipv6:	IPv6 forwarded too
 * @ipv6_routed: IPv6 forwarded without masquerade (implies @ipv6)
 * @input:	input accepts for @publish (false: the admin filters input)
 * @transparent: transparent mode's mark rule and policy routing
 * @tp:		their mark and table (if @transparent)
 * @subnet:	the bridge's IPv4 network, masqueraded out of @uplink
 * @subnet6:	the bridge's IPv6 network, masqueraded (if @have_subnet6)
 * @have_subnet6: @subnet6 is masqueraded (--ipv6 without routed)
 * @publish:	published addresses and ports
 * @npublish:	how many
 */
struct state_cfg {
	char bridge[IFNAMSIZ], uplink[IFNAMSIZ];
	enum state_backend backend;
	bool ipv6, ipv6_routed, input, transparent;
	struct tproute tp;
	struct valid_cidr subnet, subnet6;
	bool have_subnet6;
	struct valid_publish publish[STATE_MAX_PUBLISH];
	size_t npublish;
};

/**
 * struct state - one bridge's state file
 * @cfg:	what was set up
 * @uplink_old:	an earlier up's uplink whose sysctls are still to be put
 *		back (only while an up that changed the uplink runs), or ""
 * @item:	each sysctl set, with its value from before the first up
 * @nitems:	how many
 */
struct state {
	struct state_cfg cfg;
	char uplink_old[IFNAMSIZ];
	struct sysctl_item item[SYSCTL_MAX_ITEMS];
	size_t nitems;
};

int state_format(const struct state *s, char *buf, size_t len);
int state_parse(const char *text, size_t len, const char *bridge,
		struct state *s, char *err, size_t errlen);
int state_path(const char *dir, const char *bridge, char *buf, size_t len);
int state_load(const char *path, const char *bridge, struct state *s,
	       char *err, size_t errlen);
int state_save(const char *path, const struct state *s, char *err,
	       size_t errlen);
int state_bridges(const char *dir, char (*br)[IFNAMSIZ], size_t max,
		  size_t *n, char *err, size_t errlen);
int state_peers(const char *dir, const char *bridge, struct sysctl_item *it,
		size_t max, size_t *n, char *err, size_t errlen);
int state_lock(const char *dir, bool exclusive, unsigned timeout_ms,
	       char *err, size_t errlen);
const char *state_backend_name(enum state_backend b);

#endif
