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

static void ipt_child(const char *const argv[], int in, int outw, int errw)
{
	int null = open("/dev/null", O_RDWR);
	sigset_t none;

	/* watch blocks its signals for its signalfd: not ours to pass on */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	dup2(in >= 0 ? in : null, 0);
	dup2(outw >= 0 ? outw : null, 1);
	dup2(errw >= 0 ? errw : null, 2);
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
		ipt_child(argv, in[0], -1, eo[1]);
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

/*
 * Run @argv and read what it prints (up to @len - 1 bytes, NUL-ended).
 * Return: its exit status (0 success), or -1 if it could not run
 */
static int ipt_capture(const char *const argv[], char *out, size_t len)
{
	int p[2], status = 0;
	size_t off = 0;
	ssize_t n;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0)
		ipt_child(argv, -1, p[1], -1);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	/* read to the end even past @len, or the child would block */
	for (;;) {
		char spill[512];
		bool room = off + 1 < len;

		n = read(p[0], room ? out + off : spill,
			 room ? len - 1 - off : sizeof(spill));
		if (n == 0 || (n < 0 && errno != EINTR))
			break;
		if (n > 0 && room)
			off += (size_t)n;
	}
	out[off] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
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

/* A bridge's jumps, each a bit of a mask of those to handle */
#define IPT_NJUMPS 4
#define IPT_FWD (1U << 0)
#define IPT_IN (1U << 1)
#define IPT_NAT (1U << 2)
#define IPT_TP (1U << 3)
#define IPT_ALL (IPT_FWD | IPT_IN | IPT_NAT | IPT_TP)

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
	b->j[3] = (struct ipt_jump){ "mangle", "PREROUTING", b->nm.tp };
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

/* The jumps of @which to our chains that are missing */
static int ipt_jumps_in(const struct ipt_fam *f, const struct ipt_br *b,
			unsigned which, char *err, size_t errlen)
{
	char ignored[256];
	size_t i;

	for (i = 0; i < IPT_NJUMPS; i++) {
		if (!(which & (1U << i)))
			continue;
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
 * Remove @b's jumps and chains of @f in @which. Return: 0, or -1 if one
 * is still there afterwards
 */
static int ipt_down_fam(const struct ipt_fam *f, const struct ipt_br *b,
			unsigned which, char *err, size_t errlen)
{
	char ignored[256];
	size_t i;
	int guard;

	for (i = 0; i < IPT_NJUMPS; i++) {
		if (!(which & (1U << i)))
			continue;
		/* delete every copy, but never loop forever */
		for (guard = 0; guard < 16; guard++) {
			if (ipt_jump(f, &b->j[i], "-D", ignored,
				     sizeof(ignored)))
				break;
		}
		ipt_chain(f, b->j[i].table, "-F", b->j[i].to);
		ipt_chain(f, b->j[i].table, "-X", b->j[i].to);
	}
	for (i = 0; i < IPT_NJUMPS; i++) {
		const char *argv[] = { f->ipt,	   "-w", IPT_WAIT,    "-t",
				       b->j[i].table, "-S", b->j[i].to, NULL };

		if ((which & (1U << i)) &&
		    !ipt_run(argv, NULL, ignored, sizeof(ignored)))
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
	rc4 = ipt_down_fam(&ipt_v4, &b, IPT_ALL, err, errlen);
	if (ipt_down_fam(&ipt_v6, &b, IPT_ALL, err, errlen))
		return -1;
	return rc4;
}

/**
 * ipt_up() - a bridge's chains' contents, then the jumps that are
 * missing; any chain of the bridge this does not fill (IPv6 ones without
 * IPv6, input ones without input rules) is removed
 * @bridge:	validated bridge name (the texts name its chains)
 * @t:		the texts to restore
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set, and everything this added taken out
 */
int ipt_up(const char *bridge, const struct ipt_texts *t, char *err,
	   size_t errlen)
{
	unsigned in = t->input ? IPT_IN : 0, tp = t->mangle ? IPT_TP : 0;
	unsigned stale = (IPT_IN & ~in) | (IPT_TP & ~tp);
	char ignored[256];
	struct ipt_br b;

	ipt_br(bridge, &b);
	if (ipt_restore(&ipt_v4, t->filter, err, errlen) ||
	    ipt_restore(&ipt_v4, t->nat, err, errlen) ||
	    (tp && ipt_restore(&ipt_v4, t->mangle, err, errlen)) ||
	    ipt_jumps_in(&ipt_v4, &b, IPT_FWD | in | IPT_NAT | tp, err,
			 errlen) ||
	    (stale && ipt_down_fam(&ipt_v4, &b, stale, err, errlen)))
		goto undo;
	/* and what an earlier up put in that this one does not want (say
	 * --ipv6 then --ipv6-routed) goes */
	if (t->filter6) {
		unsigned nat = t->nat6 ? IPT_NAT : 0;
		unsigned tp6 = t->mangle6 ? IPT_TP : 0;
		unsigned stale6 = (IPT_IN & ~in) | (IPT_NAT & ~nat) |
				  (IPT_TP & ~tp6);

		if (ipt_restore(&ipt_v6, t->filter6, err, errlen) ||
		    (nat && ipt_restore(&ipt_v6, t->nat6, err, errlen)) ||
		    (tp6 && ipt_restore(&ipt_v6, t->mangle6, err, errlen)) ||
		    ipt_jumps_in(&ipt_v6, &b, IPT_FWD | in | nat | tp6, err,
				 errlen) ||
		    (stale6 && ipt_down_fam(&ipt_v6, &b, stale6, err, errlen)))
			goto undo;
	} else if (ipt_down_fam(&ipt_v6, &b, IPT_ALL, err, errlen)) {
		goto undo;
	}
	return 0;
undo:
	ipt_down(bridge, ignored, sizeof(ignored));
	return -1;
}

/**
 * ipt_list() - a chain's rules as iptables -S prints them
 * @v6:		ip6tables
 * @table:	"filter", "nat" or "mangle"
 * @chain:	the chain
 * @out:	its "-A CHAIN ..." lines (and its "-N CHAIN" line)
 * @len:	size of @out
 *
 * Return: 0, or -1 if the chain is not there
 */
int ipt_list(bool v6, const char *table, const char *chain, char *out,
	     size_t len)
{
	const char *argv[] = { v6 ? "ip6tables" : "iptables", "-w", IPT_WAIT,
			       "-t", table, "-S", chain, NULL };

	return ipt_capture(argv, out, len) ? -1 : 0;
}

/**
 * ipt_has_jump() - whether a built-in chain jumps to ours
 * @v6:		ip6tables
 * @table:	"filter", "nat" or "mangle"
 * @from:	"INPUT", "FORWARD", "POSTROUTING" or "PREROUTING"
 * @to:		our chain
 *
 * Return: true if it does
 */
bool ipt_has_jump(bool v6, const char *table, const char *from,
		  const char *to)
{
	struct ipt_jump j = { table, from, to };
	char ignored[256];

	return !ipt_jump(v6 ? &ipt_v6 : &ipt_v4, &j, "-C", ignored,
			 sizeof(ignored));
}
