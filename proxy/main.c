// SPDX-License-Identifier: MIT
/*
 * main.c - strait-proxy: a drop-in for docker-proxy
 *
 * Start-up order, each step before the next: /dev/null on any of fds 0-2
 * that is closed (else the first file we open lands there and log lines
 * go into it: a listening socket, the counters' memfd, a connection);
 * claim fd 3 (before any other
 * fd can land there; unless systemd passed sockets from fd 3 on) and set
 * signal dispositions → parse → the log's destination (syslog under
 * dockerd) → raise RLIMIT_NOFILE → bind, or adopt fd 4 (or systemd's fd
 * 3), every port of the range → the counters (a memfd) → event base,
 * servers and signal events (everything that opens a file or a kernel
 * object) → the systemd notification socket → drop and verify
 * privileges, then the sandbox → "0\n" on fd 3 (READY=1 to systemd) →
 * event loop. Any failure before the loop: "1\n<message>" on fd 3, the
 * same line in the log, exit 1 (2 for usage errors), and no port stays
 * bound: a range is served whole or not at all. Only this file prints
 * and exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "isolation.h"
#include "listener.h"
#include "log.h"
#include "priv.h"
#include "ready.h"
#include "stats.h"
#include "systemd.h"
#include "tcp_server.h"
#include "transparent.h"
#include "udp_server.h"

#define PROG "strait-proxy"

static int main_ready_fd = -1;
/* Sockets systemd passed from fd 3 on (socket activation); 0: none */
static int main_activated;
/* Where readiness goes when systemd started us (Type=notify), or -1 */
static int main_notify_fd = -1;

/*
 * @msg may quote what it was given (a flag, an address, a variable): the
 * same escaping as every log line keeps it one line on stderr and on fd 3,
 * whose text dockerd shows the user.
 */
static void __attribute__((noreturn)) main_fail(int code, const char *msg)
{
	char safe[512];

	/* main()'s own log_init() may not have run yet */
	log_init(PROG, log_get_level());
	log_err("%s", msg);
	log_escape(safe, sizeof(safe), msg);
	ready_fail(main_ready_fd, safe);
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

/*
 * An adopted socket must be bound where the flags say: -host-port always,
 * -host-ip when given. One bound elsewhere would serve a port nobody asked
 * for (and a range must come in port order).
 */
static int main_listen_check(const struct cfg *cfg, int fd, uint16_t port,
			     char *err, size_t errlen)
{
	char got[ADDR_STRLEN] = "?", want[ADDR_STRLEN] = "?";
	union addr_sock sa, ws;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, &sa.sa, &len) || main_sock_port(&sa) != port)
		return snprintf(err, errlen,
				"fd %d: not a socket bound to port %u", fd,
				(unsigned)port),
		       -1;
	if (!cfg->host_ip_set)
		return 0;
	addr_to_sock(&cfg->host_ip, port, &ws);
	addr_format_sock(&ws.sa, want, sizeof(want));
	addr_format_sock(&sa.sa, got, sizeof(got));
	if (!strcmp(got, want))
		return 0;
	return snprintf(err, errlen,
			"fd %d: not a socket bound to %s (bound to %s)", fd,
			want, got),
	       -1;
}

/* listener_adopt() speaks of -use-listen-fd: say where systemd's sockets
 * came from instead */
static void main_activation_err(char *err, size_t errlen)
{
	static const char flag[] = "-use-listen-fd: ";
	char msg[512];

	if (!main_activated || strncmp(err, flag, sizeof(flag) - 1))
		return;
	snprintf(msg, sizeof(msg), "LISTEN_FDS: %s", err + sizeof(flag) - 1);
	snprintf(err, errlen, "%s", msg);
}

/* LISTEN_FDNAMES names systemd's sockets (FileDescriptorName=): say so */
static void main_activation_name(int fd, uint32_t i)
{
	char name[64];

	if (systemd_fd_name(getenv("LISTEN_FDNAMES"), i, name, sizeof(name)))
		log_debug("fd %d: socket \"%s\" from systemd", fd, name);
	else
		log_debug("fd %d: socket from systemd", fd);
}

/*
 * The listening socket of port @i of the range. Socket-activated without
 * -host-port, the first socket says which port the range starts at.
 */
