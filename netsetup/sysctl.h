/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_SYSCTL_H
#define STRAIT_SYSCTL_H

#include <stdbool.h>
#include <stddef.h>

#define SYSCTL_MAX_ITEMS 16
#define SYSCTL_VALLEN 16

/**
 * struct sysctl_item - one per-interface sysctl
 * @fam:	"ipv4" or "ipv6"
 * @ifname:	interface (validated)
 * @key:	"forwarding", "rp_filter", "route_localnet", "force_forwarding"
 * @val:	value (to write, or as found)
 */
struct sysctl_item {
	const char *fam;
	char ifname[16];
	const char *key;
	char val[SYSCTL_VALLEN];
};

int sysctl_read(const struct sysctl_item *it, char *val, size_t len);
int sysctl_write(const struct sysctl_item *it, const char *val);
bool sysctl_exists(const struct sysctl_item *it);
int sysctl_item_parse(const char *s, size_t n, struct sysctl_item *it);
bool sysctl_same(const struct sysctl_item *x, const struct sysctl_item *y);
const struct sysctl_item *sysctl_find(const struct sysctl_item *it, size_t n,
				      const struct sysctl_item *x);

#endif
