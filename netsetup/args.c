// SPDX-License-Identifier: MIT
/*
 * args.c - strait-netsetup's command line
 *
 *   up     --bridge BR --uplink IF [--subnet CIDR]... [--publish P]...
 *          [--backend auto|nft|iptables] [--ipv6 | --ipv6-routed]
 *          [--no-input-rules] [--transparent [--transparent-mark M]
 *          [--transparent-table T]]
 *   down   --bridge BR
 *   check  (as up)
 *   status [--bridge BR] [--json]
 *   watch  --bridge PATTERN... --uplink IF [--publish [PATTERN=]P]...
 *          [--publish-file FILE] [--backend ...] [--ipv6 | --ipv6-routed]
 *          [--no-input-rules] [--transparent ...]
 *   exec   [--user NAME] PROTO:HOSTIP:PORT -- PROGRAM [ARGS...]
 *
 * GNU style, as the tools people know: "--opt value" or "--opt=value",
 * any order, "-h"/"--help" after any subcommand (or "help VERB") for its
 * own help, "-v"/"--version". One table says which option each
 * subcommand takes.
 *
 * Pure: never prints, exits, or asks the system anything; every value is
 * validated by spelling here (existence is main's business). exec's port
 * and PROGRAM are checked in args_exec.c, the help texts are args_usage.c's.
 */
#include "args.h"

#include <fnmatch.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define ARGS_BIT(c) (1U << (c))
#define ARGS_UPLIKE (ARGS_BIT(ARGS_UP) | ARGS_BIT(ARGS_CHECK))
#define ARGS_NET (ARGS_UPLIKE | ARGS_BIT(ARGS_WATCH))

static const char *const args_names[ARGS_NCMDS] = {
	"up", "down", "check", "exec", "status", "watch", "help", "version"
};

/**
 * args_cmd_name() - "up", "down", ...
 * @cmd:	subcommand
 *
 * Return: its name
 */
const char *args_cmd_name(enum args_cmd cmd)
{
	return cmd < ARGS_NCMDS ? args_names[cmd] : "?";
}

static int args_cmd(const char *s, enum args_cmd *cmd)
{
	size_t i;

	for (i = 0; i < ARGS_NCMDS; i++) {
		if (!strcmp(s, args_names[i])) {
			*cmd = (enum args_cmd)i;
			return 0;
		}
	}
	return -1;
}

/**
 * args_pattern() - a bridge name pattern: an interface name's characters
 * and '*', '?' (fnmatch, no brackets: nothing a name could escape with)
 * @s:		text
 * @out:	copy (ARGS_PATTERN_LEN)
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int args_pattern(const char *s, char *out, char *err, size_t errlen)
{
	size_t n = strnlen(s, ARGS_PATTERN_LEN), i;
	char probe[ARGS_PATTERN_LEN];

	if (n == 0 || n >= ARGS_PATTERN_LEN)
		return snprintf(err, errlen, "bad bridge pattern \"%.20s\": 1 "
				"to 15 characters", s),
		       -1;
	/* with each wildcard a letter, it must be a valid name */
	for (i = 0; i <= n; i++)
		probe[i] = (s[i] == '*' || s[i] == '?') ? 'x' : s[i];
	if (valid_ifname(probe, err, errlen) || !strcmp(s, "lo"))
		return snprintf(err, errlen, "bad bridge pattern \"%s\": an "
				"interface name, with '*' and '?'", s),
		       -1;
	memcpy(out, s, n + 1);
	return 0;
}

/**
 * args_match() - whether a bridge name matches a pattern
 * @pattern:	from args_pattern()
 * @name:	interface name
 *
 * Return: true if it does
 */
bool args_match(const char *pattern, const char *name)
{
	return !fnmatch(pattern, name, FNM_PERIOD);
}

/**
 * args_wpub() - "[PATTERN=]PROTO:HOSTIP:PORT" (watch's --publish and its
 * file's lines)
 * @s:		text
 * @w:		result ("*" where no pattern is given)
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int args_wpub(const char *s, struct args_wpub *w, char *err, size_t errlen)
{
	const char *eq = strchr(s, '=');
	char pat[ARGS_PATTERN_LEN];
	size_t n;

	if (!eq) {
		memcpy(w->pattern, "*", 2);
		return valid_publish(s, &w->p, err, errlen);
	}
	n = (size_t)(eq - s);
	if (n >= sizeof(pat))
		return snprintf(err, errlen, "bad bridge pattern in \"%.40s\"",
				s),
		       -1;
	memcpy(pat, s, n);
	pat[n] = '\0';
	if (args_pattern(pat, w->pattern, err, errlen))
		return -1;
	return valid_publish(eq + 1, &w->p, err, errlen);
}

/* One option: its name, who takes it, whether it has a value, and what
 * it sets */
