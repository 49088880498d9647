// SPDX-License-Identifier: MIT
/*
 * seccomp_rules.c - the running proxy's syscall allowlist, as libseccomp
 * rules, and the filter built from them
 *
 * Built at build time, not at every start: the generator (seccomp_gen.c)
 * runs seccomp_rules_program() and writes the BPF program as a C header
 * that isolation.c loads with seccomp(2). libseccomp's work (seccomp_init
 * probing the kernel, adding the rules, the binary tree, the export) cost
 * every proxy about 0.9 ms and 70 kB of heap, times two proxies per
 * published port. The one value known only at run time, our pid (tgkill's
 * first argument), is patched in by isolation.c where the generator found
 * it. test_seccomp_rules.c builds the filter here again for its own pid
 * and checks that it is, byte for byte, what the proxy would load.
 */
#include "seccomp_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/**
 * struct seccomp_rules_allow - one allowed syscall, optionally by argument
 * @nr:		syscall (SCMP_SYS())
 * @ncmp:	comparisons in @cmp, all of which must hold
 * @cmp:	argument comparisons
 */
struct seccomp_rules_allow {
	int nr;
	unsigned int ncmp;
	struct scmp_arg_cmp cmp[3];
};

#define RULE_ANY(name) { SCMP_SYS(name), 0, { { 0, 0, 0, 0 } } }
#define RULE_EQ(arg, v) { (arg), SCMP_CMP_EQ, (scmp_datum_t)(v), 0 }
#define RULE_MASKED(arg, mask, v)                                             \
	{ (arg), SCMP_CMP_MASKED_EQ, (scmp_datum_t)(mask), (scmp_datum_t)(v) }
/* socket(2)'s type without the flags we set, compared on 32 bits */
#define RULE_SOCK_TYPE(t)                                                     \
	RULE_MASKED(1,                                                        \
		    0xffffffffU & ~(unsigned)(SOCK_NONBLOCK | SOCK_CLOEXEC),  \
		    (t))
#define RULE_SOCKET(domain, type)                                             \
	{ SCMP_SYS(socket), 3,                                                \
	  { RULE_EQ(0, domain), RULE_SOCK_TYPE(type), RULE_EQ(2, 0) } }
#define RULE_ONE(name, cmp0) { SCMP_SYS(name), 1, { cmp0 } }
/* setsockopt() of one option: no other (SO_MARK, which CAP_NET_RAW would
 * allow a transparent proxy, among them) */
#define RULE_SOCKOPT(level, name)                                             \
	{ SCMP_SYS(setsockopt), 2, { RULE_EQ(1, level), RULE_EQ(2, name) } }

/*
 * What the running proxy calls, measured with strace -f over the whole
 * black-box suite (TCP and UDP, splice and -no-splice, the EMFILE pause,
 * signals and the exit path), grouped by who needs it. Anything else
 * kills the process. A new call in the running proxy needs a line here,
 * and its test under the black-box suite (which runs with the filter on).
 */
static const struct seccomp_rules_allow seccomp_rules_allowed[] = {
	/* libevent's epoll backend; the vDSO's fallbacks for its clock */
	RULE_ANY(epoll_wait), RULE_ANY(epoll_pwait), RULE_ANY(epoll_ctl),
	RULE_ANY(clock_gettime), RULE_ANY(gettimeofday),
	/* signals: libevent's handler writes to its socketpair, the loop
	 * reads it; event_free() of a signal event puts the old handler
	 * back (exit path); a syscall cut by a signal restarts */
	RULE_ANY(rt_sigreturn), RULE_ANY(rt_sigaction),
	RULE_ANY(restart_syscall),
	RULE_ANY(read), RULE_ANY(write), RULE_ANY(recvfrom), RULE_ANY(sendto),
	/* ready.c, after the sandbox: "0\n" on fd 3, made non-blocking, a
	 * bounded wait with SIGINT and SIGTERM held back and looked for */
	RULE_ONE(fcntl, RULE_EQ(1, F_GETFL)),
	RULE_ONE(fcntl, RULE_EQ(1, F_SETFL)),
	RULE_ANY(rt_sigprocmask), RULE_ANY(rt_sigpending), RULE_ANY(poll),
	RULE_ANY(ppoll),
	/* log.c: one write or send per line, if poll says it fits; it
	 * looks at what stderr is (fstat) on its first line */
	RULE_ANY(writev), RULE_ANY(fstat),
	RULE_ONE(newfstatat, RULE_EQ(3, AT_EMPTY_PATH)),
	/* tcp_server: accept, one socket per client towards the container
	 * (IPv4 or IPv6, nothing else), its options, PROXY header address */
	RULE_ANY(accept4), RULE_SOCKET(AF_INET, SOCK_STREAM),
	RULE_SOCKET(AF_INET6, SOCK_STREAM), RULE_ANY(connect),
	RULE_SOCKOPT(SOL_SOCKET, SO_KEEPALIVE),
	RULE_SOCKOPT(SOL_SOCKET, SO_OOBINLINE),
	RULE_SOCKOPT(SOL_SOCKET, SO_LINGER),
	RULE_ONE(setsockopt, RULE_EQ(1, IPPROTO_TCP)),
	RULE_ANY(getsockname), RULE_ANY(getsockopt),
	/* tcp_relay, tcp_dir: copy or splice through a pipe per direction,
	 * half-close and reset; a new relay's first bytes, after the PROXY
	 * header, in one sendmsg() */
	RULE_ANY(sendmsg), RULE_ANY(splice), RULE_ANY(pipe2),
	RULE_ANY(shutdown), RULE_ANY(close),
	RULE_ONE(fcntl, RULE_EQ(1, F_SETPIPE_SZ)),
	RULE_ONE(fcntl, RULE_EQ(1, F_GETPIPE_SZ)),
	/* udp_server: a connected socket per flow, batched datagrams */
	RULE_SOCKET(AF_INET, SOCK_DGRAM), RULE_SOCKET(AF_INET6, SOCK_DGRAM),
	RULE_ANY(recvmmsg), RULE_ANY(sendmmsg),
	/* malloc and free; never a mapping that can be executed */
	RULE_ANY(brk), RULE_ONE(mmap, RULE_MASKED(2, PROT_EXEC, 0)),
	RULE_ONE(mprotect, RULE_MASKED(2, PROT_EXEC, 0)), RULE_ANY(munmap),
	RULE_ANY(mremap), RULE_ANY(madvise),
	/* abort() (a failed check in libevent or _FORTIFY_SOURCE) sends
	 * itself SIGABRT, which names the cause better than SIGSYS: tgkill
	 * is added by seccomp_rules_filter(), for our own pid only */
	RULE_ANY(getpid), RULE_ANY(gettid),
	/* the end */
	RULE_ANY(exit_group), RULE_ANY(exit),
};

