// SPDX-License-Identifier: MIT
/*
 * cfg_env.c - strait-proxy's settings from the environment
 *
 * dockerd passes no extra flags to the proxies it starts, but it passes its
 * own environment to every one of them: STRAIT_* variables are how a user
 * sets strait's options under dockerd. A flag beats its variable; each
 * proxy reads only the variables of its protocol. The PROXY protocol and
 * transparent mode take lists of host ports here (flags cannot: dockerd
 * writes the argv), which cfg_pp_version() and cfg_transparent() read.
 *
 * Like cfg_parse(), these never print, exit or touch globals.
 */
#include "cfg.h"

#include <stdio.h>
#include <string.h>

/* "PORT,FIRST-LAST,...": a comma list of host ports and ranges, at most
 * CFG_PP_MAX_PORTS. Return: entries, or -1 */
static int cfg_env_ports(const char *p, uint16_t ports[][2])
{
	size_t n = 0, len;

	for (;; p++) {
		len = strcspn(p, ",");
		if (n == CFG_PP_MAX_PORTS ||
		    addr_parse_range(p, len, &ports[n][0], &ports[n][1]))
			return -1;
		n++;
		p += len;
		if (!*p)
			return (int)n;
	}
}

/* STRAIT_PROXY_PROTOCOL: "V", or "V:PORTS" with PORTS a comma list of
 * ports and ranges */
static int cfg_env_pp(const char *v, struct cfg *cfg, char *err,
		      size_t errlen)
{
	const char *colon = strchr(v, ':');
	int n = 0;

	if (cfg_pp_word(v, colon ? (size_t)(colon - v) : strlen(v),
			&cfg->pp_version))
		goto bad;
	if (colon && (n = cfg_env_ports(colon + 1, cfg->pp_ports)) < 0)
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
static int cfg_env_tp(const char *v, struct cfg *cfg, char *err,
		      size_t errlen)
{
	int n;

	cfg->tp_nports = 0;
	if (!strcmp(v, "0") || !strcmp(v, "1")) {
		cfg->tp = v[0] == '1';
		return 0;
	}
	n = cfg_env_ports(v, cfg->tp_ports);
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
	    cfg_duration_set(CFG_ENV_UDP_TIMEOUT, env->udp_timeout,
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
	    cfg_duration_set_or_0(CFG_ENV_HALF_CLOSE, env->half_close,
				  &cfg->half_close_ms, err, errlen))
		return -1;
	if (cfg_env_use(env->connect_timeout, cfg->connect_timeout_set) &&
	    cfg_duration_set_or_0(CFG_ENV_CONNECT_TIMEOUT, env->connect_timeout,
				  &cfg->connect_timeout_ms, err, errlen))
		return -1;
	if (cfg_env_use(env->proxy_protocol, cfg->pp_set) &&
	    cfg_env_pp(env->proxy_protocol, cfg, err, errlen))
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
	    cfg_env_tp(env->transparent, cfg, err, errlen))
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
