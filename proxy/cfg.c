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
 * cfg_parse() is pure: it never prints, exits or touches globals.
 */
#include "cfg.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

const char cfg_usage[] =
	"Usage: strait-proxy -proto tcp|udp [-host-ip IP] -host-port PORT\n"
	"                    -container-ip IP -container-port PORT\n"
	"                    [-use-listen-fd] [-user NAME] [-no-splice]\n"
	"                    [-log auto|stderr|syslog]\n"
	"                    [-log-level error|warn|info|debug]\n"
	"                    [-udp-timeout DURATION] [-udp-max-flows N]\n"
	"                    [-half-close-timeout DURATION]\n"
	"                    [-connect-timeout DURATION]\n"
	"                    [-proxy-protocol v1|v2] [-transparent]\n"
	"       strait-proxy -stats [-json]\n"
	"       strait-proxy -version | -help\n"
	"\n"
	"A drop-in for docker-proxy: dockerd --userland-proxy-path=PATH.\n"
	"Flags take one or two dashes, '-flag value' or '-flag=value'.\n"
	"\n"
	"  -proto P            tcp (default) or udp\n"
	"  -host-ip IP         address to listen on (default 0.0.0.0); fd 4\n"
	"                      must be bound there if given\n"
	"  -host-port N        port to listen on (1-65535), or a range\n"
	"                      FIRST-LAST served by this one process\n"
	"  -container-ip IP    address to forward to\n"
	"  -container-port N   port to forward to (1-65535), or a range as\n"
	"                      long as -host-port's\n"
	"  -use-listen-fd      serve the bound socket on fd 4 (Docker 28+),\n"
	"                      which must be bound to -host-port; for a\n"
	"                      range, one socket per port from fd 4 on\n"
	"  -user NAME          switch to this user once listening\n"
	"  -no-splice          copy in user space instead of splice(2)\n"
	"  -log D              where log lines go: auto (default: syslog if\n"
	"                      stderr is /dev/null or closed, as under\n"
	"                      dockerd, else stderr), stderr or syslog;\n"
	"                      env " CFG_ENV_LOG "\n"
	"  -log-level L        error, warn, info (default) or debug;\n"
	"                      env " CFG_ENV_LOG_LEVEL "\n"
	"  -udp-timeout D      idle time before a UDP flow ends: 90s (default),\n"
	"                      500ms, 2m, 1h; env " CFG_ENV_UDP_TIMEOUT "\n"
	"  -udp-max-flows N    UDP clients tracked at once (default 4096);\n"
	"                      env " CFG_ENV_UDP_MAX_FLOWS "\n"
	"  -half-close-timeout D  once one side of a TCP connection has\n"
	"                      closed, reset it after D with no bytes moving\n"
	"                      (default 0: never); env " CFG_ENV_HALF_CLOSE "\n"
	"  -connect-timeout D  a connection the container has not accepted\n"
	"                      after D is reset (TCP; default 10s, 0: never);\n"
	"                      env " CFG_ENV_CONNECT_TIMEOUT "\n"
	"  -proxy-protocol V   tell the container who the client is: send a\n"
	"                      PROXY protocol v1 or v2 header first (TCP;\n"
	"                      the server must expect it); env\n"
	"                      " CFG_ENV_PROXY_PROTOCOL "=V or V:PORTS, e.g.\n"
	"                      v2:443,8000-8010 (host ports)\n"
	"  -transparent        the container sees each client's own address\n"
	"                      and port (needs CAP_NET_RAW and the host\n"
	"                      routing of strait-proxy(1)); env\n"
	"                      " CFG_ENV_TRANSPARENT "=1, or =PORTS (host ports)\n"
	"  -stats              print the counters of every strait-proxy\n"
	"                      running on this host (as root), and exit\n"
	"  -json               -stats prints one JSON object\n"
	"  -version, -v        print the version and exit\n"
	"  -help, -h           print this help and exit\n"
	"\n"
	"Flags beat the environment. A variable that does not apply to -proto\n"
	"is not read: a UDP setting on a TCP proxy, or a TCP one on UDP.\n"
	"\n"
	"Readiness: \"0\\n\" on fd 3 once listening, or \"1\\n<error>\";\n"
	"READY=1 to $NOTIFY_SOCKET when systemd started us. Socket\n"
	"activation: with LISTEN_PID/LISTEN_FDS, the sockets from fd 3 on\n"
	"are served, and the ports (and -proto) come from them.\n"
	"SIGUSR1 logs the counters.\n";

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
 * cfg_proto_name() - "tcp", "udp" or "sctp"
 * @proto:	protocol
 *
 * Return: static name
 */
