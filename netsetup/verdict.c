// SPDX-License-Identifier: MIT
/*
 * verdict.c - whether the accepts up installs take effect where the
 * host's filtering lives, and the backend that makes them (auto)
 *
 * Up never reports success while an accept it was asked for cannot take
 * effect: before it changes anything, it lists the filter base chains on
 * the input and forward hooks (hostfw.c reads them) and asks, for each of
 * its accepts (a publish on input; the bridge's traffic out and its
 * replies in on forward), which other table's chain would drop it first.
 * The verdict names each such chain and the exact rule to add there (an
 * nft insert, or the iptables command for iptables' own chains).
 */
#include "verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hostfw.h"
#include "nft.h"
#include "rules.h"

/* Our forward accepts of each family, and an input accept per publish */
#define VERDICT_MAX_NEEDS (4 + STATE_MAX_PUBLISH)

/* An accept of ours, and where it came from (for the message) */
struct verdict_need {
	struct hostfw_need h;
	const struct valid_publish *p; /* input: the publish */
	bool replies;		       /* forward: uplink to bridge */
};

/* The accepts up installs, each of which must take effect */
static size_t verdict_needs(const struct state_cfg *c,
			    struct verdict_need *need)
{
	static const int fam[2] = { AF_INET, AF_INET6 };
	size_t n = 0, i, f;

	memset(need, 0, VERDICT_MAX_NEEDS * sizeof(*need));
	for (f = 0; f < (c->ipv6 ? 2U : 1U); f++) {
		for (i = 0; i < 2; i++, n++) {
			need[n].h.hook = HOSTFW_FORWARD;
			need[n].h.family = fam[f];
			need[n].replies = i;
			rules_nft_fwd(i ? c->uplink : c->bridge,
				      i ? c->bridge : c->uplink, i,
				      need[n].h.rule, sizeof(need[n].h.rule));
		}
	}
	for (i = 0; c->input && i < c->npublish; i++, n++) {
		need[n].h.hook = HOSTFW_INPUT;
		need[n].h.family = c->publish[i].ip.family;
		need[n].p = &c->publish[i];
		rules_nft_accept(&c->publish[i], need[n].h.rule,
				 sizeof(need[n].h.rule));
	}
	return n;
}

/* The same accept as an iptables command for @b's table and chain */
static void verdict_ipt_fix(const struct state_cfg *c,
			  const struct verdict_need *n,
			  const struct hostfw_chain *b, char *buf, size_t len)
{
	const char *cmd = strcmp(b->family, "ip6") ? "iptables" : "ip6tables";
	char ip[INET6_ADDRSTRLEN] = "", ports[16], tbl[32] = "";
	const char *pr;

	if (strcmp(b->table, "filter"))
		snprintf(tbl, sizeof(tbl), "-t %s ", b->table);
	if (!n->p) {
		snprintf(buf, len, "%s %s-I %s -i %s -o %s %s-j ACCEPT", cmd,
			 tbl, b->name, n->replies ? c->uplink : c->bridge,
			 n->replies ? c->bridge : c->uplink,
			 n->replies ? "-m conntrack --ctstate "
				      "RELATED,ESTABLISHED "
				    : "");
		return;
	}
	pr = addr_proto_name(n->p->ipproto);
	addr_format_ip(&n->p->ip, ip, sizeof(ip));
	if (n->p->port_last > n->p->port)
		snprintf(ports, sizeof(ports), "%u:%u", (unsigned)n->p->port,
			 (unsigned)n->p->port_last);
	else
		snprintf(ports, sizeof(ports), "%u", (unsigned)n->p->port);
	snprintf(buf, len, "%s %s-I %s -d %s/%u -p %s -m conntrack --ctstate "
		 "NEW,ESTABLISHED -m %s --dport %s -j ACCEPT", cmd, tbl,
		 b->name, ip, n->p->ip.family == AF_INET ? 32U : 128U, pr, pr,
		 ports);
}

/* One line of the verdict: which chain drops, and what to add there */
static void verdict_blocked(const struct state_cfg *c,
			  const struct verdict_need *n,
			  const struct hostfw_chain *b, char *buf, size_t len)
{
	char why[HOSTFW_RULE + 32], fix[2 * HOSTFW_RULE + 3 * HOSTFW_NAME];

	if (b->policy_drop)
		snprintf(why, sizeof(why), "drops by policy");
	else
		snprintf(why, sizeof(why), "drops all at \"%s\"", b->drop_rule);
	if (b->iptables)
		verdict_ipt_fix(c, n, b, fix, sizeof(fix));
	else
		snprintf(fix, sizeof(fix),
			 "nft insert rule %.7s %.63s %.63s %.*s", b->family,
			 b->table, b->name, (int)sizeof(n->h.rule), n->h.rule);
	snprintf(buf, len, "\n  table %s %s chain %s %s: %s%s", b->family,
		 b->table, b->name, why,
		 b->iptables && c->backend == STATE_NFT &&
				 !strcmp(b->table, "filter")
			 ? "use --backend iptables (auto chooses it here: its "
			   "jumps go first there), or "
			 : "",
		 fix);
}

