// SPDX-License-Identifier: MIT
/* test_cfg.c - strait-proxy's argv, as dockerd and rootlesskit write it,
 * and systemd's socket activation */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "cfg.h"

#define ARGV(...) \
	((const char *const[]){ "/usr/bin/strait-proxy", __VA_ARGS__ })
#define ARGC(...) ((int)(sizeof(ARGV(__VA_ARGS__)) / sizeof(const char *)))
#define ENV(...) (&(struct cfg_environ){ __VA_ARGS__ })
#define PARSE(c, e, ...) cfg_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), c, \
				   e, sizeof(e))

static void assert_ip(const struct addr_ip *ip, const char *want)
{
	char buf[INET6_ADDRSTRLEN];

	assert_int_equal(addr_format_ip(ip, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

/* dockerd 20.10's exact argv (observed), and 28's with -use-listen-fd */
static void test_docker_argv(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&c, err, "-proto", "tcp", "-host-ip", "0.0.0.0",
			       "-host-port", "8080", "-container-ip",
			       "172.17.0.2", "-container-port", "80"),
			 0);
	assert_int_equal(c.action, CFG_RUN);
	assert_int_equal(c.proto, CFG_PROTO_TCP);
	assert_ip(&c.host_ip, "0.0.0.0");
	assert_int_equal(c.host_port, 8080);
	assert_ip(&c.container_ip, "172.17.0.2");
	assert_int_equal(c.container_port, 80);
	assert_false(c.use_listen_fd);

	assert_int_equal(PARSE(&c, err, "-proto", "udp", "-host-ip", "::",
			       "-host-port", "53", "-container-ip",
			       "172.17.0.2", "-container-port", "53",
			       "-use-listen-fd"),
			 0);
	assert_int_equal(c.proto, CFG_PROTO_UDP);
	assert_int_equal(c.host_ip.family, AF_INET6);
	assert_ip(&c.host_ip, "::");
	assert_int_equal(c.container_ip.family, AF_INET);
	assert_true(c.use_listen_fd);
}

/* rootlesskit's order, double dashes, -name=value, booleans with values */
static void test_order_and_forms(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&c, err, "-container-ip", "10.0.0.2",
			       "-container-port", "443", "-host-ip",
			       "127.0.0.1", "-host-port", "8443", "-proto",
			       "tcp"),
			 0);
	assert_int_equal(c.host_port, 8443);
	assert_int_equal(c.container_port, 443);

	assert_int_equal(PARSE(&c, err, "--proto=tcp", "--host-ip=::1",
			       "--host-port=1", "--container-ip=2001:db8::5",
			       "--container-port=65535",
			       "--use-listen-fd=true", "-no-splice=1",
			       "-user=nobody", "-log-level=debug"),
			 0);
	assert_ip(&c.host_ip, "::1");
	assert_int_equal(c.host_port, 1);
	assert_ip(&c.container_ip, "2001:db8::5");
	assert_int_equal(c.container_port, 65535);
	assert_true(c.use_listen_fd);
	assert_true(c.no_splice);
	assert_string_equal(c.user, "nobody");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);

	assert_int_equal(PARSE(&c, err, "-use-listen-fd=false",
			       "-container-ip", "10.0.0.2", "-container-port",
			       "1", "-host-port", "2", "-host-ip", "10.0.0.1"),
			 0);
	assert_false(c.use_listen_fd);
	/* with fd 4 the socket says where it listens: -host-ip optional */
	assert_int_equal(PARSE(&c, err, "-use-listen-fd", "-container-ip",
			       "10.0.0.2", "-container-port", "1",
			       "-host-port", "2"),
			 0);
	assert_false(c.host_ip_set);
}

/* docker-proxy 28+: -host-ip defaults to 0.0.0.0; given, it is noted (an
 * adopted fd 4 must then be bound there) */
