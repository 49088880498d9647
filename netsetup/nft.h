/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_NFT_H
#define STRAIT_NFT_H

#include <stdbool.h>
#include <stddef.h>

int nft_apply(const char *text, bool dry_run, char *err, size_t errlen);
char *nft_list(const char *cmd);

#endif
