// SPDX-License-Identifier: MIT
/*
 * main.c - strait-netsetup: the host side of running Docker with
 * --iptables=false --ip-forward=false, automated and safe
 *
 * up: forwarding on the bridge and the uplink only, rp_filter on the
 * bridge, route_localnet asserted off; masquerade, forward and input rules
 * (nft or iptables). Rules go in before forwarding is switched on; any
 * failure undoes what went in. down: the reverse, values restored.
 * check: print the plan, change nothing. exec: see netexec.c.
 * Exit: 0 done, 1 failed (rolled back), 2 bad usage or input (nothing
 * changed). Only this file prints and exits.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "ipt.h"
#include "netexec.h"
#include "nft.h"
#include "rules.h"
#include "sysctl.h"

#define PROG "strait-netsetup"
#define RULES_MAX 16384

static void __attribute__((noreturn)) main_die(int code, const char *msg)
{
	fprintf(stderr, PROG ": %s\n", msg);
	exit(code);
}

/* The prefix length of a netmask: its leading one bits */
static unsigned main_mask_len(const unsigned char *m, size_t n)
{
	unsigned len = 0;
	size_t i;

	for (i = 0; i < n && m[i] == 0xff; i++)
		len += 8;
	if (i < n)
		for (unsigned char b = m[i]; b & 0x80; b = (unsigned char)(b << 1))
			len++;
	return len;
}

/*
 * The bridge's first network of @family, when --subnet does not give it;
 * for IPv6 the first outside fe80::/10 (link-local is never routed).
 * Return: 0, or -1 if there is none
 */
static int main_bridge_subnet(const char *br, int family,
			      struct valid_cidr *c)
{
	struct ifaddrs *ifa, *i;
	int rc = -1;

	if (getifaddrs(&ifa))
		return -1;
	for (i = ifa; i && rc; i = i->ifa_next) {
		const unsigned char *a, *m;
		unsigned char *net;
		size_t n, k;

		if (!i->ifa_addr || !i->ifa_netmask ||
		    i->ifa_addr->sa_family != family || strcmp(i->ifa_name, br))
			continue;
		if (family == AF_INET) {
			a = (const void *)&((const struct sockaddr_in *)
					    (const void *)i->ifa_addr)->sin_addr;
			m = (const void *)&((const struct sockaddr_in *)
					    (const void *)i->ifa_netmask)->sin_addr;
			net = (void *)&c->net.v4;
			n = 4;
		} else {
			a = ((const struct sockaddr_in6 *)(const void *)
			     i->ifa_addr)->sin6_addr.s6_addr;
			m = ((const struct sockaddr_in6 *)(const void *)
			     i->ifa_netmask)->sin6_addr.s6_addr;
			net = c->net.v6.s6_addr;
			n = 16;
			if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
				continue;
		}
		c->net.family = family;
		for (k = 0; k < n; k++)
			net[k] = a[k] & m[k];
		c->len = main_mask_len(m, n);
		rc = c->len ? 0 : -1;
	}
	freeifaddrs(ifa);
	return rc;
}

static void main_item(struct sysctl_item *it, const char *fam,
		      const char *ifn, const char *key, const char *val)
{
	memset(it, 0, sizeof(*it));
	it->fam = fam;
	snprintf(it->ifname, sizeof(it->ifname), "%s", ifn);
	it->key = key;
	snprintf(it->val, sizeof(it->val), "%s", val);
}

/* The sysctls up sets, with the values it sets them to */
static size_t main_items(const struct args *a, struct sysctl_item *it)
{
	size_t n = 0;

	main_item(&it[n++], "ipv4", a->bridge, "forwarding", "1");
	main_item(&it[n++], "ipv4", a->uplink, "forwarding", "1");
	main_item(&it[n++], "ipv4", a->bridge, "rp_filter", "1");
	if (a->ipv6) {
		main_item(&it[n++], "ipv6", a->bridge, "force_forwarding", "1");
		main_item(&it[n++], "ipv6", a->uplink, "force_forwarding", "1");
	}
	return n;
}

