// SPDX-License-Identifier: MIT
/*
 * hostfw.c - where the host's own filtering lives, read from the ruleset
 * as nft lists it (libnftables' "list ruleset", stateless)
 *
 * Theory of operation. Every base chain on a hook sees every packet, in
 * priority order, and a drop in any of them is final: an accept in our
 * table cannot open a port that another table drops, by policy or by a
 * rule. So before up changes anything it asks, for each accept it was
 * asked for (a publish on the input hook; the bridge's traffic on the
 * forward hook), which other base chains would drop it:
 *
 *  - a base chain of that hook, in a table whose family sees the packet
 *    (ip or inet for IPv4, ip6 or inet for IPv6), drops it if its policy
 *    is drop or it has a rule that drops everything ("drop", "reject",
 *    with only counters, comments or a log before the verdict);
 *  - unless the same accept is already there, before that rule (the
 *    admin added it, as the message up gives tells them to);
 *  - iptables-nft's own chains (INPUT and FORWARD of ip/ip6 filter) do
 *    not count with the iptables backend: its jumps go in first there.
 *
 * Rules that drop only some packets ("ct state invalid drop") are the
 * admin's business and not counted: the packets of a published port or
 * of the bridge's connections are not what such rules are written for,
 * and a verdict that fails on every real ruleset helps no one.
 *
 * And for "--backend auto": the host filters with iptables if iptables'
 * filter tables have an INPUT or FORWARD chain that drops by policy or
 * by any rule (ufw, firewalld's iptables mode, a hand-written ruleset).
 *
 * Pure: text in, answers out.
 */
#include "hostfw.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* What the scan knows of the chain it is in */
struct hostfw_scan {
	char family[8], table[HOSTFW_NAME];
	struct hostfw_chain c;
	bool in_chain, base, hook_ok, covered, any_drop;
	bool filter; /* "type filter": nat chains' verdicts are not ours */
	enum hostfw_hook hook;
};

/*
 * The next whitespace-separated token of @s (a quoted string is one
 * token, quotes included), from *@at; Return: its length, 0 at the end
 */
static size_t hostfw_token(const char *s, size_t n, size_t *at,
			   const char **tok)
{
	size_t i = *at, start;

	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	start = i;
	if (i < n && s[i] == '"') {
		for (i++; i < n && s[i] != '"'; i++)
			i += s[i] == '\\' && i + 1 < n;
		if (i < n)
			i++;
	} else {
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
	}
	*tok = s + start;
	*at = i;
	return i - start;
}

static bool hostfw_is(const char *tok, size_t len, const char *word)
{
	return strlen(word) == len && !strncmp(tok, word, len);
}

/**
 * hostfw_norm() - a rule as nft lists it, without what does not decide
 * anything: counters (with or without their numbers) and comments
 * @line:	the rule
 * @n:		its length
 * @out:	the rest, single-spaced
 * @len:	size of @out
 *
 * Return: the length written (0 if nothing is left or it does not fit)
 */
size_t hostfw_norm(const char *line, size_t n, char *out, size_t len)
{
	size_t at = 0, k, off = 0;
	const char *t;

	while ((k = hostfw_token(line, n, &at, &t))) {
		if (hostfw_is(t, k, "counter"))
			continue;
		if (hostfw_is(t, k, "packets") || hostfw_is(t, k, "bytes") ||
		    hostfw_is(t, k, "comment")) {
			hostfw_token(line, n, &at, &t); /* and its value */
			continue;
		}
		if (off + k + 2 > len)
			return 0;
		if (off)
			out[off++] = ' ';
		memcpy(out + off, t, k);
		off += k;
	}
	if (len)
		out[off] = '\0';
	return off;
}

/* A normalized rule that drops everything: a verdict, maybe logged */
static bool hostfw_drops_all(const char *r)
{
	static const char *const log_args[] = { "prefix", "level", "flags",
						"group",  "snaplen",
						"queue-threshold" };
	size_t at = 0, n = strlen(r), k, i;
	const char *t;
	bool arg;

	k = hostfw_token(r, n, &at, &t);
	while (k && hostfw_is(t, k, "log")) {
		do {
			k = hostfw_token(r, n, &at, &t);
			for (arg = false, i = 0; i < 6 && k; i++)
				arg |= hostfw_is(t, k, log_args[i]);
			if (arg)
				hostfw_token(r, n, &at, &t);
		} while (arg);
	}
	if (hostfw_is(t, k, "drop"))
		return at == n;
	return hostfw_is(t, k, "reject");
}

/* A rule that may drop something: a drop or reject verdict anywhere */
static bool hostfw_may_drop(const char *r)
{
	size_t at = 0, n = strlen(r), k;
	const char *t;

	while ((k = hostfw_token(r, n, &at, &t))) {
		if (hostfw_is(t, k, "drop") || hostfw_is(t, k, "reject"))
			return true;
	}
	return false;
}

