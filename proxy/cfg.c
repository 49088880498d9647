// SPDX-License-Identifier: MIT
/*
 * cfg.c - strait-proxy's command line, with Go flag package rules
 *
 * dockerd runs "PATH -proto tcp -host-ip IP -host-port N -container-ip IP
 * -container-port N [-use-listen-fd]"; rootlesskit passes the same flags in
 * another order. Go's flag package allows one or two dashes, "-name value"
 * and "-name=value" for valued flags, "-b" or "-b=true" for booleans, and
 * stops at "--" or at the first non-flag argument. We follow it, except that
 * a stray positional argument is an error rather than silently ignored.
 *
 * cfg_parse() is pure: it never prints, exits or touches globals. The
 * environment's settings are cfg_env.c's, the -h text cfg_usage.c's.
 */
#include "cfg.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

enum cfg_opt {
	OPT_PROTO,
	OPT_HOST_IP,
	OPT_HOST_PORT,
	OPT_CONTAINER_IP,
	OPT_CONTAINER_PORT,
	OPT_USE_LISTEN_FD,
	OPT_NO_SPLICE,
	OPT_USER,
	OPT_LOG_LEVEL,
	OPT_LOG,
	OPT_STATS,
	OPT_JSON,
	OPT_UDP_TIMEOUT,
	OPT_UDP_MAX_FLOWS,
	OPT_HALF_CLOSE,
	OPT_PROXY_PROTOCOL,
	OPT_CONNECT_TIMEOUT,
	OPT_TRANSPARENT,
	OPT_VERSION,
	OPT_HELP,
	OPT_COUNT,
};

struct cfg_flag {
	const char *name;
	enum cfg_opt opt;
	bool boolean;
};

static const struct cfg_flag cfg_flags[] = {
	{ "proto", OPT_PROTO, false },
	{ "host-ip", OPT_HOST_IP, false },
	{ "host-port", OPT_HOST_PORT, false },
	{ "container-ip", OPT_CONTAINER_IP, false },
	{ "container-port", OPT_CONTAINER_PORT, false },
	{ "use-listen-fd", OPT_USE_LISTEN_FD, true },
	{ "no-splice", OPT_NO_SPLICE, true },
	{ "user", OPT_USER, false },
	{ "log-level", OPT_LOG_LEVEL, false },
	{ "log", OPT_LOG, false },
	{ "stats", OPT_STATS, true },
	{ "json", OPT_JSON, true },
	{ "udp-timeout", OPT_UDP_TIMEOUT, false },
	{ "half-close-timeout", OPT_HALF_CLOSE, false },
	{ "udp-max-flows", OPT_UDP_MAX_FLOWS, false },
	{ "proxy-protocol", OPT_PROXY_PROTOCOL, false },
	{ "transparent", OPT_TRANSPARENT, true },
	{ "connect-timeout", OPT_CONNECT_TIMEOUT, false },
	{ "version", OPT_VERSION, true },
	{ "v", OPT_VERSION, true },
	{ "help", OPT_HELP, true },
	{ "h", OPT_HELP, true },
};

/**
 * cfg_set_flows() - a count of UDP flows, 1 to 1000000
 * @what:	the flag or variable, for the message
 * @v:		its value
 * @n:		result
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int cfg_set_flows(const char *what, const char *v, uint32_t *n, char *err,
		  size_t errlen)
{
	unsigned long x = 0;
	size_t i;

	for (i = 0; v[i] >= '0' && v[i] <= '9' && i < 9; i++)
		x = x * 10 + (unsigned long)(v[i] - '0');
	if (i == 0 || v[i] || x < 1 || x > 1000000)
		return snprintf(err, errlen,
				"invalid %s \"%s\" (want 1-1000000)", what, v),
		       -1;
	*n = (uint32_t)x;
	return 0;
}

/**
 * cfg_pp_word() - a PROXY protocol version by name
 * @v:		"off", "v1" or "v2", not necessarily NUL-terminated
 * @n:		bytes at @v
 * @version:	result: 0, 1 or 2
 *
 * Return: 0, or -1 if @v names none
 */
int cfg_pp_word(const char *v, size_t n, int *version)
{
	static const char *const words[] = { "off", "v1", "v2" };
	int i;

	for (i = 0; i < 3; i++) {
		if (strlen(words[i]) == n && !strncmp(v, words[i], n)) {
			*version = i;
			return 0;
		}
	}
	return -1;
}