static void main_check_input(struct args *a)
{
	char err[256];

	if (a->cmd != ARGS_DOWN &&
	    (valid_ifname_exists(a->bridge, err, sizeof(err)) ||
	     valid_ifname_exists(a->uplink, err, sizeof(err))))
		main_die(2, err);
	if (a->cmd != ARGS_DOWN && !a->have_subnet &&
	    main_bridge_subnet(a->bridge, AF_INET, &a->subnet)) {
		snprintf(err, sizeof(err), "bridge %s has no IPv4 address: "
			 "give --subnet", a->bridge);
		main_die(2, err);
	}
	if (a->cmd != ARGS_DOWN && a->ipv6 && !a->ipv6_routed &&
	    !a->have_subnet6) {
		if (main_bridge_subnet(a->bridge, AF_INET6, &a->subnet6)) {
			snprintf(err, sizeof(err), "--ipv6: bridge %s has no "
				 "IPv6 address outside fe80::/10 to masquerade: "
				 "give --subnet with its IPv6 network, or "
				 "--ipv6-routed", a->bridge);
			main_die(2, err);
		}
		a->have_subnet6 = true;
	}
}

/* What the rule generators need to know */
static struct rules_in main_rules_in(const struct args *a)
{
	struct rules_in in = { a->bridge,    a->uplink,	  &a->subnet,
			       NULL,	     a->publish,  a->npublish,
			       a->ipv6 };

	if (a->have_subnet6)
		in.subnet6 = &a->subnet6;
	return in;
}

/* Refuse, before changing anything, what up must not do */
static void main_preflight(const struct args *a)
{
	struct sysctl_item it;
	char val[SYSCTL_VALLEN], err[320];

	main_item(&it, "ipv4", a->bridge, "route_localnet", "0");
	if (sysctl_read(&it, val, sizeof(val)))
		main_die(1, "cannot read route_localnet of the bridge");
	if (strcmp(val, "0")) {
		snprintf(err, sizeof(err), "net.ipv4.conf.%s.route_localnet "
			 "is %s: containers could reach the host's 127.0.0.1 "
			 "(CVE-2020-8558); set it to 0 first", a->bridge, val);
		main_die(1, err);
	}
	if (!a->ipv6)
		return;
	main_item(&it, "ipv6", a->bridge, "force_forwarding", "1");
	if (!sysctl_exists(&it)) {
		snprintf(err, sizeof(err), "--ipv6: this kernel has no "
			 "net.ipv6.conf.%s.force_forwarding (Linux 6.17+), and "
			 "IPv6 forwarding per interface is impossible without "
			 "it; strait will not turn on all.forwarding",
			 a->bridge);
		main_die(1, err);
	}
}

/* The iptables-restore texts, each NULL where there is none */
struct main_ipt {
	const char *filter, *nat, *filter6, *nat6;
};

/*
 * Fill @t: IPv4 filter and nat always, the IPv6 filter where IPv6 is
 * forwarded (--ipv6) or published, IPv6 nat where its subnet is
 * masqueraded. Return: 0, or -1 if the rules do not fit
 */
static int main_ipt_texts(const struct args *a, const struct rules_in *in,
			  struct main_ipt *t)
{
	static char filter[RULES_MAX], filter6[RULES_MAX], nat[1024],
		nat6[1024];
	bool v6 = a->ipv6;
	size_t i;

	for (i = 0; i < a->npublish; i++)
		v6 |= a->publish[i].ip.family == AF_INET6;
	memset(t, 0, sizeof(*t));
	if (rules_ipt_filter(in, AF_INET, filter, sizeof(filter)) ||
	    rules_ipt_nat(in, AF_INET, nat, sizeof(nat)) ||
	    (v6 && rules_ipt_filter(in, AF_INET6, filter6, sizeof(filter6))) ||
	    (in->subnet6 && rules_ipt_nat(in, AF_INET6, nat6, sizeof(nat6))))
		return -1;
	t->filter = filter;
	t->nat = nat;
	t->filter6 = v6 ? filter6 : NULL;
	t->nat6 = in->subnet6 ? nat6 : NULL;
	return 0;
}

