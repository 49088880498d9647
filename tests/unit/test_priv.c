// SPDX-License-Identifier: MIT
/*
 * test_priv.c - the privilege drop and its proof, in forked children:
 * libcap-ng failing, the parent dying during the id change, supplementary
 * groups left with gid 0, the ids shown when they are wrong
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cap-ng.h>
#include <linux/capability.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "priv.h"

/* -Wl,--wrap: fail the next capng_get_caps_process() calls on demand */
static int fail_get_caps;
/* ...and have our parent killed (by whoever reads this pipe: we are no
 * longer allowed to) right after a successful capng_change_id() */
static int kill_parent_pipe = -1;

int __real_capng_get_caps_process(void);
int __wrap_capng_get_caps_process(void);
int __real_capng_change_id(int uid, int gid, capng_flags_t flag);
int __wrap_capng_change_id(int uid, int gid, capng_flags_t flag);

int __wrap_capng_get_caps_process(void)
{
	if (fail_get_caps > 0) {
		fail_get_caps--;
		return -1;
	}
	return __real_capng_get_caps_process();
}

/* Wait (bounded) until we have been given to another parent */
static void wait_reparented(pid_t old)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	for (i = 0; i < 5000 && getppid() == old; i++)
		nanosleep(&ms, NULL);
}

int __wrap_capng_change_id(int uid, int gid, capng_flags_t flag)
{
	int rc = __real_capng_change_id(uid, gid, flag);
	pid_t ppid = getppid();

	if (!rc && kill_parent_pipe >= 0 &&
	    write(kill_parent_pipe, "k", 1) == 1)
		wait_reparented(ppid);
	return rc;
}

static void skip_unless_root(void)
{
	if (geteuid() != 0)
		skip();
}