/*
 * The filter base chains on input and forward, with their rules, as
 * "list ruleset" would print them (and nothing else). Return: malloc'd
 * text, or NULL
 */
static char *verdict_ruleset(void)
{
	static struct hostfw_chain ref[256];
	char *chains = nft_list("list chains"), *out, *one, *grown;
	size_t n, i, len = 0, k;
	char cmd[256];

	if (!chains)
		return NULL;
	n = hostfw_filter_chains(chains, ref, 256);
	free(chains);
	out = calloc(1, 1);
	for (i = 0; out && i < n && i < 256; i++) {
		one = NULL;
		if (!ref[i].iptables && /* a name nft would need quoted */
		    snprintf(cmd, sizeof(cmd), "list chain %.7s %.63s %.63s",
			     ref[i].family, ref[i].table,
			     ref[i].name) < (int)sizeof(cmd))
			one = nft_list(cmd);
		/* one that cannot be listed counts by its policy alone */
		if (!one && (one = malloc(512)))
			snprintf(one, 512,
				 "table %.7s %.63s {\n\tchain %.63s {\n\t\t"
				 "type filter hook %s priority 0; policy %s;\n"
				 "\t}\n}\n", ref[i].family, ref[i].table,
				 ref[i].name,
				 ref[i].hook == HOSTFW_INPUT ? "input"
							     : "forward",
				 ref[i].policy_drop ? "drop" : "accept");
		k = one ? strlen(one) : 0;
		grown = one ? realloc(out, len + k + 1) : out;
		if (!grown)
			free(out);
		else if (one)
			memcpy(grown + len, one, k + 1);
		out = grown;
		len += k;
		free(one);
	}
	return out;
}

/**
 * verdict_check() - whether every accept of @c takes effect: up never
 * reports success while one it was asked for cannot
 * @c:		the setup
 * @verb:	"up", "check" or "status", for the message
 * @err:	the verdict if not: which other tables' chains drop first,
 *		and what to add there, one line each
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int verdict_check(const struct state_cfg *c, const char *verb, char *err,
		  size_t errlen)
{
	static struct verdict_need need[VERDICT_MAX_NEEDS];
	struct hostfw_chain b[8];
	size_t n = verdict_needs(c, need), i, k, nb, off, shown = 0;
	bool input = false;
	char *rs = verdict_ruleset();

	if (!rs)
		return snprintf(err, errlen, "%s: cannot list the ruleset "
				"(nft list ruleset)", verb),
		       -1;
	snprintf(err, errlen, "%s: an accept of ours would not take effect: "
		 "another table drops first%s. Add the rule there, then run "
		 "up again:",
		 verb, !strcmp(verb, "up") ? " (nothing changed)"
		 : !strcmp(verb, "check") ? " (up would fail)"
					  : "");
	for (i = 0; i < n; i++) {
		nb = hostfw_blocking(rs, &need[i].h,
				     c->backend == STATE_IPTABLES, b, 8);
		input |= nb && need[i].p;
		for (k = 0; k < nb && k < 8; k++, shown++) {
			off = strnlen(err, errlen);
			if (off + 1 < errlen)
				verdict_blocked(c, &need[i], &b[k], err + off,
					      errlen - off);
		}
	}
	free(rs);
	off = strnlen(err, errlen);
	if (input && off + 1 < errlen)
		snprintf(err + off, errlen - off, "\n(or, if the host's own "
			 "input rules decide what is published: "
			 "--no-input-rules)");
	return shown ? -1 : 0;
}

/**
 * verdict_backend_auto() - the backend that works where the host's
 * filtering lives: iptables where iptables' chains drop (iptables-nft's
 * tables, or legacy iptables in use), else nft
 * @why:	the reason, for check
 * @len:	size of @why
 *
 * Return: the backend
 */
enum state_backend verdict_backend_auto(char *why, size_t len)
{
	char names[256] = "";
	char *rs = verdict_ruleset();
	bool ipt = rs && hostfw_iptables_drops(rs, why, len);
	FILE *f;

	free(rs);
	if (ipt)
		return STATE_IPTABLES;
	/* legacy iptables' tables are invisible to nft */
	f = fopen("/proc/net/ip_tables_names", "re");
	if (f) {
		size_t k = fread(names, 1, sizeof(names) - 1, f);

		names[k] = '\0';
		fclose(f);
	}
	if (strstr(names, "filter")) {
		snprintf(why, len, "legacy iptables' filter table is in use");
		return STATE_IPTABLES;
	}
	snprintf(why, len, "no iptables chain drops");
	return STATE_NFT;
}
