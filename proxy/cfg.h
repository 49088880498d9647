/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_CFG_H
#define STRAIT_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "log.h"

enum cfg_proto {
	CFG_PROTO_TCP = 0,
	CFG_PROTO_UDP,
	CFG_PROTO_SCTP,
};

/* What the command line asks for, beyond running the proxy */
enum cfg_action {
	CFG_RUN = 0,
	CFG_VERSION,
	CFG_HELP,
	CFG_STATS,	/* print every running proxy's counters */
};

/* Port ranges STRAIT_PROXY_PROTOCOL may list */
#define CFG_PP_MAX_PORTS 32

/**
 * struct cfg - strait-proxy's configuration, from argv only
 * @action:		run, or print version/help
 * @proto:		protocol
 * @host_ip:		address to listen on (unused with @use_listen_fd)
 * @host_port:		port to listen on (the first, for a range)
 * @container_ip:	address to forward to
 * @container_port:	port to forward to (the first, for a range)
 * @nports:		ports served: host_port + i forwards to container_port
 *			+ i for i < @nports (1 unless -host-port is a range)
 * @container_nports:	ports in -container-port: must equal @nports
 * @use_listen_fd:	adopt the bound socket on fd 4 (Docker 28+); for a
 *			range, fds 4 to 4 + @nports - 1 in port order
 * @no_splice:		copy through user space instead of splice(2)
 * @user:		user to switch to after binding, or NULL
 * @log_level:		most verbose level logged
 * @log_level_set:	-log-level was given (it beats STRAIT_LOG_LEVEL)
 * @log_dest:		where log lines go
 * @log_dest_set:	-log was given (it beats STRAIT_LOG)
 * @json:		-stats prints JSON
 * @proto_set:		-proto was given (else a socket-activated proxy
 *			serves the protocol of its sockets)
 * @host_port_set:	-host-port was given (else the sockets systemd
 *			passed say which ports are served)
 * @udp_timeout_ms:	idle timeout of a UDP flow
 * @udp_max_flows:	capacity of the UDP flow table
 * @half_close_ms:	a TCP connection one side has closed ends (reset)
 *			after this long with no bytes moving; 0: never
 * @pp_version:		PROXY protocol header to the container: 1, 2;
 *			0: none
 * @pp_ports:		host ports it applies to ([i][0]-[i][1]); none: all
 * @pp_nports:		entries in @pp_ports
 * @pp_set:		-proxy-protocol was given
 * @udp_timeout_set:	-udp-timeout was given (it beats the environment)
 * @udp_max_flows_set:	-udp-max-flows was given
 * @half_close_set:	-half-close-timeout was given
 * @host_ip_set:	-host-ip was given (else 0.0.0.0, as docker-proxy 28+)
 * @connect_timeout_ms:	a connect to the container that has not completed
 *			after this long fails (the client is reset); 0: never
 * @connect_timeout_set: -connect-timeout was given
 * @tp:			transparent mode: the container sees the client's
 *			own address (where it can be used)
 * @tp_ports:		host ports it applies to ([i][0]-[i][1]); none: all
 * @tp_nports:		entries in @tp_ports
 * @tp_set:		-transparent was given (it beats the environment)
 */
struct cfg {
	enum cfg_action action;
	enum cfg_proto proto;
	struct addr_ip host_ip;
	uint16_t host_port;
	struct addr_ip container_ip;
	uint16_t container_port;
	uint32_t nports, container_nports;
	bool use_listen_fd;
	bool no_splice;
	const char *user;
	enum log_level log_level;
	bool log_level_set;
	enum log_dest log_dest;
	bool log_dest_set, json;
	bool proto_set, host_port_set;
	uint64_t udp_timeout_ms;
	uint32_t udp_max_flows;
	uint64_t half_close_ms;
	int pp_version;
	uint16_t pp_ports[CFG_PP_MAX_PORTS][2];
	size_t pp_nports;
	bool pp_set;
	bool udp_timeout_set, udp_max_flows_set, half_close_set;
	bool host_ip_set;
	uint64_t connect_timeout_ms;
	bool connect_timeout_set;
	bool tp;
	uint16_t tp_ports[CFG_PP_MAX_PORTS][2];
	size_t tp_nports;
	bool tp_set;
};

#define CFG_UDP_TIMEOUT_MS 90000
#define CFG_UDP_MAX_FLOWS 4096
#define CFG_ENV_UDP_TIMEOUT "STRAIT_UDP_TIMEOUT"
#define CFG_ENV_UDP_MAX_FLOWS "STRAIT_UDP_MAX_FLOWS"
#define CFG_ENV_HALF_CLOSE "STRAIT_HALF_CLOSE_TIMEOUT"
#define CFG_ENV_PROXY_PROTOCOL "STRAIT_PROXY_PROTOCOL"
#define CFG_CONNECT_TIMEOUT_MS 10000
#define CFG_ENV_CONNECT_TIMEOUT "STRAIT_CONNECT_TIMEOUT"
#define CFG_ENV_TRANSPARENT "STRAIT_TRANSPARENT"
#define CFG_ENV_LOG "STRAIT_LOG"
#define CFG_ENV_LOG_LEVEL "STRAIT_LOG_LEVEL"

/**
 * struct cfg_environ - the environment variables strait-proxy reads; NULL
 * or empty where unset
 */
struct cfg_environ {
	const char *udp_timeout, *udp_max_flows, *half_close, *proxy_protocol;
	const char *connect_timeout;
	const char *transparent;
};

int cfg_parse(int argc, const char *const argv[], struct cfg *cfg, char *err,
	      size_t errlen);
int cfg_env(struct cfg *cfg, const struct cfg_environ *env, char *err,
	    size_t errlen);
int cfg_env_log(struct cfg *cfg, const char *log, const char *level,
		char *err, size_t errlen);
int cfg_listen(struct cfg *cfg, unsigned listen_fds, char *err,
	       size_t errlen);
int cfg_pp_version(const struct cfg *cfg, uint16_t host_port);
bool cfg_transparent(const struct cfg *cfg, uint16_t host_port);
int cfg_ipproto(enum cfg_proto proto);
extern const char cfg_usage[];

/* cfg_duration.c */
int cfg_duration_parse(const char *s, uint64_t *ms);
size_t cfg_duration_format(char *buf, size_t len, uint64_t ms);
int cfg_duration_set(const char *what, const char *v, uint64_t *ms,
		     char *err, size_t errlen);
int cfg_duration_set_or_0(const char *what, const char *v, uint64_t *ms,
			  char *err, size_t errlen);

/* Value parsers shared by cfg.c (flags) and cfg_env.c (variables) */
int cfg_set_flows(const char *what, const char *v, uint32_t *n, char *err,
		  size_t errlen);
int cfg_pp_word(const char *v, size_t n, int *version);

#endif