const char *cfg_proto_name(enum cfg_proto proto)
{
	static const char *const names[] = { "tcp", "udp", "sctp" };

	return names[proto];
}

/**
 * cfg_parse_duration() - "90", "90s", "500ms", "2m", "1h": 1 ms to 7 days
 * @s:		text; a bare number is seconds
 * @ms:		result in milliseconds
 *
 * Return: 0 on success, -1 otherwise
 */
int cfg_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "", 1000 }, { "ms", 1 }, { "s", 1000 },
		      { "m", 60000 }, { "h", 3600000 } };
	uint64_t v = 0;
	size_t i, n;

	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n >= 9)
			return -1;
		v = v * 10 + (uint64_t)(s[n] - '0');
	}
	if (n == 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + n, units[i].unit))
			continue;
		v *= units[i].ms;
		if (v < 1 || v > 7ULL * 24 * 3600000)
			return -1;
		*ms = v;
		return 0;
	}
	return -1;
}

/**
 * cfg_format_duration() - a duration as it is written: "90s", "2m",
 * "500ms", "1h" (the largest unit that divides it)
 * @buf:	output, always NUL-terminated when @len > 0
 * @len:	size of @buf; 24 is always enough
 * @ms:		milliseconds
 *
 * cfg_parse_duration() reads back what this writes.
 *
 * Return: bytes in @buf, without the NUL
 */
size_t cfg_format_duration(char *buf, size_t len, uint64_t ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "h", 3600000 }, { "m", 60000 }, { "s", 1000 } };
	const char *unit = "ms";
	size_t i;
	int n;

	for (i = 0; ms && i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms % units[i].ms == 0) {
			unit = units[i].unit;
			ms /= units[i].ms;
			break;
		}
	}
	n = snprintf(buf, len, "%llu%s", (unsigned long long)ms, unit);
	if (n < 0 || !len)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

static int cfg_set_flows(const char *what, const char *v, uint32_t *n,
			 char *err, size_t errlen)
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

static int cfg_set_timeout(const char *what, const char *v, uint64_t *ms,
			   char *err, size_t errlen)
{
	if (cfg_parse_duration(v, ms))
		return snprintf(err, errlen,
				"invalid %s \"%s\" (want e.g. 90s, 500ms, 2m)",
				what, v),
		       -1;
	return 0;
}

/* A duration, or "0" for never */
static int cfg_set_timeout_or_0(const char *what, const char *v,
				uint64_t *ms, char *err, size_t errlen)
{
	if (!strcmp(v, "0")) {
		*ms = 0;
		return 0;
	}
	if (cfg_parse_duration(v, ms))
		return snprintf(err, errlen,
				"invalid %s \"%s\" (want e.g. 10m, 90s, or 0 "
				"for never)",
				what, v),
		       -1;
	return 0;
}

/* "off", "v1" or "v2": 0, 1, 2 */
static int cfg_pp_word(const char *v, size_t n, int *version)
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

/* "PORT" or "FIRST-LAST", @n bytes at @v, into @r */
static int cfg_pp_range(const char *v, size_t n, uint16_t r[2])
{
	char one[16];
	char *dash;

	if (n == 0 || n >= sizeof(one))
		return -1;
	memcpy(one, v, n);
	one[n] = '\0';
	dash = strchr(one, '-');
	if (dash)
		*dash = '\0';
	if (addr_parse_port(one, &r[0]) ||
	    addr_parse_port(dash ? dash + 1 : one, &r[1]) || r[1] < r[0])
		return -1;
	return 0;
}