static int main_rules(const struct args *a, bool up, bool dry, char *err,
		      size_t errlen)
{
	static char text[RULES_MAX];
	struct rules_in in = main_rules_in(a);
	struct main_ipt t;

	if (!up) {
		char ignored[256];
		int rc;

		rules_nft_down(a->bridge, text, sizeof(text));
		rc = nft_apply(text, false, err, errlen);
		/* whichever backend put them in, none of ours stays */
		if (ipt_down(a->bridge, ignored, sizeof(ignored)) && !rc) {
			snprintf(err, errlen, "%s", ignored);
			rc = -1;
		}
		return rc;
	}
	if (a->backend == ARGS_NFT) {
		if (rules_nft_up(&in, text, sizeof(text)))
			return snprintf(err, errlen, "rules too long"), -1;
		return nft_apply(text, dry, err, errlen);
	}
	if (main_ipt_texts(a, &in, &t))
		return snprintf(err, errlen, "rules too long"), -1;
	return ipt_up(a->bridge, t.filter, t.nat, t.filter6, t.nat6, err,
		      errlen);
}

static const char *main_state_dir(void)
{
	const char *d = getenv("STRAIT_STATE_DIR");

	return d && *d ? d : "/run/strait";
}

/* Put back @n items to the values in @old, best effort; one that already
 * has its value is not written */
static void main_restore(const struct sysctl_item *old, size_t n)
{
	char now[SYSCTL_VALLEN];
	size_t i;

	for (i = 0; i < n; i++) {
		if (!sysctl_exists(&old[i]) ||
		    (!sysctl_read(&old[i], now, sizeof(now)) &&
		     !strcmp(now, old[i].val)))
			continue;
		if (sysctl_write(&old[i], old[i].val))
			fprintf(stderr, PROG ": restore %s.conf.%s.%s: %s\n",
				old[i].fam, old[i].ifname, old[i].key,
				strerror(errno));
	}
}

/* Most sysctls all other bridges' state files hold together */
#define MAIN_PEER_ITEMS 256

/* What the other bridges set up in this namespace hold (@peers, @npeers) */
static void main_peers(const char *bridge, struct sysctl_item *peers,
		       size_t *npeers)
{
	char err[512];

	if (sysctl_state_peers(main_state_dir(), bridge, peers,
			       MAIN_PEER_ITEMS, npeers, err, sizeof(err)))
		main_die(1, err);
}

/*
 * The state file holds the value each sysctl had before the first up that
 * set it. Add those of @want it lacks (with their values now, or the
 * value another bridge's file holds: the uplink's forwarding is shared,
 * and that is the one from before the first of them) and save it; then
 * append to @want what the state holds and this up no longer wants (an
 * earlier --ipv6, another uplink), to be put back to its value from the
 * state where the interface still exists and no other bridge uses it.
 * @created: the file is new. Return: the new count of @want
 */