static bool hostfw_sees(const char *family, int af)
{
	return !strcmp(family, "inet") ||
	       !strcmp(family, af == AF_INET6 ? "ip6" : "ip");
}

/* iptables-nft's built-in chains: ip/ip6 tables, iptables' names */
static bool hostfw_ipt_chain(const char *family, const char *table,
			     const char *chain)
{
	static const char *const tables[] = { "filter", "mangle", "raw",
					      "security" };
	size_t i;

	if (strcmp(family, "ip") && strcmp(family, "ip6"))
		return false;
	if (strcmp(chain, "INPUT") && strcmp(chain, "FORWARD"))
		return false;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if (!strcmp(table, tables[i]))
			return true;
	}
	return false;
}

typedef void (*hostfw_visit)(const struct hostfw_scan *s, void *arg);

/* "type filter hook input priority filter; policy drop;" */
static void hostfw_type_line(struct hostfw_scan *s, const char *l)
{
	s->base = true;
	s->hook_ok = true;
	s->filter = !strncmp(l, "type filter ", 12);
	if (strstr(l, " hook input "))
		s->hook = HOSTFW_INPUT;
	else if (strstr(l, " hook forward "))
		s->hook = HOSTFW_FORWARD;
	else
		s->hook_ok = false;
	s->c.hook = s->hook;
	s->c.policy_drop = strstr(l, "policy drop;") != NULL;
}

/* A rule of the chain being scanned, against @need (may be NULL) */
static void hostfw_rule(struct hostfw_scan *s, const char *l, size_t n,
			const char *need)
{
	char r[HOSTFW_RULE * 2];

	if (!hostfw_norm(l, n, r, sizeof(r)))
		return;
	if (hostfw_may_drop(r))
		s->any_drop = true;
	if (s->c.drop_rule[0])
		return;
	if (need && !strcmp(r, need))
		s->covered = true;
	else if (hostfw_drops_all(r))
		snprintf(s->c.drop_rule, sizeof(s->c.drop_rule), "%.*s",
			 (int)sizeof(s->c.drop_rule) - 1, r);
}

/* "table FAMILY NAME {" and "chain NAME {" */
static bool hostfw_open(struct hostfw_scan *s, const char *l, int depth)
{
	char a[HOSTFW_NAME], b[HOSTFW_NAME];

	if (depth == 0 && sscanf(l, "table %63s %63s {", a, b) == 2) {
		snprintf(s->family, sizeof(s->family), "%.7s", a);
		snprintf(s->table, sizeof(s->table), "%s", b);
		return true;
	}
	if (depth == 1 && sscanf(l, "chain %63s {", a) == 1) {
		memset(&s->c, 0, sizeof(s->c));
		snprintf(s->c.family, sizeof(s->c.family), "%s", s->family);
		snprintf(s->c.table, sizeof(s->c.table), "%s", s->table);
		snprintf(s->c.name, sizeof(s->c.name), "%s", a);
		s->in_chain = true;
		s->base = s->hook_ok = s->covered = s->any_drop = false;
		return true;
	}
	return false;
}

/* Braces opened minus closed on a line, outside quotes */
static int hostfw_braces(const char *l, size_t n)
{
	bool quoted = false;
	int d = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (quoted && l[i] == '\\')
			i++;
		else if (l[i] == '"')
			quoted = !quoted;
		else if (!quoted && l[i] == '{')
			d++;
		else if (!quoted && l[i] == '}')
			d--;
	}
	return d;
}

/*
 * Walk the ruleset: every chain's rules are matched against @need, and
 * @visit called at the end of each base chain on the input or forward
 * hook.
 */
static void hostfw_walk(const char *rs, const char *need, hostfw_visit visit,
			void *arg)
{
	struct hostfw_scan s;
	char line[1024];
	int depth = 0;

	memset(&s, 0, sizeof(s));
	while (rs && *rs) {
		size_t n = strcspn(rs, "\n"), k;
		const char *l;

		snprintf(line, sizeof(line), "%.*s", (int)n, rs);
		rs += n + (rs[n] == '\n');
		l = line + strspn(line, " \t");
		k = strlen(l);
		if (!k || *l == '#')
			continue;
		if (hostfw_open(&s, l, depth)) {
			depth++;
			continue;
		}
		if (s.in_chain && depth == 2 && !strncmp(l, "type ", 5)) {
			hostfw_type_line(&s, l);
			continue;
		}
		if (s.in_chain && depth == 2 && strcmp(l, "}"))
			hostfw_rule(&s, l, k, need);
		depth += hostfw_braces(l, k);
		if (s.in_chain && depth < 2) {
			s.in_chain = false;
			if (s.base && s.hook_ok && s.filter)
				visit(&s, arg);
		}
		if (depth < 0)
			depth = 0;
	}
}