struct args_opt {
	const char *name;
	unsigned cmds;
	bool value;
	int (*set)(struct args *a, const char *v, char *err, size_t errlen);
};

static int args_set_ifname(const char *opt, const char *v, const char **out,
			   char *err, size_t errlen)
{
	if (valid_ifname(v, err, errlen))
		return -1;
	if (!strcmp(v, "lo"))
		return snprintf(err, errlen, "%s lo: the loopback device is "
				"neither a bridge nor an uplink", opt),
		       -1;
	*out = v;
	return 0;
}

static int args_set_bridge(struct args *a, const char *v, char *err,
			   size_t errlen)
{
	if (a->cmd != ARGS_WATCH)
		return args_set_ifname("--bridge", v, &a->bridge, err, errlen);
	if (a->npattern == ARGS_MAX_PATTERNS)
		return snprintf(err, errlen, "at most %d --bridge",
				ARGS_MAX_PATTERNS),
		       -1;
	return args_pattern(v, a->pattern[a->npattern++], err, errlen);
}

static int args_set_uplink(struct args *a, const char *v, char *err,
			   size_t errlen)
{
	return args_set_ifname("--uplink", v, &a->uplink, err, errlen);
}

static int args_set_backend(struct args *a, const char *v, char *err,
			    size_t errlen)
{
	if (!strcmp(v, "auto"))
		a->backend = ARGS_AUTO;
	else if (!strcmp(v, "nft"))
		a->backend = ARGS_NFT;
	else if (!strcmp(v, "iptables"))
		a->backend = ARGS_IPTABLES;
	else
		return snprintf(err, errlen, "bad --backend \"%.32s\": auto, "
				"nft or iptables", v),
		       -1;
	return 0;
}

/* --subnet: at most one network per family */
static int args_set_subnet(struct args *a, const char *v, char *err,
			   size_t errlen)
{
	struct valid_cidr c;
	bool *have;

	if (valid_cidr(v, &c, err, errlen))
		return -1;
	have = c.net.family == AF_INET ? &a->have_subnet : &a->have_subnet6;
	if (*have)
		return snprintf(err, errlen, "--subnet: one %s network only",
				c.net.family == AF_INET ? "IPv4" : "IPv6"),
		       -1;
	*have = true;
	*(c.net.family == AF_INET ? &a->subnet : &a->subnet6) = c;
	return 0;
}

static int args_set_publish(struct args *a, const char *v, char *err,
			    size_t errlen)
{
	size_t *n = a->cmd == ARGS_WATCH ? &a->nwpub : &a->npublish;

	if (*n == ARGS_MAX_PUBLISH)
		return snprintf(err, errlen, "at most %d --publish",
				ARGS_MAX_PUBLISH),
		       -1;
	if (a->cmd == ARGS_WATCH)
		return args_wpub(v, &a->wpub[(*n)++], err, errlen);
	return valid_publish(v, &a->publish[(*n)++], err, errlen);
}

static int args_v6(struct args *a, bool routed, char *err, size_t errlen)
{
	if (a->ipv6 && routed != a->ipv6_routed)
		return snprintf(err, errlen, "--ipv6 and --ipv6-routed "
				"exclude each other: --ipv6 masquerades the "
				"bridge's IPv6 subnet, --ipv6-routed does not"),
		       -1;
	a->ipv6 = true;
	a->ipv6_routed = routed;
	return 0;
}

static int args_set_ipv6(struct args *a, const char *v, char *err,
			 size_t errlen)
{
	(void)v;
	return args_v6(a, false, err, errlen);
}

static int args_set_routed(struct args *a, const char *v, char *err,
			   size_t errlen)
{
	(void)v;
	return args_v6(a, true, err, errlen);
}

static int args_set_no_input(struct args *a, const char *v, char *err,
			     size_t errlen)
{
	(void)v, (void)err, (void)errlen;
	a->no_input = true;
	return 0;
}

static int args_set_transparent(struct args *a, const char *v, char *err,
				size_t errlen)
{
	(void)v, (void)err, (void)errlen;
	a->transparent = true;
	return 0;
}

/* A 32-bit number, decimal or 0x hex, not 0 */
static int args_u32(const char *opt, const char *v, uint32_t *out, char *err,
		    size_t errlen)
{
	unsigned long long n = 0;
	bool hex = v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
	const char *p = hex ? v + 2 : v;
	size_t k = 0;

	for (; p[k] && k < 11; k++) {
		int d = p[k] >= '0' && p[k] <= '9'	      ? p[k] - '0'
			: hex && p[k] >= 'a' && p[k] <= 'f' ? p[k] - 'a' + 10
			: hex && p[k] >= 'A' && p[k] <= 'F' ? p[k] - 'A' + 10
							    : -1;

		if (d < 0)
			break;
		n = n * (hex ? 16 : 10) + (unsigned)d;
	}
	if (!k || p[k] || !n || n > 0xffffffffULL)
		return snprintf(err, errlen, "bad %s \"%.20s\": a number from 1 "
				"to 0xffffffff", opt, v),
		       -1;
	*out = (uint32_t)n;
	return 0;
}

