// SPDX-License-Identifier: MIT
/*
 * isolation.c - the running proxy's sandbox: no uid 0, no files, few
 * syscalls
 *
 * Theory of operation
 *
 * By the time the proxy says "0\n" it has done everything that needs a
 * file, a privilege or a new kind of kernel object: the ports are bound
 * or adopted, the event base (epoll and its signal socketpair) exists and
 * the signals are watched. From then on it accepts, connects to the
 * container, moves bytes, keeps time and writes to stderr, and that is all
 * a compromised proxy should be able to do. The stages, in order (as
 * passt's isolation.c), each with what it must and must not do:
 *
 * 1. isolation_user(), before priv_drop(): whom to become. Root without
 *    -user (as dockerd starts us) becomes $STRAIT_USER, else nobody;
 *    where that uid is not mapped (a rootless dockerd's user namespace)
 *    the uid is kept and the log says why. Must read /etc/passwd and
 *    /proc/self/uid_map now: nothing can be opened later. Changes nothing.
 * 2. priv_drop() (priv.c): capabilities, ids, no_new_privs; proven.
 * 3. isolation_sandbox(), the last step before "0\n":
 *    a. isolation_preopen(): whatever the running proxy would open lazily
 *       is opened here, while it still can be;
 *    b. PR_SET_DUMPABLE 0: processes of the same uid cannot ptrace us or
 *       read our memory (dockerd, as root, still signals us);
 *    c. isolation_landlock(): every filesystem right handled and none
 *       granted (nothing can be opened, created or executed); with
 *       Landlock's TCP rules (ABI 4+) connect only to the container ports
 *       and bind to none (to any in transparent mode); with scopes
 *       (ABI 6+) no signal to, and no abstract unix socket of, a process
 *       outside the sandbox. A kernel without Landlock: logged at info,
 *       and the filter below still forbids every file syscall;
 *    d. isolation_seccomp(): an allowlist of the syscalls the running
 *       proxy makes, anything else kills the process (SIGSYS);
 *    e. each layer checked from the kernel's view: not dumpable, a
 *       directory cannot be opened, /proc/self/status says Seccomp 2.
 *    Must not fail open: an error ends the start-up (exit 1), except a
 *    kernel without Landlock. Must not break the event loop, splice, UDP,
 *    signals, stderr or the exit path (event_base_free() and
 *    libevent_global_shutdown() run under the filter too).
 *
 * Sanitizer and valgrind builds need files and syscalls of their own at
 * any time: there the sandbox is built out (make SANDBOX=0, implied by
 * SAN=...), which the start-up log says; no run-time switch exists, so no
 * parent process can turn it off.
 */
#include "isolation.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "log.h"

#ifndef STRAIT_NO_SANDBOX
#include <linux/landlock.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#endif

/**
 * isolation_id_mapped() - is @id inside one of the ranges of an id map
 * @map:	text of /proc/self/uid_map or gid_map: "inside outside count"
 *		lines
 * @id:		id as seen from inside the namespace
 *
 * Return: 1 if mapped, 0 if not (or @map has no range)
 */
int isolation_id_mapped(const char *map, uint32_t id)
{
	unsigned long inside, outside, count;
	const char *line = map;

	while (line && *line) {
		if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) ==
			    3 &&
		    id >= inside && id - inside < count)
			return 1;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return 0;
}

/* Return: 1 if @id is mapped in our user namespace (or no map to read) */
static int isolation_mapped(const char *path, uint32_t id)
{
	char map[1024];
	size_t n;
	FILE *f = fopen(path, "re");

	if (!f)
		return 1; /* no /proc: then trying is the only test */
	n = fread(map, 1, sizeof(map) - 1, f);
	fclose(f);
	map[n] = '\0';
	return isolation_id_mapped(map, id);
}

/* Who root without -user becomes: @env, else nobody (65534 if unlisted) */
static int isolation_default_user(const char *env, struct priv_user *u,
				  char *err, size_t errlen)
{
	if (env)
		return priv_lookup_user(env, u, err, errlen);
	if (priv_lookup_user("nobody", u, err, errlen)) {
		u->set = 1;
		u->uid = ISOLATION_NOBODY;
		u->gid = ISOLATION_NOBODY;
	}
	return 0;
}

