// SPDX-License-Identifier: MIT
/*
 * test_priv.c - the privilege drop and its proof, in forked children:
 * capget(2) failing, the parent dying during the id change, supplementary
 * groups left with gid 0, the ids shown when they are wrong, ambient
 * capabilities, the bounding set; the user lookup in /etc/passwd
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/capability.h>
#include <errno.h>
#include <stdlib.h>
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

int capget(cap_user_header_t hdrp, cap_user_data_t datap);
int capset(cap_user_header_t hdrp, const cap_user_data_t datap);

/* -Wl,--wrap: fail the next capget() calls on demand */
static int fail_get_caps;
/* ...and have our parent killed (by whoever reads this pipe: we are no
 * longer allowed to) right after a successful setresuid() */
static int kill_parent_pipe = -1;

int __real_capget(cap_user_header_t hdrp, cap_user_data_t datap);
int __wrap_capget(cap_user_header_t hdrp, cap_user_data_t datap);
int __real_setresuid(uid_t r, uid_t e, uid_t s);
int __wrap_setresuid(uid_t r, uid_t e, uid_t s);

int __wrap_capget(cap_user_header_t hdrp, cap_user_data_t datap)
{
	if (fail_get_caps > 0) {
		fail_get_caps--;
		errno = EIO;
		return -1;
	}
	return __real_capget(hdrp, datap);
}

/* Wait (bounded) until we have been given to another parent */
static void wait_reparented(pid_t old)
{
	struct timespec ms = { 0, 1000000 };
	int i;

	for (i = 0; i < 5000 && getppid() == old; i++)
		nanosleep(&ms, NULL);
}

int __wrap_setresuid(uid_t r, uid_t e, uid_t s)
{
	int rc = __real_setresuid(r, e, s);
	pid_t ppid = getppid();

	if (!rc && kill_parent_pipe >= 0 &&
	    write(kill_parent_pipe, "k", 1) == 1)
		wait_reparented(ppid);
	return rc;
}

/* Return: 0 with our three capability sets set to @eff, @perm, @inh */
static int set_caps(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(perm >> 32),
		  (uint32_t)(inh >> 32) },
	};

	return capset(&h, d);
}

/* Return: 0 with @eff, @perm, @inh read from the kernel */
static int get_caps(uint64_t *eff, uint64_t *perm, uint64_t *inh)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (__real_capget(&h, d))
		return -1;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*perm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	*inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	return 0;
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

