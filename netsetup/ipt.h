/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_IPT_H
#define STRAIT_IPT_H

#include <stdbool.h>
#include <stddef.h>

int ipt_run(const char *const argv[], const char *input, char *err,
	    size_t errlen);
/**
 * struct ipt_texts - what ipt_up() restores
 * @filter:	IPv4 filter table text (rules_ipt_filter)
 * @nat:	IPv4 nat table text (rules_ipt_nat)
 * @filter6:	IPv6 filter table text, or NULL for IPv4 only
 * @nat6:	IPv6 nat table text, or NULL for none (needs @filter6)
 * @mangle:	IPv4 mangle table text (transparent mode), or NULL
 * @mangle6:	IPv6 mangle table text, or NULL (needs @filter6)
 * @input:	the texts have input chains: jump to them from INPUT
 */
struct ipt_texts {
	const char *filter, *nat, *filter6, *nat6, *mangle, *mangle6;
	bool input;
};

int ipt_up(const char *bridge, const struct ipt_texts *t, char *err,
	   size_t errlen);
int ipt_down(const char *bridge, char *err, size_t errlen);
int ipt_list(bool v6, const char *table, const char *chain, char *out,
	     size_t len);
bool ipt_has_jump(bool v6, const char *table, const char *from,
		  const char *to);

#endif