/**
 * isolation_user() - the user the running proxy is to be
 * @opt:	-user, or NULL
 * @env:	$STRAIT_USER, or NULL (empty counts as unset)
 * @u:		result; @u->set is 0 where the ids are kept
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * -user always wins. Started as root without it, as dockerd starts us:
 * $STRAIT_USER, else nobody, unless that uid or gid is not mapped in our
 * user namespace (a rootless dockerd's), where we keep our ids and say so.
 * Not root: we keep our ids (there is nothing to switch with), but a
 * $STRAIT_USER naming no user is refused all the same, as it is an error
 * in every proxy dockerd starts.
 *
 * Return: 0, or -1 with @err set: a user that does not exist (usage)
 */
int isolation_user(const char *opt, const char *env, struct priv_user *u,
		   char *err, size_t errlen)
{
	char why[256];

	memset(u, 0, sizeof(*u));
	if (opt)
		return priv_lookup_user(opt, u, err, errlen);
	if (env && !*env)
		env = NULL;
	if (isolation_default_user(env, u, why, sizeof(why))) {
		snprintf(err, errlen, ISOLATION_ENV_USER "=%s: %s", env, why);
		return -1;
	}
	if (geteuid() != 0) {
		u->set = 0;
		return 0;
	}
	if (!isolation_mapped("/proc/self/uid_map", u->uid) ||
	    !isolation_mapped("/proc/self/gid_map", u->gid)) {
		log_info("uid %u / gid %u (%s) is not mapped in this user "
			 "namespace: keeping uid %u, without capabilities",
			 (unsigned)u->uid, (unsigned)u->gid,
			 env ? ISOLATION_ENV_USER : "nobody",
			 (unsigned)geteuid());
		u->set = 0;
	}
	return 0;
}

/**
 * isolation_preopen() - open now what the running proxy would open later
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Landlock and the seccomp filter forbid opening anything once they are
 * in force, so whatever the proxy uses lazily belongs here, opened after
 * the privilege drop and before the sandbox: a syslog socket (openlog()
 * with LOG_NDELAY; note that glibc's syslog() makes a new socket after a
 * send error, which the filter forbids), a statistics endpoint. What needs
 * privilege to open belongs before priv_drop() instead. Nothing is needed
 * today: libevent's epoll fd and signal socketpair are made with the
 * event base, and the UDP flow tables' key is read by udp_server_init().
 *
 * Return: 0, or -1 with @err set
 */
int isolation_preopen(char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return 0;
}

#ifdef STRAIT_NO_SANDBOX

/**
 * isolation_landlock() - Landlock is built out here (SANDBOX=0)
 * @net:	unused
 * @state:	set to ISOLATION_BUILT_OUT
 * @err:	unused
 * @errlen:	unused
 *
 * Return: 0
 */
int isolation_landlock(const struct isolation_net *net,
		       enum isolation_state *state, char *err, size_t errlen)
{
	(void)net;
	(void)err;
	(void)errlen;
	*state = ISOLATION_BUILT_OUT;
	return 0;
}

/**
 * isolation_seccomp() - the filter is built out here (SANDBOX=0)
 * @net:	unused
 * @state:	set to ISOLATION_BUILT_OUT
 * @err:	unused
 * @errlen:	unused
 *
 * Return: 0
 */
int isolation_seccomp(const struct isolation_net *net,
		      enum isolation_state *state, char *err, size_t errlen)
{
	(void)net;
	(void)err;
	(void)errlen;
	*state = ISOLATION_BUILT_OUT;
	return 0;
}

#else /* the sandbox */