static int wait_child(pid_t pid)
{
	int status = -1;

	assert_true(pid >= 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

/* An unreadable capability state is an error, not an empty one */
static void test_caps_unreadable(void **state)
{
	struct priv_user keep = { 0 };
	char err[256];
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	if (pid == 0) {
		fail_get_caps = 1; /* the first read only: priv_drop()'s own */
		if (priv_drop(&keep, err, sizeof(err)) == 0)
			_exit(1);
		_exit(strstr(err, "capabilities") ? 0 : 2);
	}
	status = wait_child(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/*
 * B drops to nobody with a parent-death signal (SIGTERM, as dockerd sets);
 * its parent A dies right after the id change cleared that signal. B must
 * die of SIGTERM all the same, as it would had A died a moment later.
 * @kill_a: 0 for the usual case, where A lives and B keeps the signal.
 * Runs in a subreaper child T, which B is given to. Return: B's status.
 */
static int pdeath_case(int kill_a)
{
	struct priv_user nobody = { 1, 65534, 65534, false };
	int status = -1, sig = 0, p[2];
	struct pollfd pfd;
	pid_t a, b, w;
	char err[256];

	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (pipe(p))
		return -1;
	a = fork();
	if (a == 0) {
		b = fork();
		if (b == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (kill_a)
				kill_parent_pipe = p[1];
			if (priv_drop(&nobody, err, sizeof(err)))
				_exit(2);
			prctl(PR_GET_PDEATHSIG, &sig);
			_exit(sig == SIGTERM ? 0 : 3);
		}
		status = wait_child(b);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 4);
	}
	pfd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	if (kill_a && poll(&pfd, 1, 10000) == 1)
		kill(a, SIGKILL);
	/* A's status, then B's if it was given to us */
	while ((w = waitpid(-1, &status, 0)) > 0 && w == a && kill_a)
		;
	return status;
}

static void test_pdeath_rearmed(void **state)
{
	int status;
	pid_t t;

	(void)state;
	skip_unless_root();
	/* A lives: B keeps SIGTERM as its parent-death signal */
	t = fork();
	if (t == 0) {
		status = pdeath_case(0);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 100);
	}
	status = wait_child(t);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* A died during the change: B gets SIGTERM from itself */
	t = fork();
	if (t == 0) {
		status = pdeath_case(1);
		_exit(WIFSIGNALED(status) ? 100 + WTERMSIG(status) : 0);
	}
	status = wait_child(t);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 100 + SIGTERM);
}

/* In a child: no capability left, uid kept, no_new_privs */
static void drop_caps_only(void)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (capng_apply(CAPNG_SELECT_BOTH) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		_exit(90);
}

/* Supplementary groups are refused with gid 0 too */
static void test_verify_groups_gid0(void **state)
{
	struct priv_user root = { 1, 0, 0, false };
	const gid_t groups[] = { 1, 2 };
	struct priv_ids before = { { 0, 0, 0 }, { 0, 0, 0 } };
	char err[256];
	int status;
	pid_t pid;

	(void)state;
	skip_unless_root();
	pid = fork();
	if (pid == 0) {
		if (setgroups(2, groups))
			_exit(91);
		drop_caps_only();
		if (priv_verify(&root, &before, err, sizeof(err)) == 0)
			_exit(1);
		_exit(strstr(err, "supplementary groups") ? 0 : 2);
	}
	status = wait_child(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The message shows the ids we actually have, and those asked for */
static void test_verify_shows_ids(void **state)
{
	struct priv_user other = { 1, 12345, 12346, false };
	struct priv_ids before;
	char err[256], want[128];
	int status;
	pid_t pid;

	(void)state;
	pid = fork();
	if (pid == 0) {
		if (geteuid() == 0)
			drop_caps_only();
		else if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			_exit(90);
		getresuid(&before.uid[0], &before.uid[1], &before.uid[2]);
		getresgid(&before.gid[0], &before.gid[1], &before.gid[2]);
		if (priv_verify(&other, &before, err, sizeof(err)) == 0)
			_exit(1);
		snprintf(want, sizeof(want),
			 "uids %u/%u/%u gids %u/%u/%u, want uid 12345 gid "
			 "12346",
			 (unsigned)before.uid[0], (unsigned)before.uid[1],
			 (unsigned)before.uid[2], (unsigned)before.gid[0],
			 (unsigned)before.gid[1], (unsigned)before.gid[2]);
		if (!strstr(err, want)) {
			fprintf(stderr, "got %s\nwant %s\n", err, want);
			_exit(2);
		}
		_exit(0);
	}
	status = wait_child(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* The whole drop, to nobody: it holds, and proves itself */
static void test_drop_to_nobody(void **state)
{
	struct priv_user nobody = { 1, 65534, 65534, false };
	char err[256];
	int status;
	pid_t pid;

	(void)state;
	skip_unless_root();
	pid = fork();
	if (pid == 0) {
		if (priv_drop(&nobody, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			_exit(1);
		}
		/* neither the previous uid nor root comes back */
		_exit(setuid(0) == 0 || getuid() != 65534 ||
			      getgroups(0, NULL) != 0
		      ? 2
		      : 0);
	}
	status = wait_child(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* In a child: 0 if CAP_NET_RAW is (@want) or is not the only capability
 * left in the effective, permitted and bounding sets */
static int only_net_raw(int want)
{
	unsigned c;

	capng_clear(CAPNG_SELECT_ALL);
	if (capng_get_caps_process())
		return 80;
	for (c = 0; c <= CAP_LAST_CAP; c++) {
		int on = c == CAP_NET_RAW && want;

		if (capng_have_capability(CAPNG_EFFECTIVE, c) != on ||
		    capng_have_capability(CAPNG_PERMITTED, c) != on ||
		    capng_have_capability(CAPNG_BOUNDING_SET, c) != on)
			return 81 + (int)(c % 10);
	}
	return 0;
}

/* Transparent mode keeps CAP_NET_RAW and nothing else, with or without
 * the id change; without it (as nobody already) the drop still works */
static void test_keep_net_raw(void **state)
{
	struct priv_user users[] = { { 1, 65534, 65534, true },
				     { 0, 0, 0, true },
				     { 1, 65534, 65534, false } };
	char err[256];
	int status, rc;
	size_t i;
	pid_t pid;

	(void)state;
	skip_unless_root();
	for (i = 0; i < 3; i++) {
		pid = fork();
		if (pid == 0) {
			if (priv_drop(&users[i], err, sizeof(err))) {
				fprintf(stderr, "%s\n", err);
				_exit(1);
			}
			rc = only_net_raw(users[i].keep_net_raw);
			/* and root does not come back */
			_exit(rc ? rc : users[i].set && setuid(0) == 0 ? 2 : 0);
		}
		status = wait_child(pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	/* asked to keep what we do not hold: nothing is kept, no error */
	pid = fork();
	if (pid == 0) {
		struct priv_user nobody = { 1, 65534, 65534, false };

		if (priv_drop(&nobody, err, sizeof(err)))
			_exit(1);
		nobody.set = 0;
		nobody.keep_net_raw = true;
		if (priv_drop(&nobody, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			_exit(3);
		}
		_exit(only_net_raw(0));
	}
	status = wait_child(pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_unreadable),
		cmocka_unit_test(test_pdeath_rearmed),
		cmocka_unit_test(test_verify_groups_gid0),
		cmocka_unit_test(test_verify_shows_ids),
		cmocka_unit_test(test_drop_to_nobody),
		cmocka_unit_test(test_keep_net_raw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
