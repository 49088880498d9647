// SPDX-License-Identifier: MIT
/*
 * args.c - strait-netsetup's command line
 *
 *   up    --bridge BR --uplink IF [--subnet CIDR]... [--publish P:IP:PORT]...
 *         [--backend nft|iptables] [--ipv6 | --ipv6-routed]
 *   down  --bridge BR --uplink IF [--backend nft|iptables]
 *   check (as up)
 *   exec  [--user NAME] PROTO:HOSTIP:PORT -- PROGRAM [ARGS...]
 *
 * Pure: never prints, exits, or asks the system anything; every value is
 * validated by spelling here (existence is main's business).
 */
#include "args.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

const char args_usage[] =
	"Usage:\n"
	"  strait-netsetup up    --bridge BR --uplink IF [--subnet CIDR]...\n"
	"                        [--publish PROTO:HOSTIP:PORT]...\n"
	"                        [--backend nft|iptables]\n"
	"                        [--ipv6 | --ipv6-routed]\n"
	"  strait-netsetup down  --bridge BR --uplink IF [--backend nft|iptables]\n"
	"  strait-netsetup check --bridge BR --uplink IF [same as up]\n"
	"  strait-netsetup exec  [--user NAME] PROTO:HOSTIP:PORT -- PROGRAM "
	"[ARGS...]\n"
	"\n"
	"up: forwarding on BR and IF only (never all/default), rp_filter=1 on\n"
	"BR, masquerade of the bridge subnet out of IF, replies back in,\n"
	"everything else to or from BR dropped, an input accept per --publish.\n"
	"--subnet: the bridge's network, once per family (default: read from\n"
	"BR). --ipv6: the same for IPv6 (force_forwarding, Linux 6.17+),\n"
	"masquerading BR's IPv6 subnet as Docker does; --ipv6-routed: IPv6\n"
	"forwarded and filtered but not masqueraded (global addresses).\n"
	"down: remove exactly that and restore the sysctls. check: print what\n"
	"up would do. exec: bind the port, drop every privilege, run PROGRAM\n"
	"with the socket on fd 4 (strait-proxy ... -use-listen-fd); for a\n"
	"range PROTO:HOSTIP:FIRST-LAST, one socket per port from fd 4 on.\n"
	"PORT may be a range FIRST-LAST wherever it appears.\n"
	"Exit: 0 done, 1 failed (rolled back), 2 bad usage or input.\n";

static int args_cmd(const char *s, struct args *a)
{
	static const struct {
		const char *name;
		enum args_cmd cmd;
	} cmds[] = { { "up", ARGS_UP },	      { "down", ARGS_DOWN },
		     { "check", ARGS_CHECK }, { "exec", ARGS_EXEC },
		     { "help", ARGS_HELP },   { "--help", ARGS_HELP },
		     { "-h", ARGS_HELP },     { "--version", ARGS_VERSION } };
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(s, cmds[i].name)) {
			a->cmd = cmds[i].cmd;
			return 0;
		}
	}
	return -1;
}

static int args_value(int argc, char *const argv[], int *i, const char **v,
		      char *err, size_t errlen)
{
	if (*i + 1 >= argc)
		return snprintf(err, errlen, "%s needs a value", argv[*i]), -1;
	*v = argv[++*i];
	return 0;
}

static int args_backend(const char *v, struct args *a, char *err,
			size_t errlen)
{
	if (!strcmp(v, "nft"))
		a->backend = ARGS_NFT;
	else if (!strcmp(v, "iptables"))
		a->backend = ARGS_IPTABLES;
	else
		return snprintf(err, errlen, "bad --backend \"%.32s\": nft or "
				"iptables", v),
		       -1;
	return 0;
}

static bool args_takes_value(const char *o, enum args_cmd cmd)
{
	if (!strcmp(o, "--bridge") || !strcmp(o, "--uplink") ||
	    !strcmp(o, "--backend"))
		return true;
	return cmd != ARGS_DOWN &&
	       (!strcmp(o, "--subnet") || !strcmp(o, "--publish"));
}

/* --subnet: at most one network per family */
static int args_subnet(const char *v, struct args *a, char *err,
		       size_t errlen)
{
	struct valid_cidr c;
	bool *have;

	if (valid_cidr(v, &c, err, errlen))
		return -1;
	have = c.net.family == AF_INET ? &a->have_subnet : &a->have_subnet6;
	if (*have)
		return snprintf(err, errlen, "--subnet: one %s network only",
				c.net.family == AF_INET ? "IPv4" : "IPv6"),
		       -1;
	*have = true;
	*(c.net.family == AF_INET ? &a->subnet : &a->subnet6) = c;
	return 0;
}

