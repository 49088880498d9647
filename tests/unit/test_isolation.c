// SPDX-License-Identifier: MIT
/*
 * test_isolation.c - the sandbox, applied in forked children: Landlock
 * keeps files out and TCP to the container's ports, the seccomp filter
 * kills on a syscall it does not list; the uid choice
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef STRAIT_NO_SANDBOX
#include <seccomp.h>
#endif

#include "isolation.h"
#include "log.h"

/* Exit codes of a child: which check failed */
enum { OK = 0, E_SETUP = 10, E_OPEN, E_MKDIR, E_EXEC, E_CONNECT_OK,
       E_CONNECT_NO, E_BIND, E_ALLOWED, E_FILTER };

typedef int (*child_fn)(const void *arg);

/* The sandbox is compiled out (SANDBOX=0, sanitizer builds): nothing to
 * prove here, and cmocka reports the tests as skipped */
static void skip_if_built_out(void)
{
#ifdef STRAIT_NO_SANDBOX
	skip();
#endif
}

/* Run @fn in a child (no core file); Return: its wait status */
static int in_child(child_fn fn, const void *arg)
{
	struct rlimit no_core = { 0, 0 };
	int status = -1;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &no_core);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			_exit(E_SETUP);
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_exit(int status, int code)
{
	if (!WIFEXITED(status))
		fail_msg("child killed by signal %d", WTERMSIG(status));
	assert_int_equal(WEXITSTATUS(status), code);
}

/* Landlock in force in this process, or a cmocka skip for the caller */
static int landlock_state(void)
{
	static int state = -1;
	struct isolation_net net = { 1, 1, false };
	enum isolation_state st;
	char err[256];
	int status;
	pid_t pid;

	if (state >= 0)
		return state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		_exit(isolation_landlock(&net, &st, err, sizeof(err)) ? 99
								      : st);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 99);
	state = WEXITSTATUS(status);
	return state;
}

/* ---- Landlock ---------------------------------------------------------- */

static int child_no_files(const void *arg)
{
	static char arg0[] = "true";
	char *const argv[] = { arg0, NULL };
	enum isolation_state st;
	char err[256];

	if (isolation_landlock(arg, &st, err, sizeof(err)) ||
	    st != ISOLATION_APPLIED)
		return E_SETUP;
	if (open("/etc/hostname", O_RDONLY | O_CLOEXEC) >= 0 ||
	    errno != EACCES)
		return E_OPEN;
	if (mkdir("/tmp/strait-test-isolation", 0700) == 0 || errno != EACCES)
		return E_MKDIR;
	execv("/bin/true", argv);
	return errno == EACCES ? OK : E_EXEC;
}

/* No file can be read, no directory made, nothing executed */
static void test_landlock_no_files(void **state)
{
	struct isolation_net net = { 1, 1, false };

	(void)state;
	if (landlock_state() != ISOLATION_APPLIED)
		skip();
	/* the file is there, and readable without the sandbox */
	assert_int_equal(access("/etc/hostname", R_OK), 0);
	assert_exit(in_child(child_no_files, &net), OK);
	net.transparent = true;
	assert_exit(in_child(child_no_files, &net), OK);
}

static int tcp_listener(uint16_t *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Return: 0 if a TCP connect to 127.0.0.1:@port works, else errno */
static int tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return errno;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons(port);
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ? errno : 0;
	close(fd);
	return rc;
}

struct ports {
	struct isolation_net allow;
	uint16_t yes, no;
};

static int child_tcp(const void *arg)
{
	const struct ports *p = arg;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	enum isolation_state st;
	char err[256];
	int fd;

	if (isolation_landlock(&p->allow, &st, err, sizeof(err)))
		return E_SETUP;
	if (p->allow.tcp_nports && tcp_connect(p->yes) != 0)
		return E_CONNECT_OK;
	if (tcp_connect(p->no) != EACCES)
		return E_CONNECT_NO;
	/* bind: to none, or (transparent) to any port */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return E_BIND;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) !=
	    (p->allow.transparent ? 0 : -1))
		return E_BIND;
	if (!p->allow.transparent && errno != EACCES)
		return E_BIND;
	close(fd);
	return OK;
}

static long landlock_abi(void)
{
	return syscall(SYS_landlock_create_ruleset, NULL, 0, 1U);
}

/*
 * TCP connect only to the container's ports (a listener on another port
 * is refused by Landlock, EACCES, not by the peer); bind to none. A UDP
 * proxy (no port listed) connects nowhere over TCP.
 */
