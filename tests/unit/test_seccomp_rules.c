// SPDX-License-Identifier: MIT
/*
 * test_seccomp_rules.c - the filter the proxy loads, precompiled at build
 * time (seccomp_gen) and given its pid at run time (isolation.c), is byte
 * for byte the filter libseccomp builds now from seccomp_rules.c for that
 * pid: both variants, several pids, and (where ptrace may read it) the
 * very program the kernel holds after isolation_seccomp()
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/filter.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isolation.h"
#ifndef STRAIT_NO_SANDBOX
#include "seccomp_rules.h"
#endif

#ifndef PTRACE_SECCOMP_GET_FILTER
#define PTRACE_SECCOMP_GET_FILTER 0x420c
#endif

#ifndef STRAIT_NO_SANDBOX
static struct sock_filter want[BPF_MAXINSNS], got[BPF_MAXINSNS];

/* libseccomp's program for @transparent and @pid into @want;
 * Return: its length */
static size_t build_now(bool transparent, uint32_t pid)
{
	long n = seccomp_rules_program(transparent, pid, want, BPF_MAXINSNS);

	assert_true(n > 0);
	return (size_t)n;
}

/* The proxy's program for @pid is what libseccomp builds for it now */
static void same_as_libseccomp(bool transparent, uint32_t pid)
{
	size_t nwant = build_now(transparent, pid);
	size_t ngot = isolation_seccomp_prog(transparent, pid, got,
					     BPF_MAXINSNS);

	if (ngot != nwant)
		fail_msg("%s, pid %u: %zu instructions precompiled, libseccomp "
			 "builds %zu (stale seccomp_bpf.h?)",
			 transparent ? "transparent" : "plain", (unsigned)pid,
			 ngot, nwant);
	if (memcmp(got, want, nwant * sizeof(want[0])))
		fail_msg("%s, pid %u: the precompiled program differs from "
			 "libseccomp's",
			 transparent ? "transparent" : "plain", (unsigned)pid);
}
#endif

/* The sandbox is compiled out (SANDBOX=0, sanitizer builds): no filter */
static void skip_if_built_out(void)
{
#ifdef STRAIT_NO_SANDBOX
	skip();
#endif
}

static void test_same_program(void **state)
{
	(void)state;
	skip_if_built_out();
#ifndef STRAIT_NO_SANDBOX
	{
		/* ours, the first, the largest a kernel hands out, and
		 * pids that fill the low word's bytes differently */
		const uint32_t pids[] = { (uint32_t)getpid(), 1, 4194304,
					  255, 65536, 0x3fffff };
		size_t i;

		for (i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
			same_as_libseccomp(false, pids[i]);
			same_as_libseccomp(true, pids[i]);
		}
	}
#endif
}

/* Transparent mode's program is not the plain one (the variants are not
 * swapped or merged), and a buffer too small is refused, not overrun */
static void test_variants(void **state)
{
	(void)state;
	skip_if_built_out();
#ifndef STRAIT_NO_SANDBOX
	{
		size_t plain = isolation_seccomp_prog(false, 42, got,
						      BPF_MAXINSNS);
		size_t tp = isolation_seccomp_prog(true, 42, want,
						   BPF_MAXINSNS);

		assert_true(plain > 0 && tp > 0);
		assert_true(plain != tp ||
			    memcmp(got, want, plain * sizeof(got[0])));
		assert_int_equal(isolation_seccomp_prog(false, 42, got,
							plain - 1),
				 0);
	}
#endif
}

#ifndef STRAIT_NO_SANDBOX
/* A traced child under the proxy's filter, stopped; Return: its pid */
static pid_t stopped_child(void)
{
	struct isolation_net net = { 1, 1, false };
	enum isolation_state st;
	char err[256];
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) ||
		    isolation_seccomp(&net, &st, err, sizeof(err)))
			_exit(10);
		raise(SIGSTOP); /* tgkill to ourselves: allowed */
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSTOPPED(status))
		fail_msg("child: status %#x, want stopped", (unsigned)status);
	return pid;
}
#endif

/* What the kernel holds after isolation_seccomp() is libseccomp's program
 * for the child's pid (needs CAP_SYS_ADMIN: skipped without) */
static void test_loaded_program(void **state)
{
	(void)state;
	skip_if_built_out();
#ifndef STRAIT_NO_SANDBOX
	{
		pid_t pid = stopped_child();
		long n = ptrace(PTRACE_SECCOMP_GET_FILTER, pid, 0, got);
		int e = errno;
		size_t nwant;

		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (n < 0 && (e == EACCES || e == EPERM || e == EINVAL ||
			      e == EIO))
			skip();
		assert_true(n > 0);
		nwant = build_now(false, (uint32_t)pid);
		assert_int_equal((size_t)n, nwant);
		assert_memory_equal(got, want, nwant * sizeof(want[0]));
	}
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_program),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_loaded_program),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