static void test_host_ip_default(void **state)
{
	static const struct {
		const char *argv[10];
		const char *ip;
		bool set;
	} cases[] = {
		{ { "-host-port", "80", "-container-ip", "10.0.0.2",
		    "-container-port", "80" },
		  "0.0.0.0", false },
		{ { "-proto", "udp", "-host-port", "53", "-container-ip",
		    "10.0.0.2", "-container-port", "53", "-use-listen-fd" },
		  "0.0.0.0", false },
		{ { "-host-ip", "0.0.0.0", "-host-port", "80",
		    "-container-ip", "10.0.0.2", "-container-port", "80" },
		  "0.0.0.0", true },
		{ { "-host-port", "80", "-container-ip", "10.0.0.2",
		    "-container-port", "80", "--host-ip=::1" },
		  "::1", true },
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[12] = { "strait-proxy" };
		char err[256];
		struct cfg c;

		for (n = 0; cases[i].argv[n]; n++)
			argv[n + 1] = cases[i].argv[n];
		assert_int_equal(cfg_parse((int)n + 1, argv, &c, err,
					   sizeof(err)),
				 0);
		assert_ip(&c.host_ip, cases[i].ip);
		assert_int_equal(c.host_ip_set, cases[i].set);
	}
	assert_non_null(strstr(cfg_usage, "(default 0.0.0.0)"));
	assert_non_null(strstr(cfg_usage, "[-host-ip IP]"));
}

static void test_version_help(void **state)
{
	static const char *const v[] = { "-v", "-version", "--version",
					 "-v=true" };
	static const char *const h[] = { "-h", "-help", "--help" };
	struct cfg c;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *argv[] = { "p", v[i] };

		assert_int_equal(cfg_parse(2, argv, &c, err, sizeof(err)), 0);
		assert_int_equal(c.action, CFG_VERSION);
	}
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		const char *argv[] = { "p", "-v", h[i] };

		assert_int_equal(cfg_parse(3, argv, &c, err, sizeof(err)), 0);
		assert_int_equal(c.action, CFG_HELP);
	}
	assert_non_null(strstr(cfg_usage, "-container-port"));
}

struct bad_case {
	const char *argv[10];
	const char *msg;
};

static const struct bad_case bad_cases[] = {
	{ { "-proto", "sctpx" }, "unsupported protocol \"sctpx\"" },
	{ { "-foo" }, "flag provided but not defined: -foo" },
	{ { "-host-ip" }, "flag needs an argument: -host-ip" },
	{ { "-host-ip", "1.2.3" }, "invalid IP address for -host-ip: \"1.2.3\"" },
	{ { "-host-ip", "127.0.0.1 " },
	  "invalid IP address for -host-ip: \"127.0.0.1 \"" },
	{ { "-container-ip", "fe80::1%eth0" },
	  "invalid IP address for -container-ip: \"fe80::1%eth0\"" },
	{ { "-host-port", "0" },
	  "invalid port for -host-port: \"0\" (want 1-65535)" },
	{ { "-host-port", "65536" },
	  "invalid port for -host-port: \"65536\" (want 1-65535)" },
	{ { "-host-port", "-1" },
	  "invalid port for -host-port: \"-1\" (want 1-65535)" },
	{ { "-container-port", "0x50" },
	  "invalid port for -container-port: \"0x50\" (want 1-65535)" },
	{ { "-container-port", "80a" },
	  "invalid port for -container-port: \"80a\" (want 1-65535)" },
	{ { "-container-port", "" },
	  "invalid port for -container-port: \"\" (want 1-65535)" },
	{ { "-container-port", "0000080" },
	  "invalid port for -container-port: \"0000080\" (want 1-65535)" },
	{ { "-host-port", "8099-8000" },
	  "invalid port range for -host-port: \"8099-8000\" (want FIRST-LAST, "
	  "1-65535, FIRST <= LAST)" },
	{ { "-host-port", "8000-" },
	  "invalid port range for -host-port: \"8000-\" (want FIRST-LAST, "
	  "1-65535, FIRST <= LAST)" },
	{ { "-container-port", "8000--8001" },
	  "invalid port range for -container-port: \"8000--8001\" (want "
	  "FIRST-LAST, 1-65535, FIRST <= LAST)" },
	{ { "-container-port", "8000-65536" },
	  "invalid port range for -container-port: \"8000-65536\" (want "
	  "FIRST-LAST, 1-65535, FIRST <= LAST)" },
	{ { "-container-port", "123456789-2" },
	  "invalid port range for -container-port: \"123456789-2\" (want "
	  "FIRST-LAST, 1-65535, FIRST <= LAST)" },
	{ { "-use-listen-fd=yes" },
	  "invalid boolean value \"yes\" for -use-listen-fd" },
	{ { "---proto", "tcp" }, "bad flag syntax: ---proto" },
	{ { "-=x" }, "bad flag syntax: -=x" },
	{ { "stray" }, "unexpected argument: stray" },
	{ { "--", "-proto" }, "unexpected argument: -proto" },
	{ { "-log-level", "loud" }, "invalid -log-level \"loud\"" },
	{ { "-user", "" }, "empty -user" },
	{ { "-log", "journal" },
	  "invalid -log \"journal\" (want auto, stderr or syslog)" },
	{ { "-stats=maybe" }, "invalid boolean value \"maybe\" for -stats" },
	{ { "-host-port", "80", "-container-ip", "10.0.0.2" },
	  "missing -container-port" },
	{ { "-host-port", "80", "-container-port", "80" },
	  "missing -container-ip" },
	{ { "-connect-timeout", "soon" },
	  "invalid -connect-timeout \"soon\" (want e.g. 10m, 90s, or 0 for "
	  "never)" },
	{ { "-connect-timeout", "-1" },
	  "invalid -connect-timeout \"-1\" (want e.g. 10m, 90s, or 0 for "
	  "never)" },
	{ { "-connect-timeout" }, "flag needs an argument: -connect-timeout" },
	{ { "-host-ip", "127.0.0.1\nstrait-proxy: FORGED" },
	  "invalid IP address for -host-ip: \"127.0.0.1\nstrait-proxy: "
	  "FORGED\"" },
};

