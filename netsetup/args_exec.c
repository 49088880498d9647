// SPDX-License-Identifier: MIT
/*
 * args_exec.c - strait-netsetup exec's own arguments: the port to bind
 * (PROTO:HOSTIP:PORT) and the PROGRAM after "--", read as far as it says
 * which port it serves (its flags, as Go's flag package reads them), so
 * that exec refuses a PROGRAM that would leave bound ports unserved.
 *
 * Pure, as args.c: never prints, exits, or asks the system anything.
 */
#include "args.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* What a docker-proxy style PROGRAM is told about the port (NULL: not) */
struct args_exec_proxy {
	const char *proto, *host_ip, *host_port;
	bool listen_fd;
};

/* Go's flag package: "-b", "-b=true" for booleans; these are the proxy's */
static bool args_exec_bool(const char *name, size_t len)
{
	static const char *const bools[] = { "use-listen-fd", "no-splice",
					     "version", "v", "help", "h" };
	size_t i;

	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		if (strlen(bools[i]) == len && !strncmp(name, bools[i], len))
			return true;
	}
	return false;
}

static bool args_exec_go_true(const char *v)
{
	return !strcmp(v, "1") || !strcmp(v, "t") || !strcmp(v, "T") ||
	       !strcmp(v, "true") || !strcmp(v, "TRUE") || !strcmp(v, "True");
}

/*
 * The flags of @prog (argv, NULL-terminated) that say which port it
 * serves, read as Go's flag package reads them: one or two dashes,
 * "-f value" or "-f=value", up to "--" or the first non-flag
 */
static void args_exec_flags(char *const *prog, struct args_exec_proxy *px)
{
	size_t i, len;

	memset(px, 0, sizeof(*px));
	for (i = 1; prog[i] && prog[i][0] == '-' && prog[i][1]; i++) {
		const char *name = prog[i] + 1 + (prog[i][1] == '-');
		const char *eq = strchr(name, '='), *v;

		if (!strcmp(prog[i], "--"))
			break;
		len = eq ? (size_t)(eq - name) : strlen(name);
		if (args_exec_bool(name, len)) {
			if (len == strlen("use-listen-fd") &&
			    !strncmp(name, "use-listen-fd", len))
				px->listen_fd =
					!eq || args_exec_go_true(eq + 1);
			continue;
		}
		v = eq ? eq + 1 : prog[++i];
		if (!v)
			break;
		if (len == 5 && !strncmp(name, "proto", len))
			px->proto = v;
		else if (len == 7 && !strncmp(name, "host-ip", len))
			px->host_ip = v;
		else if (len == 9 && !strncmp(name, "host-port", len))
			px->host_port = v;
	}
}

static bool args_exec_same_ip(const struct addr_ip *x, const struct addr_ip *y)
{
	return x->family == y->family &&
	       !memcmp(&x->v6, &y->v6,
		       x->family == AF_INET ? sizeof(x->v4) : sizeof(x->v6));
}

/**
 * args_exec_prog() - check exec's PROGRAM against the port exec binds
 * @a:		parsed arguments of exec, the port in @a->publish[0]
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * A PROGRAM that names the port it serves (strait-proxy, docker-proxy)
 * must serve exactly what exec binds from the sockets exec hands over:
 * a longer range bound here and a shorter one served there would leave
 * ports bound and unserved (clients hang in the backlog). A PROGRAM that
 * names no port is not checked.
 *
 * Return: 0, or -1 with @err set
 */
int args_exec_prog(const struct args *a, char *err, size_t errlen)
{
	const struct valid_publish *p = &a->publish[0];
	const char *proto = addr_proto_name(p->ipproto);
	struct args_exec_proxy px;
	struct addr_ip ip;
	uint16_t first, last;

	args_exec_flags(a->prog, &px);
	if (!px.host_port)
		return 0;
	if (valid_ports(px.host_port, &first, &last))
		return snprintf(err, errlen, "exec %s: the program's "
				"-host-port \"%.32s\" is not a port or range",
				a->spec, px.host_port),
		       -1;
	if (!last)
		last = first;
	if (first != p->port || last != p->port_last)
		return snprintf(err, errlen, "exec %s: the program serves "
				"-host-port %s, not the %u port(s) exec binds: "
				"the others would stay bound and unserved",
				a->spec, px.host_port,
				(unsigned)(p->port_last - p->port) + 1),
		       -1;
	if (!px.listen_fd)
		return snprintf(err, errlen, "exec %s: the program has no "
				"-use-listen-fd: it would bind the port itself "
				"and never serve the socket exec hands it",
				a->spec),
		       -1;
	if (px.proto && strcmp(px.proto, proto))
		return snprintf(err, errlen, "exec %s: the program's -proto "
				"is \"%.8s\"", a->spec, px.proto),
		       -1;
	if (px.host_ip && (addr_parse_ip(px.host_ip, false, &ip) ||
			   !args_exec_same_ip(&ip, &p->ip)))
		return snprintf(err, errlen, "exec %s: the program's -host-ip "
				"is \"%.46s\"", a->spec, px.host_ip),
		       -1;
	return 0;
}

/**
 * args_exec_spec() - exec's one positional argument, PROTO:HOSTIP:PORT
 * @s:		the argument
 * @a:		arguments being parsed: @a->spec and @a->publish[0] set
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set (a second one, or not a port)
 */
int args_exec_spec(const char *s, struct args *a, char *err, size_t errlen)
{
	if (a->spec)
		return snprintf(err, errlen, "exec takes one PROTO:HOSTIP:PORT "
				"(\"%.40s\" is a second; PROGRAM goes after "
				"--)", s),
		       -1;
	a->spec = s;
	if (valid_publish(s, &a->publish[0], err, errlen))
		return -1;
	a->npublish = 1;
	return 0;
}