/* Is @port in the first @n entries of @ports? None: every port is */
static bool cfg_port_listed(const uint16_t ports[][2], size_t n,
			    uint16_t port)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (port >= ports[i][0] && port <= ports[i][1])
			return true;
	return n == 0;
}

/**
 * cfg_listen() - the ports served, once it is known whether systemd
 * passed the sockets
 * @cfg:	configuration parsed from argv
 * @listen_fds:	sockets systemd passed from fd 3 on (socket activation),
 *		0 for none
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Without socket activation -host-port is required. With it, the sockets
 * say which ports are served (main reads them): -host-port may be left
 * out, and where it is given it must name as many ports as there are
 * sockets. Either way -container-port names as many ports.
 *
 * Return: 0, or -1 with @err set (a usage error)
 */
int cfg_listen(struct cfg *cfg, unsigned listen_fds, char *err,
	       size_t errlen)
{
	if (!listen_fds && !cfg->host_port_set)
		return snprintf(err, errlen, "missing -host-port"), -1;
	if (listen_fds && !cfg->host_port_set)
		cfg->nports = listen_fds;
	if (listen_fds && cfg->nports != listen_fds)
		return snprintf(err, errlen,
				"-host-port names %u ports, systemd passed %u "
				"sockets (LISTEN_FDS)",
				cfg->nports, listen_fds),
		       -1;
	if (cfg->nports != cfg->container_nports)
		return snprintf(err, errlen,
				"-host-port and -container-port must be ranges "
				"of the same length (%u and %u ports)",
				cfg->nports, cfg->container_nports),
		       -1;
	return 0;
}

/**
 * cfg_pp_version() - the PROXY protocol version for one host port
 * @cfg:	configuration
 * @host_port:	one of the ports served
 *
 * Return: 0 (none), 1 or 2
 */
int cfg_pp_version(const struct cfg *cfg, uint16_t host_port)
{
	return cfg_port_listed(cfg->pp_ports, cfg->pp_nports, host_port)
		       ? cfg->pp_version
		       : 0;
}

/**
 * cfg_transparent() - is transparent mode on for one host port?
 * @cfg:	configuration
 * @host_port:	one of the ports served
 *
 * Return: true if the container is to see this port's clients' addresses
 */
bool cfg_transparent(const struct cfg *cfg, uint16_t host_port)
{
	return cfg->tp &&
	       cfg_port_listed(cfg->tp_ports, cfg->tp_nports, host_port);
}

/**
 * cfg_ipproto() - the IPPROTO_* number of a protocol
 * @proto:	protocol
 *
 * Return: IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP
 */
int cfg_ipproto(enum cfg_proto proto)
{
	static const int nums[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };

	return nums[proto];
}

/* Go's strconv.ParseBool */
static int cfg_parse_bool(const char *s, bool *b)
{
	static const char *const t[] = { "1", "t", "T", "true", "TRUE",
					 "True" };
	static const char *const f[] = { "0", "f", "F", "false", "FALSE",
					 "False" };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!strcmp(s, t[i]))
			return (*b = true), 0;
		if (!strcmp(s, f[i]))
			return (*b = false), 0;
	}
	return -1;
}

static const struct cfg_flag *cfg_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(cfg_flags) / sizeof(cfg_flags[0]); i++) {
		if (strlen(cfg_flags[i].name) == len &&
		    !strncmp(cfg_flags[i].name, name, len))
			return &cfg_flags[i];
	}
	return NULL;
}

static int cfg_set_ip(const char *flag, const char *v, struct addr_ip *ip,
		      char *err, size_t errlen)
{
	if (addr_parse_ip(v, false, ip)) {
		snprintf(err, errlen, "invalid IP address for -%s: \"%s\"",
			 flag, v);
		return -1;
	}
	return 0;
}

/* "N", or "FIRST-LAST" with FIRST <= LAST: *first and the count */
static int cfg_set_ports(const char *flag, const char *v, uint16_t *first,
			 uint32_t *count, char *err, size_t errlen)
{
	const char *dash = strchr(v, '-');
	uint16_t last;

	if (!addr_parse_range(v, strlen(v), first, &last)) {
		*count = (uint32_t)(last - *first) + 1;
		return 0;
	}
	if (!dash || dash == v)	/* a port, or a sign: not a range */
		snprintf(err, errlen,
			 "invalid port for -%s: \"%s\" (want 1-65535)", flag,
			 v);
	else
		snprintf(err, errlen,
			 "invalid port range for -%s: \"%s\" (want FIRST-LAST, "
			 "1-65535, FIRST <= LAST)",
			 flag, v);
	return -1;
}