static void test_bad(void **state)
{
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const char *argv[12] = { "strait-proxy" };
		char err[256] = "untouched";
		struct cfg c;

		for (n = 0; bad_cases[i].argv[n]; n++)
			argv[n + 1] = bad_cases[i].argv[n];
		assert_int_equal(cfg_parse((int)n + 1, argv, &c, err,
					   sizeof(err)),
				 -1);
		assert_string_equal(err, bad_cases[i].msg);
	}
}

/*
 * The ports served, once main knows whether systemd passed sockets:
 * without, -host-port is required; with, the sockets name the host ports
 * and -host-port, if given, must name as many. -container-port always
 * names as many.
 */
static void test_listen(void **state)
{
	static const struct {
		const char *argv[8];
		unsigned listen_fds;
		const char *msg; /* NULL: accepted */
		uint32_t nports;
	} cases[] = {
		{ { "-proto", "tcp", "-container-ip", "10.0.0.2",
		    "-container-port", "80" },
		  0, "missing -host-port", 0 },
		{ { "-host-port", "8000-8009", "-container-ip", "10.0.0.2",
		    "-container-port", "80" },
		  0,
		  "-host-port and -container-port must be ranges of the same "
		  "length (10 and 1 ports)", 0 },
		{ { "-host-port", "53", "-container-ip", "10.0.0.2",
		    "-container-port", "53-54" },
		  0,
		  "-host-port and -container-port must be ranges of the same "
		  "length (1 and 2 ports)", 0 },
		{ { "-host-port", "80", "-container-ip", "10.0.0.2",
		    "-container-port", "8080" },
		  0, NULL, 1 },
		/* socket-activated: -host-port (and -proto) may be left out */
		{ { "-container-ip", "10.0.0.2", "-container-port", "8080" },
		  1, NULL, 1 },
		{ { "-container-ip", "10.0.0.2", "-container-port",
		    "9000-9002" },
		  3, NULL, 3 },
		{ { "-container-ip", "10.0.0.2", "-container-port", "8080" },
		  2,
		  "-host-port and -container-port must be ranges of the same "
		  "length (2 and 1 ports)", 0 },
		{ { "-host-port", "80", "-container-ip", "10.0.0.2",
		    "-container-port", "8080" },
		  1, NULL, 1 },
		{ { "-host-port", "80-81", "-container-ip", "10.0.0.2",
		    "-container-port", "8080-8081" },
		  1, "-host-port names 2 ports, systemd passed 1 sockets "
		     "(LISTEN_FDS)", 0 },
	};
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[10] = { "strait-proxy" };
		char err[256] = "untouched";
		struct cfg c;

		for (n = 0; cases[i].argv[n]; n++)
			argv[n + 1] = cases[i].argv[n];
		assert_int_equal(cfg_parse((int)n + 1, argv, &c, err,
					   sizeof(err)),
				 0);
		assert_int_equal(cfg_listen(&c, cases[i].listen_fds, err,
					    sizeof(err)),
				 cases[i].msg ? -1 : 0);
		if (cases[i].msg)
			assert_string_equal(err, cases[i].msg);
		else
			assert_int_equal(c.nports, cases[i].nports);
	}
}

