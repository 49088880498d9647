/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_NFT_H
#define STRAIT_NFT_H

#include <stdbool.h>
#include <stddef.h>

int nft_apply(const char *text, bool dry_run, char *err, size_t errlen);
char *nft_ruleset(void);
size_t nft_drop_policies(const char *ruleset, bool skip_iptables, char *out,
			 size_t len);

#endif
