/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_TPROUTE_H
#define STRAIT_TPROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The routing transparent mode needs, per family: a rule "fwmark MARK
 * lookup TABLE" and a route "local 0.0.0.0/0 dev lo table TABLE" (::/0
 * for IPv6), both tagged with our routing protocol number so that ours
 * are told from anyone else's.
 */
#define TPROUTE_PROTO 83 /* 'S': not in iproute2's rt_protos */
#define TPROUTE_MARK 0x5354U  /* "ST" */
#define TPROUTE_TABLE 21332U  /* 0x5354 */

/**
 * struct tproute - the mark and table of transparent mode's routing
 * @mark:	fwmark of packets for a local transparent socket
 * @table:	routing table of the local route
 */
struct tproute {
	uint32_t mark, table;
};

/**
 * struct tproute_seen - what the kernel has of a family's routing
 * @rule:	our rule (protocol, mark, table) is there
 * @route:	our local route is there
 * @foreign:	"" or a description of a rule or route using our mark or
 *		table that is not ours
 */
struct tproute_seen {
	bool rule, route;
	char foreign[160];
};

bool tproute_table_ok(uint32_t table);
int tproute_look(int family, const struct tproute *t,
		 struct tproute_seen *s, char *err, size_t errlen);
int tproute_up(int family, const struct tproute *t, char *err,
	       size_t errlen);
int tproute_down(int family, const struct tproute *t, char *err,
		 size_t errlen);
int tproute_format(int family, const struct tproute *t, char *buf,
		   size_t len);

#endif
