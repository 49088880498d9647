// SPDX-License-Identifier: MIT
/*
 * peers.c - what the other bridges set up in this network namespace share
 * with ours: the uplink's sysctls (state_peers()) and transparent mode's
 * policy routing, which is the namespace's, not a bridge's: bridges set
 * up with the same mark and table share one rule and one route per
 * family, and the last of them down removes them (tproute.c speaks to the
 * kernel).
 */
#include "peers.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "tproute.h"

/**
 * peers_load() - read what the other bridges' state files hold
 * @dir:	state directory
 * @bridge:	our bridge (its file is left out)
 * @p:		result
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int peers_load(const char *dir, const char *bridge, struct peers *p,
	       char *err, size_t errlen)
{
	static char br[PEERS_BRIDGES][IFNAMSIZ];
	static struct state one;
	char path[4096];
	size_t n, i;

	p->ntp = 0;
	if (state_peers(dir, bridge, p->it, PEERS_ITEMS, &p->n, err,
			errlen) ||
	    state_bridges(dir, br, PEERS_BRIDGES, &n, err, errlen))
		return -1;
	for (i = 0; i < n; i++) {
		if (!strcmp(br[i], bridge) ||
		    state_path(dir, br[i], path, sizeof(path)) ||
		    state_load(path, br[i], &one, err, errlen) <= 0)
			continue;
		if (one.cfg.transparent)
			p->tp[p->ntp++] = one.cfg;
	}
	return 0;
}

/* Whether another bridge's setup uses @family's routing of @t */
static bool peers_tp_shared(const struct peers *p, int family,
			    const struct tproute *t)
{
	size_t i;

	for (i = 0; i < p->ntp; i++) {
		if (p->tp[i].tp.mark == t->mark &&
		    p->tp[i].tp.table == t->table &&
		    (family == AF_INET || p->tp[i].ipv6))
			return true;
	}
	return false;
}

/**
 * peers_tp_fam() - whether @c has transparent routing of @family
 * @c:		a setup
 * @family:	AF_INET or AF_INET6 (only with IPv6 forwarded)
 *
 * Return: true if it has
 */
bool peers_tp_fam(const struct state_cfg *c, int family)
{
	return c->transparent && (family == AF_INET || c->ipv6);
}

/**
 * peers_tp_down() - @c's routing out, family by family, unless another
 * bridge uses it or @keep (the setup that replaces @c) has the same
 * @c:		the setup going
 * @keep:	the setup replacing it, or NULL
 * @p:		the other bridges
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int peers_tp_down(const struct state_cfg *c, const struct state_cfg *keep,
		  const struct peers *p, char *err, size_t errlen)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	int rc = 0, i;

	for (i = 0; i < 2; i++) {
		if (!peers_tp_fam(c, fams[i]) ||
		    peers_tp_shared(p, fams[i], &c->tp) ||
		    (keep && peers_tp_fam(keep, fams[i]) &&
		     keep->tp.mark == c->tp.mark &&
		     keep->tp.table == c->tp.table))
			continue;
		if (tproute_down(fams[i], &c->tp, err, errlen))
			rc = -1;
	}
	return rc;
}

/**
 * peers_tp_up() - @c's routing in, where missing
 * @c:		the setup
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int peers_tp_up(const struct state_cfg *c, char *err, size_t errlen)
{
	if (peers_tp_fam(c, AF_INET) && tproute_up(AF_INET, &c->tp, err, errlen))
		return -1;
	if (peers_tp_fam(c, AF_INET6) &&
	    tproute_up(AF_INET6, &c->tp, err, errlen))
		return -1;
	return 0;
}

/**
 * peers_tp_check() - refuse, before anything changes, a rule or route of
 * someone else's on @c's mark or table
 * @c:		the setup
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int peers_tp_check(const struct state_cfg *c, char *err, size_t errlen)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	struct tproute_seen seen;
	int i;

	for (i = 0; i < 2; i++) {
		if (!peers_tp_fam(c, fams[i]))
			continue;
		if (tproute_look(fams[i], &c->tp, &seen, err, errlen))
			return -1;
		if (seen.foreign[0])
			return snprintf(err, errlen, "--transparent: %s %s; "
					"nothing changed (choose another "
					"--transparent-mark / "
					"--transparent-table)",
					fams[i] == AF_INET ? "IPv4" : "IPv6",
					seen.foreign),
			       -1;
	}
	return 0;
}