static int args_set_tp_mark(struct args *a, const char *v, char *err,
			    size_t errlen)
{
	a->have_tp = true;
	return args_u32("--transparent-mark", v, &a->tp.mark, err, errlen);
}

static int args_set_tp_table(struct args *a, const char *v, char *err,
			     size_t errlen)
{
	a->have_tp = true;
	if (args_u32("--transparent-table", v, &a->tp.table, err, errlen))
		return -1;
	if (!tproute_table_ok(a->tp.table))
		return snprintf(err, errlen, "--transparent-table %s is one of "
				"the kernel's own tables (252-255)", v),
		       -1;
	return 0;
}

static int args_set_json(struct args *a, const char *v, char *err,
			 size_t errlen)
{
	(void)v, (void)err, (void)errlen;
	a->json = true;
	return 0;
}

static int args_set_user(struct args *a, const char *v, char *err,
			 size_t errlen)
{
	if (!*v)
		return snprintf(err, errlen, "empty --user"), -1;
	a->user = v;
	return 0;
}

static int args_set_file(struct args *a, const char *v, char *err,
			 size_t errlen)
{
	if (!*v)
		return snprintf(err, errlen, "empty --publish-file"), -1;
	a->publish_file = v;
	return 0;
}

static const struct args_opt args_opts[] = {
	{ "--bridge",
	  ARGS_NET | ARGS_BIT(ARGS_DOWN) | ARGS_BIT(ARGS_STATUS), true,
	  args_set_bridge },
	{ "--uplink", ARGS_NET | ARGS_BIT(ARGS_DOWN), true, args_set_uplink },
	{ "--backend", ARGS_NET | ARGS_BIT(ARGS_DOWN), true, args_set_backend },
	{ "--subnet", ARGS_UPLIKE, true, args_set_subnet },
	{ "--publish", ARGS_NET, true, args_set_publish },
	{ "--ipv6", ARGS_NET, false, args_set_ipv6 },
	{ "--ipv6-routed", ARGS_NET, false, args_set_routed },
	{ "--no-input-rules", ARGS_NET, false, args_set_no_input },
	{ "--transparent", ARGS_NET, false, args_set_transparent },
	{ "--transparent-mark", ARGS_NET, true, args_set_tp_mark },
	{ "--transparent-table", ARGS_NET, true, args_set_tp_table },
	{ "--publish-file", ARGS_BIT(ARGS_WATCH), true, args_set_file },
	{ "--json", ARGS_BIT(ARGS_STATUS), false, args_set_json },
	{ "--user", ARGS_BIT(ARGS_EXEC), true, args_set_user },
};

/* The option at argv[*i], "--name value" or "--name=value" */
static int args_option(int argc, char *const argv[], int *i, struct args *a,
		       char *err, size_t errlen)
{
	const char *s = argv[*i], *eq = strchr(s, '='), *v = NULL;
	size_t n = eq ? (size_t)(eq - s) : strlen(s), k;
	const struct args_opt *o = NULL;

	for (k = 0; k < sizeof(args_opts) / sizeof(args_opts[0]); k++) {
		if (strlen(args_opts[k].name) == n &&
		    !strncmp(s, args_opts[k].name, n) &&
		    (args_opts[k].cmds & ARGS_BIT(a->cmd)))
			o = &args_opts[k];
	}
	if (!o)
		return snprintf(err, errlen, "unknown option \"%.*s\" for %s",
				(int)(n > 40 ? 40 : n), s,
				args_names[a->cmd]),
		       -1;
	if (!o->value && eq)
		return snprintf(err, errlen, "%s takes no value", o->name), -1;
	if (o->value) {
		if (eq)
			v = eq + 1;
		else if (*i + 1 < argc)
			v = argv[++*i];
		if (!v || !*v)
			return snprintf(err, errlen, "%s needs a value",
					o->name),
			       -1;
	}
	return o->set(a, v, err, errlen);
}