/*
 * Landlock beyond Debian 12's linux-libc-dev (6.1, ABI 2): defined here,
 * each used only where the running kernel's ABI has it.
 */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0) /* ABI 4 */
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1) /* ABI 4 */
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0) /* ABI 6 */
#endif
#ifndef LANDLOCK_SCOPE_SIGNAL
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1) /* ABI 6 */
#endif
/* enum landlock_rule_type's LANDLOCK_RULE_NET_PORT (ABI 4) */
#define ISOLATION_RULE_NET_PORT 2

/* struct landlock_ruleset_attr as of ABI 6; shorter sizes for older ABIs */
struct isolation_ll_ruleset {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

/* struct landlock_net_port_attr (ABI 4) */
struct isolation_ll_port {
	uint64_t allowed_access;
	uint64_t port;
};

/* Every filesystem right the kernel's Landlock ABI @abi knows */
static uint64_t isolation_ll_fs(long abi)
{
	uint64_t fs = LANDLOCK_ACCESS_FS_MAKE_SYM * 2 - 1; /* ABI 1 */

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

/* The ruleset's attributes for @abi; Return: their size for that ABI */
static size_t isolation_ll_attr(long abi, const struct isolation_net *net,
				struct isolation_ll_ruleset *rs)
{
	memset(rs, 0, sizeof(*rs));
	rs->handled_access_fs = isolation_ll_fs(abi);
	if (abi < 4)
		return sizeof(rs->handled_access_fs);
	/* transparent mode binds to the client's port, which can be any */
	rs->handled_access_net = LANDLOCK_ACCESS_NET_CONNECT_TCP;
	if (!net->transparent)
		rs->handled_access_net |= LANDLOCK_ACCESS_NET_BIND_TCP;
	if (abi < 6)
		return offsetof(struct isolation_ll_ruleset, scoped);
	/* only what *we* send is scoped: dockerd still signals us */
	rs->scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET |
		     LANDLOCK_SCOPE_SIGNAL;
	return sizeof(*rs);
}

/* Return: 0, or -1 with errno: allow TCP connect to the container ports */
static int isolation_ll_ports(int rfd, const struct isolation_net *net)
{
	struct isolation_ll_port rule = { LANDLOCK_ACCESS_NET_CONNECT_TCP, 0 };
	uint32_t i;

	for (i = 0; i < net->tcp_nports; i++) {
		rule.port = (uint64_t)net->tcp_port + i;
		if (syscall(SYS_landlock_add_rule, rfd, ISOLATION_RULE_NET_PORT,
			    &rule, 0))
			return -1;
	}
	return 0;
}

/**
 * isolation_landlock() - no file, and TCP only towards the container
 * @net:	container ports a TCP proxy connects to (none for UDP)
 * @state:	ISOLATION_APPLIED, or ISOLATION_NO_KERNEL (logged at info)
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Needs no_new_privs (priv_drop() sets it) or CAP_SYS_ADMIN.
 *
 * Return: 0, or -1 with @err set
 */
int isolation_landlock(const struct isolation_net *net,
		       enum isolation_state *state, char *err, size_t errlen)
{
	struct isolation_ll_ruleset rs;
	long abi;
	size_t len;
	int rfd;

	*state = ISOLATION_NO_KERNEL;
	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
		      LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 0 && (errno == ENOSYS || errno == EOPNOTSUPP)) {
		log_info("Landlock: %s: no Landlock ruleset (the seccomp "
			 "filter still forbids opening files)",
			 errno == ENOSYS ? "not in this kernel"
					 : "disabled at boot");
		return 0;
	}
	len = isolation_ll_attr(abi, net, &rs);
	rfd = abi < 1 ? -1
		      : (int)syscall(SYS_landlock_create_ruleset, &rs, len, 0);
	if (rfd < 0) {
		snprintf(err, errlen, "Landlock (ABI %ld): create ruleset: %s",
			 abi, strerror(errno));
		return -1;
	}
	if ((abi >= 4 && isolation_ll_ports(rfd, net)) ||
	    syscall(SYS_landlock_restrict_self, rfd, 0)) {
		snprintf(err, errlen, "Landlock (ABI %ld): %s", abi,
			 strerror(errno));
		close(rfd);
		return -1;
	}
	close(rfd);
	*state = ISOLATION_APPLIED;
	log_debug("Landlock ABI %ld: no file%s", abi,
		  abi >= 4 ? ", TCP connect to the container ports only" : "");
	return 0;
}

/**
 * struct isolation_allow - one allowed syscall, optionally by argument
 * @nr:		syscall (SCMP_SYS())
 * @ncmp:	comparisons in @cmp, all of which must hold
 * @cmp:	argument comparisons
 */
struct isolation_allow {
	int nr;
	unsigned int ncmp;
	struct scmp_arg_cmp cmp[3];
};

#define ISO_ANY(name) { SCMP_SYS(name), 0, { { 0, 0, 0, 0 } } }
#define ISO_EQ(arg, v) { (arg), SCMP_CMP_EQ, (scmp_datum_t)(v), 0 }
#define ISO_MASKED(arg, mask, v)                                              \
	{ (arg), SCMP_CMP_MASKED_EQ, (scmp_datum_t)(mask), (scmp_datum_t)(v) }
/* socket(2)'s type without the flags we set, compared on 32 bits */
#define ISO_SOCK_TYPE(t)                                                      \
	ISO_MASKED(1, 0xffffffffU & ~(unsigned)(SOCK_NONBLOCK | SOCK_CLOEXEC), \
		   (t))
#define ISO_SOCKET(domain, type)                                              \
	{ SCMP_SYS(socket), 3,                                                \
	  { ISO_EQ(0, domain), ISO_SOCK_TYPE(type), ISO_EQ(2, 0) } }
#define ISO_ONE(name, cmp0) { SCMP_SYS(name), 1, { cmp0 } }
/* setsockopt() of one option: no other (SO_MARK, which CAP_NET_RAW would
 * allow a transparent proxy, among them) */
#define ISO_SOCKOPT(level, name)                                              \
	{ SCMP_SYS(setsockopt), 2, { ISO_EQ(1, level), ISO_EQ(2, name) } }

/*
 * What the running proxy calls, measured with strace -f over the whole
 * black-box suite (TCP and UDP, splice and -no-splice, the EMFILE pause,
 * signals and the exit path), grouped by who needs it. Anything else
 * kills the process. A new call in the running proxy needs a line here,
 * and its test under the black-box suite (which runs with the filter on).
 */
static const struct isolation_allow isolation_allowed[] = {
	/* libevent's epoll backend; the vDSO's fallbacks for its clock */
	ISO_ANY(epoll_wait), ISO_ANY(epoll_pwait), ISO_ANY(epoll_ctl),
	ISO_ANY(clock_gettime), ISO_ANY(gettimeofday),
	/* signals: libevent's handler writes to its socketpair, the loop
	 * reads it; event_free() of a signal event puts the old handler
	 * back (exit path); a syscall cut by a signal restarts */
	ISO_ANY(rt_sigreturn), ISO_ANY(rt_sigaction), ISO_ANY(restart_syscall),
	ISO_ANY(read), ISO_ANY(write), ISO_ANY(recvfrom), ISO_ANY(sendto),
	/* ready.c, after the sandbox: "0\n" on fd 3, made non-blocking, a
	 * bounded wait with SIGINT and SIGTERM held back and looked for */
	ISO_ONE(fcntl, ISO_EQ(1, F_GETFL)), ISO_ONE(fcntl, ISO_EQ(1, F_SETFL)),
	ISO_ANY(rt_sigprocmask), ISO_ANY(rt_sigpending), ISO_ANY(poll),
	ISO_ANY(ppoll),
	/* log.c: one write or send per line, if poll says it fits; it
	 * looks at what stderr is (fstat) on its first line */
	ISO_ANY(writev), ISO_ANY(fstat),
	ISO_ONE(newfstatat, ISO_EQ(3, AT_EMPTY_PATH)),
	/* tcp_server: accept, one socket per client towards the container
	 * (IPv4 or IPv6, nothing else), its options, PROXY header address */
	ISO_ANY(accept4), ISO_SOCKET(AF_INET, SOCK_STREAM),
	ISO_SOCKET(AF_INET6, SOCK_STREAM), ISO_ANY(connect),
	ISO_SOCKOPT(SOL_SOCKET, SO_KEEPALIVE),
	ISO_SOCKOPT(SOL_SOCKET, SO_OOBINLINE),
	ISO_SOCKOPT(SOL_SOCKET, SO_LINGER),
	ISO_ONE(setsockopt, ISO_EQ(1, IPPROTO_TCP)),
	ISO_ANY(getsockname), ISO_ANY(getsockopt),
	/* tcp_relay: copy or splice through a pipe per direction, half-close
	 * and reset; a new relay's first bytes, after the PROXY header, in
	 * one sendmsg() */
	ISO_ANY(sendmsg), ISO_ANY(splice), ISO_ANY(pipe2), ISO_ANY(shutdown),
	ISO_ANY(close),
	ISO_ONE(fcntl, ISO_EQ(1, F_SETPIPE_SZ)),
	ISO_ONE(fcntl, ISO_EQ(1, F_GETPIPE_SZ)),
	/* udp_server: a connected socket per flow, batched datagrams */
	ISO_SOCKET(AF_INET, SOCK_DGRAM), ISO_SOCKET(AF_INET6, SOCK_DGRAM),
	ISO_ANY(recvmmsg), ISO_ANY(sendmmsg),
	/* malloc and free; never a mapping that can be executed */
	ISO_ANY(brk), ISO_ONE(mmap, ISO_MASKED(2, PROT_EXEC, 0)),
	ISO_ONE(mprotect, ISO_MASKED(2, PROT_EXEC, 0)), ISO_ANY(munmap),
	ISO_ANY(mremap), ISO_ANY(madvise),
	/* abort() (a failed check in libevent or _FORTIFY_SOURCE) sends
	 * itself SIGABRT, which names the cause better than SIGSYS: tgkill
	 * is added by isolation_seccomp_rules(), for our own pid only */
	ISO_ANY(getpid), ISO_ANY(gettid),
	/* the end */
	ISO_ANY(exit_group), ISO_ANY(exit),
};

#define ISOLATION_NALLOWED                                                    \
	(sizeof(isolation_allowed) / sizeof(isolation_allowed[0]))

/* transparent.c: the socket towards the container gets IP_TRANSPARENT
 * (or IPV6_TRANSPARENT) and is bound to the client's address and port */
static const struct isolation_allow isolation_transparent[] = {
	{ SCMP_SYS(setsockopt), 2,
	  { ISO_EQ(1, IPPROTO_IP), ISO_EQ(2, IP_TRANSPARENT) } },
	{ SCMP_SYS(setsockopt), 2,
	  { ISO_EQ(1, IPPROTO_IPV6), ISO_EQ(2, IPV6_TRANSPARENT) } },
	ISO_ANY(bind),
};

#define ISOLATION_NTRANSPARENT                                                \
	(sizeof(isolation_transparent) / sizeof(isolation_transparent[0]))

/* Return: 0, or a negative errno from libseccomp */
static int isolation_seccomp_add(scmp_filter_ctx ctx,
				 const struct isolation_allow *a, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, a[i].nr,
					    a[i].ncmp, a[i].cmp);
		/* a syscall this architecture does not have (epoll_wait
		 * on arm64): nothing to allow */
		if (rc && !(a[i].nr < 0 && rc == -EDOM))
			return rc;
	}
	return 0;
}

