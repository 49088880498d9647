// SPDX-License-Identifier: MIT
/*
 * ipt.c - the iptables backend: iptables-restore and iptables, exec'd with
 * an argument array (no shell), so it works with iptables-nft and legacy
 *
 * Needed where the host already has an iptables DROP policy: a jump from
 * the admin's FORWARD / INPUT / POSTROUTING to our own chains can accept,
 * which an accept in a separate nft table cannot. Each table (filter, nat)
 * is restored as its own transaction; if a later step fails, everything
 * that went in is taken out again. IPv6 (--ipv6, or an IPv6 --publish)
 * gets the same chains through ip6tables, nat where its subnet is
 * masqueraded.
 */
#include "ipt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rules.h"

#define IPT_WAIT "5"

static void ipt_child(const char *const argv[], int in, int errw)
{
	int null = open("/dev/null", O_RDWR);

	dup2(in >= 0 ? in : null, 0);
	dup2(null, 1);
	dup2(errw, 2);
	/* execvp() takes char *const[]: it never writes through them */
	execvp(argv[0], (char *const *)argv);
	dprintf(2, "exec %s: %s", argv[0], strerror(errno));
	_exit(127);
}

static void ipt_feed(int fd, const char *input)
{
	size_t n = input ? strlen(input) : 0, off = 0;
	ssize_t k;

	while (off < n) {
		k = write(fd, input + off, n - off);
		if (k <= 0 && errno != EINTR)
			break;
		if (k > 0)
			off += (size_t)k;
	}
	close(fd);
}

/**
 * ipt_run() - run a command, optionally feeding @input on its stdin
 * @argv:	command and arguments
 * @input:	text for stdin, or NULL
 * @err:	on failure: the command's first line of stderr
 * @errlen:	size of @err
 *
 * Return: the exit status (0 success), or -1 if it could not run
 */