static void test_landlock_tcp(void **state)
{
	struct ports p;
	int a, b;

	(void)state;
	if (landlock_state() != ISOLATION_APPLIED || landlock_abi() < 4)
		skip();
	a = tcp_listener(&p.yes);
	b = tcp_listener(&p.no);
	/* both reachable without the sandbox */
	assert_int_equal(tcp_connect(p.yes), 0);
	assert_int_equal(tcp_connect(p.no), 0);
	p.allow = (struct isolation_net){ p.yes, 1, false };
	assert_exit(in_child(child_tcp, &p), OK);
	/* transparent mode: the same connects, and bind to any port */
	p.allow.transparent = true;
	assert_exit(in_child(child_tcp, &p), OK);
	/* a range: the second port of it is allowed too */
	p.allow = (struct isolation_net){ (uint16_t)(p.yes - 1), 2, false };
	if (p.no != p.yes - 1)
		assert_exit(in_child(child_tcp, &p), OK);
	/* a UDP proxy: no TCP port at all */
	p.allow = (struct isolation_net){ p.yes, 0, false };
	p.no = p.yes;
	assert_exit(in_child(child_tcp, &p), OK);
	close(a);
	close(b);
}

#ifndef STRAIT_NO_SANDBOX
/* Landlock's syscalls answer @err, as on a kernel without it (ENOSYS) or
 * with it disabled at boot (EOPNOTSUPP): the proxy goes on without it */
static int child_no_landlock(const void *arg)
{
	int err = *(const int *)arg;
	struct isolation_net net = { 1, 1, false };
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	enum isolation_state st = ISOLATION_APPLIED;
	char msg[256];

	if (!ctx ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO((unsigned)err),
			     SCMP_SYS(landlock_create_ruleset), 0) ||
	    seccomp_load(ctx))
		return E_SETUP;
	seccomp_release(ctx);
	if (isolation_landlock(&net, &st, msg, sizeof(msg)) ||
	    st != ISOLATION_NO_KERNEL)
		return E_ALLOWED;
	/* and files are still there: nothing was applied */
	return access("/etc/hostname", R_OK) ? E_OPEN : OK;
}
#endif

static void test_landlock_missing(void **state)
{
	(void)state;
	skip_if_built_out();
#ifndef STRAIT_NO_SANDBOX
	{
		const int errs[] = { ENOSYS, EOPNOTSUPP };
		size_t i;

		for (i = 0; i < 2; i++)
			assert_exit(in_child(child_no_landlock, &errs[i]), OK);
	}
#endif
}

/* ---- seccomp ----------------------------------------------------------- */

/* Which forbidden thing a child tries under the filter */
enum forbidden {
	F_OPENAT, F_PACKET, F_UNIX, F_RAW, F_EXECVE, F_MMAP_EXEC, F_PTRACE,
	F_SETSOCKOPT_IP, F_BIND, F_KILL_OTHER, F_TGKILL_OTHER, F_COUNT
};

static int child_forbidden(const void *arg)
{
	enum forbidden what = *(const enum forbidden *)arg;
	struct isolation_net net = { 1, 1, false };
	static char arg0[] = "true";
	char *const argv[] = { arg0, NULL };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	enum isolation_state st;
	char err[256];
	int one = 1;

	if (isolation_seccomp(&net, &st, err, sizeof(err)) ||
	    st != ISOLATION_APPLIED)
		return E_SETUP;
	switch (what) {
	case F_OPENAT:
		syscall(SYS_openat, AT_FDCWD, "/etc/hostname", O_RDONLY);
		break;
	case F_PACKET:
		syscall(SYS_socket, AF_PACKET, SOCK_RAW, 0);
		break;
	case F_UNIX:
		syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
		break;
	case F_RAW:
		syscall(SYS_socket, AF_INET, SOCK_RAW, IPPROTO_ICMP);
		break;
	case F_EXECVE:
		syscall(SYS_execve, "/bin/true", argv, NULL);
		break;
	case F_MMAP_EXEC:
		syscall(SYS_mmap, NULL, 4096, PROT_READ | PROT_EXEC,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		break;
	case F_PTRACE:
		syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
		break;
	case F_SETSOCKOPT_IP:
		syscall(SYS_setsockopt, 0, IPPROTO_IP, IP_TRANSPARENT, &one,
			sizeof(one));
		break;
	case F_BIND:
		syscall(SYS_bind, 0, &sa, sizeof(sa));
		break;
	case F_KILL_OTHER:
		syscall(SYS_kill, 1, 0);
		break;
	case F_TGKILL_OTHER:
		syscall(SYS_tgkill, 1, 1, 0);
		break;
	default:
		break;
	}
	return E_FILTER; /* still alive: the filter let it through */
}

/* Each forbidden syscall kills the process with SIGSYS */
static void test_seccomp_kills(void **state)
{
	enum forbidden f;
	int status;

	(void)state;
	skip_if_built_out();
	for (f = 0; f < F_COUNT; f++) {
		status = in_child(child_forbidden, &f);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
			fail_msg("forbidden call %d: status %#x, want SIGSYS",
				 (int)f, (unsigned)status);
	}
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* What the running proxy does still works under the filter */
static int child_allowed(const void *arg)
{
	struct isolation_net net = { 1, 1, false };
	enum isolation_state st;
	char err[256], buf[4];
	int p[2], s4, s6, u4;
	void *big;

	(void)arg;
	if (isolation_seccomp(&net, &st, err, sizeof(err)))
		return E_SETUP;
	s4 = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	s6 = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	u4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s4 < 0 || s6 < 0 || u4 < 0)
		return E_ALLOWED;
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) ||
	    fcntl(p[1], F_SETPIPE_SZ, 1 << 16) < 0 ||
	    write(p[1], "ok", 2) != 2 || read(p[0], buf, sizeof(buf)) != 2)
		return E_ALLOWED;
	big = malloc(1 << 22);	/* an mmap, then munmap */
	if (!big)
		return E_ALLOWED;
	memset(big, 1, 1 << 22);
	free(big);
	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);	/* tgkill to ourselves */
	close(s4);
	close(s6);
	close(u4);
	log_init("test_isolation", LOG_LVL_INFO);
	log_info("(a child under the seccomp filter) logging still works");
	return OK;
}

