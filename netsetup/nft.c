// SPDX-License-Identifier: MIT
/*
 * nft.c - the nftables backend, through libnftables: no exec, no shell
 *
 * Our rules live in one table, replaced in one transaction (the text from
 * rules.c), so `up` is atomic and idempotent. An accept in our table cannot
 * override a drop in another table on the same hook: hostfw.c reads the
 * ruleset (nft_list()) to find such chains before up changes anything.
 */
#include "nft.h"

#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* First line of libnftables' error text, e.g. "Error: Could not ..." */
static void nft_first_line(const char *msg, char *err, size_t errlen)
{
	size_t n;

	if (!msg || !*msg)
		msg = "unknown error";
	n = strcspn(msg, "\n");
	snprintf(err, errlen, "nft: %.*s", (int)n, msg);
}

/**
 * nft_apply() - run nft commands as one transaction
 * @text:	commands (from rules.c)
 * @dry_run:	check only, change nothing
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set (nothing applied)
 */
int nft_apply(const char *text, bool dry_run, char *err, size_t errlen)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int rc;

	if (!ctx)
		return snprintf(err, errlen, "nft: cannot create context"), -1;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	nft_ctx_set_dry_run(ctx, dry_run);
	rc = nft_run_cmd_from_buffer(ctx, text);
	if (rc)
		nft_first_line(nft_ctx_get_error_buffer(ctx), err, errlen);
	nft_ctx_free(ctx);
	return rc ? -1 : 0;
}

/**
 * nft_list() - what a "list ..." command prints, without counters'
 * numbers or sets' elements (what hostfw.c reads)
 * @cmd:	the command, e.g. "list chains"
 *
 * Return: malloc'd text (caller frees), or NULL
 */
char *nft_list(const char *cmd)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	char *out = NULL;

	if (!ctx)
		return NULL;
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_STATELESS |
					      NFT_CTX_OUTPUT_TERSE);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	if (!nft_run_cmd_from_buffer(ctx, cmd))
		out = strdup(nft_ctx_get_output_buffer(ctx));
	nft_ctx_free(ctx);
	return out;
}
