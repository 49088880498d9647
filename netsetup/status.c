// SPDX-License-Identifier: MIT
/*
 * status.c - `strait-netsetup status`: what is applied per bridge, and
 * where the kernel drifted from it
 *
 * The state file says what up set up; the kernel says what is there now.
 * For each bridge set up in this network namespace: every sysctl up set,
 * with its value now, the value up set and the one saved before the first
 * up; route_localnet, which must stay 0; our table or chains, rule by
 * rule against the rules up would write for the same setup (a rule
 * deleted or changed by hand, a table flushed, a jump gone after a
 * firewall reload); transparent mode's rule and local route; and
 * whether another table now drops what ours accepts. Any difference is
 * drift: exit 1.
 *
 * Writes its report, text or JSON, to the FILE it is given.
 */
#include "status.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostfw.h"
#include "ipt.h"
#include "nft.h"
#include "rules.h"
#include "setup.h"
#include "verdict.h"
#include "state.h"

#define STATUS_MAX_BRIDGES 64
#define STATUS_MAX_DRIFT 24
#define STATUS_MAX_CHAINS 8
#define STATUS_MAX_RULES 96
#define STATUS_TEXT 16384

/**
 * struct status_sysctl - one sysctl up set
 * @name:	"net.ipv4.conf.br0.forwarding"
 * @now:	its value now ("absent" if the interface is gone)
 * @want:	the value up set
 * @saved:	the value before the first up ("" if not saved)
 */
struct status_sysctl {
	char name[64], now[SYSCTL_VALLEN], want[SYSCTL_VALLEN],
		saved[SYSCTL_VALLEN];
};

/**
 * struct status_chain - one of our chains
 * @name:	"ip strait-br0 forward" or "iptables filter STRAIT-FWD-br0"
 * @rules:	its rules now (-1: the chain is not there)
 * @want:	the rules up writes
 */
struct status_chain {
	char name[96];
	int rules, want;
};

/* All that is known of one bridge */
struct status_br {
	struct state st;
	bool loaded;
	struct status_sysctl sys[SYSCTL_MAX_ITEMS + 1];
	size_t nsys;
	struct status_chain chain[STATUS_MAX_CHAINS];
	size_t nchain;
	char drift[STATUS_MAX_DRIFT][320];
	size_t ndrift;
};

static void __attribute__((format(printf, 2, 3)))
status_drift(struct status_br *b, const char *fmt, ...)
{
	va_list ap;

	if (b->ndrift == STATUS_MAX_DRIFT)
		return;
	va_start(ap, fmt);
	vsnprintf(b->drift[b->ndrift++], sizeof(b->drift[0]), fmt, ap);
	va_end(ap);
}

static void status_one_sysctl(struct status_br *b,
			      const struct sysctl_item *it)
{
	struct status_sysctl *s = &b->sys[b->nsys++];
	const struct sysctl_item *saved =
		sysctl_find(b->st.item, b->st.nitems, it);

	snprintf(s->name, sizeof(s->name), "net.%s.conf.%s.%s", it->fam,
		 it->ifname, it->key);
	memcpy(s->want, it->val, sizeof(s->want));
	snprintf(s->saved, sizeof(s->saved), "%s", saved ? saved->val : "");
	if (sysctl_read(it, s->now, sizeof(s->now)))
		snprintf(s->now, sizeof(s->now), "absent");
	if (strcmp(s->now, s->want))
		status_drift(b, "%s is %s, up set %s", s->name, s->now,
			     s->want);
}

/* Every sysctl up set, and route_localnet, which must stay 0 */
static void status_sysctls(struct status_br *b)
{
	struct sysctl_item want[SYSCTL_MAX_ITEMS], rl;
	size_t n = setup_wanted(&b->st.cfg, want), i;

	for (i = 0; i < n; i++)
		status_one_sysctl(b, &want[i]);
	memset(&rl, 0, sizeof(rl));
	rl.fam = "ipv4";
	memcpy(rl.ifname, b->st.cfg.bridge, sizeof(rl.ifname));
	rl.key = "route_localnet";
	rl.val[0] = '0';
	status_one_sysctl(b, &rl);
}

