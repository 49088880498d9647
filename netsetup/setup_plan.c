// SPDX-License-Identifier: MIT
/*
 * setup_plan.c - check: what up would do, changing nothing. The sysctls
 * it would change (and those an earlier up set that it would put back),
 * the rules as nft or iptables would get them (nft checks its transaction
 * as it would apply it), the transparent routing, and the verdict of the
 * host's other tables on every accept (verdict.c).
 */
#include "setup.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nft.h"
#include "peers.h"
#include "rules.h"
#include "tproute.h"
#include "verdict.h"

/* check's sysctl lines: only those up would change */
static void setup_plan_sysctls(const struct state_cfg *cfg,
			       const struct state *old,
			       const struct peers *p, FILE *out)
{
	struct sysctl_item want[SYSCTL_MAX_ITEMS];
	size_t n = setup_wanted(cfg, want), i;
	char now[SYSCTL_VALLEN];

	for (i = 0; i < n; i++) {
		if (sysctl_read(&want[i], now, sizeof(now)))
			snprintf(now, sizeof(now), "absent");
		if (strcmp(now, want[i].val))
			fprintf(out, "sysctl net.%s.conf.%s.%s: %s -> %s\n",
				want[i].fam, want[i].ifname, want[i].key, now,
				want[i].val);
	}
	for (i = 0; i < old->nitems; i++) {
		const struct sysctl_item *it = &old->item[i];

		if (sysctl_find(want, n, it) || sysctl_find(p->it, p->n, it) ||
		    sysctl_read(it, now, sizeof(now)) || !strcmp(now, it->val))
			continue;
		fprintf(out, "sysctl net.%s.conf.%s.%s: %s -> %s (put back: "
			"an earlier up set it)\n",
			it->fam, it->ifname, it->key, now, it->val);
	}
}

/* check's rules: the nft transaction, or what iptables gets */
static int setup_plan_rules(const struct state_cfg *c, FILE *out, char *err,
			    size_t errlen)
{
	static char text[SETUP_RULES_MAX];
	struct rules_names nm;
	struct ipt_texts t;

	if (c->backend == STATE_NFT) {
		if (setup_nft_text(c, text, sizeof(text)))
			return snprintf(err, errlen, "rules too long"), -1;
		fprintf(out, "# nft -f -\n%s", text);
		/* libnftables checks it as it would apply it */
		return nft_apply(text, true, err, errlen);
	}
	if (setup_ipt_texts(c, &t))
		return snprintf(err, errlen, "rules too long"), -1;
	rules_names(c->bridge, &nm);
	fprintf(out, "# iptables-restore --noflush\n%s%s", t.filter, t.nat);
	fprintf(out, "# iptables, where missing: -I FORWARD -j %s%s%s, "
		"-t nat -I POSTROUTING -j %s\n",
		nm.fwd, c->input ? ", -I INPUT -j " : "", c->input ? nm.in : "",
		nm.post);
	if (t.filter6)
		fprintf(out, "# ip6tables-restore --noflush\n%s%s", t.filter6,
			t.nat6 ? t.nat6 : "");
	return 0;
}

/* check's transparent routing: as ip(8) would add it, where missing */
static int setup_plan_tp(const struct state_cfg *c, FILE *out, char *err,
			 size_t errlen)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	struct tproute_seen seen;
	char text[256];
	int i;

	if (peers_tp_check(c, err, errlen))
		return -1;
	for (i = 0; i < 2; i++) {
		if (!peers_tp_fam(c, fams[i]))
			continue;
		if (tproute_look(fams[i], &c->tp, &seen, err, errlen) ||
		    tproute_format(fams[i], &c->tp, text, sizeof(text)))
			return -1;
		fprintf(out, "# transparent routing%s\n%s",
			seen.rule && seen.route ? " (in place)" : "", text);
	}
	return 0;
}

/**
 * setup_plan() - what up would do, changing nothing (check)
 * @cfg:	what up would be asked for
 * @io:		where to print the plan, and the state directory
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: SETUP_OK, SETUP_FAILED (up would fail: @err says why) or
 * SETUP_REFUSED
 */
int setup_plan(const struct state_cfg *cfg, const struct setup_io *io,
	       char *err, size_t errlen)
{
	static struct state old;
	static struct peers p;
	char path[4096];

	if (setup_iface_check(cfg, err, errlen))
		return SETUP_REFUSED;
	if (state_path(io->dir, cfg->bridge, path, sizeof(path)))
		return snprintf(err, errlen, "cannot name the state file"),
		       SETUP_FAILED;
	if (setup_preflight(cfg, err, errlen) ||
	    state_load(path, cfg->bridge, &old, err, errlen) < 0 ||
	    peers_load(io->dir, cfg->bridge, &p, err, errlen))
		return SETUP_FAILED;
	setup_plan_sysctls(cfg, &old, &p, io->out);
	if (setup_plan_rules(cfg, io->out, err, errlen) ||
	    setup_plan_tp(cfg, io->out, err, errlen) ||
	    verdict_check(cfg, "check", err, errlen))
		return SETUP_FAILED;
	fprintf(io->out, "# every accept takes effect: no other table drops "
		"first\n");
	if (old.cfg.bridge[0] && old.cfg.backend != cfg->backend)
		fprintf(io->out, "# and the %s rules of the earlier up "
			"removed\n",
			state_backend_name(old.cfg.backend));
	return SETUP_OK;
}
