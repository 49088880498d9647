// SPDX-License-Identifier: MIT
/*
 * main.c - strait-netsetup: the host side of running Docker with
 * --iptables=false --ip-forward=false, automated and safe
 *
 * up / down / check of a bridge: setup.c. status: status.c. watch:
 * watch.c. exec: netexec.c.
 * Exit: 0 done, 1 failed (rolled back), 2 bad usage or input (nothing
 * changed). Only this file prints and exits.
 */
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "log.h"
#include "netexec.h"
#include "priv.h"
#include "setup.h"
#include "verdict.h"
#include "status.h"
#include "watch.h"

#define PROG "strait-netsetup"

/*
 * @msg may quote what it was given (a user name, a path): escaped as the
 * proxy escapes its messages, so that it stays one line
 */
static void __attribute__((noreturn)) main_die(int code, const char *msg)
{
	char safe[1024];

	log_escape(safe, sizeof(safe), msg);
	fprintf(stderr, PROG ": %s\n", safe);
	exit(code);
}

static const char *main_state_dir(void)
{
	const char *d = getenv("STRAIT_STATE_DIR");

	return d && *d ? d : "/run/strait";
}

/*
 * Everything but help and version changes or reads the firewall
 * (CAP_NET_ADMIN), and exec binds and changes user: say so plainly
 * rather than fail on the first EPERM with a message about something
 * else.
 */
static void main_need_root(enum args_cmd cmd)
{
	char msg[160];
	int ok;

	if (cmd == ARGS_EXEC)
		ok = priv_has_cap(CAP_SETUID) && priv_has_cap(CAP_SETGID);
	else
		ok = priv_has_cap(CAP_NET_ADMIN);
	if (ok) /* 1, or -1: unreadable, the operations themselves will say */
		return;
	snprintf(msg, sizeof(msg), "%s must be run as root (it needs %s)",
		 args_cmd_name(cmd),
		 cmd == ARGS_EXEC ? "CAP_SETUID and CAP_SETGID to drop to "
				    "another user"
				  : "CAP_NET_ADMIN");
	main_die(1, msg);
}

/*
 * What up or check is asked for, the subnets read from the bridge where
 * --subnet does not give them (exit 2 where there are none)
 */
static void main_cfg(const struct args *a, struct state_cfg *c)
{
	char err[512];

	memset(c, 0, sizeof(*c));
	snprintf(c->bridge, sizeof(c->bridge), "%s", a->bridge);
	snprintf(c->uplink, sizeof(c->uplink), "%s", a->uplink);
	if (a->backend == ARGS_AUTO) {
		c->backend = verdict_backend_auto(err, sizeof(err));
		if (a->cmd == ARGS_CHECK)
			printf("# backend auto: %s (%s)\n",
			       state_backend_name(c->backend), err);
	} else {
		c->backend = a->backend == ARGS_IPTABLES ? STATE_IPTABLES
							 : STATE_NFT;
	}
	c->ipv6 = a->ipv6;
	c->ipv6_routed = a->ipv6_routed;
	c->input = !a->no_input;
	c->transparent = a->transparent;
	if (c->transparent)
		c->tp = a->tp;
	memcpy(c->publish, a->publish, a->npublish * sizeof(a->publish[0]));
	c->npublish = a->npublish;
	if (setup_iface_check(c, err, sizeof(err)))
		main_die(2, err);
	c->subnet = a->subnet;
	if (!a->have_subnet &&
	    setup_iface_subnet(c->bridge, AF_INET, &c->subnet)) {
		snprintf(err, sizeof(err), "bridge %s has no IPv4 address: "
			 "give --subnet", c->bridge);
		main_die(2, err);
	}
	c->have_subnet6 = c->ipv6 && !c->ipv6_routed;
	c->subnet6 = a->subnet6;
	if (c->have_subnet6 && !a->have_subnet6 &&
	    setup_iface_subnet(c->bridge, AF_INET6, &c->subnet6)) {
		snprintf(err, sizeof(err), "--ipv6: bridge %s has no IPv6 "
			 "address outside fe80::/10 to masquerade: give "
			 "--subnet with its IPv6 network, or --ipv6-routed",
			 c->bridge);
		main_die(2, err);
	}
}

static int main_exec(const struct args *a)
{
	char err[1024];

	int rc = netexec_run(a, err, sizeof(err));

	main_die(rc == -2 ? 2 : 1, err);
}

int main(int argc, char *argv[])
{
	struct setup_io io = { stdout, stderr, main_state_dir() };
	struct state_cfg cfg;
	struct args a;
	char err[8192];
	int rc;

	if (args_parse(argc, argv, &a, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n(see " PROG " %s%s--help)\n", err,
			a.cmd < ARGS_HELP ? args_cmd_name(a.cmd) : "",
			a.cmd < ARGS_HELP ? " " : "");
		return 2;
	}
	if (a.cmd == ARGS_HELP)
		return fputs(args_usage(a.help), stdout), 0;
	if (a.cmd == ARGS_VERSION)
		return printf(PROG " version " STRAIT_VERSION "\n"), 0;
	main_need_root(a.cmd);
	if (a.cmd == ARGS_EXEC)
		return main_exec(&a);
	if (a.cmd == ARGS_STATUS) {
		rc = status_run(io.dir, a.bridge, a.json, stdout, err,
				sizeof(err));
		if (rc < 0)
			main_die(1, err);
		return rc;
	}
	if (a.cmd == ARGS_WATCH) {
		setvbuf(stdout, NULL, _IOLBF, 0);
		rc = watch_run(&a, io.dir, stdout, err, sizeof(err));
		if (rc < 0)
			main_die(1, err);
		return rc;
	}
	if (a.cmd == ARGS_DOWN) {
		rc = setup_down(a.bridge, a.uplink, &io, err, sizeof(err));
	} else {
		main_cfg(&a, &cfg);
		rc = a.cmd == ARGS_UP ? setup_up(&cfg, &io, err, sizeof(err))
				      : setup_plan(&cfg, &io, err, sizeof(err));
	}
	if (rc)
		main_die(rc, err);
	return 0;
}