/* The rules of each chain of an nft listing, normalized */
struct status_rules {
	char chain[STATUS_MAX_CHAINS][HOSTFW_NAME];
	char rule[STATUS_MAX_RULES][HOSTFW_RULE];
	int of[STATUS_MAX_RULES]; /* the chain each rule is in */
	size_t nchain, nrule;
	char family[8];
};

/* Parse "table F N { chain C { type ...; RULE; ... } }" into @r */
static void status_nft_parse(const char *text, struct status_rules *r)
{
	char line[1024], name[HOSTFW_NAME], fam[8];
	int cur = -1;

	memset(r, 0, sizeof(*r));
	while (text && *text) {
		size_t n = strcspn(text, "\n");
		const char *l;

		snprintf(line, sizeof(line), "%.*s", (int)n, text);
		text += n + (text[n] == '\n');
		l = line + strspn(line, " \t");
		if (sscanf(l, "table %7s %63s {", fam, name) == 2) {
			memcpy(r->family, fam, sizeof(fam));
		} else if (sscanf(l, "chain %63s {", name) == 1) {
			cur = -1;
			if (r->nchain < STATUS_MAX_CHAINS) {
				cur = (int)r->nchain;
				memcpy(r->chain[r->nchain++], name,
				       sizeof(name));
			}
		} else if (*l == '}') {
			cur = -1;
		} else if (cur >= 0 && *l && strncmp(l, "type ", 5) &&
			   r->nrule < STATUS_MAX_RULES &&
			   hostfw_norm(l, strlen(l), r->rule[r->nrule],
				       HOSTFW_RULE)) {
			r->of[r->nrule++] = cur;
		}
	}
}

/* The rules of chain @c of @r in @out (pointers), Return: how many */
static size_t status_of(const struct status_rules *r, size_t c,
			const char **out)
{
	size_t i, n = 0;

	for (i = 0; i < r->nrule; i++) {
		if ((size_t)r->of[i] == c)
			out[n++] = r->rule[i];
	}
	return n;
}