int ipt_run(const char *const argv[], const char *input, char *err,
	    size_t errlen)
{
	int in[2] = { -1, -1 }, eo[2], status = 0;
	char buf[512];
	ssize_t n;
	pid_t pid;

	if (pipe2(eo, O_CLOEXEC) || (input && pipe2(in, O_CLOEXEC)))
		return snprintf(err, errlen, "pipe: %s", strerror(errno)), -1;
	signal(SIGPIPE, SIG_IGN);
	pid = fork();
	if (pid == 0)
		ipt_child(argv, in[0], eo[1]);
	close(eo[1]);
	if (in[0] >= 0)
		close(in[0]);
	if (pid < 0) {
		close(eo[0]);
		if (in[1] >= 0)
			close(in[1]);
		return snprintf(err, errlen, "fork: %s", strerror(errno)), -1;
	}
	if (in[1] >= 0)
		ipt_feed(in[1], input);
	n = read(eo[0], buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(eo[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(err, errlen, "%s: %.*s", argv[0], (int)strcspn(buf, "\n"),
		 buf[0] ? buf : "failed");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The commands of one family */
struct ipt_fam {
	const char *ipt, *restore;
};

static const struct ipt_fam ipt_v4 = { "iptables", "iptables-restore" };
static const struct ipt_fam ipt_v6 = { "ip6tables", "ip6tables-restore" };

struct ipt_jump {
	const char *table, *from, *to;
};

/* A bridge's jumps: the filter ones, then nat's (taken only where there
 * is a nat text) */
#define IPT_NJUMPS 3
#define IPT_NAT 2

struct ipt_br {
	struct rules_names nm;
	struct ipt_jump j[IPT_NJUMPS];
};

static void ipt_br(const char *bridge, struct ipt_br *b)
{
	rules_names(bridge, &b->nm);
	b->j[0] = (struct ipt_jump){ "filter", "FORWARD", b->nm.fwd };
	b->j[1] = (struct ipt_jump){ "filter", "INPUT", b->nm.in };
	b->j[2] = (struct ipt_jump){ "nat", "POSTROUTING", b->nm.post };
}

static int ipt_jump(const struct ipt_fam *f, const struct ipt_jump *j,
		    const char *op, char *err, size_t errlen)
{
	const char *argv[] = { f->ipt, "-w", IPT_WAIT, "-t", j->table,
			       op,     j->from, "-j", j->to, NULL };

	return ipt_run(argv, NULL, err, errlen);
}

static int ipt_restore(const struct ipt_fam *f, const char *text, char *err,
		       size_t errlen)
{
	const char *argv[] = { f->restore, "-w", IPT_WAIT, "--noflush", NULL };

	return ipt_run(argv, text, err, errlen);
}

/* The jumps to our chains that are missing; @nat: nat's too */
static int ipt_jumps_in(const struct ipt_fam *f, const struct ipt_br *b,
			bool nat, char *err, size_t errlen)
{
	char ignored[256];
	size_t i;

	for (i = 0; i < (nat ? IPT_NJUMPS : IPT_NAT); i++) {
		if (ipt_jump(f, &b->j[i], "-C", ignored, sizeof(ignored)) &&
		    ipt_jump(f, &b->j[i], "-I", err, errlen))
			return -1;
	}
	return 0;
}

static void ipt_chain(const struct ipt_fam *f, const char *table,
		      const char *op, const char *chain)
{
	char ignored[256];
	const char *argv[] = { f->ipt, "-w", IPT_WAIT, "-t", table,
			       op,     chain, NULL };

	ipt_run(argv, NULL, ignored, sizeof(ignored));
}

/*
 * Remove @b's jumps and chains of @f from @b->j[@from] on (0: all,
 * IPT_NAT: nat's). Return: 0, or -1 if one is still there afterwards
 */
static int ipt_down_fam(const struct ipt_fam *f, const struct ipt_br *b,
			size_t from, char *err, size_t errlen)
{
	char ignored[256];
	size_t i;
	int guard;

	for (i = from; i < IPT_NJUMPS; i++) {
		/* delete every copy, but never loop forever */
		for (guard = 0; guard < 16; guard++) {
			if (ipt_jump(f, &b->j[i], "-D", ignored,
				     sizeof(ignored)))
				break;
		}
		ipt_chain(f, b->j[i].table, "-F", b->j[i].to);
		ipt_chain(f, b->j[i].table, "-X", b->j[i].to);
	}
	for (i = from; i < IPT_NJUMPS; i++) {
		const char *argv[] = { f->ipt,	   "-w", IPT_WAIT,    "-t",
				       b->j[i].table, "-S", b->j[i].to, NULL };

		if (!ipt_run(argv, NULL, ignored, sizeof(ignored)))
			return snprintf(err, errlen,
					"%s: chain %s still present", f->ipt,
					b->j[i].to),
			       -1;
	}
	return 0;
}

/**
 * ipt_down() - remove a bridge's jumps and chains, IPv4 and IPv6; nothing
 * there is no error
 * @bridge:	validated bridge name
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 if a chain of ours is still there afterwards
 */
int ipt_down(const char *bridge, char *err, size_t errlen)
{
	struct ipt_br b;
	int rc4;

	ipt_br(bridge, &b);
	rc4 = ipt_down_fam(&ipt_v4, &b, 0, err, errlen);
	if (ipt_down_fam(&ipt_v6, &b, 0, err, errlen))
		return -1;
	return rc4;
}

/**
 * ipt_up() - a bridge's chains' contents, then the jumps that are
 * missing; any IPv6 chain of the bridge this does not fill is removed
 * @bridge:	validated bridge name (the texts name its chains)
 * @filter:	IPv4 filter table text (rules_ipt_filter)
 * @nat:	IPv4 nat table text (rules_ipt_nat)
 * @filter6:	IPv6 filter table text, or NULL for IPv4 only
 * @nat6:	IPv6 nat table text, or NULL for none (needs @filter6)
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set, and everything this added taken out
 */
int ipt_up(const char *bridge, const char *filter, const char *nat,
	   const char *filter6, const char *nat6, char *err, size_t errlen)
{
	char ignored[256];
	struct ipt_br b;

	ipt_br(bridge, &b);
	if (ipt_restore(&ipt_v4, filter, err, errlen) ||
	    ipt_restore(&ipt_v4, nat, err, errlen) ||
	    ipt_jumps_in(&ipt_v4, &b, true, err, errlen))
		goto undo;
	/* and what an earlier up put in that this one does not want (say
	 * --ipv6 then --ipv6-routed) goes */
	if (filter6) {
		if (ipt_restore(&ipt_v6, filter6, err, errlen) ||
		    (nat6 && ipt_restore(&ipt_v6, nat6, err, errlen)) ||
		    ipt_jumps_in(&ipt_v6, &b, nat6 != NULL, err, errlen) ||
		    (!nat6 && ipt_down_fam(&ipt_v6, &b, IPT_NAT, err, errlen)))
			goto undo;
	} else if (ipt_down_fam(&ipt_v6, &b, 0, err, errlen)) {
		goto undo;
	}
	return 0;
undo:
	ipt_down(bridge, ignored, sizeof(ignored));
	return -1;
}