/* -log and -log-level, and their variables; -stats and -json */
static void test_log_and_stats(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&c, err, "-host-port", "80", "-container-ip",
			       "10.0.0.2", "-container-port", "80"),
			 0);
	assert_int_equal(c.log_dest, LOG_DEST_AUTO);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	/* the environment, where no flag says otherwise */
	assert_int_equal(cfg_env_log(&c, "syslog", "debug", err, sizeof(err)),
			 0);
	assert_int_equal(c.log_dest, LOG_DEST_SYSLOG);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_int_equal(cfg_env_log(&c, "", NULL, err, sizeof(err)), 0);
	assert_int_equal(c.log_dest, LOG_DEST_SYSLOG);
	assert_int_equal(cfg_env_log(&c, "loud", NULL, err, sizeof(err)), -1);
	assert_string_equal(err, "invalid STRAIT_LOG \"loud\" (want auto, "
				 "stderr or syslog)");
	assert_int_equal(cfg_env_log(&c, NULL, "verbose", err, sizeof(err)),
			 -1);
	assert_string_equal(err, "invalid STRAIT_LOG_LEVEL \"verbose\" (want "
				 "error, warn, info or debug)");
	/* flags beat them, bad values included */
	assert_int_equal(PARSE(&c, err, "-host-port", "80", "-container-ip",
			       "10.0.0.2", "-container-port", "80", "-log",
			       "stderr", "-log-level=warn"),
			 0);
	assert_int_equal(cfg_env_log(&c, "loud", "verbose", err, sizeof(err)),
			 0);
	assert_int_equal(c.log_dest, LOG_DEST_STDERR);
	assert_int_equal(c.log_level, LOG_LVL_WARN);
	/* -stats needs nothing else; -json goes with it */
	assert_int_equal(PARSE(&c, err, "-stats"), 0);
	assert_int_equal(c.action, CFG_STATS);
	assert_false(c.json);
	assert_int_equal(PARSE(&c, err, "--json", "-stats=true"), 0);
	assert_int_equal(c.action, CFG_STATS);
	assert_true(c.json);
	assert_int_equal(PARSE(&c, err, "-stats", "-h"), 0);
	assert_int_equal(c.action, CFG_HELP);
	assert_non_null(strstr(cfg_usage, "strait-proxy -stats [-json]"));
	assert_non_null(strstr(cfg_usage, "env STRAIT_LOG\n"));
	assert_non_null(strstr(cfg_usage, "env STRAIT_LOG_LEVEL\n"));
}

/* Durations print as they are written, and read back the same */
static void test_format_duration(void **state)
{
	static const struct {
		uint64_t ms;
		const char *out;
	} cases[] = {
		{ 90000, "90s" },  { 120000, "2m" },	{ 500, "500ms" },
		{ 3600000, "1h" }, { 1500, "1500ms" }, { 5400000, "90m" },
		{ 10000, "10s" },  { 604800000, "168h" }, { 1, "1ms" },
		{ 61000, "61s" },
	};
	char buf[24];
	uint64_t back;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(cfg_duration_format(buf, sizeof(buf),
						     cases[i].ms),
				 strlen(cases[i].out));
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(cfg_duration_parse(buf, &back), 0);
		assert_int_equal(back, cases[i].ms);
	}
	/* a short buffer is cut, never overrun */
	assert_int_equal(cfg_duration_format(buf, 3, 90000), 2);
	assert_string_equal(buf, "90");
	assert_int_equal(cfg_duration_format(buf, 0, 90000), 0);
}

/* A range of ports, served by one process: Docker's -p 8000-8099:9000-9099 */
static void test_port_range(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&c, err, "-proto", "udp", "-host-ip",
			       "192.0.2.1", "-host-port", "8000-8099",
			       "-container-ip", "203.0.113.2",
			       "-container-port", "9000-9099"),
			 0);
	assert_int_equal(c.host_port, 8000);
	assert_int_equal(c.container_port, 9000);
	assert_int_equal(c.nports, 100);
	assert_int_equal(PARSE(&c, err, "-host-ip", "192.0.2.1", "-host-port",
			       "1-65535", "-container-ip", "203.0.113.2",
			       "-container-port=1-65535"),
			 0);
	assert_int_equal(c.host_port, 1);
	assert_int_equal(c.nports, 65535);
	/* a one-port range, and a plain port, are one port */
	assert_int_equal(PARSE(&c, err, "-host-ip", "192.0.2.1", "-host-port",
			       "443-443", "-container-ip", "203.0.113.2",
			       "-container-port", "8443"),
			 0);
	assert_int_equal(c.host_port, 443);
	assert_int_equal(c.container_port, 8443);
	assert_int_equal(c.nports, 1);
	assert_int_equal(PARSE(&c, err, "-host-ip", "192.0.2.1", "-host-port",
			       "443", "-container-ip", "203.0.113.2",
			       "-container-port", "8443"),
			 0);
	assert_int_equal(c.nports, 1);
}