/* A chain's rules now against those up writes: counts, and what differs */
static void status_compare(struct status_br *b, const char *name,
			   const char **want, size_t nwant, const char **now,
			   size_t nnow, bool present)
{
	struct status_chain *c;
	size_t i, k;

	if (b->nchain == STATUS_MAX_CHAINS)
		return;
	c = &b->chain[b->nchain++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->want = (int)nwant;
	c->rules = present ? (int)nnow : -1;
	if (!present) {
		status_drift(b, "%s is missing", name);
		return;
	}
	for (i = 0; i < nwant; i++) {
		for (k = 0; k < nnow && strcmp(want[i], now[k]); k++)
			;
		if (k == nnow)
			status_drift(b, "%s lacks the rule: %s", name,
				     want[i]);
	}
	for (k = 0; k < nnow; k++) {
		for (i = 0; i < nwant && strcmp(want[i], now[k]); i++)
			;
		if (i == nwant)
			status_drift(b, "%s has a rule up did not write: %s",
				     name, now[k]);
	}
}

static void status_nft(struct status_br *b)
{
	static char text[STATUS_TEXT];
	static struct status_rules want, now;
	const char *w[STATUS_MAX_RULES], *n[STATUS_MAX_RULES];
	char cmd[128], name[96];
	char *live;
	size_t c, k, nw, nn;

	if (setup_nft_text(&b->st.cfg, text, sizeof(text))) {
		status_drift(b, "rules too long to compare");
		return;
	}
	status_nft_parse(text, &want);
	snprintf(cmd, sizeof(cmd), "list table %s strait-%s", want.family,
		 b->st.cfg.bridge);
	live = nft_list(cmd);
	status_nft_parse(live, &now);
	free(live);
	for (c = 0; c < want.nchain; c++) {
		nw = status_of(&want, c, w);
		for (k = 0; k < now.nchain && strcmp(now.chain[k],
						      want.chain[c]);
		     k++)
			;
		nn = k < now.nchain ? status_of(&now, k, n) : 0;
		snprintf(name, sizeof(name), "nft table %s strait-%s chain %s",
			 want.family, b->st.cfg.bridge, want.chain[c]);
		status_compare(b, name, w, nw, n, nn, k < now.nchain);
	}
}

/* The "-A CHAIN ..." lines of @chain in @text, in @out (copied to @buf) */
static size_t status_ipt_lines(const char *text, const char *chain,
			       char *buf, size_t len, const char **out)
{
	size_t n = 0, cl = strlen(chain), off = 0, k;

	while (text && *text && n < STATUS_MAX_RULES) {
		k = strcspn(text, "\n");
		if (k > 4 + cl && !strncmp(text, "-A ", 3) &&
		    !strncmp(text + 3, chain, cl) && text[3 + cl] == ' ' &&
		    off + k + 1 < len) {
			memcpy(buf + off, text, k);
			buf[off + k] = '\0';
			out[n++] = buf + off;
			off += k + 1;
		}
		text += k + (text[k] == '\n');
	}
	return n;
}

/* One of our iptables chains and the jump to it */
static void status_ipt_chain(struct status_br *b, bool v6, const char *table,
			     const char *from, const char *chain,
			     const char *text)
{
	static char live[STATUS_TEXT], wbuf[STATUS_TEXT], nbuf[STATUS_TEXT];
	const char *w[STATUS_MAX_RULES], *n[STATUS_MAX_RULES];
	char name[96];
	bool there = !ipt_list(v6, table, chain, live, sizeof(live));
	size_t nw = status_ipt_lines(text, chain, wbuf, sizeof(wbuf), w);
	size_t nn = there ? status_ipt_lines(live, chain, nbuf, sizeof(nbuf),
					     n)
			  : 0;

	snprintf(name, sizeof(name), "%s %s chain %s",
		 v6 ? "ip6tables" : "iptables", table, chain);
	status_compare(b, name, w, nw, n, nn, there);
	if (there && !ipt_has_jump(v6, table, from, chain))
		status_drift(b, "%s %s chain %s does not jump to %s",
			     v6 ? "ip6tables" : "iptables", table, from,
			     chain);
}

static void status_ipt(struct status_br *b)
{
	const struct state_cfg *c = &b->st.cfg;
	struct rules_names nm;
	struct ipt_texts t;
	int v6;

	if (setup_ipt_texts(c, &t)) {
		status_drift(b, "rules too long to compare");
		return;
	}
	rules_names(c->bridge, &nm);
	for (v6 = 0; v6 < 2; v6++) {
		const char *filter = v6 ? t.filter6 : t.filter;
		const char *nat = v6 ? t.nat6 : t.nat;

		if (!filter)
			continue;
		status_ipt_chain(b, v6, "filter", "FORWARD", nm.fwd, filter);
		if (c->input)
			status_ipt_chain(b, v6, "filter", "INPUT", nm.in,
					 filter);
		if (nat)
			status_ipt_chain(b, v6, "nat", "POSTROUTING", nm.post,
					 nat);
		if (v6 ? t.mangle6 : t.mangle)
			status_ipt_chain(b, v6, "mangle", "PREROUTING", nm.tp,
					 v6 ? t.mangle6 : t.mangle);
	}
}

/* Transparent mode's policy routing, each family it has */
static void status_tp(struct status_br *b)
{
	const struct state_cfg *c = &b->st.cfg;
	struct tproute_seen seen;
	char err[256];
	int v6;

	for (v6 = 0; v6 < 1 + c->ipv6; v6++) {
		const char *f = v6 ? "IPv6" : "IPv4";

		if (tproute_look(v6 ? AF_INET6 : AF_INET, &c->tp, &seen, err,
				 sizeof(err))) {
			status_drift(b, "%s", err);
			continue;
		}
		if (!seen.rule)
			status_drift(b, "%s rule fwmark 0x%x lookup %u is gone",
				     f, c->tp.mark, c->tp.table);
		if (!seen.route)
			status_drift(b, "%s route local default dev lo table "
				     "%u is gone", f, c->tp.table);
	}
}

/* What the state says against the kernel */
static void status_check(struct status_br *b)
{
	static char verdict[4096];
	char *line, *save = NULL;

	if (!valid_ifname_exists(b->st.cfg.bridge, verdict, sizeof(verdict)))
		status_sysctls(b);
	else
		status_drift(b, "bridge %s is gone: down should run",
			     b->st.cfg.bridge);
	if (b->st.cfg.backend == STATE_NFT)
		status_nft(b);
	else
		status_ipt(b);
	if (b->st.cfg.transparent)
		status_tp(b);
	if (!verdict_check(&b->st.cfg, "status", verdict, sizeof(verdict)))
		return;
	/* the verdict's chain lines, one drift each */
	for (line = strtok_r(verdict, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "  table ", 8))
			status_drift(b, "blocked: %s", line + 2);
	}
}