/* One option of up/down/check at argv[*i] */
static int args_net_opt(int argc, char *const argv[], int *i, struct args *a,
			char *err, size_t errlen)
{
	const char *o = argv[*i], *v;

	if (!strcmp(o, "--ipv6") && a->cmd != ARGS_DOWN) {
		a->ipv6 = true;
		return 0;
	}
	if (!strcmp(o, "--ipv6-routed") && a->cmd != ARGS_DOWN) {
		a->ipv6 = a->ipv6_routed = true;
		return 0;
	}
	if (!args_takes_value(o, a->cmd))
		return snprintf(err, errlen, "unknown option \"%.40s\"", o),
		       -1;
	if (args_value(argc, argv, i, &v, err, errlen))
		return -1;
	if (!strcmp(o, "--backend"))
		return args_backend(v, a, err, errlen);
	if (!strcmp(o, "--subnet"))
		return args_subnet(v, a, err, errlen);
	if (!strcmp(o, "--publish")) {
		if (a->npublish == ARGS_MAX_PUBLISH)
			return snprintf(err, errlen, "at most %d --publish",
					ARGS_MAX_PUBLISH),
			       -1;
		return valid_publish(v, &a->publish[a->npublish++], err,
				     errlen);
	}
	if (valid_ifname(v, err, errlen))
		return -1;
	if (!strcmp(o, "--bridge"))
		a->bridge = v;
	else
		a->uplink = v;
	return 0;
}

static int args_net(int argc, char *const argv[], struct args *a, char *err,
		    size_t errlen)
{
	int i;

	for (i = 2; i < argc; i++) {
		if (args_net_opt(argc, argv, &i, a, err, errlen))
			return -1;
	}
	if (!a->bridge || !a->uplink)
		return snprintf(err, errlen, "--bridge and --uplink are "
				"required"),
		       -1;
	if (!strcmp(a->bridge, a->uplink))
		return snprintf(err, errlen, "--bridge and --uplink must "
				"differ"),
		       -1;
	if (a->have_subnet6 && !a->ipv6)
		return snprintf(err, errlen, "an IPv6 --subnet needs --ipv6"),
		       -1;
	if (a->have_subnet6 && a->ipv6_routed)
		return snprintf(err, errlen, "--ipv6-routed masquerades no "
				"IPv6: an IPv6 --subnet has no use"),
		       -1;
	return 0;
}

static int args_exec(int argc, char *const argv[], struct args *a, char *err,
		     size_t errlen)
{
	int i = 2;

	a->user = "nobody";
	if (i < argc && !strcmp(argv[i], "--user")) {
		if (args_value(argc, argv, &i, &a->user, err, errlen))
			return -1;
		if (!*a->user)
			return snprintf(err, errlen, "empty --user"), -1;
		i++;
	}
	if (i >= argc)
		return snprintf(err, errlen, "exec needs PROTO:HOSTIP:PORT"),
		       -1;
	if (valid_publish(argv[i], &a->publish[0], err, errlen))
		return -1;
	a->npublish = 1;
	if (++i >= argc || strcmp(argv[i], "--") || i + 1 >= argc)
		return snprintf(err, errlen, "exec needs -- PROGRAM [ARGS...]"),
		       -1;
	a->prog = &argv[i + 1];
	return 0;
}

/**
 * args_parse() - parse strait-netsetup's argv
 * @argc:	argument count
 * @argv:	arguments
 * @a:		result (pointers into @argv)
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int args_parse(int argc, char *const argv[], struct args *a, char *err,
	       size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (errlen)
		err[0] = '\0';
	if (argc < 2)
		return snprintf(err, errlen, "missing subcommand (up, down, "
				"check, exec)"),
		       -1;
	if (args_cmd(argv[1], a))
		return snprintf(err, errlen, "unknown subcommand \"%.32s\"",
				argv[1]),
		       -1;
	if (a->cmd == ARGS_HELP || a->cmd == ARGS_VERSION)
		return 0;
	if (a->cmd == ARGS_EXEC)
		return args_exec(argc, argv, a, err, errlen);
	return args_net(argc, argv, a, err, errlen);
}