static size_t main_state_merge(const char *bridge, const char *path,
			       struct sysctl_item *want, size_t n,
			       int *created)
{
	static struct sysctl_item peers[MAIN_PEER_ITEMS];
	struct sysctl_item st[SYSCTL_MAX_ITEMS];
	const struct sysctl_item *held;
	size_t have, k, i, wanted = n, npeers;
	char err[512];
	int rc;

	main_peers(bridge, peers, &npeers);

	rc = sysctl_state_load(path, st, SYSCTL_MAX_ITEMS, &have, err,
			       sizeof(err));
	if (rc < 0)
		main_die(1, err);
	k = have;
	for (i = 0; i < n; i++) {
		if (sysctl_find(st, have, &want[i]))
			continue;
		if (k == SYSCTL_MAX_ITEMS)
			main_die(1, "too many sysctls in the state file: run "
				    "down first");
		st[k] = want[i];
		held = sysctl_find(peers, npeers, &want[i]);
		if (held)
			memcpy(st[k].val, held->val, sizeof(st[k].val));
		else if (sysctl_read(&want[i], st[k].val, sizeof(st[k].val)))
			main_die(1, "cannot read the current sysctls");
		k++;
	}
	if (k > have && sysctl_state_save(path, st, k, err, sizeof(err)))
		main_die(1, err);
	*created = rc == 0;
	for (i = 0; i < have; i++) {
		if (sysctl_find(want, wanted, &st[i]) ||
		    sysctl_find(peers, npeers, &st[i]) ||
		    !sysctl_exists(&st[i]))
			continue;
		if (n == SYSCTL_MAX_ITEMS)
			main_die(1, "too many sysctls in the state file: run "
				    "down first");
		want[n++] = st[i];
	}
	return n;
}

/*
 * What down does: the bridge's rules out, every sysctl in its state file
 * back to its value from before the first up, except those another
 * bridge's setup still uses (@kept of them: the last one down restores
 * them), the file removed. Return: the sysctls restored, or -1 with @err
 * set if a rule could not be removed
 */
static int main_teardown(const struct args *a, const char *path,
			 size_t *kept, char *err, size_t errlen)
{
	static struct sysctl_item peers[MAIN_PEER_ITEMS];
	struct sysctl_item old[SYSCTL_MAX_ITEMS], put[SYSCTL_MAX_ITEMS];
	size_t n = 0, npeers, nput = 0, i;
	char lerr[512];
	int rc = 0, have;

	main_peers(a->bridge, peers, &npeers);
	if (main_rules(a, false, false, err, errlen))
		rc = -1;
	have = sysctl_state_load(path, old, SYSCTL_MAX_ITEMS, &n, lerr,
				 sizeof(lerr));
	if (have < 0)
		main_die(1, lerr);
	for (i = 0; i < n; i++) {
		if (!sysctl_find(peers, npeers, &old[i]))
			put[nput++] = old[i];
	}
	*kept = n - nput;
	main_restore(put, nput);
	if (have > 0)
		unlink(path);
	return rc ? rc : (int)nput;
}

/*
 * up failed part-way. If the rules were not touched (@rules_kept: nft's
 * one transaction failed, so the table of an earlier up is as it was),
 * nothing else changed either. Otherwise no rules of ours are left, and
 * forwarding without them would let the outside into the bridge: take
 * everything back as down does.
 */
static void __attribute__((noreturn))
main_up_failed(const struct args *a, const char *path, bool created,
	       bool rules_kept, const char *why)
{
	char msg[1024], ignored[256];
	size_t kept;

	if (rules_kept) {
		if (created)
			unlink(path);
		main_die(1, why);
	}
	main_teardown(a, path, &kept, ignored, sizeof(ignored));
	snprintf(msg, sizeof(msg), "%s; rolled back: no rules of ours, "
		 "sysctls as before the first up", why);
	main_die(1, msg);
}

static int main_up(const struct args *a)
{
	struct sysctl_item want[SYSCTL_MAX_ITEMS], old[SYSCTL_MAX_ITEMS];
	char path[4096], err[512];
	size_t n = main_items(a, want), i;
	int created;

	main_preflight(a);
	if (sysctl_state_path(main_state_dir(), a->bridge, path, sizeof(path)))
		main_die(1, "cannot name the state file");
	/* values from an earlier up are the ones down must put back: keep
	 * them (the bridge may have been re-created since) */
	n = main_state_merge(a->bridge, path, want, n, &created);
	for (i = 0; i < n; i++) {
		old[i] = want[i];
		if (sysctl_read(&want[i], old[i].val, sizeof(old[i].val)))
			main_die(1, "cannot read the current sysctls");
	}
	if (main_rules(a, true, false, err, sizeof(err)))
		main_up_failed(a, path, created, a->backend == ARGS_NFT, err);
	for (i = 0; i < n; i++) {
		if (sysctl_write(&want[i], want[i].val)) {
			snprintf(err, sizeof(err), "write %s.conf.%s.%s: %s",
				 want[i].fam, want[i].ifname, want[i].key,
				 strerror(errno));
			main_up_failed(a, path, created, false, err);
		}
	}
	for (i = 0; i < n; i++)
		printf("net.%s.conf.%s.%s = %s (was %s)\n", want[i].fam,
		       want[i].ifname, want[i].key, want[i].val, old[i].val);
	printf("rules: %s%s, bridge %s, uplink %s, %zu published\n",
	       a->backend == ARGS_NFT ? "nft table strait-"
				      : "iptables chains STRAIT-*-",
	       a->bridge, a->bridge, a->uplink, a->npublish);
	return 0;
}

