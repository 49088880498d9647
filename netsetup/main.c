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

/* The bridge's first IPv4 network, when --subnet is not given */
static int main_bridge_subnet(const char *br, struct valid_cidr *c)
{
	struct ifaddrs *ifa, *i;
	int rc = -1;

	if (getifaddrs(&ifa))
		return -1;
	for (i = ifa; i && rc; i = i->ifa_next) {
		const struct sockaddr_in *a = (const void *)i->ifa_addr;
		const struct sockaddr_in *m = (const void *)i->ifa_netmask;
		uint32_t mask;

		if (!a || !m || a->sin_family != AF_INET || strcmp(i->ifa_name, br))
			continue;
		mask = ntohl(m->sin_addr.s_addr);
		c->net.family = AF_INET;
		c->net.v4.s_addr = a->sin_addr.s_addr & m->sin_addr.s_addr;
		for (c->len = 0; mask & 0x80000000U; mask <<= 1)
			c->len++;
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
	    main_bridge_subnet(a->bridge, &a->subnet)) {
		snprintf(err, sizeof(err), "bridge %s has no IPv4 address: "
			 "give --subnet", a->bridge);
		main_die(2, err);
	}
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

/*
 * The iptables-restore texts: IPv4 filter and nat (@t4, @nat), and the
 * IPv6 filter (@t6) where IPv6 is forwarded (--ipv6) or published; @t4 and
 * @t6 hold RULES_MAX bytes. Return: 1 with @t6 filled, 0 without, -1 if
 * the rules do not fit
 */
static int main_ipt_texts(const struct args *a, const struct rules_in *in,
			  char *t4, char *nat, size_t natlen, char *t6)
{
	bool v6 = a->ipv6;
	size_t i;

	for (i = 0; i < a->npublish; i++)
		v6 |= a->publish[i].ip.family == AF_INET6;
	if (rules_ipt_filter(in, AF_INET, t4, RULES_MAX) ||
	    rules_ipt_nat(in, nat, natlen) ||
	    (v6 && rules_ipt_filter(in, AF_INET6, t6, RULES_MAX)))
		return -1;
	return v6;
}

static int main_rules(const struct args *a, bool up, bool dry, char *err,
		      size_t errlen)
{
	static char text[RULES_MAX], text6[RULES_MAX], nat[1024];
	struct rules_in in = { a->bridge, a->uplink, &a->subnet, a->publish,
			       a->npublish, a->ipv6 };
	int v6;

	if (!up) {
		char ignored[256];
		int rc;

		rules_nft_down(text, sizeof(text));
		rc = nft_apply(text, false, err, errlen);
		/* whichever backend put them in, none of ours stays */
		if (ipt_down(ignored, sizeof(ignored)) && !rc) {
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
	v6 = main_ipt_texts(a, &in, text, nat, sizeof(nat), text6);
	if (v6 < 0)
		return snprintf(err, errlen, "rules too long"), -1;
	return ipt_up(text, nat, v6 ? text6 : NULL, err, errlen);
}

static const char *main_state_dir(void)
{
	const char *d = getenv("STRAIT_STATE_DIR");

	return d && *d ? d : "/run/strait";
}

/* Put back @n items to the values in @old, best effort */
static void main_restore(const struct sysctl_item *old, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (sysctl_exists(&old[i]) && sysctl_write(&old[i], old[i].val))
			fprintf(stderr, PROG ": restore %s.conf.%s.%s: %s\n",
				old[i].fam, old[i].ifname, old[i].key,
				strerror(errno));
	}
}

static int main_up(const struct args *a)
{
	struct sysctl_item want[SYSCTL_MAX_ITEMS], old[SYSCTL_MAX_ITEMS];
	struct sysctl_item first[SYSCTL_MAX_ITEMS];
	char path[4096], err[512], ignored[256];
	size_t n = main_items(a, want), i, saved;
	int created = 0, have;

	main_preflight(a);
	if (sysctl_state_path(main_state_dir(), a->bridge, path, sizeof(path)))
		main_die(1, "cannot name the state file");
	for (i = 0; i < n; i++) {
		old[i] = want[i];
		if (sysctl_read(&want[i], old[i].val, sizeof(old[i].val)))
			main_die(1, "cannot read the current sysctls");
	}
	/* values from an earlier up are the ones down must put back: keep
	 * them (the bridge may have been re-created since) */
	have = sysctl_state_load(path, first, SYSCTL_MAX_ITEMS, &saved, err,
				 sizeof(err));
	if (have < 0)
		main_die(1, err);
	if (have == 0) {
		if (sysctl_state_save(path, old, n, err, sizeof(err)))
			main_die(1, err);
		created = 1;
	}
	if (main_rules(a, true, false, err, sizeof(err)))
		goto fail;
	for (i = 0; i < n; i++) {
		if (sysctl_write(&want[i], want[i].val)) {
			snprintf(err, sizeof(err), "write %s.conf.%s.%s: %s",
				 want[i].fam, want[i].ifname, want[i].key,
				 strerror(errno));
			main_restore(old, i);
			main_rules(a, false, false, ignored, sizeof(ignored));
			goto fail;
		}
		printf("net.%s.conf.%s.%s = %s (was %s)\n", want[i].fam,
		       want[i].ifname, want[i].key, want[i].val, old[i].val);
	}
	printf("rules: %s, bridge %s, uplink %s, %zu published\n",
	       a->backend == ARGS_NFT ? "nft table strait"
				      : "iptables chains STRAIT-*",
	       a->bridge, a->uplink, a->npublish);
	return 0;
fail:
	if (created)
		unlink(path);
	main_die(1, err);
}

static int main_down(const struct args *a)
{
	struct sysctl_item old[SYSCTL_MAX_ITEMS];
	char path[4096], err[512];
	size_t n = 0;
	int rc = 0, have;

	if (main_rules(a, false, false, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		rc = 1;
	}
	if (sysctl_state_path(main_state_dir(), a->bridge, path, sizeof(path)))
		main_die(1, "cannot name the state file");
	have = sysctl_state_load(path, old, SYSCTL_MAX_ITEMS, &n, err,
				 sizeof(err));
	if (have < 0)
		main_die(1, err);
	main_restore(old, n);
	if (have > 0)
		unlink(path);
	printf("rules removed; %zu sysctls restored\n", n);
	return rc;
}

static int main_check(const struct args *a)
{
	static char text[RULES_MAX], text6[RULES_MAX], nat[1024];
	struct rules_in in = { a->bridge, a->uplink, &a->subnet, a->publish,
			       a->npublish, a->ipv6 };
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
		int v6 = main_ipt_texts(a, &in, text, nat, sizeof(nat), text6);

		if (v6 < 0)
			main_die(1, "rules too long");
		printf("# iptables-restore --noflush\n%s%s", text, nat);
		if (v6)
			printf("# ip6tables-restore --noflush\n%s", text6);
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