static int cfg_set_proto(const char *v, struct cfg *cfg, char *err,
			 size_t errlen)
{
	if (!strcmp(v, "tcp"))
		cfg->proto = CFG_PROTO_TCP;
	else if (!strcmp(v, "udp"))
		cfg->proto = CFG_PROTO_UDP;
	else if (!strcmp(v, "sctp"))
		cfg->proto = CFG_PROTO_SCTP;
	else
		return snprintf(err, errlen, "unsupported protocol \"%s\"", v),
		       -1;
	return 0;
}

static int cfg_set_bool(const struct cfg_flag *f, bool v, struct cfg *cfg)
{
	switch (f->opt) {
	case OPT_USE_LISTEN_FD:
		cfg->use_listen_fd = v;
		break;
	case OPT_NO_SPLICE:
		cfg->no_splice = v;
		break;
	case OPT_TRANSPARENT:
		cfg->tp = v;
		cfg->tp_set = true;
		break;
	case OPT_STATS:
		if (v && cfg->action == CFG_RUN)
			cfg->action = CFG_STATS;
		break;
	case OPT_JSON:
		cfg->json = v;
		break;
	case OPT_VERSION:
		if (v && cfg->action == CFG_RUN)
			cfg->action = CFG_VERSION;
		break;
	default: /* OPT_HELP */
		if (v)
			cfg->action = CFG_HELP;
		break;
	}
	return 0;
}

static int cfg_set(const struct cfg_flag *f, const char *v, struct cfg *cfg,
		   char *err, size_t errlen)
{
	switch (f->opt) {
	case OPT_PROTO:
		cfg->proto_set = true;
		return cfg_set_proto(v, cfg, err, errlen);
	case OPT_HOST_IP:
		cfg->host_ip_set = true;
		return cfg_set_ip(f->name, v, &cfg->host_ip, err, errlen);
	case OPT_CONTAINER_IP:
		return cfg_set_ip(f->name, v, &cfg->container_ip, err, errlen);
	case OPT_HOST_PORT:
		cfg->host_port_set = true;
		return cfg_set_ports(f->name, v, &cfg->host_port, &cfg->nports,
				     err, errlen);
	case OPT_CONTAINER_PORT:
		return cfg_set_ports(f->name, v, &cfg->container_port,
				     &cfg->container_nports, err, errlen);
	case OPT_USER:
		if (!*v)
			return snprintf(err, errlen, "empty -user"), -1;
		cfg->user = v;
		return 0;
	case OPT_UDP_TIMEOUT:
		cfg->udp_timeout_set = true;
		return cfg_duration_set("-udp-timeout", v, &cfg->udp_timeout_ms,
					err, errlen);
	case OPT_HALF_CLOSE:
		cfg->half_close_set = true;
		return cfg_duration_set_or_0("-half-close-timeout", v,
					     &cfg->half_close_ms, err, errlen);
	case OPT_CONNECT_TIMEOUT:
		cfg->connect_timeout_set = true;
		return cfg_duration_set_or_0("-connect-timeout", v,
					     &cfg->connect_timeout_ms, err,
					     errlen);
	case OPT_PROXY_PROTOCOL:
		cfg->pp_set = true;
		if (cfg_pp_word(v, strlen(v), &cfg->pp_version))
			return snprintf(err, errlen,
					"invalid -proxy-protocol \"%s\" (want "
					"v1, v2 or off)",
					v),
			       -1;
		return 0;
	case OPT_UDP_MAX_FLOWS:
		cfg->udp_max_flows_set = true;
		return cfg_set_flows("-udp-max-flows", v, &cfg->udp_max_flows,
				     err, errlen);
	case OPT_LOG_LEVEL:
		cfg->log_level_set = true;
		if (log_parse_level(v, &cfg->log_level))
			return snprintf(err, errlen,
					"invalid -log-level \"%s\"", v),
			       -1;
		return 0;
	case OPT_LOG:
		cfg->log_dest_set = true;
		if (log_parse_dest(v, &cfg->log_dest))
			return snprintf(err, errlen,
					"invalid -log \"%s\" (want auto, "
					"stderr or syslog)",
					v),
			       -1;
		return 0;
	default:
		return -1;
	}
}

