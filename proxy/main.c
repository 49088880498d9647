// SPDX-License-Identifier: MIT
/*
 * main.c - strait-proxy: a drop-in for docker-proxy
 *
 * Start-up order, each step before the next: claim fd 3 (before any other
 * fd can land there) and set signal dispositions → parse → raise
 * RLIMIT_NOFILE → bind, or adopt fd 4, every port of the range → event
 * base, servers and signal events (everything that opens a file or a
 * kernel object) → drop and verify privileges, then the sandbox → "0\n"
 * on fd 3 → event loop. Any failure before the loop: "1\n<message>" on
 * fd 3, the same line on stderr, exit 1 (2 for usage errors), and no port
 * stays bound: a range is served whole or not at all. Only this file
 * prints and exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "listener.h"
#include "log.h"
#include "priv.h"
#include "ready.h"
#include "tcp_server.h"
#include "udp_server.h"

#define PROG "strait-proxy"

static int main_ready_fd = -1;

static void __attribute__((noreturn)) main_fail(int code, const char *msg)
{
	fprintf(stderr, PROG ": %s\n", msg);
	ready_fail(main_ready_fd, msg);
	exit(code);
}

/**
 * struct main_server - the server of one port, whichever -proto asked for
 * @tcp:	TCP server
 * @udp:	UDP server
 * @up:		set up, to be closed
 */
struct main_server {
	union {
		struct tcp_server tcp;
		struct udp_server udp;
	};
	bool up;
};

static uint16_t main_sock_port(const union addr_sock *sa)
{
	return ntohs(sa->sa.sa_family == AF_INET6 ? sa->sin6.sin6_port
						  : sa->sin.sin_port);
}

/* The listening socket of port @i of the range */
static int main_listen(const struct cfg *cfg, uint32_t i, char *err,
		       size_t errlen)
{
	int ipproto = cfg_ipproto(cfg->proto), fd = LISTENER_FD + (int)i;
	uint16_t port = (uint16_t)(cfg->host_port + i);
	union addr_sock sa;
	socklen_t len = sizeof(sa);

	if (!cfg->use_listen_fd)
		return listener_bind(ipproto, &cfg->host_ip, port, err,
				     errlen);
	if (listener_adopt(fd, ipproto, err, errlen) < 0)
		return -1;
	/* dockerd passes one socket; a range must come in port order */
	if (cfg->nports > 1 && (getsockname(fd, &sa.sa, &len) ||
				main_sock_port(&sa) != port)) {
		snprintf(err, errlen, "fd %d: not a socket bound to port %u",
			 fd, (unsigned)port);
		close(fd);
		return -1;
	}
	return fd;
}

/* What the start-up line says of the PROXY protocol: where it applies */
static const char *main_pp_note(const struct cfg *cfg)
{
	static char note[64];
	uint32_t i, on = 0;

	for (i = 0; i < cfg->nports; i++)
		on += cfg_pp_version(cfg, (uint16_t)(cfg->host_port + i)) != 0;
	if (!on)
		return "";
	snprintf(note, sizeof(note), " (PROXY protocol v%d%s)",
		 cfg->pp_version, on < cfg->nports ? " on some ports" : "");
	return note;
}

static const char *main_half_close_note(const struct cfg *cfg)
{
	static char note[96];

	if (!cfg->half_close_ms)
		return "";
	snprintf(note, sizeof(note),
		 " (half-closed connections idle for %llu ms are reset)",
		 (unsigned long long)cfg->half_close_ms);
	return note;
}

static void main_log_start(const struct cfg *cfg, int lfd,
			   const union addr_sock *target)
{
	char from[ADDR_STRLEN + 8] = "?", to[ADDR_STRLEN + 8] = "?";
	union addr_sock sa;
	socklen_t len = sizeof(sa);
	size_t n;

	if (!getsockname(lfd, &sa.sa, &len))
		addr_format_sock(&sa.sa, from, sizeof(from));
	addr_format_sock(&target->sa, to, sizeof(to));
	if (cfg->nports > 1) {
		n = strlen(from);
		snprintf(from + n, sizeof(from) - n, "-%u",
			 (unsigned)(cfg->host_port + cfg->nports - 1));
		n = strlen(to);
		snprintf(to + n, sizeof(to) - n, "-%u",
			 (unsigned)(cfg->container_port + cfg->nports - 1));
	}
	if (cfg->proto == CFG_PROTO_UDP)
		log_info("udp %s -> %s (flows idle for %llu ms end, at most "
			 "%u at once%s)",
			 from, to, (unsigned long long)cfg->udp_timeout_ms,
			 cfg->udp_max_flows, cfg->nports > 1 ? " per port" : "");
	else
		log_info("tcp %s -> %s%s%s%s", from, to,
			 cfg->no_splice ? " (copying, no splice)" : "",
			 main_pp_note(cfg), main_half_close_note(cfg));
}

static void main_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(arg);
}

static void main_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_debug("SIGHUP ignored");
}

static int main_serve(struct main_server *srv, const struct cfg *cfg,
		      struct event_base *base, const int *lfds)
{
	struct tcp_server_opts opts = { cfg->no_splice, cfg->half_close_ms, 0 };
	union addr_sock target;
	socklen_t len;
	uint32_t i;
	int rc;