struct hostfw_ipt_arg {
	bool found;
	char *why;
	size_t len;
};

static void hostfw_ipt_visit(const struct hostfw_scan *s, void *arg)
{
	struct hostfw_ipt_arg *a = arg;

	if (a->found || strcmp(s->c.table, "filter") ||
	    !hostfw_ipt_chain(s->c.family, s->c.table, s->c.name) ||
	    (!s->c.policy_drop && !s->any_drop))
		return;
	a->found = true;
	snprintf(a->why, a->len, "table %s filter chain %s drops%s",
		 s->c.family, s->c.name,
		 s->c.policy_drop ? " by policy" : " by a rule");
}

/**
 * hostfw_iptables_drops() - whether the host's filtering is iptables':
 * an INPUT or FORWARD chain of ip/ip6 filter drops by policy or by a rule
 * @ruleset:	"list ruleset" text
 * @why:	the first such chain, e.g. "table ip filter chain INPUT drops
 *		by policy"
 * @len:	size of @why
 *
 * Return: true if there is one
 */
bool hostfw_iptables_drops(const char *ruleset, char *why, size_t len)
{
	struct hostfw_ipt_arg a = { false, why, len };

	if (len)
		why[0] = '\0';
	hostfw_walk(ruleset, NULL, hostfw_ipt_visit, &a);
	return a.found;
}

struct hostfw_block_arg {
	const struct hostfw_need *need;
	bool ipt_backend;
	struct hostfw_chain *out;
	size_t max, n;
};

static void hostfw_block_visit(const struct hostfw_scan *s, void *arg)
{
	struct hostfw_block_arg *a = arg;
	const struct hostfw_chain *c = &s->c;

	if (s->hook != a->need->hook ||
	    !hostfw_sees(c->family, a->need->family) ||
	    !strncmp(c->table, "strait-", 7) || s->covered ||
	    (!c->policy_drop && !c->drop_rule[0]))
		return;
	/* the iptables backend's jumps go in first there */
	if (a->ipt_backend && !strcmp(c->table, "filter") &&
	    hostfw_ipt_chain(c->family, c->table, c->name))
		return;
	if (a->n < a->max) {
		a->out[a->n] = *c;
		a->out[a->n].iptables =
			hostfw_ipt_chain(c->family, c->table, c->name);
	}
	a->n++;
}

/**
 * hostfw_blocking() - the other tables' base chains that would drop what
 * @need accepts
 * @ruleset:	"list ruleset" text
 * @need:	the accept
 * @ipt_backend: ours are iptables chains, jumped to first from iptables'
 *		INPUT and FORWARD
 * @out:	the chains found
 * @max:	room in @out
 *
 * Return: how many there are (more than @max: only @max filled)
 */
size_t hostfw_blocking(const char *ruleset, const struct hostfw_need *need,
		       bool ipt_backend, struct hostfw_chain *out, size_t max)
{
	struct hostfw_block_arg a = { need, ipt_backend, out, max, 0 };

	hostfw_walk(ruleset, need->rule, hostfw_block_visit, &a);
	return a.n;
}

struct hostfw_ref_arg {
	struct hostfw_chain *out;
	size_t max, n;
};

/* Names that can go into an nft command as they are */
static bool hostfw_plain(const char *name)
{
	size_t n = strlen(name);

	return n && strspn(name, "abcdefghijklmnopqrstuvwxyz"
				 "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/") ==
			    n;
}

static void hostfw_ref_visit(const struct hostfw_scan *s, void *arg)
{
	struct hostfw_ref_arg *a = arg;

	if (a->n < a->max) {
		a->out[a->n] = s->c;
		/* a name nft would need quoted is not listed rule by rule:
		 * its chain counts by its policy alone */
		a->out[a->n].iptables = !hostfw_plain(s->c.family) ||
					!hostfw_plain(s->c.table) ||
					!hostfw_plain(s->c.name);
	}
	a->n++;
}

/**
 * hostfw_filter_chains() - the filter base chains on the input and
 * forward hooks, from "list chains" (no rules): the only ones whose rules
 * hostfw_blocking() reads
 * @chains:	"list chains" text
 * @out:	family, table, name and policy of each; @out->iptables is
 *		set where a name cannot go into a "list chain" command
 * @max:	room in @out
 *
 * Listing only these (and not the whole ruleset) also keeps libnftables
 * off other tables' rules it cannot print: ip6tables-nft's MASQUERADE is
 * an xt target libxtables here cannot find, and listing it leaks.
 *
 * Return: how many there are (more than @max: only @max filled)
 */
size_t hostfw_filter_chains(const char *chains, struct hostfw_chain *out,
			    size_t max)
{
	struct hostfw_ref_arg a = { out, max, 0 };

	hostfw_walk(chains, NULL, hostfw_ref_visit, &a);
	return a.n;
}