/* One flag at argv[*i]; advances *i past a separate value */
static int cfg_one(int argc, const char *const argv[], int *i, struct cfg *cfg,
		   unsigned *seen, char *err, size_t errlen)
{
	const char *a = argv[*i], *name = a + 1, *eq, *val;
	const struct cfg_flag *f;
	size_t len;
	bool b;

	if (name[0] == '-')
		name++;
	eq = strchr(name, '=');
	len = eq ? (size_t)(eq - name) : strlen(name);
	if (len == 0 || name[0] == '-' || name[0] == '=')
		return snprintf(err, errlen, "bad flag syntax: %s", a), -1;
	f = cfg_find(name, len);
	if (!f)
		return snprintf(err, errlen, "flag provided but not defined: %s",
				a),
		       -1;
	*seen |= 1U << f->opt;
	if (f->boolean) {
		b = true;
		if (eq && cfg_parse_bool(eq + 1, &b))
			return snprintf(err, errlen,
					"invalid boolean value \"%s\" for -%s",
					eq + 1, f->name),
			       -1;
		return cfg_set_bool(f, b, cfg);
	}
	if (eq) {
		val = eq + 1;
	} else {
		if (*i + 1 >= argc)
			return snprintf(err, errlen,
					"flag needs an argument: -%s", f->name),
			       -1;
		val = argv[++*i];
	}
	return cfg_set(f, val, cfg, err, errlen);
}

static int cfg_check(const struct cfg *cfg, unsigned seen, char *err,
		     size_t errlen)
{
	static const struct {
		enum cfg_opt opt;
		const char *name;
	} need[] = {
		{ OPT_CONTAINER_IP, "container-ip" },
		{ OPT_CONTAINER_PORT, "container-port" },
	};
	static const struct {
		enum cfg_opt opt;
		const char *name;
		bool udp;
	} only[] = {
		{ OPT_CONNECT_TIMEOUT, "connect-timeout", false },
		{ OPT_HALF_CLOSE, "half-close-timeout", false },
		{ OPT_UDP_TIMEOUT, "udp-timeout", true },
		{ OPT_UDP_MAX_FLOWS, "udp-max-flows", true },
	};
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (!(seen & (1U << need[i].opt)))
			return snprintf(err, errlen, "missing -%s",
					need[i].name),
			       -1;
	}
	if (cfg->pp_version && cfg->proto != CFG_PROTO_TCP)
		return snprintf(err, errlen, "-proxy-protocol is for tcp only"),
		       -1;
	/* a flag the other protocol's proxy would silently ignore */
	for (i = 0; i < sizeof(only) / sizeof(only[0]); i++) {
		if ((seen & (1U << only[i].opt)) &&
		    (cfg->proto == CFG_PROTO_UDP) != only[i].udp)
			return snprintf(err, errlen, "-%s is for %s only",
					only[i].name,
					only[i].udp ? "udp" : "tcp"),
			       -1;
	}
	return 0;
}

/**
 * cfg_parse() - parse strait-proxy's argv
 * @argc:	argument count
 * @argv:	arguments, argv[0] the program
 * @cfg:	result (pointers into @argv)
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0 on success, -1 with @err set on a usage error
 */
int cfg_parse(int argc, const char *const argv[], struct cfg *cfg, char *err,
	      size_t errlen)
{
	unsigned seen = 0;
	int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = LOG_LVL_INFO;
	cfg->udp_timeout_ms = CFG_UDP_TIMEOUT_MS;
	cfg->udp_max_flows = CFG_UDP_MAX_FLOWS;
	cfg->connect_timeout_ms = CFG_CONNECT_TIMEOUT_MS;
	/* 0.0.0.0 unless -host-ip says otherwise, as docker-proxy 28+ */
	cfg->host_ip.family = AF_INET;
	cfg->container_ip.family = AF_INET;
	if (errlen)
		err[0] = '\0';

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || a[1] == '\0')
			break;
		if (cfg_one(argc, argv, &i, cfg, &seen, err, errlen))
			return -1;
	}
	if (i < argc)
		return snprintf(err, errlen, "unexpected argument: %s",
				argv[i]),
		       -1;
	if (cfg->action != CFG_RUN)
		return 0;
	return cfg_check(cfg, seen, err, errlen);
}