static void status_text(const struct status_br *b, FILE *out)
{
	const struct state_cfg *c = &b->st.cfg;
	char v[VALID_PUBLISH_STRLEN];
	size_t i;

	fprintf(out, "%s: backend %s, uplink %s, ipv6 %s, input rules %s\n",
		c->bridge, state_backend_name(c->backend), c->uplink,
		!c->ipv6 ? "off" : c->ipv6_routed ? "routed" : "masquerade",
		c->input ? "on" : "off");
	valid_format_cidr(&c->subnet, v, sizeof(v));
	fprintf(out, "  subnet %s\n", v);
	if (c->have_subnet6 && !valid_format_cidr(&c->subnet6, v, sizeof(v)))
		fprintf(out, "  subnet %s\n", v);
	for (i = 0; i < c->npublish; i++) {
		valid_format_publish(&c->publish[i], v, sizeof(v));
		fprintf(out, "  publish %s\n", v);
	}
	if (c->transparent)
		fprintf(out, "  transparent fwmark 0x%x table %u\n", c->tp.mark,
			c->tp.table);
	for (i = 0; i < b->nsys; i++)
		fprintf(out, "  sysctl %s = %s (up set %s%s%s)\n",
			b->sys[i].name, b->sys[i].now, b->sys[i].want,
			b->sys[i].saved[0] ? ", saved " : "", b->sys[i].saved);
	for (i = 0; i < b->nchain; i++)
		fprintf(out, "  rules %s: %d (up wrote %d)\n",
			b->chain[i].name, b->chain[i].rules,
			b->chain[i].want);
	for (i = 0; i < b->ndrift; i++)
		fprintf(out, "  drift: %s\n", b->drift[i]);
	if (!b->ndrift)
		fprintf(out, "  no drift\n");
}

/* A JSON string: what we print is validated, except rule text */
static void status_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", (unsigned)(unsigned char)*s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void status_json_cfg(const struct state_cfg *c, FILE *out)
{
	char v[VALID_PUBLISH_STRLEN];
	size_t i;

	fprintf(out, "{\"bridge\":\"%s\",\"uplink\":\"%s\",\"backend\":"
		"\"%s\",\"ipv6\":\"%s\",\"input_rules\":%s,",
		c->bridge, c->uplink, state_backend_name(c->backend),
		!c->ipv6 ? "off" : c->ipv6_routed ? "routed" : "masquerade",
		c->input ? "true" : "false");
	valid_format_cidr(&c->subnet, v, sizeof(v));
	fprintf(out, "\"subnet\":\"%s\",\"subnet6\":", v);
	if (c->have_subnet6 && !valid_format_cidr(&c->subnet6, v, sizeof(v)))
		fprintf(out, "\"%s\"", v);
	else
		fputs("null", out);
	fputs(",\"publish\":[", out);
	for (i = 0; i < c->npublish; i++) {
		valid_format_publish(&c->publish[i], v, sizeof(v));
		fprintf(out, "%s\"%s\"", i ? "," : "", v);
	}
	fputs("],\"transparent\":", out);
	if (c->transparent)
		fprintf(out, "{\"mark\":%u,\"table\":%u},", c->tp.mark,
			c->tp.table);
	else
		fputs("null,", out);
}