/* transparent.c: the socket towards the container gets IP_TRANSPARENT
 * (or IPV6_TRANSPARENT) and is bound to the client's address and port */
static const struct seccomp_rules_allow seccomp_rules_transparent[] = {
	{ SCMP_SYS(setsockopt), 2,
	  { RULE_EQ(1, IPPROTO_IP), RULE_EQ(2, IP_TRANSPARENT) } },
	{ SCMP_SYS(setsockopt), 2,
	  { RULE_EQ(1, IPPROTO_IPV6), RULE_EQ(2, IPV6_TRANSPARENT) } },
	RULE_ANY(bind),
};

#define SECCOMP_RULES_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Return: 0, or a negative errno from libseccomp */
static int seccomp_rules_add(scmp_filter_ctx ctx,
			     const struct seccomp_rules_allow *a, size_t n)
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
static int seccomp_rules_filter(scmp_filter_ctx ctx, bool transparent,
				uint32_t pid)
{
	int rc = seccomp_rules_add(ctx, seccomp_rules_allowed,
				   SECCOMP_RULES_NELEM(seccomp_rules_allowed));

	if (!rc && transparent)
		rc = seccomp_rules_add(
			ctx, seccomp_rules_transparent,
			SECCOMP_RULES_NELEM(seccomp_rules_transparent));
	if (rc)
		return rc;
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
				SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)pid));
}

/* Return: 0, or a negative errno from libseccomp: the filter into @fd */
static int seccomp_rules_export(bool transparent, uint32_t pid, int fd)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc;

	if (!ctx)
		return -ENOMEM;
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
			      SCMP_ACT_KILL_PROCESS);
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	if (!rc)
		rc = seccomp_rules_filter(ctx, transparent, pid);
	if (!rc)
		rc = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	return rc;
}

/**
 * seccomp_rules_program() - the proxy's filter, as a BPF program
 * @transparent:	with transparent mode's own calls
 * @pid:		the only pid tgkill may signal (the proxy's own)
 * @buf:		the program goes here (in this machine's byte order)
 * @cap:		room in @buf, in instructions
 *
 * Anything not listed kills the process (SIGSYS), as does a syscall of
 * another architecture's ABI; the rules are a binary tree over syscall
 * numbers, not a linear list: the filter runs on every syscall the
 * kernel's cache of always-allowed ones does not cover (those with
 * argument checks). A libseccomp without the tree keeps the list.
 * seccomp_load()'s defaults, which isolation.c copies: no_new_privs set
 * first, no flag (no TSYNC, LOG or SPEC_ALLOW). libseccomp exports to an
 * fd only: a memfd, read back.
 *
 * Return: instructions in @buf, or a negative errno (EFBIG: @cap too
 * small, EIO: not a whole program)
 */
long seccomp_rules_program(bool transparent, uint32_t pid,
			   struct sock_filter *buf, size_t cap)
{
	int fd = memfd_create("seccomp_rules", MFD_CLOEXEC);
	struct stat st;
	long rc;

	if (fd < 0)
		return -errno;
	rc = seccomp_rules_export(transparent, pid, fd);
	if (!rc && fstat(fd, &st))
		rc = -errno;
	if (!rc && (st.st_size <= 0 || st.st_size % sizeof(*buf)))
		rc = -EIO;
	if (!rc && (size_t)st.st_size > cap * sizeof(*buf))
		rc = -EFBIG;
	if (!rc && pread(fd, buf, (size_t)st.st_size, 0) != st.st_size)
		rc = -EIO;
	close(fd);
	return rc ? rc : (long)((size_t)st.st_size / sizeof(*buf));
}
