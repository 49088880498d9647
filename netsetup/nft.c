// SPDX-License-Identifier: MIT
/*
 * nft.c - the nftables backend, through libnftables: no exec, no shell
 *
 * Our rules live in one table, replaced in one transaction (the text from
 * rules.c), so `up` is atomic and idempotent. An accept in our table cannot
 * override a drop in another table on the same hook: nft_drop_policies()
 * finds such base chains so `check` can warn.
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
 * nft_ruleset() - the whole ruleset as nft prints it
 *
 * Return: malloc'd text (caller frees), or NULL
 */
char *nft_ruleset(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	char *out = NULL;

	if (!ctx)
		return NULL;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	if (!nft_run_cmd_from_buffer(ctx, "list ruleset"))
		out = strdup(nft_ctx_get_output_buffer(ctx));
	nft_ctx_free(ctx);
	return out;
}

/**
 * nft_drop_policies() - base chains on input/forward with policy drop
 * @ruleset:	text of "list ruleset"
 * @skip_iptables: leave out iptables' own tables (ip/ip6 filter), whose
 *		chains the iptables backend jumps from
 * @out:	one line per chain found: "table ip filter chain FORWARD"
 * @len:	size of @out
 *
 * Return: number of such chains outside our own table
 */
size_t nft_drop_policies(const char *ruleset, bool skip_iptables, char *out,
			 size_t len)
{
	char table[96] = "", chain[96] = "", line[512];
	const char *p = ruleset;
	size_t found = 0, off = 0;

	if (len)
		out[0] = '\0';
	while (p && *p) {
		size_t n = strcspn(p, "\n");

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (p[n] == '\n');
		if (sscanf(line, " table %95[^{]", table) == 1) {
			n = strlen(table);
			while (n && table[n - 1] == ' ')
				table[--n] = '\0';
			continue;
		}
		if (sscanf(line, " chain %95s {", chain) == 1)
			continue;
		if ((!strstr(line, "hook input") &&
		     !strstr(line, "hook forward")) ||
		    !strstr(line, "policy drop"))
			continue;
		if (!strcmp(table, "ip strait") || !strcmp(table, "inet strait"))
			continue;
		if (skip_iptables && (!strcmp(table, "ip filter") ||
				      !strcmp(table, "ip6 filter")))
			continue;
		found++;
		if (off < len) {
			int k = snprintf(out + off, len - off,
					 "table %s chain %s\n", table, chain);

			if (k > 0)
				off += (size_t)k;
			if (off > len)
				off = len;
		}
	}
	return found;
}