/* A tiny error buffer truncates, never overflows */
static void test_short_err(void **state)
{
	const char *argv[] = { "p", "-nosuchflagatall" };
	char err[8];
	struct cfg c;

	(void)state;
	assert_int_equal(cfg_parse(2, argv, &c, err, sizeof(err)), -1);
	assert_int_equal(strlen(err), 7);
}

static void test_duration(void **state)
{
	static const struct {
		const char *in;
		int ok;
		uint64_t ms;
	} cases[] = {
		{ "90", 1, 90000 },	  { "90s", 1, 90000 },
		{ "500ms", 1, 500 },	  { "2m", 1, 120000 },
		{ "1h", 1, 3600000 },	  { "168h", 1, 604800000 },
		{ "169h", 0, 0 },	  { "0", 0, 0 },
		{ "0ms", 0, 0 },	  { "", 0, 0 },
		{ "s", 0, 0 },		  { "1.5s", 0, 0 },
		{ "-1s", 0, 0 },	  { "10 s", 0, 0 },
		{ "1d", 0, 0 },		  { "9999999999", 0, 0 },
	};
	uint64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ms = 7;
		assert_int_equal(cfg_duration_parse(cases[i].in, &ms),
				 cases[i].ok ? 0 : -1);
		assert_int_equal(ms, cases[i].ok ? cases[i].ms : 7);
	}
}

/* Flags beat the environment; the environment beats the defaults */
static void test_udp_settings(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&c, err, "-proto", "udp", "-host-ip", "::",
			       "-host-port", "53", "-container-ip", "10.0.0.2",
			       "-container-port", "53"),
			 0);
	assert_int_equal(c.udp_timeout_ms, CFG_UDP_TIMEOUT_MS);
	assert_int_equal(c.udp_max_flows, CFG_UDP_MAX_FLOWS);
	assert_int_equal(cfg_env(&c,
				 ENV(.udp_timeout = "2m",
				     .udp_max_flows = "100"),
				 err, sizeof(err)),
			 0);
	assert_int_equal(c.udp_timeout_ms, 120000);
	assert_int_equal(c.udp_max_flows, 100);
	assert_int_equal(cfg_env(&c,
				 ENV(.udp_max_flows = ""),
				 err, sizeof(err)),
			 0);
	assert_int_equal(c.udp_timeout_ms, 120000);

	assert_int_equal(PARSE(&c, err, "-proto", "udp", "-udp-timeout=300ms",
			       "-udp-max-flows", "1000", "-host-ip", "::",
			       "-host-port", "53",
			       "-container-ip", "10.0.0.2", "-container-port",
			       "53"),
			 0);
	assert_int_equal(cfg_env(&c,
				 ENV(.udp_timeout = "2m",
				     .udp_max_flows = "100"),
				 err, sizeof(err)),
			 0);
	assert_int_equal(c.udp_timeout_ms, 300);
	assert_int_equal(c.udp_max_flows, 1000);

	assert_int_equal(PARSE(&c, err, "-udp-timeout", "soon"), -1);
	assert_string_equal(err, "invalid -udp-timeout \"soon\" (want e.g. "
				 "90s, 500ms, 2m)");
	assert_int_equal(PARSE(&c, err, "-udp-max-flows", "0"), -1);
	assert_string_equal(err,
			    "invalid -udp-max-flows \"0\" (want 1-1000000)");
	assert_int_equal(PARSE(&c, err, "-udp-max-flows", "1000001"), -1);
	assert_int_equal(PARSE(&c, err, "-proto", "udp", "-host-ip", "::",
			       "-host-port", "53", "-container-ip", "10.0.0.2",
			       "-container-port", "53"),
			 0);
	assert_int_equal(cfg_env(&c,
				 ENV(.udp_timeout = "forever"),
				 err, sizeof(err)),
			 -1);
	assert_string_equal(err, "invalid STRAIT_UDP_TIMEOUT \"forever\" "
				 "(want e.g. 90s, 500ms, 2m)");
	assert_int_equal(cfg_env(&c,
				 ENV(.udp_max_flows = "lots"),
				 err, sizeof(err)),
			 -1);
	assert_string_equal(err, "invalid STRAIT_UDP_MAX_FLOWS \"lots\" "
				 "(want 1-1000000)");
}

