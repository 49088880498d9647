// SPDX-License-Identifier: MIT
/*
 * setup.c - up, down and check of one bridge, for main and for watch
 *
 * up: forwarding on the bridge and the uplink only, rp_filter on the
 * bridge, route_localnet asserted off; masquerade, forward and input rules
 * (nft or iptables). Nothing is changed while an accept it was asked for
 * could not take effect (verdict.c). The state file is written first (so
 * a crash leaves something down can undo), then the rules, then the
 * sysctls: forwarding is never on without our drop rules. A failure takes back everything of
 * ours as down would, except where the rules were never touched (nft's
 * one transaction refused: an earlier up's table is as it was, and so is
 * the state file).
 *
 * An up that no longer names what an earlier up set (another uplink,
 * --ipv6 dropped) puts those sysctls back to their values from before the
 * first up: while it runs, its state file still holds them (and the old
 * uplink as "uplink-old"), so a failure half-way still restores them.
 *
 * Transparent mode (--transparent): a mark rule with the others, then
 * the policy routing (tproute.c) before the sysctls. The rule and route
 * are the host's, shared by every bridge set up with the same mark and
 * table: the last of them down removes them. A rule or route of someone
 * else's using the mark or table makes up fail before anything changes.
 *
 * Every up and down holds the state directory's lock throughout, and
 * never exits: it reports through @io and returns a SETUP_* code. check's
 * plan is setup_plan.c's; the interfaces' checks and subnets setup_iface.c's.
 */
#include "setup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipt.h"
#include "nft.h"
#include "peers.h"
#include "rules.h"
#include "verdict.h"

static void setup_item(struct sysctl_item *it, const char *fam,
		       const char *ifn, const char *key, const char *val)
{
	memset(it, 0, sizeof(*it));
	it->fam = fam;
	snprintf(it->ifname, sizeof(it->ifname), "%s", ifn);
	it->key = key;
	snprintf(it->val, sizeof(it->val), "%s", val);
}

/**
 * setup_wanted() - the sysctls up sets, with the values it sets them to
 * @c:		the setup
 * @it:		output (SYSCTL_MAX_ITEMS)
 *
 * Return: how many
 */
size_t setup_wanted(const struct state_cfg *c, struct sysctl_item *it)
{
	size_t n = 0;

	setup_item(&it[n++], "ipv4", c->bridge, "forwarding", "1");
	setup_item(&it[n++], "ipv4", c->uplink, "forwarding", "1");
	setup_item(&it[n++], "ipv4", c->bridge, "rp_filter", "1");
	if (c->ipv6) {
		setup_item(&it[n++], "ipv6", c->bridge, "force_forwarding",
			   "1");
		setup_item(&it[n++], "ipv6", c->uplink, "force_forwarding",
			   "1");
	}
	return n;
}

/**
 * setup_preflight() - refuse, before changing anything, what up must not do
 * @c:		what up is asked for
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int setup_preflight(const struct state_cfg *c, char *err, size_t errlen)
{
	struct sysctl_item it;
	char val[SYSCTL_VALLEN];

	setup_item(&it, "ipv4", c->bridge, "route_localnet", "0");
	if (sysctl_read(&it, val, sizeof(val)))
		return snprintf(err, errlen, "cannot read route_localnet of "
				"%s: %s", c->bridge, strerror(errno)),
		       -1;
	if (strcmp(val, "0"))
		return snprintf(err, errlen, "net.ipv4.conf.%s.route_localnet "
				"is %s: containers could reach the host's "
				"127.0.0.1 (CVE-2020-8558); set it to 0 first",
				c->bridge, val),
		       -1;
	setup_item(&it, "ipv6", c->bridge, "force_forwarding", "1");
	if (c->ipv6 && !sysctl_exists(&it))
		return snprintf(err, errlen, "--ipv6: this kernel has no "
				"net.ipv6.conf.%s.force_forwarding (Linux "
				"6.17+), and IPv6 forwarding per interface "
				"is impossible without it; strait will not "
				"turn on all.forwarding",
				c->bridge),
		       -1;
	return 0;
}

/* What the rule generators need to know */
static struct rules_in setup_rules_in(const struct state_cfg *c)
{
	struct rules_in in = { c->bridge,     c->uplink,   &c->subnet,
			       NULL,	      c->publish,  c->npublish,
			       c->ipv6,	      !c->input,   c->transparent,
			       c->tp.mark };

	if (c->have_subnet6)
		in.subnet6 = &c->subnet6;
	return in;
}

