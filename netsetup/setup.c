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
 * never exits: it reports through @io and returns a SETUP_* code.
 */
#include "setup.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ipt.h"
#include "nft.h"
#include "peers.h"
#include "rules.h"
#include "verdict.h"

#define SETUP_RULES_MAX 16384

/* The prefix length of a netmask: its leading one bits */
static unsigned setup_mask_len(const unsigned char *m, size_t n)
{
	unsigned len = 0;
	size_t i;

	for (i = 0; i < n && m[i] == 0xff; i++)
		len += 8;
	if (i < n)
		for (unsigned char b = m[i]; b & 0x80;
		     b = (unsigned char)(b << 1))
			len++;
	return len;
}

/* One address of getifaddrs() as a network of its family, in @c */
static int setup_ifa_net(const struct ifaddrs *i, struct valid_cidr *c)
{
	const unsigned char *a, *m;
	unsigned char *net;
	size_t n, k;

	if (i->ifa_addr->sa_family == AF_INET) {
		a = (const void *)&((const struct sockaddr_in *)(const void *)
				    i->ifa_addr)->sin_addr;
		m = (const void *)&((const struct sockaddr_in *)(const void *)
				    i->ifa_netmask)->sin_addr;
		net = (void *)&c->net.v4;
		n = 4;
	} else {
		a = ((const struct sockaddr_in6 *)(const void *)i->ifa_addr)
			    ->sin6_addr.s6_addr;
		m = ((const struct sockaddr_in6 *)(const void *)i->ifa_netmask)
			    ->sin6_addr.s6_addr;
		net = c->net.v6.s6_addr;
		n = 16;
		/* link-local is never routed */
		if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
			return -1;
	}
	memset(&c->net, 0, sizeof(c->net));
	c->net.family = i->ifa_addr->sa_family;
	for (k = 0; k < n; k++)
		net[k] = a[k] & m[k];
	c->len = setup_mask_len(m, n);
	return c->len ? 0 : -1;
}

/**
 * setup_subnet() - the bridge's first network of a family; for IPv6 the
 * first outside fe80::/10
 * @bridge:	interface
 * @family:	AF_INET or AF_INET6
 * @c:		result
 *
 * Return: 0, or -1 if there is none
 */
int setup_subnet(const char *bridge, int family, struct valid_cidr *c)
{
	struct ifaddrs *ifa, *i;
	int rc = -1;

	if (getifaddrs(&ifa))
		return -1;
	for (i = ifa; i && rc; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_netmask &&
		    i->ifa_addr->sa_family == family &&
		    !strcmp(i->ifa_name, bridge))
			rc = setup_ifa_net(i, c);
	}
	freeifaddrs(ifa);
	return rc;
}

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

/* Whether @ifn is a loopback device (lo, whatever it is called) */
static bool setup_loopback(const char *ifn)
{
	struct ifreq ifr;
	bool lo;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifn);
	lo = !ioctl(fd, SIOCGIFFLAGS, &ifr) && (ifr.ifr_flags & IFF_LOOPBACK);
	close(fd);
	return lo;
}

/**
 * setup_check_ifaces() - both interfaces exist under exactly their names,
 * and neither is a loopback device (masquerade out of lo, or forwarding
 * on it, is never what anyone wants)
 * @cfg:	what up is asked for
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int setup_check_ifaces(const struct state_cfg *cfg, char *err, size_t errlen)
{
	const char *ifn[2] = { cfg->bridge, cfg->uplink };
	int i;

	for (i = 0; i < 2; i++) {
		if (valid_ifname_exists(ifn[i], err, errlen))
			return -1;
		if (setup_loopback(ifn[i]))
			return snprintf(err, errlen, "%s %s is a loopback "
					"device", i ? "--uplink" : "--bridge",
					ifn[i]),
			       -1;
	}
	return 0;
}

/* Refuse, before changing anything, what up must not do */
static int setup_preflight(const struct state_cfg *c, char *err,
			   size_t errlen)
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

	if (setup_check_ifaces(cfg, err, errlen))
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

	if (setup_check_ifaces(cfg, err, errlen))
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