/* Off unless asked; a flag beats the environment; "0" means never */
static void test_half_close(void **state)
{
	struct cfg c;
	char err[256];

	(void)state;
	assert_int_equal(PARSE(&c, err, "-host-ip", "::", "-host-port", "80",
			       "-container-ip", "10.0.0.2", "-container-port",
			       "80"),
			 0);
	assert_int_equal(c.half_close_ms, 0);
	assert_int_equal(cfg_env(&c,
				 ENV(.half_close = "10m"),
				 err, sizeof(err)),
			 0);
	assert_int_equal(c.half_close_ms, 600000);
	assert_int_equal(cfg_env(&c,
				 ENV(.half_close = "later"),
				 err, sizeof(err)),
			 -1);
	assert_string_equal(err, "invalid STRAIT_HALF_CLOSE_TIMEOUT \"later\" "
				 "(want e.g. 10m, 90s, or 0 for never)");

	assert_int_equal(PARSE(&c, err, "--half-close-timeout=0", "-host-ip",
			       "::", "-host-port", "80", "-container-ip",
			       "10.0.0.2", "-container-port", "80"),
			 0);
	assert_int_equal(cfg_env(&c,
				 ENV(.half_close = "10m"),
				 err, sizeof(err)),
			 0);
	assert_int_equal(c.half_close_ms, 0);
	assert_int_equal(PARSE(&c, err, "-half-close-timeout", "250ms",
			       "-host-ip", "::", "-host-port", "80",
			       "-container-ip", "10.0.0.2", "-container-port",
			       "80"),
			 0);
	assert_int_equal(c.half_close_ms, 250);
	assert_int_equal(PARSE(&c, err, "-half-close-timeout", "-1s"), -1);
	assert_string_equal(err, "invalid -half-close-timeout \"-1s\" (want "
				 "e.g. 10m, 90s, or 0 for never)");
}

/* Off by default; the flag or the environment, for tcp only; a port list
 * in the environment picks host ports (dockerd starts every proxy with
 * the same environment) */
static void test_proxy_protocol(void **state)
{
	static const char *const bad[] = { "yes",     "v2:",   "v2:0",
					   "v2:80,",  "v2:90-80", "v2:80-",
					   "v2:x",    "v2:65536", ":80" };
	struct cfg c;
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(PARSE(&c, err, "-host-ip", "::", "-host-port", "443",
			       "-container-ip", "10.0.0.2", "-container-port",
			       "443"),
			 0);
	assert_int_equal(cfg_pp_version(&c, 443), 0);
	assert_int_equal(cfg_env(&c, ENV(.proxy_protocol = "v2"), err,
				 sizeof(err)),
			 0);
	assert_int_equal(cfg_pp_version(&c, 443), 2);
	assert_int_equal(cfg_env(&c,
				 ENV(.proxy_protocol = "v1:80,8000-8010,443"),
				 err, sizeof(err)),
			 0);
	assert_int_equal(cfg_pp_version(&c, 443), 1);
	assert_int_equal(cfg_pp_version(&c, 8005), 1);
	assert_int_equal(cfg_pp_version(&c, 8011), 0);
	assert_int_equal(cfg_pp_version(&c, 22), 0);
	/* bad values: one clear line each, and the setting stays off */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cfg_env(&c, ENV(.proxy_protocol = bad[i]),
					 err, sizeof(err)),
				 -1);
		assert_non_null(strstr(err, "invalid STRAIT_PROXY_PROTOCOL"));
		assert_int_equal(cfg_pp_version(&c, 443), 0);
	}
	/* the flag beats the environment */
	assert_int_equal(PARSE(&c, err, "-proxy-protocol", "off", "-host-ip",
			       "::", "-host-port", "443", "-container-ip",
			       "10.0.0.2", "-container-port", "443"),
			 0);
	assert_int_equal(cfg_env(&c, ENV(.proxy_protocol = "v2"), err,
				 sizeof(err)),
			 0);
	assert_int_equal(cfg_pp_version(&c, 443), 0);
	assert_int_equal(PARSE(&c, err, "--proxy-protocol=v1", "-host-ip",
			       "::", "-host-port", "443", "-container-ip",
			       "10.0.0.2", "-container-port", "443"),
			 0);
	assert_int_equal(cfg_pp_version(&c, 443), 1);
	assert_int_equal(PARSE(&c, err, "-proxy-protocol", "v3"), -1);
	assert_string_equal(err, "invalid -proxy-protocol \"v3\" (want v1, v2 "
				 "or off)");
	/* udp: the flag is an error, the environment is not for it */
	assert_int_equal(PARSE(&c, err, "-proto", "udp", "-proxy-protocol",
			       "v2", "-host-ip", "::", "-host-port", "53",
			       "-container-ip", "10.0.0.2", "-container-port",
			       "53"),
			 -1);
	assert_string_equal(err, "-proxy-protocol is for tcp only");
	/* nor may either protocol's proxy ignore the other's flags */
	assert_int_equal(PARSE(&c, err, "-proto", "udp", "-connect-timeout",
			       "5s", "-container-ip", "10.0.0.2",
			       "-container-port", "53"),
			 -1);
	assert_string_equal(err, "-connect-timeout is for tcp only");
	assert_int_equal(PARSE(&c, err, "-proto", "udp",
			       "-half-close-timeout=1m", "-container-ip",
			       "10.0.0.2", "-container-port", "53"),
			 -1);
	assert_string_equal(err, "-half-close-timeout is for tcp only");
	assert_int_equal(PARSE(&c, err, "-udp-timeout", "30s", "-container-ip",
			       "10.0.0.2", "-container-port", "80"),
			 -1);
	assert_string_equal(err, "-udp-timeout is for udp only");
	assert_int_equal(PARSE(&c, err, "-proto", "tcp", "-udp-max-flows",
			       "10", "-container-ip", "10.0.0.2",
			       "-container-port", "80"),
			 -1);
	assert_string_equal(err, "-udp-max-flows is for udp only");
	assert_int_equal(PARSE(&c, err, "-proto", "udp", "-udp-timeout", "30s",
			       "-udp-max-flows", "10", "-container-ip",
			       "10.0.0.2", "-container-port", "53"),
			 0);
	assert_int_equal(PARSE(&c, err, "-proto", "udp", "-host-ip", "::",
			       "-host-port", "53", "-container-ip", "10.0.0.2",
			       "-container-port", "53"),
			 0);
	assert_int_equal(cfg_env(&c, ENV(.proxy_protocol = "v2"), err,
				 sizeof(err)),
			 0);
	assert_int_equal(cfg_pp_version(&c, 53), 0);
}