static void test_seccomp_allows(void **state)
{
	(void)state;
	skip_if_built_out();
	assert_exit(in_child(child_allowed, NULL), OK);
}

static int child_abort(const void *arg)
{
	struct isolation_net net = { 1, 1, false };
	enum isolation_state st;
	char err[256];

	(void)arg;
	if (isolation_seccomp(&net, &st, err, sizeof(err)))
		return E_SETUP;
	abort();
}

/* A failed check still dies of SIGABRT, which names the cause, not SIGSYS */
static void test_seccomp_abort(void **state)
{
	int status;

	(void)state;
	skip_if_built_out();
	status = in_child(child_abort, NULL);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* Transparent mode: IP_TRANSPARENT and bind() pass the filter (they may
 * still fail, EPERM without CAP_NET_RAW), nothing else is added */
static int child_transparent(const void *arg)
{
	struct isolation_net net = { 1, 1, true };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	enum isolation_state st;
	char err[256];
	int fd, one = 1;

	(void)arg;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || isolation_seccomp(&net, &st, err, sizeof(err)))
		return E_SETUP;
	setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return E_ALLOWED;
	/* another IPPROTO_IP option is still forbidden */
	setsockopt(fd, IPPROTO_IP, IP_TTL, &one, sizeof(one));
	return E_FILTER;
}

static void test_seccomp_transparent(void **state)
{
	int status;

	(void)state;
	skip_if_built_out();
	status = in_child(child_transparent, NULL);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("status %#x, want SIGSYS at IP_TTL", (unsigned)status);
}

/* ---- the uid ------------------------------------------------------------ */

static void test_uid_map(void **state)
{
	(void)state;
	/* the initial namespace maps everything */
	assert_true(isolation_id_mapped("0 0 4294967295\n", 65534));
	/* rootlesskit without subuids: only root */
	assert_true(isolation_id_mapped("         0       1000          1\n",
					 0));
	assert_false(isolation_id_mapped("0 1000 1\n", 65534));
	/* with subuids: nobody is in the second range, 65537 in none */
	assert_true(isolation_id_mapped("0 1000 1\n1 100000 65536\n", 65534));
	assert_false(isolation_id_mapped("0 1000 1\n1 100000 65536\n",
					  65537));
	assert_false(isolation_id_mapped("", 0));
	assert_false(isolation_id_mapped("garbage\n", 0));
}

static void test_user_choice(void **state)
{
	struct priv_user u;
	char err[256];

	(void)state;
	/* -user wins over STRAIT_USER */
	assert_int_equal(isolation_user("nobody", "root", &u, err,
					sizeof(err)), 0);
	assert_true(u.set);
	assert_int_equal(u.uid, 65534);
	/* an unknown STRAIT_USER is refused, and named */
	assert_int_equal(isolation_user(NULL, "no-such-user-strait", &u, err,
					sizeof(err)), -1);
	assert_non_null(strstr(err, "STRAIT_USER=no-such-user-strait"));
	assert_int_equal(isolation_user("no-such-user-strait", NULL, &u, err,
					sizeof(err)), -1);
	if (geteuid() != 0) {
		/* nothing to switch with: the ids are kept */
		assert_int_equal(isolation_user(NULL, NULL, &u, err,
						sizeof(err)), 0);
		assert_false(u.set);
		return;
	}
	/* root without -user: nobody, or STRAIT_USER ("" is unset) */
	assert_int_equal(isolation_user(NULL, "", &u, err, sizeof(err)), 0);
	assert_true(u.set);
	assert_int_equal(u.uid, 65534);
	assert_int_equal(isolation_user(NULL, "daemon", &u, err, sizeof(err)),
			 0);
	assert_true(u.set);
	assert_int_equal(u.uid, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_landlock_no_files),
		cmocka_unit_test(test_landlock_tcp),
		cmocka_unit_test(test_landlock_missing),
		cmocka_unit_test(test_seccomp_kills),
		cmocka_unit_test(test_seccomp_allows),
		cmocka_unit_test(test_seccomp_abort),
		cmocka_unit_test(test_seccomp_transparent),
		cmocka_unit_test(test_uid_map),
		cmocka_unit_test(test_user_choice),
	};

	log_init("test_isolation", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