/* What each subcommand requires, once every option is read */
static int args_complete(const struct args *a, char *err, size_t errlen)
{
	if (a->cmd == ARGS_WATCH && (!a->npattern || !a->uplink))
		return snprintf(err, errlen, "watch needs --bridge PATTERN and "
				"--uplink"),
		       -1;
	if (a->cmd == ARGS_DOWN && !a->bridge)
		return snprintf(err, errlen, "down needs --bridge"), -1;
	if ((a->cmd == ARGS_UP || a->cmd == ARGS_CHECK) &&
	    (!a->bridge || !a->uplink))
		return snprintf(err, errlen, "--bridge and --uplink are "
				"required"),
		       -1;
	if (a->bridge && a->uplink && !strcmp(a->bridge, a->uplink))
		return snprintf(err, errlen, "--bridge and --uplink must "
				"differ"),
		       -1;
	if (a->have_subnet6 && !a->ipv6)
		return snprintf(err, errlen, "an IPv6 --subnet needs --ipv6"),
		       -1;
	if (a->have_subnet6 && a->ipv6_routed)
		return snprintf(err, errlen, "--ipv6-routed masquerades no "
				"IPv6: an IPv6 --subnet has no use"),
		       -1;
	if (a->have_tp && !a->transparent)
		return snprintf(err, errlen, "--transparent-mark and "
				"--transparent-table need --transparent"),
		       -1;
	if (a->no_input && (a->npublish || a->nwpub || a->publish_file))
		return snprintf(err, errlen, "--no-input-rules: --publish "
				"would have no effect (the admin's input "
				"rules decide)"),
		       -1;
	return 0;
}

/* "-h" or "--help" among a subcommand's arguments (before exec's --) */
static bool args_wants_help(int argc, char *const argv[], enum args_cmd cmd)
{
	int i;

	for (i = 2; i < argc; i++) {
		if (cmd == ARGS_EXEC && !strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	}
	return false;
}

/* Everything after the subcommand */
static int args_rest(int argc, char *const argv[], struct args *a, char *err,
		     size_t errlen)
{
	int i;

	for (i = 2; i < argc; i++) {
		const char *s = argv[i];

		if (a->cmd == ARGS_EXEC && !strcmp(s, "--")) {
			a->prog = &argv[i + 1];
			break;
		}
		if (s[0] == '-' && s[1]) {
			if (args_option(argc, argv, &i, a, err, errlen))
				return -1;
		} else if (a->cmd == ARGS_EXEC) {
			if (args_exec_spec(s, a, err, errlen))
				return -1;
		} else {
			return snprintf(err, errlen, "unexpected argument "
					"\"%.40s\" for %s", s,
					args_names[a->cmd]),
			       -1;
		}
	}
	if (a->cmd != ARGS_EXEC)
		return args_complete(a, err, errlen);
	if (!a->spec)
		return snprintf(err, errlen, "exec needs PROTO:HOSTIP:PORT"),
		       -1;
	if (!a->prog || !a->prog[0])
		return snprintf(err, errlen, "exec %s needs -- PROGRAM "
				"[ARGS...]", a->spec),
		       -1;
	return args_exec_prog(a, err, errlen);
}

/* "help [VERB]", "-h", "--help", "-v", "--version": Return: true if so */
static bool args_global(int argc, char *const argv[], struct args *a)
{
	const char *s = argv[1];

	if (!strcmp(s, "-v") || !strcmp(s, "--version")) {
		a->cmd = ARGS_VERSION;
		return true;
	}
	if (strcmp(s, "-h") && strcmp(s, "--help") && strcmp(s, "help"))
		return false;
	a->cmd = ARGS_HELP;
	a->help = ARGS_HELP;
	if (argc > 2 && !strcmp(s, "help") && args_cmd(argv[2], &a->help))
		a->help = ARGS_HELP;
	return true;
}

/**
 * args_parse() - parse strait-netsetup's argv
 * @argc:	argument count
 * @argv:	arguments
 * @a:		result (pointers into @argv); on failure @a->cmd still
 *		says which command's arguments were bad (ARGS_HELP: none)
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int args_parse(int argc, char *const argv[], struct args *a, char *err,
	       size_t errlen)
{
	enum args_cmd cmd;

	memset(a, 0, sizeof(*a));
	a->cmd = ARGS_HELP; /* until the command is known */
	a->user = "nobody";
	a->tp.mark = TPROUTE_MARK;
	a->tp.table = TPROUTE_TABLE;
	if (errlen)
		err[0] = '\0';
	if (argc < 2)
		return snprintf(err, errlen, "missing command (up, down, "
				"check, status, watch, exec)"),
		       -1;
	if (args_global(argc, argv, a))
		return 0;
	if (args_cmd(argv[1], &cmd))
		return snprintf(err, errlen, "unknown command \"%.32s\"",
				argv[1]),
		       -1;
	a->cmd = cmd;
	if (cmd == ARGS_VERSION)
		return 0;
	if (args_wants_help(argc, argv, cmd)) {
		a->help = cmd;
		a->cmd = ARGS_HELP;
		return 0;
	}
	return args_rest(argc, argv, a, err, errlen);
}
