// SPDX-License-Identifier: MIT
/*
 * args_usage.c - strait-netsetup's help: the overview and each
 * subcommand's (-h after it, or "help VERB")
 */
#include "args.h"

static const char args_usage_all[] =
	"Usage: strait-netsetup COMMAND [OPTIONS]\n"
	"\n"
	"  up      set a Docker bridge up: forwarding, masquerade, forward\n"
	"          and input rules\n"
	"  down    take it down again, as its state file says\n"
	"  check   print what up would apply, change nothing\n"
	"  status  what is applied, and where the kernel drifted from it\n"
	"  watch   set up every bridge matching a pattern as it appears\n"
	"  exec    bind a published port, drop every privilege, run a proxy\n"
	"\n"
	"strait-netsetup COMMAND --help shows a command's options;\n"
	"-v, --version shows the version.\n"
	"Exit: 0 done, 1 failed (rolled back), 2 bad usage or input.\n";

static const char args_usage_up[] =
	"Usage: strait-netsetup up --bridge BR --uplink IF [OPTIONS]\n"
	"       strait-netsetup check --bridge BR --uplink IF [OPTIONS]\n"
	"\n"
	"up: forwarding on BR and IF only (never all/default), rp_filter=1 on\n"
	"BR, masquerade of the bridge's subnet out of IF, replies back in,\n"
	"everything else to or from BR dropped, an input accept per\n"
	"--publish.\n"
	"Idempotent; down undoes it. check prints what up would apply.\n"
	"\n"
	"  --subnet CIDR       the bridge's network, once per family\n"
	"                      (default: read from BR)\n"
	"  --publish PROTO:HOSTIP:PORT\n"
	"                      accept new connections to it (PORT may be\n"
	"                      FIRST-LAST; IPv6 in brackets); repeatable\n"
	"  --backend auto|nft|iptables\n"
	"                      whose rules: auto (default) uses iptables\n"
	"                      where the host's drop policies are iptables',\n"
	"                      else nft\n"
	"  --ipv6              IPv6 too (force_forwarding, Linux 6.17+),\n"
	"                      masquerading BR's IPv6 subnet as Docker does\n"
	"  --ipv6-routed       IPv6 forwarded and filtered, not masqueraded\n"
	"  --no-input-rules    no input accepts: the admin filters input\n"
	"  --transparent       the host routing of strait-proxy's transparent\n"
	"                      mode (containers see their clients' own\n"
	"                      addresses): a mark for packets of local\n"
	"                      transparent sockets from BR, a rule and a\n"
	"                      local route for the mark (IPv6 too with\n"
	"                      --ipv6)\n"
	"  --transparent-mark M   that mark (default 0x5354)\n"
	"  --transparent-table T  that routing table (default 21332)\n"
	"\n"
	"An accept that another table's drop would override makes up fail,\n"
	"naming the chain and the rule to add there.\n";

static const char args_usage_down[] =
	"Usage: strait-netsetup down --bridge BR\n"
	"\n"
	"Remove BR's rules and put back every sysctl up set, to its value\n"
	"from before the first up (the uplink's, shared, once the last\n"
	"bridge is down). What to undo comes from BR's state file: --uplink\n"
	"and --backend, which older scripts pass, are accepted and not\n"
	"needed (an --uplink that is not BR's gets a warning).\n";

static const char args_usage_status[] =
	"Usage: strait-netsetup status [--bridge BR] [--json]\n"
	"\n"
	"Per bridge set up: the sysctls with their saved values, the table or\n"
	"chains and their rule counts, the publishes and the backend; and\n"
	"any drift between the state file and the kernel (a rule of ours\n"
	"deleted, a sysctl changed back). Exit 1 on drift.\n";

static const char args_usage_watch[] =
	"Usage: strait-netsetup watch --bridge PATTERN... --uplink IF "
	"[OPTIONS]\n"
	"\n"
	"Runs until SIGINT or SIGTERM: every bridge whose name matches a\n"
	"PATTERN (docker0, br-*) is set up as it appears, with the subnet of\n"
	"its address, and taken down when it goes; on exit all are taken\n"
	"down. SIGHUP re-reads --publish-file.\n"
	"\n"
	"  --publish [PATTERN=]PROTO:HOSTIP:PORT\n"
	"                      a publish for the bridges matching PATTERN\n"
	"                      (default: every one); repeatable\n"
	"  --publish-file FILE the same, one a line ('#' comments)\n"
	"  --backend, --ipv6, --ipv6-routed, --no-input-rules,\n"
	"  --transparent, --transparent-mark, --transparent-table: as up\n";

static const char args_usage_exec[] =
	"Usage: strait-netsetup exec [--user NAME] PROTO:HOSTIP:PORT -- "
	"PROGRAM [ARGS...]\n"
	"\n"
	"Bind the port (or each port of FIRST-LAST) as root, drop every\n"
	"privilege (to NAME, default nobody), and run PROGRAM with the\n"
	"sockets from fd 4 on: strait-proxy ... -use-listen-fd. PROGRAM is\n"
	"looked up on PATH first; a proxy's -host-port must be the range\n"
	"bound.\n";

/**
 * args_usage() - a subcommand's help
 * @cmd:	which (ARGS_HELP: the overview)
 *
 * Return: the text
 */
const char *args_usage(enum args_cmd cmd)
{
	switch (cmd) {
	case ARGS_UP:
	case ARGS_CHECK:
		return args_usage_up;
	case ARGS_DOWN:
		return args_usage_down;
	case ARGS_STATUS:
		return args_usage_status;
	case ARGS_WATCH:
		return args_usage_watch;
	case ARGS_EXEC:
		return args_usage_exec;
	default:
		return args_usage_all;
	}
}