/* Off after 10 s by default; "0" is never; a flag beats the environment */
static void test_connect_timeout(void **state)
{
	static const struct {
		const char *flag, *env;
		uint64_t ms;
	} cases[] = {
		{ NULL, NULL, CFG_CONNECT_TIMEOUT_MS },
		{ NULL, "", CFG_CONNECT_TIMEOUT_MS },
		{ NULL, "0", 0 },
		{ NULL, "2500ms", 2500 },
		{ "0", "30s", 0 },
		{ "3s", NULL, 3000 },
		{ "3s", "bad", 3000 },
		{ "--connect-timeout=1m", "30s", 60000 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *argv[12] = { "p", "-host-port", "80",
					 "-container-ip", "10.0.0.2",
					 "-container-port", "80" };
		int argc = 7;
		char err[256];
		struct cfg c;

		if (cases[i].flag && cases[i].flag[1] == '-') {
			argv[argc++] = cases[i].flag;
		} else if (cases[i].flag) {
			argv[argc++] = "-connect-timeout";
			argv[argc++] = cases[i].flag;
		}
		assert_int_equal(cfg_parse(argc, argv, &c, err, sizeof(err)),
				 0);
		assert_int_equal(cfg_env(&c,
					 ENV(.connect_timeout = cases[i].env),
					 err, sizeof(err)),
				 0);
		assert_int_equal(c.connect_timeout_ms, cases[i].ms);
	}
	assert_non_null(strstr(cfg_usage, "-connect-timeout D"));
	assert_non_null(strstr(cfg_usage, CFG_ENV_CONNECT_TIMEOUT));
}

/*
 * dockerd starts every proxy, TCP and UDP, with its own environment: a
 * variable for the other protocol is not read (a typo in it must not stop
 * every port); one that applies is checked, and named when bad.
 */
static void test_env_applies(void **state)
{
	static const struct {
		const char *proto;
		struct cfg_environ env;
		const char *err;	/* NULL: accepted */
	} cases[] = {
		{ "tcp", { .udp_timeout = "garbage" }, NULL },
		{ "tcp", { .udp_max_flows = "garbage" }, NULL },
		{ "udp", { .half_close = "garbage" }, NULL },
		{ "udp", { .connect_timeout = "garbage" }, NULL },
		{ "udp", { .proxy_protocol = "garbage" }, NULL },
		{ "sctp", { "x", "x", "x", "x", "x", "x" }, NULL },
		{ "udp", { .udp_timeout = "garbage" },
		  "invalid STRAIT_UDP_TIMEOUT \"garbage\" (want e.g. 90s, "
		  "500ms, 2m)" },
		{ "udp", { .udp_max_flows = "0" },
		  "invalid STRAIT_UDP_MAX_FLOWS \"0\" (want 1-1000000)" },
		{ "tcp", { .half_close = "garbage" },
		  "invalid STRAIT_HALF_CLOSE_TIMEOUT \"garbage\" (want e.g. "
		  "10m, 90s, or 0 for never)" },
		{ "tcp", { .connect_timeout = "garbage" },
		  "invalid STRAIT_CONNECT_TIMEOUT \"garbage\" (want e.g. 10m, "
		  "90s, or 0 for never)" },
		{ "tcp", { .proxy_protocol = "garbage" },
		  "invalid STRAIT_PROXY_PROTOCOL \"garbage\" (want v1 or v2, "
		  "optionally :PORTS, e.g. v2:443,8000-8010; at most 32)" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[256] = "";
		struct cfg c;

		assert_int_equal(PARSE(&c, err, "-proto", cases[i].proto,
				       "-host-port", "80", "-container-ip",
				       "10.0.0.2", "-container-port", "80"),
				 0);
		assert_int_equal(cfg_env(&c, &cases[i].env, err, sizeof(err)),
				 cases[i].err ? -1 : 0);
		if (cases[i].err) {
			assert_string_equal(err, cases[i].err);
			continue;
		}
		/* not read at all: the defaults stand */
		assert_int_equal(c.udp_timeout_ms, CFG_UDP_TIMEOUT_MS);
		assert_int_equal(c.udp_max_flows, CFG_UDP_MAX_FLOWS);
		assert_int_equal(c.half_close_ms, 0);
		assert_int_equal(c.connect_timeout_ms, CFG_CONNECT_TIMEOUT_MS);
		assert_int_equal(cfg_pp_version(&c, 80), 0);
	}
}

/* -transparent for every port; STRAIT_TRANSPARENT=1|0|PORTS from the
 * environment, for TCP and UDP; the flag beats the environment */
static void test_transparent(void **state)
{
	static const struct {
		const char *proto, *flag, *env;
		int ret;
		bool on80, on443, on8005;
	} cases[] = {
		{ "tcp", NULL, NULL, 0, false, false, false },
		{ "tcp", "-transparent", NULL, 0, true, true, true },
		{ "udp", "-transparent", NULL, 0, true, true, true },
		{ "tcp", NULL, "1", 0, true, true, true },
		{ "udp", NULL, "1", 0, true, true, true },
		{ "tcp", NULL, "0", 0, false, false, false },
		{ "tcp", NULL, "443,8000-8010", 0, false, true, true },
		{ "udp", NULL, "80", 0, true, false, false },
		{ "tcp", "-transparent=false", "1", 0, false, false, false },
		{ "tcp", "-transparent", "443", 0, true, true, true },
		{ "tcp", NULL, "yes", -1, false, false, false },
		{ "udp", NULL, "80,", -1, false, false, false },
		{ "tcp", NULL, "9-8", -1, false, false, false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cfg_environ env = { .transparent = cases[i].env };
		char err[256] = "";
		struct cfg c;

		if (cases[i].flag)
			assert_int_equal(PARSE(&c, err, "-proto", cases[i].proto,
					       cases[i].flag, "-host-port",
					       "80", "-container-ip",
					       "10.0.0.2", "-container-port",
					       "80"),
					 0);
		else
			assert_int_equal(PARSE(&c, err, "-proto", cases[i].proto,
					       "-host-port", "80",
					       "-container-ip", "10.0.0.2",
					       "-container-port", "80"),
					 0);
		assert_int_equal(cfg_env(&c, &env, err, sizeof(err)),
				 cases[i].ret);
		if (cases[i].ret) {
			assert_non_null(strstr(err, "invalid "
						    "STRAIT_TRANSPARENT"));
			continue;
		}
		assert_int_equal(cfg_transparent(&c, 80), cases[i].on80);
		assert_int_equal(cfg_transparent(&c, 443), cases[i].on443);
		assert_int_equal(cfg_transparent(&c, 8005), cases[i].on8005);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transparent),
		cmocka_unit_test(test_docker_argv),
		cmocka_unit_test(test_order_and_forms),
		cmocka_unit_test(test_version_help),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_log_and_stats),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_short_err),
		cmocka_unit_test(test_port_range),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_udp_settings),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_proxy_protocol),
		cmocka_unit_test(test_host_ip_default),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_env_applies),
	};

	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