/*
 * The iptables-restore texts: IPv4 filter and nat always, the IPv6 filter
 * where IPv6 is forwarded or published, IPv6 nat where its subnet is
 * masqueraded. Return: 0, or -1 if the rules do not fit
 */
/**
 * setup_ipt_texts() - what up restores with the iptables backend
 * @c:		the setup
 * @t:		the texts (static storage, valid until the next call)
 *
 * Return: 0, or -1 if the rules do not fit
 */
int setup_ipt_texts(const struct state_cfg *c, struct ipt_texts *t)
{
	static char filter[SETUP_RULES_MAX], filter6[SETUP_RULES_MAX],
		nat[1024], nat6[1024], mangle[512], mangle6[512];
	struct rules_in in = setup_rules_in(c);
	bool v6 = c->ipv6;
	size_t i;

	for (i = 0; i < c->npublish && c->input; i++)
		v6 |= c->publish[i].ip.family == AF_INET6;
	memset(t, 0, sizeof(*t));
	if (rules_ipt_filter(&in, AF_INET, filter, sizeof(filter)) ||
	    rules_ipt_nat(&in, AF_INET, nat, sizeof(nat)) ||
	    (v6 && rules_ipt_filter(&in, AF_INET6, filter6, sizeof(filter6))) ||
	    (in.subnet6 && rules_ipt_nat(&in, AF_INET6, nat6, sizeof(nat6))) ||
	    (c->transparent &&
	     (rules_ipt_mangle(&in, mangle, sizeof(mangle)) ||
	      rules_ipt_mangle(&in, mangle6, sizeof(mangle6)))))
		return -1;
	t->filter = filter;
	t->mangle = c->transparent ? mangle : NULL;
	/* IPv6 transparent connections exist only where IPv6 is forwarded */
	t->mangle6 = c->transparent && c->ipv6 ? mangle6 : NULL;
	t->nat = nat;
	t->filter6 = v6 ? filter6 : NULL;
	t->nat6 = in.subnet6 ? nat6 : NULL;
	t->input = c->input;
	return 0;
}

/**
 * setup_nft_text() - the nft transaction of up
 * @c:		the setup
 * @buf:	output
 * @len:	size of @buf
 *
 * Return: 0, or -1 if it does not fit
 */
int setup_nft_text(const struct state_cfg *c, char *buf, size_t len)
{
	struct rules_in in = setup_rules_in(c);

	return rules_nft_up(&in, buf, len);
}

static int setup_rules_up(const struct state_cfg *c, char *err,
			  size_t errlen)
{
	static char text[SETUP_RULES_MAX];
	struct ipt_texts t;

	if (c->backend == STATE_NFT) {
		if (setup_nft_text(c, text, sizeof(text)))
			return snprintf(err, errlen, "rules too long"), -1;
		return nft_apply(text, false, err, errlen);
	}
	if (setup_ipt_texts(c, &t))
		return snprintf(err, errlen, "rules too long"), -1;
	return ipt_up(c->bridge, &t, err, errlen);
}

/*
 * A bridge's rules out: its nft tables always (no exec, nothing there is
 * no error), its iptables chains where @ipt. Return: 0, or -1 with @err
 */
static int setup_rules_down(const char *bridge, bool ipt, char *err,
			    size_t errlen)
{
	char text[512], ipt_err[256];
	int rc;

	rules_nft_down(bridge, text, sizeof(text));
	rc = nft_apply(text, false, err, errlen);
	if (ipt && ipt_down(bridge, ipt_err, sizeof(ipt_err)) && !rc) {
		snprintf(err, errlen, "%s", ipt_err);
		rc = -1;
	}
	return rc;
}

/* Put @it back to its value, unless it already has it. Return: 0, or -1
 * with errno */
static int setup_put(const struct sysctl_item *it, const char *val)
{
	char now[SYSCTL_VALLEN];

	if (!sysctl_read(it, now, sizeof(now)) && !strcmp(now, val))
		return 0;
	return sysctl_write(it, val);
}

/* Put back @n items to their values, best effort, where the interface
 * still exists */
static void setup_restore(const struct setup_io *io,
			  const struct sysctl_item *old, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (sysctl_exists(&old[i]) && setup_put(&old[i], old[i].val) &&
		    io->warn)
			fprintf(io->warn, "restore %s.conf.%s.%s: %s\n",
				old[i].fam, old[i].ifname, old[i].key,
				strerror(errno));
	}
}