static int main_down(const struct args *a)
{
	char path[4096], err[512];
	size_t kept;
	int n;

	if (sysctl_state_path(main_state_dir(), a->bridge, path, sizeof(path)))
		main_die(1, "cannot name the state file");
	n = main_teardown(a, path, &kept, err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	if (kept)
		printf("rules of %s removed; %d sysctls restored, %zu kept for "
		       "the other bridges set up\n",
		       a->bridge, n, kept);
	else
		printf("rules of %s removed; %d sysctls restored\n", a->bridge,
		       n);
	return 0;
}

static int main_check(const struct args *a)
{
	static char text[RULES_MAX];
	struct rules_in in = main_rules_in(a);
	struct sysctl_item want[SYSCTL_MAX_ITEMS];
	size_t n = main_items(a, want), i;
	char val[SYSCTL_VALLEN], drops[1024], err[512];
	char *rs;

	for (i = 0; i < n; i++) {
		if (sysctl_read(&want[i], val, sizeof(val)))
			snprintf(val, sizeof(val), "absent");
		printf("sysctl net.%s.conf.%s.%s: %s -> %s\n", want[i].fam,
		       want[i].ifname, want[i].key, val, want[i].val);
	}
	if (a->backend == ARGS_NFT) {
		if (rules_nft_up(&in, text, sizeof(text)))
			main_die(1, "rules too long");
		printf("%s", text);
	} else {
		struct main_ipt t;

		if (main_ipt_texts(a, &in, &t))
			main_die(1, "rules too long");
		printf("# iptables-restore --noflush\n%s%s", t.filter, t.nat);
		if (t.filter6)
			printf("# ip6tables-restore --noflush\n%s%s",
			       t.filter6, t.nat6 ? t.nat6 : "");
	}
	rs = nft_ruleset();
	if (rs && nft_drop_policies(rs, a->backend == ARGS_IPTABLES, drops,
				    sizeof(drops)))
		fprintf(stderr, PROG ": warning: these base chains drop by "
			"policy, and an accept in our nft table cannot "
			"override them%s:\n%s",
			a->backend == ARGS_NFT ? " (use --backend iptables if "
						 "they are iptables')"
					       : "",
			drops);
	free(rs);
	if (a->backend == ARGS_NFT &&
	    nft_apply(text, true, err, sizeof(err)))
		main_die(1, err);
	return 0;
}

int main(int argc, char *argv[])
{
	struct args a;
	char err[512];

	if (args_parse(argc, argv, &a, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n(see " PROG " --help)\n", err);
		return 2;
	}
	if (a.cmd == ARGS_HELP)
		return fputs(args_usage, stdout), 0;
	if (a.cmd == ARGS_VERSION)
		return printf(PROG " version " STRAIT_VERSION "\n"), 0;
	if (a.cmd == ARGS_EXEC) {
		netexec_run(&a, err, sizeof(err));
		main_die(1, err);
	}
	main_check_input(&a);
	if (a.cmd == ARGS_UP)
		return main_up(&a);
	if (a.cmd == ARGS_DOWN)
		return main_down(&a);
	return main_check(&a);
}