/* Return: 0, or a negative errno from libseccomp */
static int isolation_seccomp_rules(scmp_filter_ctx ctx,
				   const struct isolation_net *net)
{
	int rc = isolation_seccomp_add(ctx, isolation_allowed,
				       ISOLATION_NALLOWED);

	if (!rc && net->transparent)
		rc = isolation_seccomp_add(ctx, isolation_transparent,
					   ISOLATION_NTRANSPARENT);
	if (rc)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
}

/**
 * isolation_seccomp() - from now on, only the syscalls listed above
 * @net:	transparent mode adds its own
 * @state:	set to ISOLATION_APPLIED on success
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Anything else kills the process (SIGSYS), as does a syscall of another
 * architecture's ABI. Sets no_new_privs if it is not set yet.
 *
 * Return: 0, or -1 with @err set
 */
int isolation_seccomp(const struct isolation_net *net,
		      enum isolation_state *state, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = -ENOMEM;

	if (ctx) {
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
				      SCMP_ACT_KILL_PROCESS);
		/* a binary tree over syscall numbers, not a linear list:
		 * the filter runs on every syscall the kernel's cache of
		 * always-allowed ones does not cover (those with argument
		 * checks); a libseccomp without it keeps the list */
		seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
		if (!rc)
			rc = isolation_seccomp_rules(ctx, net);
		if (!rc)
			rc = seccomp_load(ctx);
		seccomp_release(ctx);
	}
	if (rc) {
		snprintf(err, errlen, "seccomp filter: %s", strerror(-rc));
		return -1;
	}
	*state = ISOLATION_APPLIED;
	return 0;
}