/*
 * What down does: the bridge's rules out (both backends' if @s is NULL:
 * no state to tell which), its transparent routing unless another
 * bridge's setup shares it, every sysctl in @s back to its value from
 * before the first up except those another bridge's setup still uses
 * (@kept of them: the last one down restores them), the file removed.
 * Return: the sysctls restored, or -1 with @err set if a rule could not
 * be removed
 */
static int setup_teardown(const struct setup_io *io, const char *bridge,
			  const char *path, const struct state *s,
			  const struct peers *p, size_t *kept,
			  char *err, size_t errlen)
{
	struct sysctl_item put[SYSCTL_MAX_ITEMS];
	size_t nput = 0, i;
	char tp_err[256];
	int rc;

	rc = setup_rules_down(bridge, !s || s->cfg.backend == STATE_IPTABLES,
			      err, errlen);
	if (s) {
		if (peers_tp_down(&s->cfg, NULL, p, tp_err, sizeof(tp_err)) &&
		    !rc) {
			snprintf(err, errlen, "%s", tp_err);
			rc = -1;
		}
	} else {
		/* no state to tell: the default routing, if no one uses it */
		struct state_cfg dflt = { .transparent = true, .ipv6 = true,
					  .tp = { TPROUTE_MARK,
						  TPROUTE_TABLE } };

		peers_tp_down(&dflt, NULL, p, tp_err, sizeof(tp_err));
	}
	*kept = 0;
	for (i = 0; s && i < s->nitems; i++) {
		if (!sysctl_find(p->it, p->n, &s->item[i]))
			put[nput++] = s->item[i];
		else
			(*kept)++;
	}
	setup_restore(io, put, nput);
	if (s)
		unlink(path);
	return rc ? rc : (int)nput;
}

/*
 * A crashed up that changed the uplink left the old one's sysctls in the
 * file: put them back now (unless another bridge uses them) and forget
 * them, so the file only ever names one earlier uplink.
 */
static void setup_leftover(const struct setup_io *io, struct state *old,
			   const struct peers *p)
{
	size_t i, k = 0;

	for (i = 0; i < old->nitems; i++) {
		if (strcmp(old->item[i].ifname, old->uplink_old)) {
			old->item[k++] = old->item[i];
			continue;
		}
		if (!sysctl_find(p->it, p->n, &old->item[i]))
			setup_restore(io, &old->item[i], 1);
	}
	old->nitems = k;
	old->uplink_old[0] = '\0';
}

/*
 * The state up saves before it changes anything: @cfg, the value each
 * sysctl of @want had before the first up (from the earlier state, else
 * from another bridge's file, the uplink's being shared, else as it is
 * now), then what the earlier state holds that @want no longer does (to
 * be put back). Return: 0, or -1 with @err set
 */
static int setup_merge(const struct state_cfg *cfg, const struct state *old,
		       const struct sysctl_item *want, size_t nwant,
		       const struct peers *p, struct state *cur,
		       char *err, size_t errlen)
{
	const struct sysctl_item *held;
	size_t i;

	memset(cur, 0, sizeof(*cur));
	cur->cfg = *cfg;
	if (old->cfg.uplink[0] && strcmp(old->cfg.uplink, cfg->uplink))
		memcpy(cur->uplink_old, old->cfg.uplink, IFNAMSIZ);
	for (i = 0; i < nwant; i++) {
		struct sysctl_item *it = &cur->item[cur->nitems++];

		*it = want[i];
		held = sysctl_find(old->item, old->nitems, &want[i]);
		if (!held)
			held = sysctl_find(p->it, p->n, &want[i]);
		if (held)
			memcpy(it->val, held->val, sizeof(it->val));
		else if (sysctl_read(&want[i], it->val, sizeof(it->val)))
			return snprintf(err, errlen, "read net.%s.conf.%s.%s: "
					"%s", want[i].fam, want[i].ifname,
					want[i].key, strerror(errno)),
			       -1;
	}
	for (i = 0; i < old->nitems; i++) {
		if (!sysctl_find(want, nwant, &old->item[i]))
			cur->item[cur->nitems++] = old->item[i];
	}
	return 0;
}

/*
 * The rules went in: write @cur's sysctls, the wanted ones (its first
 * @nwant, to @want's values) and then the dropped ones back to their
 * saved values (unless another bridge uses them, or the interface is
 * gone), noting each value found in @was for the report.
 * Return: 0, or -1 with @err set if a wanted one could not be written
 */
