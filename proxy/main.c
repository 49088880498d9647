// SPDX-License-Identifier: MIT
/*
 * main.c - strait-proxy: a drop-in for docker-proxy
 *
 * Start-up order, each step before the next: claim fd 3 (before any other
 * fd can land there) → parse → bind, or adopt fd 4 → raise RLIMIT_NOFILE →
 * drop and verify privileges → "0\n" on fd 3 → event loop. Any failure
 * before the loop: "1\n<message>" on fd 3, the same line on stderr, exit 1
 * (2 for usage errors). Only this file prints and exits.
 */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

static void main_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		log_warn("setrlimit(RLIMIT_NOFILE): %s", strerror(errno));
}

/**
 * struct main_server - whichever server -proto asked for
 * @tcp:	TCP server
 * @udp:	UDP server
 * @proto:	which one is in use
 */
struct main_server {
	struct tcp_server tcp;
	struct udp_server udp;
	enum cfg_proto proto;
};

static int main_listen(const struct cfg *cfg, char *err, size_t errlen)
{
	int ipproto = cfg_ipproto(cfg->proto);

	if (cfg->use_listen_fd)
		return listener_adopt(LISTENER_FD, ipproto, err, errlen);
	return listener_bind(ipproto, &cfg->host_ip, cfg->host_port, err,
			     errlen);
}

static void main_log_start(const struct cfg *cfg, int lfd,
			   const union addr_sock *target)
{
	char from[ADDR_STRLEN] = "?", to[ADDR_STRLEN] = "?";
	union addr_sock sa;
	socklen_t len = sizeof(sa);

	if (!getsockname(lfd, &sa.sa, &len))
		addr_format_sock(&sa.sa, from, sizeof(from));
	addr_format_sock(&target->sa, to, sizeof(to));
	if (cfg->proto == CFG_PROTO_UDP)
		log_info("udp %s -> %s (flows idle for %llu ms end, at most "
			 "%u at once)",
			 from, to, (unsigned long long)cfg->udp_timeout_ms,
			 cfg->udp_max_flows);
	else
		log_info("tcp %s -> %s%s", from, to,
			 cfg->no_splice ? " (copying, no splice)" : "");
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
		      struct event_base *base, int lfd)
{
	union addr_sock target;
	socklen_t len;

	len = addr_to_sock(&cfg->container_ip, cfg->container_port, &target);
	srv->proto = cfg->proto;
	main_log_start(cfg, lfd, &target);
	if (cfg->proto == CFG_PROTO_UDP)
		return udp_server_init(&srv->udp, base, lfd, &target, len,
				       cfg->udp_timeout_ms, cfg->udp_max_flows);
	return tcp_server_init(&srv->tcp, base, lfd, &target, len,
			       cfg->no_splice);
}

static int main_run(struct event_base *base, struct main_server *srv)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	struct event *ev[3];
	int i, rc;

	for (i = 0; i < 3; i++) {
		ev[i] = evsignal_new(base, sigs[i],
				     sigs[i] == SIGHUP ? main_hup : main_stop,
				     base);
		if (!ev[i] || event_add(ev[i], NULL))
			main_fail(1, "event loop: cannot watch signals");
	}
	if (ready_ok(main_ready_fd))
		log_warn("fd %d: readiness write failed", READY_FD);
	main_ready_fd = -1;
	rc = event_base_dispatch(base);
	if (srv->proto == CFG_PROTO_UDP)
		udp_server_close(&srv->udp);
	else
		tcp_server_close(&srv->tcp);
	for (i = 0; i < 3; i++)
		event_free(ev[i]);
	return rc < 0 ? 1 : 0;
}

int main(int argc, char *argv[])
{
	struct priv_user user = { 0 };
	struct main_server srv;
	struct event_base *base;
	char err[512];
	struct cfg cfg;
	int lfd, rc;

	main_ready_fd = ready_open(READY_FD);
	signal(SIGPIPE, SIG_IGN);

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
	if (cfg_env(&cfg, getenv(CFG_ENV_UDP_TIMEOUT),
		    getenv(CFG_ENV_UDP_MAX_FLOWS), err, sizeof(err)))
		main_fail(2, err);
	log_init(PROG, cfg.log_level);
	if (cfg.user && priv_lookup_user(cfg.user, &user, err, sizeof(err)))
		main_fail(2, err);

	lfd = main_listen(&cfg, err, sizeof(err));
	if (lfd < 0)
		main_fail(1, err);
	if (cfg.proto == CFG_PROTO_SCTP)
		main_fail(1, "sctp is not supported by strait-proxy");
	main_raise_nofile();
	if (priv_drop(&user, err, sizeof(err)))
		main_fail(1, err);

	base = event_base_new();
	if (!base)
		main_fail(1, "event loop: cannot create");
	if (main_serve(&srv, &cfg, base, lfd))
		main_fail(1, "event loop: cannot set up the server (out of "
			     "memory, or no randomness for the flow table)");
	rc = main_run(base, &srv);
	event_base_free(base);
	libevent_global_shutdown();
	return rc;
}