/* "PORT,FIRST-LAST,...": a comma list of host ports and ranges, at most
 * CFG_PP_MAX_PORTS. Return: entries, or -1 */
static int cfg_port_list(const char *p, uint16_t ports[][2])
{
	size_t n = 0, len;

	for (;; p++) {
		len = strcspn(p, ",");
		if (n == CFG_PP_MAX_PORTS || cfg_pp_range(p, len, ports[n++]))
			return -1;
		p += len;
		if (!*p)
			return (int)n;
	}
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

/* STRAIT_PROXY_PROTOCOL: "V", or "V:PORTS" with PORTS a comma list of
 * ports and ranges */
static int cfg_set_pp_env(const char *v, struct cfg *cfg, char *err,
			  size_t errlen)
{
	const char *colon = strchr(v, ':');
	int n = 0;

	if (cfg_pp_word(v, colon ? (size_t)(colon - v) : strlen(v),
			&cfg->pp_version))
		goto bad;
	if (colon && (n = cfg_port_list(colon + 1, cfg->pp_ports)) < 0)
		goto bad;
	cfg->pp_nports = (size_t)n;
	return 0;
bad:
	cfg->pp_version = 0;
	cfg->pp_nports = 0;
	return snprintf(err, errlen,
			"invalid " CFG_ENV_PROXY_PROTOCOL " \"%.64s\" (want "
			"v1 or v2, optionally :PORTS, e.g. v2:443,8000-8010; "
			"at most %d)",
			v, CFG_PP_MAX_PORTS),
	       -1;
}

/* STRAIT_TRANSPARENT: "1" (every port), "0", or PORTS */
static int cfg_set_tp_env(const char *v, struct cfg *cfg, char *err,
			  size_t errlen)
{
	int n;

	cfg->tp_nports = 0;
	if (!strcmp(v, "0") || !strcmp(v, "1")) {
		cfg->tp = v[0] == '1';
		return 0;
	}
	n = cfg_port_list(v, cfg->tp_ports);
	if (n < 0)
		return snprintf(err, errlen,
				"invalid " CFG_ENV_TRANSPARENT " \"%.64s\" "
				"(want 1, 0, or host PORTS, e.g. 443,8000-8010;"
				" at most %d)",
				v, CFG_PP_MAX_PORTS),
		       -1;
	cfg->tp = true;
	cfg->tp_nports = (size_t)n;
	return 0;
}

/* A variable is read if set, non-empty, and no flag gave the setting */
static bool cfg_env_use(const char *v, bool flag_set)
{
	return v && *v && !flag_set;
}

static int cfg_env_udp(struct cfg *cfg, const struct cfg_environ *env,
		       char *err, size_t errlen)
{
	if (cfg_env_use(env->udp_timeout, cfg->udp_timeout_set) &&
	    cfg_set_timeout(CFG_ENV_UDP_TIMEOUT, env->udp_timeout,
			    &cfg->udp_timeout_ms, err, errlen))
		return -1;
	if (cfg_env_use(env->udp_max_flows, cfg->udp_max_flows_set) &&
	    cfg_set_flows(CFG_ENV_UDP_MAX_FLOWS, env->udp_max_flows,
			  &cfg->udp_max_flows, err, errlen))
		return -1;
	return 0;
}

static int cfg_env_tcp(struct cfg *cfg, const struct cfg_environ *env,
		       char *err, size_t errlen)
{
	if (cfg_env_use(env->half_close, cfg->half_close_set) &&
	    cfg_set_timeout_or_0(CFG_ENV_HALF_CLOSE, env->half_close,
				 &cfg->half_close_ms, err, errlen))
		return -1;
	if (cfg_env_use(env->connect_timeout, cfg->connect_timeout_set) &&
	    cfg_set_timeout_or_0(CFG_ENV_CONNECT_TIMEOUT, env->connect_timeout,
				 &cfg->connect_timeout_ms, err, errlen))
		return -1;
	if (cfg_env_use(env->proxy_protocol, cfg->pp_set) &&
	    cfg_set_pp_env(env->proxy_protocol, cfg, err, errlen))
		return -1;
	return 0;
}

/**
 * cfg_env() - settings from the environment, where no flag gave them
 * @cfg:	configuration parsed from argv
 * @env:	the variables' values
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * dockerd passes no extra flags to the proxy, but it does pass its own
 * environment, to every proxy it starts: this is how a user sets these
 * under dockerd. Each proxy reads only the variables of its protocol: a
 * typo in a UDP setting must not stop every TCP port (nor the reverse).
 * A bad value of a variable that applies is an error.
 *
 * Return: 0, or -1 with @err set
 */
int cfg_env(struct cfg *cfg, const struct cfg_environ *env, char *err,
	    size_t errlen)
{
	if (cfg->proto != CFG_PROTO_SCTP &&
	    cfg_env_use(env->transparent, cfg->tp_set) &&
	    cfg_set_tp_env(env->transparent, cfg, err, errlen))
		return -1;
	if (cfg->proto == CFG_PROTO_UDP)
		return cfg_env_udp(cfg, env, err, errlen);
	if (cfg->proto == CFG_PROTO_TCP)
		return cfg_env_tcp(cfg, env, err, errlen);
	return 0;	/* sctp: refused, whatever the environment says */
}

/**
 * cfg_env_log() - where log lines go and how many, from the environment
 * @cfg:	configuration parsed from argv
 * @log:	$STRAIT_LOG, or NULL
 * @level:	$STRAIT_LOG_LEVEL, or NULL
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Both apply to every protocol; a flag beats its variable.
 *
 * Return: 0, or -1 with @err set
 */
int cfg_env_log(struct cfg *cfg, const char *log, const char *level,
		char *err, size_t errlen)
{
	if (cfg_env_use(log, cfg->log_dest_set) &&
	    log_parse_dest(log, &cfg->log_dest))
		return snprintf(err, errlen,
				"invalid " CFG_ENV_LOG " \"%.64s\" (want auto, "
				"stderr or syslog)",
				log),
		       -1;
	if (cfg_env_use(level, cfg->log_level_set) &&
	    log_parse_level(level, &cfg->log_level))
		return snprintf(err, errlen,
				"invalid " CFG_ENV_LOG_LEVEL " \"%.64s\" (want "
				"error, warn, info or debug)",
				level),
		       -1;
	return 0;
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
	char lo[8];
	uint16_t last;
	size_t n;

	if (!dash || dash == v) {	/* a port, or a sign: not a range */
		if (addr_parse_port(v, first)) {
			snprintf(err, errlen,
				 "invalid port for -%s: \"%s\" (want 1-65535)",
				 flag, v);
			return -1;
		}
		*count = 1;
		return 0;
	}
	n = (size_t)(dash - v);
	if (n < sizeof(lo)) {
		memcpy(lo, v, n);
		lo[n] = '\0';
		if (!addr_parse_port(lo, first) &&
		    !addr_parse_port(dash + 1, &last) && last >= *first) {
			*count = (uint32_t)(last - *first) + 1;
			return 0;
		}
	}
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
		return cfg_set_timeout("-udp-timeout", v, &cfg->udp_timeout_ms,
				       err, errlen);
	case OPT_HALF_CLOSE:
		cfg->half_close_set = true;
		return cfg_set_timeout_or_0("-half-close-timeout", v,
					    &cfg->half_close_ms, err, errlen);
	case OPT_CONNECT_TIMEOUT:
		cfg->connect_timeout_set = true;
		return cfg_set_timeout_or_0("-connect-timeout", v,
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