static int setup_write(const struct setup_io *io, const struct state *cur,
		       const struct sysctl_item *want, size_t nwant,
		       const struct peers *p, struct sysctl_item *was,
		       char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < cur->nitems; i++) {
		const struct sysctl_item *it = &cur->item[i];
		const char *to = i < nwant ? want[i].val : it->val;

		was[i] = *it;
		if (i >= nwant && (sysctl_find(p->it, p->n, it) ||
				   !sysctl_exists(it))) {
			was[i].val[0] = '\0';
			continue;
		}
		if (sysctl_read(it, was[i].val, sizeof(was[i].val)))
			snprintf(was[i].val, sizeof(was[i].val), "?");
		if (!setup_put(it, to))
			continue;
		if (i < nwant)
			return snprintf(err, errlen, "write %s.conf.%s.%s: %s",
					it->fam, it->ifname, it->key,
					strerror(errno)),
			       -1;
		if (io->warn)
			fprintf(io->warn, "restore %s.conf.%s.%s: %s\n",
				it->fam, it->ifname, it->key, strerror(errno));
	}
	return 0;
}

static void setup_report_up(const struct setup_io *io,
			    const struct state *cur,
			    const struct sysctl_item *want, size_t nwant,
			    const struct sysctl_item *was)
{
	const struct state_cfg *c = &cur->cfg;
	size_t i;

	if (!io->out)
		return;
	for (i = 0; i < cur->nitems; i++) {
		if (!was[i].val[0])
			continue;
		fprintf(io->out, "net.%s.conf.%s.%s = %s (was %s)\n",
			was[i].fam, was[i].ifname, was[i].key,
			i < nwant ? want[i].val : cur->item[i].val,
			was[i].val);
	}
	fprintf(io->out, "rules: %s%s, bridge %s, uplink %s, %zu published%s",
		c->backend == STATE_NFT ? "nft table strait-"
					: "iptables chains STRAIT-*-",
		c->bridge, c->bridge, c->uplink, c->npublish,
		c->input ? "" : ", no input rules");
	if (c->transparent)
		fprintf(io->out, ", transparent: fwmark 0x%x table %u (%s)",
			c->tp.mark, c->tp.table, c->ipv6 ? "IPv4, IPv6" : "IPv4");
	fputc('\n', io->out);
}

/* The rules failed: put the state back as it was, or take everything
 * back if the rules were touched. Return: SETUP_FAILED */
static int setup_up_failed(const struct setup_io *io, const char *path,
			   const struct state *old, const struct state *cur,
			   const struct peers *p, bool rules_kept,
			   char *err, size_t errlen)
{
	char why[512], ignored[256];
	size_t kept;

	if (rules_kept) {
		/* nothing changed: the earlier state is still the truth */
		if (!old->cfg.bridge[0])
			unlink(path);
		else if (state_save(path, old, ignored, sizeof(ignored)) &&
			 io->warn)
			fprintf(io->warn, "%s\n", ignored);
		return SETUP_FAILED;
	}
	snprintf(why, sizeof(why), "%s", err);
	setup_teardown(io, cur->cfg.bridge, path, cur, p, &kept, ignored,
		       sizeof(ignored));
	snprintf(err, errlen, "%s; rolled back: no rules of ours, sysctls as "
		 "before the first up", why);
	return SETUP_FAILED;
}

