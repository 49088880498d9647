/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_HOSTFW_H
#define STRAIT_HOSTFW_H

#include <stdbool.h>
#include <stddef.h>

#define HOSTFW_NAME 64
#define HOSTFW_RULE 256

enum hostfw_hook { HOSTFW_INPUT, HOSTFW_FORWARD };

/**
 * struct hostfw_need - an accept of ours that must take effect
 * @hook:	input (a publish) or forward (the bridge's traffic)
 * @family:	AF_INET or AF_INET6: which tables' chains see it
 * @rule:	the rule as nft lists it, e.g.
 *		"ip daddr 192.0.2.1 tcp dport 80 ct state new accept"
 */
struct hostfw_need {
	enum hostfw_hook hook;
	int family;
	char rule[HOSTFW_RULE];
};

/**
 * struct hostfw_chain - another table's base chain that drops what a need
 * accepts
 * @family:	its table's family ("ip", "ip6", "inet")
 * @table:	its table
 * @name:	its name
 * @hook:	its hook
 * @iptables:	it is iptables-nft's (a built-in chain of ip/ip6 filter,
 *		mangle, raw or security)
 * @policy_drop: it drops by policy (else by @drop_rule)
 * @drop_rule:	its first rule that drops everything, as listed
 */
struct hostfw_chain {
	char family[8], table[HOSTFW_NAME], name[HOSTFW_NAME];
	enum hostfw_hook hook;
	bool iptables, policy_drop;
	char drop_rule[HOSTFW_RULE];
};

bool hostfw_iptables_drops(const char *ruleset, char *why, size_t len);
size_t hostfw_blocking(const char *ruleset, const struct hostfw_need *need,
		       bool ipt_backend, struct hostfw_chain *out, size_t max);
size_t hostfw_filter_chains(const char *chains, struct hostfw_chain *out,
			    size_t max);
size_t hostfw_norm(const char *line, size_t n, char *out, size_t len);

#endif