/* The child @pid exits 0 */
static void assert_child_ok(pid_t pid)
{
	int status = wait_child(pid);

	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* In a child: priv_drop(@u), or say why and exit 1 */
static void drop_or_exit(const struct priv_user *u)
{
	char err[256];

	if (priv_drop(u, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		_exit(1);
	}
}

/* An unreadable capability state is an error, not an empty one */
static void test_caps_unreadable(void **state)
{
	struct priv_user keep = { 0 };
	char err[256];
	pid_t pid;

	(void)state;
	pid = fork();
	if (pid == 0) {
		fail_get_caps = 1; /* the first read only: priv_drop()'s own */
		if (priv_drop(&keep, err, sizeof(err)) == 0)
			_exit(1);
		_exit(strstr(err, "capabilities") ? 0 : 2);
	}
	assert_child_ok(pid);
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
	assert_child_ok(t);
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
	if (set_caps(0, 0, 0) ||
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
	assert_child_ok(pid);
}

/* The message shows the ids we actually have, and those asked for */
static void test_verify_shows_ids(void **state)
{
	struct priv_user other = { 1, 12345, 12346, false };
	struct priv_ids before;
	char err[256], want[128];
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
	assert_child_ok(pid);
}

/* The whole drop, to nobody: it holds, and proves itself */
static void test_drop_to_nobody(void **state)
{
	struct priv_user nobody = { 1, 65534, 65534, false };
	pid_t pid;

	(void)state;
	skip_unless_root();
	pid = fork();
	if (pid == 0) {
		drop_or_exit(&nobody);
		/* neither the previous uid nor root comes back */
		_exit(setuid(0) == 0 || getuid() != 65534 ||
			      getgroups(0, NULL) != 0
		      ? 2
		      : 0);
	}
	assert_child_ok(pid);
}

/* In a child: 0 if CAP_NET_RAW is (@want) or is not the only capability
 * left in the effective, permitted and bounding sets, and none is left in
 * the inheritable and ambient sets */
static int only_net_raw(int want)
{
	uint64_t eff, perm, inh;
	unsigned c;

	if (get_caps(&eff, &perm, &inh))
		return 80;
	for (c = 0; c < 64; c++) {
		int on = c == CAP_NET_RAW && want;
		/* -1 (EINVAL) past the kernel's last capability: not held */
		int bound = prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1;
		int ambient = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0,
				    0) == 1;

		if (!!(eff & (1ULL << c)) != on ||
		    !!(perm & (1ULL << c)) != on || bound != on ||
		    (inh & (1ULL << c)) || ambient)
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
	int rc;
	size_t i;
	pid_t pid;

	(void)state;
	skip_unless_root();
	for (i = 0; i < 3; i++) {
		pid = fork();
		if (pid == 0) {
			drop_or_exit(&users[i]);
			rc = only_net_raw(users[i].keep_net_raw);
			/* and root does not come back */
			_exit(rc ? rc : users[i].set && setuid(0) == 0 ? 2 : 0);
		}
		assert_child_ok(pid);
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
	assert_child_ok(pid);
}

/* -user root: the uid stays 0, but no capability does */
static void test_drop_to_root_user(void **state)
{
	struct priv_user root = { 1, 0, 0, false };
	pid_t pid;

	(void)state;
	skip_unless_root();
	pid = fork();
	if (pid == 0) {
		drop_or_exit(&root);
		_exit(getuid() != 0 ? 2 : only_net_raw(0));
	}
	assert_child_ok(pid);
}

/* An ambient capability (as systemd's AmbientCapabilities= gives) and an
 * inheritable one are gone too, with the ids kept or changed */
static void test_ambient_cleared(void **state)
{
	struct priv_user users[] = { { 0, 0, 0, false },
				     { 1, 65534, 65534, false } };
	uint64_t eff, perm, inh;
	size_t i;
	pid_t pid;

	(void)state;
	skip_unless_root();
	for (i = 0; i < 2; i++) {
		pid = fork();
		if (pid == 0) {
			if (get_caps(&eff, &perm, &inh) ||
			    set_caps(eff, perm,
				     1ULL << CAP_NET_BIND_SERVICE) ||
			    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE,
				  CAP_NET_BIND_SERVICE, 0, 0))
				_exit(90);
			drop_or_exit(&users[i]);
			_exit(only_net_raw(0));
		}
		assert_child_ok(pid);
	}
}

/* priv_verify() refuses a capability left in any of the three sets */
static void test_verify_caps_left(void **state)
{
	struct priv_user keep = { 0, 0, 0, false };
	struct priv_ids before;
	char err[256];
	pid_t pid;

	(void)state;
	skip_unless_root();
	pid = fork();
	if (pid == 0) {
		getresuid(&before.uid[0], &before.uid[1], &before.uid[2]);
		getresgid(&before.gid[0], &before.gid[1], &before.gid[2]);
		if (set_caps(0, 1ULL << CAP_CHOWN, 0) ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
			_exit(90);
		if (priv_verify(&keep, &before, err, sizeof(err)) == 0)
			_exit(1);
		if (!strstr(err, "capabilities left"))
			_exit(2);
		/* inheritable alone counts as well */
		if (set_caps(0, 1ULL << CAP_CHOWN, 1ULL << CAP_CHOWN) ||
		    set_caps(0, 0, 1ULL << CAP_CHOWN))
			_exit(91);
		if (priv_verify(&keep, &before, err, sizeof(err)) == 0)
			_exit(3);
		/* with CAP_NET_RAW allowed, that one alone passes */
		keep.keep_net_raw = true;
		if (set_caps(0, 0, 0) ||
		    priv_verify(&keep, &before, err, sizeof(err)))
			_exit(4);
		_exit(0);
	}
	assert_child_ok(pid);
}

/* priv_has_cap() reads the effective set: held, not held, unreadable */
static void test_has_cap(void **state)
{
	pid_t pid;

	(void)state;
	skip_unless_root();
	pid = fork();
	if (pid == 0) {
		if (priv_has_cap(CAP_NET_ADMIN) != 1)
			_exit(1);
		/* permitted but not effective does not count */
		if (set_caps(1ULL << CAP_SETUID, 1ULL << CAP_SETUID |
					  1ULL << CAP_NET_ADMIN, 0))
			_exit(90);
		if (priv_has_cap(CAP_NET_ADMIN) != 0 ||
		    priv_has_cap(CAP_SETUID) != 1 || priv_has_cap(64) != 0)
			_exit(2);
		fail_get_caps = 1;
		_exit(priv_has_cap(CAP_SETUID) == -1 ? 0 : 3);
	}
	assert_child_ok(pid);
}

/* Write @text to a new file; Return: its path (static) */
static const char *passwd_file(const char *text)
{
	static char path[] = "/tmp/strait-test-passwd-XXXXXX";
	int fd;

	strcpy(path, "/tmp/strait-test-passwd-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

/* @name's ids in @text, or -1 and @err if there are none */
static int lookup(const char *text, const char *name, struct priv_user *u,
		  char *err, size_t errlen)
{
	const char *path = passwd_file(text);
	int rc;

	memset(u, 0, sizeof(*u));
	rc = priv_lookup_user_in(path, name, u, err, errlen);
	unlink(path);
	return rc;
}

/* The passwd parser: exact names, first line wins, the last line without
 * its newline, long lines, bad ids refused, names that cannot be */
static void test_lookup_user(void **state)
{
	static const char text[] =
		"root:x:0:0:root:/root:/bin/bash\n"
		"\n"
		"nobodyelse:x:7:8::/:/bin/false\n"
		"nob:x:9:9::/:/bin/false\n"
		"nobody:x:65534:65533:nobody:/nonexistent:/usr/sbin/nologin\n"
		"nobody:x:1:1::/:/bin/false\n"
		"badid:x:12a:5::/:/bin/false\n"
		"bigid:x:4294967295:5::/:/bin/false\n"
		"short:x:5\n"
		"strait:x:999:998::/:/usr/sbin/nologin";
	struct priv_user u;
	char err[256], *big;
	size_t n;

	(void)state;
	assert_int_equal(lookup(text, "nobody", &u, err, sizeof(err)), 0);
	assert_int_equal(u.set, 1);
	assert_int_equal(u.uid, 65534);
	assert_int_equal(u.gid, 65533);
	assert_int_equal(lookup(text, "nob", &u, err, sizeof(err)), 0);
	assert_int_equal(u.uid, 9);
	assert_int_equal(lookup(text, "root", &u, err, sizeof(err)), 0);
	assert_int_equal(u.uid, 0);
	assert_int_equal(lookup(text, "strait", &u, err, sizeof(err)), 0);
	assert_int_equal(u.uid, 999);
	assert_int_equal(u.gid, 998);
	assert_int_equal(lookup(text, "nobo", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown user: nobo"));
	assert_int_equal(u.set, 0);
	assert_int_equal(lookup(text, "badid", &u, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no valid uid"));
	assert_int_equal(lookup(text, "bigid", &u, err, sizeof(err)), -1);
	assert_int_equal(lookup(text, "short", &u, err, sizeof(err)), -1);
	assert_int_equal(lookup(text, "", &u, err, sizeof(err)), -1);
	assert_int_equal(lookup(text, "root:x", &u, err, sizeof(err)), -1);
	assert_int_equal(lookup("", "root", &u, err, sizeof(err)), -1);

	/* a line longer than any buffer, before the one looked for */
	n = 100000;
	big = malloc(n + 64);
	assert_non_null(big);
	memcpy(big, "long:x:1:1:", 11);
	memset(big + 11, 'g', n - 11);
	strcpy(big + n, ":/:/bin/sh\nafter:x:42:43::/:/bin/sh\n");
	assert_int_equal(lookup(big, "after", &u, err, sizeof(err)), 0);
	assert_int_equal(u.uid, 42);
	assert_int_equal(u.gid, 43);
	free(big);

	assert_int_equal(priv_lookup_user_in("/nonexistent/passwd", "root",
					     &u, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "/nonexistent/passwd: No such file"));
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
		cmocka_unit_test(test_drop_to_root_user),
		cmocka_unit_test(test_ambient_cleared),
		cmocka_unit_test(test_verify_caps_left),
		cmocka_unit_test(test_lookup_user),
		cmocka_unit_test(test_has_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