static int main_listen(struct cfg *cfg, uint32_t i, char *err,
		       size_t errlen)
{
	int ipproto = cfg_ipproto(cfg->proto);
	int fd = (main_activated ? SYSTEMD_LISTEN_FDS_START : LISTENER_FD) +
		 (int)i;
	union addr_sock sa;
	socklen_t len = sizeof(sa);
	uint16_t port;

	if (!cfg->use_listen_fd && !main_activated)
		return listener_bind(ipproto, &cfg->host_ip,
				     (uint16_t)(cfg->host_port + i), err,
				     errlen);
	if (listener_adopt(fd, ipproto, err, errlen) < 0) {
		main_activation_err(err, errlen);
		return -1;
	}
	if (main_activated)
		main_activation_name(fd, i);
	if (main_activated && !cfg->host_port_set && i == 0 &&
	    !getsockname(fd, &sa.sa, &len))
		cfg->host_port = main_sock_port(&sa);
	port = (uint16_t)(cfg->host_port + i);
	if (main_listen_check(cfg, fd, port, err, errlen)) {
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

static const char *main_tp_note(const struct cfg *cfg)
{
	uint32_t i, on = 0;

	for (i = 0; i < cfg->nports; i++)
		on += cfg_transparent(cfg, (uint16_t)(cfg->host_port + i));
	if (!on)
		return "";
	return on < cfg->nports ? " (transparent on some ports)"
				: " (transparent)";
}

static const char *main_half_close_note(const struct cfg *cfg)
{
	static char note[96];
	char d[24];

	if (!cfg->half_close_ms)
		return "";
	cfg_duration_format(d, sizeof(d), cfg->half_close_ms);
	snprintf(note, sizeof(note),
		 " (half-closed connections idle for %s are reset)", d);
	return note;
}

/*
 * The first line: what is served (the mapping every line starts with)
 * and the settings in force, durations as they are written.
 */
static void main_log_start(const struct cfg *cfg, int lfd,
			   const union addr_sock *target)
{
	char d[24];

	(void)lfd;
	(void)target;
	cfg_duration_format(d, sizeof(d), cfg->udp_timeout_ms);
	if (cfg->proto == CFG_PROTO_UDP)
		log_info("serving (flows idle for %s end, at most %u at "
			 "once%s)%s%s",
			 d, cfg->udp_max_flows,
			 cfg->nports > 1 ? " per port" : "", main_tp_note(cfg),
			 main_activated ? " (socket-activated)" : "");
	else
		log_info("serving%s%s%s%s%s",
			 cfg->no_splice ? " (copying, no splice)" : "",
			 main_pp_note(cfg), main_half_close_note(cfg),
			 main_tp_note(cfg),
			 main_activated ? " (socket-activated)" : "");
}

static void main_stop(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d: exiting", (int)sig);
	event_base_loopbreak(arg);
}

/* SIGUSR1: the counters in the log; a process that can signal us (one of
 * the same user) must not flood the log with them */
static void main_usr1(evutil_socket_t sig, short what, void *arg)
{
	static struct log_ratelimit rl = LOG_RATELIMIT_INIT(10, 5);
	unsigned long missed;

	(void)sig;
	(void)what;
	(void)arg;
	if (log_ratelimit_ok(&rl, log_now(), &missed))
		stats_log("counters");
}

static void main_hup(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_debug("SIGHUP ignored");
}

/*
 * Transparent mode for host port @port, or NULL: the container's network
 * is learned once (all ports of a range share the container's address),
 * before any sandbox.
 */
static struct transparent *main_transparent(const struct cfg *cfg,
					    uint16_t port,
					    const union addr_sock *target)
{
	static struct transparent tp;
	static bool ready;
	char err[256];

	if (!cfg_transparent(cfg, port))
		return NULL;
	if (!ready && transparent_init(&tp, target, err, sizeof(err)))
		main_fail(1, err);
	ready = true;
	return &tp;
}

static int main_serve(struct main_server *srv, const struct cfg *cfg,
		      struct event_base *base, const int *lfds)
{
	struct tcp_server_opts opts = {
		.relay = { .copy = cfg->no_splice,
			   .connect_ms = cfg->connect_timeout_ms,
			   .half_close_ms = cfg->half_close_ms },
	};
	struct transparent *tp;
	union addr_sock target;
	uint16_t port;
	socklen_t len;
	uint32_t i;
	int rc;

	for (i = 0; i < cfg->nports; i++) {
		len = addr_to_sock(&cfg->container_ip,
				   (uint16_t)(cfg->container_port + i), &target);
		port = (uint16_t)(cfg->host_port + i);
		if (i == 0)
			main_log_start(cfg, lfds[0], &target);
		tp = main_transparent(cfg, port, &target);
		if (cfg->proto == CFG_PROTO_UDP) {
			rc = udp_server_init(&srv[i].udp, base, lfds[i],
					     &target, len, cfg->udp_timeout_ms,
					     cfg->udp_max_flows);
			srv[i].udp.tp = tp;
			srv[i].udp.st = stats_port(i);
		} else {
			opts.pp_version = cfg_pp_version(cfg, port);
			opts.tp = tp;
			opts.relay.st = stats_port(i);
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
 * A careless supervisor may start us with stdin, stdout or stderr closed:
 * the lowest free fd is then one of them, and the first socket or memfd
 * we make would take it, to receive what is written to "stderr" (log
 * lines) or "stdout" (-v, -help, -stats). Before, with fd 2 closed and
 * fd 4 adopted, the counters' memfd became fd 2 and the first log lines
 * overwrote it (SIGSEGV). /dev/null goes there first. Nothing is opened
 * before this; if /dev/null cannot be had, the fd stays closed.
 */
static void main_std_fds(void)
{
	int fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		/* the lowest free fd: this one, since those below are open */
		if (open("/dev/null", O_RDWR) < 0)
			return;
	}
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
	signal(SIGUSR1, SIG_IGN);
}

#define MAIN_NSIGNALS 4

static struct event **main_signals(struct event_base *base)
{
	static const int sigs[MAIN_NSIGNALS] = { SIGINT, SIGTERM, SIGHUP,
						 SIGUSR1 };
	static const event_callback_fn fns[MAIN_NSIGNALS] = {
		main_stop, main_stop, main_hup, main_usr1
	};
	static struct event *ev[MAIN_NSIGNALS];
	int i;

	for (i = 0; i < MAIN_NSIGNALS; i++) {
		ev[i] = evsignal_new(base, sigs[i], fns[i], base);
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
 * Everything privileged is done: give it all up, then the sandbox. Once
 * this returns, the process holds no capability (transparent mode: only
 * CAP_NET_RAW) and cannot regain one, is not uid 0 where it can help it
 * (root without -user becomes $STRAIT_USER, else nobody), cannot open a
 * file, connects over TCP only to the container's ports, and makes only
 * the syscalls it needs.
 */
static void main_privileges(const struct cfg *cfg)
{
	struct isolation_net net = { cfg->container_port, 0, false };
	struct priv_user user;
	char err[512];
	uint32_t i;

	for (i = 0; i < cfg->nports; i++)
		if (cfg_transparent(cfg, (uint16_t)(cfg->host_port + i)))
			net.transparent = true;
	if (isolation_user(cfg->user, getenv(ISOLATION_ENV_USER), &user, err,
			   sizeof(err)))
		main_fail(2, err);
	user.keep_net_raw = net.transparent;
	if (priv_drop(&user, err, sizeof(err)))
		main_fail(1, err);
	if (cfg->proto == CFG_PROTO_TCP)
		net.tcp_nports = cfg->nports;
	if (isolation_sandbox(&net, err, sizeof(err)))
		main_fail(1, err);
}

/* @state ("READY=1") to systemd, with a status line: @verb the mapping */
static void main_status(const char *state, const char *verb)
{
	char map[160], msg[256];

	if (main_notify_fd < 0)
		return;
	map[stats_tag(map, sizeof(map), NULL)] = '\0';
	snprintf(msg, sizeof(msg), "%s\nSTATUS=%s %s", state, verb, map);
	if (systemd_notify(main_notify_fd, msg))
		log_warn("NOTIFY_SOCKET: %s", strerror(errno));
}

/*
 * Type=notify: systemd started us and waits for READY=1. Never under
 * dockerd, whose own NOTIFY_SOCKET every proxy inherits. The socket is
 * made now, before the sandbox.
 */
static void main_notify_open(void)
{
	const char *ns = getenv("NOTIFY_SOCKET");
	char err[256];

	if (!systemd_notify_wanted(ns, main_ready_fd >= 0,
				   getenv("SYSTEMD_EXEC_PID"), getpid()))
		return;
	main_notify_fd = systemd_notify_open(ns, err, sizeof(err));
	if (main_notify_fd < 0)
		log_warn("%s", err);
}

/*
 * Socket activation: sockets from fd 3 on, for this process only. Read
 * before fd 3 is claimed as the readiness pipe, which it then is not.
 * Return: how many (0: none), or -1 if LISTEN_FDS is bad
 */
static int main_activation(void)
{
	return systemd_listen_fds(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
				  getpid());
}

/* A socket-activated proxy serves what systemd bound, unless -proto says
 * otherwise (and then listener_adopt() refuses a mismatch) */
static void main_activation_proto(struct cfg *cfg)
{
	int proto = 0;
	socklen_t len = sizeof(proto);

	if (!main_activated || cfg->proto_set ||
	    getsockopt(SYSTEMD_LISTEN_FDS_START, SOL_SOCKET, SO_PROTOCOL,
		       &proto, &len))
		return;
	if (proto == IPPROTO_UDP)
		cfg->proto = CFG_PROTO_UDP;
}

/*
 * The counters, where -stats finds them; each server gets its port's.
 * The first socket's address is what the log lines name.
 */
static void main_stats(const struct cfg *cfg, int lfd)
{
	union addr_sock host, box;
	socklen_t len = sizeof(host);
	char err[256];
	int rc;

	if (getsockname(lfd, &host.sa, &len))
		addr_to_sock(&cfg->host_ip, cfg->host_port, &host);
	addr_to_sock(&cfg->container_ip, cfg->container_port, &box);
	rc = stats_open(cfg_ipproto(cfg->proto), &host.sa, &box.sa,
			cfg->nports, err, sizeof(err));
	if (rc < 0)
		main_fail(1, err);
	/* from now on every line says which mapping it is about */
	log_set_tag(stats_tag, NULL);
	if (rc > 0)
		log_warn("%s", err);
}

/* -log and STRAIT_LOG, read: from now on every line has its level */
static void main_log_open(const struct cfg *cfg)
{
	char err[256];

	log_init(PROG, cfg->log_level);
	if (log_open(cfg->log_dest, getenv("JOURNAL_STREAM"), err,
		     sizeof(err)))
		main_fail(1, err);
}

static int main_run(struct event_base *base, struct main_server *srv,
		    const struct cfg *cfg, struct event **sigev)
{
	uint32_t n;
	int i, rc;

	rc = ready_ok(main_ready_fd);
	main_ready_fd = -1;
	/* EINTR: a stop signal came first; the loop acts on it at once */
	if (rc && errno == ETIMEDOUT)
		main_fail(1, "fd 3: the readiness pipe stayed full (nobody "
			     "reads it): giving up");
	else if (rc && errno != EINTR)
		log_warn("fd %d: readiness write failed: %s", READY_FD,
			 strerror(errno));
	if (!rc) {
		main_status("READY=1", "serving");
		log_debug("ready");
	}
	rc = event_base_dispatch(base);
	main_status("STOPPING=1", "stopping");
	stats_log("counters at exit");
	for (n = 0; n < cfg->nports; n++) {
		if (!srv[n].up)
			continue;
		if (cfg->proto == CFG_PROTO_UDP)
			udp_server_close(&srv[n].udp);
		else
			tcp_server_close(&srv[n].tcp);
	}
	for (i = 0; i < MAIN_NSIGNALS; i++)
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

	main_std_fds();
	main_activated = main_activation();
	if (!main_activated)
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
	if (cfg.action == CFG_STATS)
		return stats_show(stdout, stderr, cfg.json);
	if (main_activated < 0)
		main_fail(2, "LISTEN_FDS: not a count of sockets (1-65535)");
	main_activation_proto(&cfg);
	env = (struct cfg_environ){ getenv(CFG_ENV_UDP_TIMEOUT),
				    getenv(CFG_ENV_UDP_MAX_FLOWS),
				    getenv(CFG_ENV_HALF_CLOSE),
				    getenv(CFG_ENV_PROXY_PROTOCOL),
				    getenv(CFG_ENV_CONNECT_TIMEOUT),
				    getenv(CFG_ENV_TRANSPARENT) };
	if (cfg_env(&cfg, &env, err, sizeof(err)) ||
	    cfg_env_log(&cfg, getenv(CFG_ENV_LOG), getenv(CFG_ENV_LOG_LEVEL),
			err, sizeof(err)) ||
	    cfg_listen(&cfg, (unsigned)main_activated, err, sizeof(err)))
		main_fail(2, err);
	main_log_open(&cfg);
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
	main_stats(&cfg, lfds[0]);
	base = main_event_base();
	if (main_serve(srv, &cfg, base, lfds))
		main_fail(1, "event loop: cannot set up the server (out of "
			     "memory, or no randomness for the flow table)");
	free(lfds);
	sigev = main_signals(base);
	main_notify_open();
	main_privileges(&cfg);
	rc = main_run(base, srv, &cfg, sigev);
	free(srv);
	event_base_free(base);
	libevent_global_shutdown();
	return rc;
}