	for (i = 0; i < cfg->nports; i++) {
		len = addr_to_sock(&cfg->container_ip,
				   (uint16_t)(cfg->container_port + i), &target);
		if (i == 0)
			main_log_start(cfg, lfds[0], &target);
		if (cfg->proto == CFG_PROTO_UDP)
			rc = udp_server_init(&srv[i].udp, base, lfds[i],
					     &target, len, cfg->udp_timeout_ms,
					     cfg->udp_max_flows);
		else {
			opts.pp_version = cfg_pp_version(
				cfg, (uint16_t)(cfg->host_port + i));
			rc = tcp_server_init(&srv[i].tcp, base, lfds[i],
					     &target, len, &opts);
		}
		if (rc)
			return -1;
		srv[i].up = true;
	}
	return 0;
}

/*
 * Signals: dispositions first, before anything can arrive (a SIGHUP during
 * start-up must not kill us); the loop's own handlers replace them once
 * the event base exists.
 */
static void main_signals_early(void)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
}

static struct event **main_signals(struct event_base *base)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	static struct event *ev[3];
	int i;

	for (i = 0; i < 3; i++) {
		ev[i] = evsignal_new(base, sigs[i],
				     sigs[i] == SIGHUP ? main_hup : main_stop,
				     base);
		if (!ev[i] || event_add(ev[i], NULL))
			main_fail(1, "event loop: cannot watch signals");
	}
	return ev;
}

/*
 * The event base, made before any sandbox: its backend is pinned to epoll
 * and never chosen by the environment (EVENT_NOEPOLL and friends, which
 * dockerd would pass through).
 */
static struct event_base *main_event_base(void)
{
	struct event_config *ec = event_config_new();
	struct event_base *base = NULL;

	if (ec && !event_config_set_flag(ec, EVENT_BASE_FLAG_IGNORE_ENV) &&
	    !event_config_avoid_method(ec, "select") &&
	    !event_config_avoid_method(ec, "poll"))
		base = event_base_new_with_config(ec);
	if (ec)
		event_config_free(ec);
	if (!base)
		main_fail(1, "event loop: cannot create (epoll)");
	return base;
}

/*
 * Everything privileged is done: give it all up. Once this returns, the
 * process holds no capability and cannot regain one.
 */
static void main_privileges(const struct cfg *cfg)
{
	struct priv_user user = { 0 };
	char err[512];

	if (cfg->user && priv_lookup_user(cfg->user, &user, err, sizeof(err)))
		main_fail(2, err);
	if (priv_drop(&user, err, sizeof(err)))
		main_fail(1, err);
}

static int main_run(struct event_base *base, struct main_server *srv,
		    const struct cfg *cfg, struct event **sigev)
{
	uint32_t n;
	int i, rc;

	if (ready_ok(main_ready_fd))
		log_warn("fd %d: readiness write failed", READY_FD);
	main_ready_fd = -1;
	rc = event_base_dispatch(base);
	for (n = 0; n < cfg->nports; n++) {
		if (!srv[n].up)
			continue;
		if (cfg->proto == CFG_PROTO_UDP)
			udp_server_close(&srv[n].udp);
		else
			tcp_server_close(&srv[n].tcp);
	}
	for (i = 0; i < 3; i++)
		event_free(sigev[i]);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char *argv[])
{
	struct cfg_environ env;
	struct main_server *srv;
	struct event_base *base;
	struct event **sigev;
	char err[512];
	struct cfg cfg;
	int *lfds, rc;
	uint32_t i;

	main_ready_fd = ready_open(READY_FD);
	main_signals_early();

	if (cfg_parse(argc, (const char *const *)argv, &cfg, err, sizeof(err)))
		main_fail(2, err);
	if (cfg.action == CFG_VERSION) {
		printf(PROG " version " STRAIT_VERSION "\n");
		return 0;
	}
	if (cfg.action == CFG_HELP) {
		fputs(cfg_usage, stdout);
		return 0;
	}
	env = (struct cfg_environ){ getenv(CFG_ENV_UDP_TIMEOUT),
				    getenv(CFG_ENV_UDP_MAX_FLOWS),
				    getenv(CFG_ENV_HALF_CLOSE),
				    getenv(CFG_ENV_PROXY_PROTOCOL),
				    getenv(CFG_ENV_CONNECT_TIMEOUT) };
	if (cfg_env(&cfg, &env, err, sizeof(err)))
		main_fail(2, err);
	log_init(PROG, cfg.log_level);
	if (cfg.proto == CFG_PROTO_SCTP)
		main_fail(1, "sctp is not supported by strait-proxy");

	if (listener_raise_nofile())
		log_warn("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
	lfds = calloc(cfg.nports, sizeof(*lfds));
	srv = calloc(cfg.nports, sizeof(*srv));
	if (!lfds || !srv)
		main_fail(1, "out of memory");
	/* on a failure, exiting closes the ports bound so far */
	for (i = 0; i < cfg.nports; i++) {
		lfds[i] = main_listen(&cfg, i, err, sizeof(err));
		if (lfds[i] < 0)
			main_fail(1, err);
	}
	base = main_event_base();
	if (main_serve(srv, &cfg, base, lfds))
		main_fail(1, "event loop: cannot set up the server (out of "
			     "memory, or no randomness for the flow table)");
	free(lfds);
	sigev = main_signals(base);
	main_privileges(&cfg);
	rc = main_run(base, srv, &cfg, sigev);
	free(srv);
	event_base_free(base);
	libevent_global_shutdown();
	return rc;
}