static void status_json(const struct status_br *b, FILE *out)
{
	size_t i;

	status_json_cfg(&b->st.cfg, out);
	fputs("\"sysctls\":[", out);
	for (i = 0; i < b->nsys; i++)
		fprintf(out, "%s{\"name\":\"%s\",\"value\":\"%s\",\"want\":"
			"\"%s\",\"saved\":%s%s%s}",
			i ? "," : "", b->sys[i].name, b->sys[i].now,
			b->sys[i].want, b->sys[i].saved[0] ? "\"" : "",
			b->sys[i].saved[0] ? b->sys[i].saved : "null",
			b->sys[i].saved[0] ? "\"" : "");
	fputs("],\"chains\":[", out);
	for (i = 0; i < b->nchain; i++) {
		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		status_json_str(out, b->chain[i].name);
		fprintf(out, ",\"rules\":%d,\"want\":%d}", b->chain[i].rules,
			b->chain[i].want);
	}
	fputs("],\"drift\":[", out);
	for (i = 0; i < b->ndrift; i++) {
		if (i)
			fputc(',', out);
		status_json_str(out, b->drift[i]);
	}
	fputs("]}", out);
}

/* Load and check @br; a bad state file is drift of its own */
static void status_bridge(const char *dir, const char *br,
			  struct status_br *b)
{
	char path[4096], err[512];
	int rc;

	memset(b, 0, sizeof(*b));
	snprintf(b->st.cfg.bridge, sizeof(b->st.cfg.bridge), "%s", br);
	if (state_path(dir, br, path, sizeof(path))) {
		status_drift(b, "cannot name the state file");
		return;
	}
	rc = state_load(path, br, &b->st, err, sizeof(err));
	snprintf(b->st.cfg.bridge, sizeof(b->st.cfg.bridge), "%s", br);
	if (rc < 0) {
		status_drift(b, "%s", err);
		return;
	}
	if (!rc) {
		status_drift(b, "not set up (no state file)");
		return;
	}
	b->loaded = true;
	status_check(b);
}

static void status_report(const struct status_br *b, size_t n, bool json,
			  FILE *out)
{
	size_t i, drift = 0;

	if (json)
		fputs("{\"bridges\":[", out);
	for (i = 0; i < n; i++) {
		drift += b[i].ndrift;
		if (json && i)
			fputc(',', out);
		if (json && b[i].loaded) {
			status_json(&b[i], out);
		} else if (json) {
			fprintf(out, "{\"bridge\":\"%s\",\"drift\":[",
				b[i].st.cfg.bridge);
			status_json_str(out, b[i].drift[0]);
			fputs("]}", out);
		} else if (b[i].loaded) {
			status_text(&b[i], out);
		} else {
			fprintf(out, "%s: %s\n", b[i].st.cfg.bridge,
				b[i].drift[0]);
		}
	}
	if (json)
		fprintf(out, "],\"drift\":%s}\n", drift ? "true" : "false");
	else if (!n)
		fputs("no bridge is set up\n", out);
}

/**
 * status_run() - report every bridge set up in this network namespace
 * (or one), and any drift
 * @dir:	the state directory
 * @bridge:	only this one, or NULL
 * @json:	as one JSON object instead of text
 * @out:	where to write the report
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0 if nothing drifted, 1 if something did, -1 with @err set if
 * the state directory cannot be read
 */
int status_run(const char *dir, const char *bridge, bool json, FILE *out,
	       char *err, size_t errlen)
{
	static char names[STATUS_MAX_BRIDGES][IFNAMSIZ];
	static struct status_br b[STATUS_MAX_BRIDGES];
	size_t n = 0, i, drift = 0;
	int lock = state_lock(dir, false, STATE_LOCK_MS, err, errlen);

	if (lock < 0)
		return -1;
	if (bridge) {
		snprintf(names[0], IFNAMSIZ, "%s", bridge);
		n = 1;
	} else if (state_bridges(dir, names, STATUS_MAX_BRIDGES, &n, err,
				 errlen)) {
		close(lock);
		return -1;
	}
	for (i = 0; i < n; i++) {
		status_bridge(dir, names[i], &b[i]);
		drift += b[i].ndrift;
	}
	close(lock);
	status_report(b, n, json, out);
	return drift ? 1 : 0;
}