#endif /* STRAIT_NO_SANDBOX */

/* Return: 0 if /proc/self/status, first read through @fd now, has
 * "@key:\t@want" */
static int isolation_status_says(int fd, const char *key, const char *want)
{
	char buf[4096], line[64];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	snprintf(line, sizeof(line), "\n%s:\t%s\n", key, want);
	return strstr(buf, line) ? 0 : -1;
}

/* Return: 0 if Landlock holds (where applied): a directory cannot be read */
static int isolation_verify_landlock(enum isolation_state ll, char *err,
				     size_t errlen)
{
	int fd;

	if (ll != ISOLATION_APPLIED)
		return 0;
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == EACCES)
		return 0;
	if (fd >= 0)
		close(fd);
	snprintf(err, errlen, "sandbox: Landlock did not hold");
	return -1;
}

/* Return: 0 if the filter (where applied) is what the kernel reports */
static int isolation_verify_seccomp(int status_fd, enum isolation_state sc,
				    char *err, size_t errlen)
{
	if (sc != ISOLATION_APPLIED ||
	    !isolation_status_says(status_fd, "Seccomp", "2"))
		return 0;
	snprintf(err, errlen, "sandbox: /proc/self/status: no seccomp filter");
	return -1;
}

/* Not dumpable, Landlock, the filter, each checked; Return: 0 or -1 */
static int isolation_layers(int status_fd, const struct isolation_net *net,
			    enum isolation_state *sc, char *err,
			    size_t errlen)
{
	enum isolation_state ll;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
		snprintf(err, errlen, "sandbox: PR_SET_DUMPABLE: %s",
			 strerror(errno));
		return -1;
	}
	if (isolation_landlock(net, &ll, err, errlen) ||
	    isolation_verify_landlock(ll, err, errlen) ||
	    isolation_seccomp(net, sc, err, errlen))
		return -1;
	return isolation_verify_seccomp(status_fd, *sc, err, errlen);
}

/**
 * isolation_sandbox() - the proxy's last step before "0\n"
 * @net:	what the proxy does on the network
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Pre-opens what is needed later, then: not dumpable, Landlock, the
 * seccomp filter, each checked (see the theory of operation above).
 *
 * Return: 0, or -1 with @err set (the proxy must not run)
 */
int isolation_sandbox(const struct isolation_net *net, char *err,
		      size_t errlen)
{
	enum isolation_state sc = ISOLATION_BUILT_OUT;
	int sfd, rc;

	if (isolation_preopen(err, errlen))
		return -1;
	/* opened now, read once the filter is in force */
	sfd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (sfd < 0) {
		snprintf(err, errlen, "sandbox: /proc/self/status: %s",
			 strerror(errno));
		return -1;
	}
	rc = isolation_layers(sfd, net, &sc, err, errlen);
	close(sfd);
	if (!rc && sc == ISOLATION_BUILT_OUT)
		log_info("sandbox built out (SANDBOX=0 build, for sanitizers "
			 "and valgrind): no Landlock, no seccomp filter");
	return rc;
}
