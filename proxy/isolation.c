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
 *       proxy makes (seccomp_rules.c), anything else kills the process
 *       (SIGSYS). The BPF program is built once, at build time, by
 *       seccomp_gen.c with libseccomp; here it is only copied, given our
 *       pid and loaded with seccomp(2), with no libseccomp at run time;
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
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
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
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 1; /* no /proc: then trying is the only test */
	n = read(fd, map, sizeof(map) - 1);
	close(fd);
	map[n > 0 ? n : 0] = '\0';
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

/* The filter, built at build time from seccomp_rules.c (seccomp_gen.c) */
#include "seccomp_bpf.h"

/**
 * struct isolation_bpf - one precompiled filter
 * @insn:	the program, with SECCOMP_BPF_SENTINEL for our pid
 * @len:	instructions in @insn
 * @pid_at:	indices in @insn whose k is to be our pid
 * @npid:	entries in @pid_at
 */
struct isolation_bpf {
	const struct sock_filter *insn;
	size_t len;
	const unsigned short *pid_at;
	size_t npid;
};

#define ISOLATION_NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ISOLATION_BPF(v)                                                      \
	{ seccomp_bpf_##v, ISOLATION_NELEM(seccomp_bpf_##v),                  \
	  seccomp_bpf_##v##_pid, ISOLATION_NELEM(seccomp_bpf_##v##_pid) }

/* [0]: plain, [1]: transparent mode (IP_TRANSPARENT, bind) */
static const struct isolation_bpf isolation_bpf[2] = {
	ISOLATION_BPF(plain),
	ISOLATION_BPF(transparent),
};

/**
 * isolation_seccomp_prog() - the filter the proxy loads, for @pid
 * @transparent:	transparent mode's variant
 * @pid:		the only pid tgkill may signal
 * @buf:		the program goes here
 * @cap:		room in @buf, in instructions
 *
 * The precompiled program, with @pid where the generator found tgkill's
 * comparison. The sentinel is checked there first: a header that does not
 * match its indices is refused rather than loaded wrong.
 *
 * Return: instructions in @buf, or 0 (too small, or not patchable)
 */
size_t isolation_seccomp_prog(bool transparent, uint32_t pid,
			      struct sock_filter *buf, size_t cap)
{
	const struct isolation_bpf *b = &isolation_bpf[transparent ? 1 : 0];
	size_t i, at;

	if (b->len > cap)
		return 0;
	memcpy(buf, b->insn, b->len * sizeof(*buf));
	for (i = 0; i < b->npid; i++) {
		at = b->pid_at[i];
		if (at >= b->len || buf[at].k != SECCOMP_BPF_SENTINEL)
			return 0;
		buf[at].k = pid;
	}
	return b->len;
}

/**
 * isolation_seccomp() - from now on, only the syscalls seccomp_rules.c lists
 * @net:	transparent mode adds its own
 * @state:	set to ISOLATION_APPLIED on success
 * @err:	message on failure
 * @errlen:	size of @err
 *
 * Anything else kills the process (SIGSYS), as does a syscall of another
 * architecture's ABI. Loaded as libseccomp's seccomp_load() does by
 * default (no_new_privs set first, no flag), but with the program built
 * at build time: no libseccomp, no heap.
 *
 * Return: 0, or -1 with @err set
 */
int isolation_seccomp(const struct isolation_net *net,
		      enum isolation_state *state, char *err, size_t errlen)
{
	struct sock_filter insn[SECCOMP_BPF_MAXLEN];
	struct sock_fprog prog = { 0, insn };
	size_t len = isolation_seccomp_prog(net->transparent,
					    (uint32_t)getpid(), insn,
					    ISOLATION_NELEM(insn));
	long rc;

	if (!len) {
		snprintf(err, errlen, "seccomp filter: the built-in program "
			 "does not match its pid index (a stale build?)");
		return -1;
	}
	prog.len = (unsigned short)len;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "seccomp filter: PR_SET_NO_NEW_PRIVS: %s",
			 strerror(errno));
		return -1;
	}
	rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
	/* a kernel before 3.17 has only the prctl (libseccomp's fallback) */
	if (rc && errno == ENOSYS)
		rc = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
	if (rc) {
		snprintf(err, errlen, "seccomp filter: %s", strerror(errno));
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