static int setup_up_locked(const struct state_cfg *cfg,
			   const struct setup_io *io, char *err, size_t errlen)
{
	static struct state old, cur;
	static struct peers p;
	struct sysctl_item want[SYSCTL_MAX_ITEMS], was[SYSCTL_MAX_ITEMS];
	char path[4096], ignored[256];
	size_t nwant;

	if (setup_iface_check(cfg, err, errlen))
		return SETUP_REFUSED;
	if (setup_preflight(cfg, err, errlen))
		return SETUP_FAILED;
	if (state_path(io->dir, cfg->bridge, path, sizeof(path)))
		return snprintf(err, errlen, "cannot name the state file"),
		       SETUP_FAILED;
	if (state_load(path, cfg->bridge, &old, err, errlen) < 0 ||
	    peers_load(io->dir, cfg->bridge, &p, err, errlen))
		return SETUP_FAILED;
	if (verdict_check(cfg, "up", err, errlen) ||
	    peers_tp_check(cfg, err, errlen))
		return SETUP_FAILED;
	if (old.uplink_old[0])
		setup_leftover(io, &old, &p);
	nwant = setup_wanted(cfg, want);
	if (setup_merge(cfg, &old, want, nwant, &p, &cur, err, errlen) ||
	    state_save(path, &cur, err, errlen))
		return SETUP_FAILED;
	if (setup_rules_up(cfg, err, errlen))
		return setup_up_failed(io, path, &old, &cur, &p,
				       cfg->backend == STATE_NFT, err, errlen);
	/* an earlier up's routing that this one does not want goes first,
	 * so that a failure leaves none of ours */
	if ((old.cfg.bridge[0] &&
	     peers_tp_down(&old.cfg, cfg, &p, err, errlen)) ||
	    peers_tp_up(cfg, err, errlen))
		return setup_up_failed(io, path, &old, &cur, &p, false, err,
				       errlen);
	if (setup_write(io, &cur, want, nwant, &p, was, err, errlen))
		return setup_up_failed(io, path, &old, &cur, &p, false, err,
				       errlen);
	setup_report_up(io, &cur, want, nwant, was);
	/* done: the file now holds only what this up set */
	cur.nitems = nwant;
	cur.uplink_old[0] = '\0';
	if (state_save(path, &cur, ignored, sizeof(ignored)) && io->warn)
		fprintf(io->warn, "%s\n", ignored);
	/* an earlier up with the other backend left its rules */
	if (old.cfg.bridge[0] && old.cfg.backend != cfg->backend &&
	    (old.cfg.backend == STATE_IPTABLES
		     ? ipt_down(cfg->bridge, ignored, sizeof(ignored))
		     : setup_rules_down(cfg->bridge, false, ignored,
					sizeof(ignored))) &&
	    io->warn)
		fprintf(io->warn, "%s\n", ignored);
	return SETUP_OK;
}

/**
 * setup_up() - set a bridge up (again), under the state directory's lock
 * @cfg:	what to set up (backend resolved, subnets known)
 * @io:		where to report, and the state directory
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: SETUP_OK, SETUP_FAILED (nothing of ours left half-applied) or
 * SETUP_REFUSED (nothing changed)
 */
int setup_up(const struct state_cfg *cfg, const struct setup_io *io,
	     char *err, size_t errlen)
{
	int lock = state_lock(io->dir, true, STATE_LOCK_MS, err, errlen), rc;

	if (lock < 0)
		return SETUP_FAILED;
	rc = setup_up_locked(cfg, io, err, errlen);
	close(lock);
	return rc;
}

static int setup_down_locked(const char *bridge, const char *uplink,
			     const struct setup_io *io, char *err,
			     size_t errlen)
{
	static struct state s;
	static struct peers p;
	char path[4096];
	size_t kept;
	int have, n;

	if (state_path(io->dir, bridge, path, sizeof(path)))
		return snprintf(err, errlen, "cannot name the state file"),
		       SETUP_FAILED;
	have = state_load(path, bridge, &s, err, errlen);
	if (have < 0 || peers_load(io->dir, bridge, &p, err, errlen))
		return SETUP_FAILED;
	if (uplink && have && strcmp(uplink, s.cfg.uplink) && io->warn)
		fprintf(io->warn, "--uplink %s ignored: %s was set up with "
			"uplink %s\n", uplink, bridge, s.cfg.uplink);
	n = setup_teardown(io, bridge, path, have ? &s : NULL, &p, &kept, err,
			   errlen);
	if (n < 0)
		return SETUP_FAILED;
	if (!io->out)
		return SETUP_OK;
	fprintf(io->out, "rules of %s removed; %d sysctls restored", bridge,
		n);
	if (kept)
		fprintf(io->out, ", %zu kept for the other bridges set up",
			kept);
	fprintf(io->out, "%s\n", have ? "" : " (no state file)");
	return SETUP_OK;
}

/**
 * setup_down() - take a bridge down as its state file says, under the
 * state directory's lock
 * @bridge:	validated bridge name (it need not exist any more)
 * @uplink:	what the caller thinks the uplink is, or NULL: only checked
 *		against the state (a mismatch is a warning)
 * @io:		where to report, and the state directory
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: SETUP_OK or SETUP_FAILED
 */
int setup_down(const char *bridge, const char *uplink,
	       const struct setup_io *io, char *err, size_t errlen)
{
	int lock = state_lock(io->dir, true, STATE_LOCK_MS, err, errlen), rc;

	if (lock < 0)
		return SETUP_FAILED;
	rc = setup_down_locked(bridge, uplink, io, err, errlen);
	close(lock);
	return rc;
}

