// SPDX-License-Identifier: MIT
/*
 * inject.c - make a running strait-proxy try something its sandbox
 * forbids, as if a compromised proxy did it: the black-box sandbox tests
 * (tests_sandbox.py) build it and run it as root against the proxy they
 * started.
 *
 *   inject PID WHAT [PORT]
 *
 * WHAT is open (open("/etc/hostname")), exec (execve("/bin/true")), unix
 * (a Unix socket), somark (setsockopt SO_MARK on a new TCP socket) or
 * connect (a TCP connect to 127.0.0.1:PORT). The proxy is stopped with
 * ptrace while it waits in its event loop, made to run those system calls
 * itself, at its own `syscall` instruction, with their arguments written
 * below its stack, then put back as it was: it sees its wait end in EINTR
 * (or restarted) and goes on. Works on any build, static or dynamic (a
 * preloaded library would not reach a static one). Prints one line,
 * "WHAT: done", "WHAT: <strerror>" or "WHAT: killed by signal N", and
 * exits 0; 2 on a usage or ptrace error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef __x86_64__
#error "inject.c knows x86-64's registers only"
#endif

static pid_t pid;
static const char *what;

static void die(const char *msg)
{
	fprintf(stderr, "inject: %s: %s\n", msg, strerror(errno));
	exit(2);
}

/* the tracee died: say how, and that is the result */
static void gone(int st)
{
	if (WIFSIGNALED(st))
		printf("%s: killed by signal %d\n", what, WTERMSIG(st));
	else
		printf("%s: exited %d\n", what, WEXITSTATUS(st));
	exit(0);
}

/* the next stop of the tracee; its end ends the program */
static int wait_stop(void)
{
	int st;

	if (waitpid(pid, &st, __WALL) < 0)
		die("waitpid");
	if (WIFEXITED(st) || WIFSIGNALED(st))
		gone(st);
	return st;
}

/* copy @len bytes to @addr in the tracee, a word at a time */
static void poke(uint64_t addr, const void *buf, size_t len)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = 0;

		memcpy(&w, (const char *)buf + i, len - i < 8 ? len - i : 8);
		if (ptrace(PTRACE_POKEDATA, pid, addr + i, w) < 0)
			die("PTRACE_POKEDATA");
	}
}

/* stopped inside a system call, at the instruction after its `syscall` */
static int at_syscall(const struct user_regs_struct *r)
{
	long w;

	if ((long long)r->orig_rax < 0)
		return 0;
	errno = 0;
	w = ptrace(PTRACE_PEEKTEXT, pid, r->rip - 2, 0);
	return !(w == -1 && errno) && (w & 0xffff) == 0x050f;
}

/*
 * A signal instead of a system call stop (the seccomp filter's SIGSYS):
 * deliver it, as the kernel would have without us. A fatal one ends the
 * tracee within 2 s, and us in wait_stop(); any other is an error (our
 * exit then kills the tracee: PTRACE_O_EXITKILL).
 */
static void deliver(int sig)
{
	struct timespec ms = { 0, 1000 * 1000 };
	int st;

	if (ptrace(PTRACE_CONT, pid, 0, sig) < 0)
		die("PTRACE_CONT");
	for (int i = 0; i < 2000; i++) {
		pid_t w = waitpid(pid, &st, __WALL | WNOHANG);

		if (w < 0)
			die("waitpid");
		if (w == pid && (WIFEXITED(st) || WIFSIGNALED(st)))
			gone(st);
		nanosleep(&ms, NULL);
	}
	fprintf(stderr, "inject: %s: signal %d did not end it\n", what, sig);
	exit(2);
}

/* a signal is queued for the tracee (/proc/PID/status) */
static int pending(void)
{
	char path[64], line[256];
	int any = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		die(path);
	while (fgets(line, sizeof(line), f))
		if ((!strncmp(line, "SigPnd:", 7) ||
		     !strncmp(line, "ShdPnd:", 7)) &&
		    strtoull(line + 7, NULL, 16) != 0)
			any = 1;
	fclose(f);
	return any;
}

static struct user_regs_struct base;

/* run system call @nr with @a0..@a4 in the tracee; its return value */
static long call(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		 uint64_t a4)
{
	struct user_regs_struct r = base;

	r.rip = base.rip - 2;
	r.rax = (uint64_t)nr;
	r.orig_rax = (uint64_t)-1; /* no restart of what it was doing */
	r.rdi = a0;
	r.rsi = a1;
	r.rdx = a2;
	r.r10 = a3;
	r.r8 = a4;
	if (ptrace(PTRACE_SETREGS, pid, 0, &r) < 0)
		die("PTRACE_SETREGS");
	for (int stop = 0; stop < 2; stop++) { /* entry, then exit */
		int st;

		if (ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0)
			die("PTRACE_SYSCALL");
		st = wait_stop();
		if (st >> 8 != (SIGTRAP | 0x80))
			deliver(WSTOPSIG(st));
	}
	/*
	 * A filter that kills skips the call (the exit stop still comes,
	 * rax untouched) and queues SIGSYS: let it arrive
	 */
	if (pending()) {
		int st;

		if (ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0)
			die("PTRACE_SYSCALL");
		st = wait_stop();
		deliver(st >> 8 == (SIGTRAP | 0x80) ? 0 : WSTOPSIG(st));
	}
	if (ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
		die("PTRACE_GETREGS");
	return (long)r.rax;
}

static void say(long rc)
{
	printf("%s: %s\n", what, rc < 0 ? strerror((int)-rc) : "done");
}

int main(int argc, char **argv)
{
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	struct user_regs_struct r;
	uint64_t mem;
	long fd, rc;
	int tries;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: inject PID open|exec|unix|somark|"
				"connect [PORT]\n");
		return 2;
	}
	pid = atoi(argv[1]);
	what = argv[2];
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD |
		   PTRACE_O_EXITKILL) < 0)
		die("PTRACE_SEIZE");
	/* catch it waiting in a system call (its event loop), not running */
	for (tries = 0;; tries++) {
		if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) < 0)
			die("PTRACE_INTERRUPT");
		wait_stop();
		if (ptrace(PTRACE_GETREGS, pid, 0, &r) < 0)
			die("PTRACE_GETREGS");
		if (at_syscall(&r))
			break;
		if (tries == 100) {
			errno = EAGAIN;
			die("never found waiting in a system call");
		}
		if (ptrace(PTRACE_CONT, pid, 0, 0) < 0)
			die("PTRACE_CONT");
		nanosleep(&ms, NULL);
	}
	base = r;
	/* below the stack and its red zone: nothing of the tracee's */
	mem = (r.rsp - 4096) & ~(uint64_t)15;

	if (!strcmp(what, "open")) {
		poke(mem, "/etc/hostname", 14);
		say(call(SYS_openat, (uint64_t)AT_FDCWD, mem, O_RDONLY, 0, 0));
	} else if (!strcmp(what, "exec")) {
		uint64_t argv2[2] = { mem, 0 }; /* envp: argv2 + 1 */

		poke(mem, "/bin/true", 10);
		poke(mem + 16, argv2, sizeof(argv2));
		rc = call(SYS_execve, mem, mem + 16, mem + 24, 0, 0);
		say(rc);
		if (rc == 0) { /* another program now: nothing to put back */
			fflush(stdout);
			if (ptrace(PTRACE_DETACH, pid, 0, 0) < 0)
				die("PTRACE_DETACH");
			return 0;
		}
	} else if (!strcmp(what, "unix")) {
		say(call(SYS_socket, AF_UNIX, SOCK_STREAM, 0, 0, 0));
	} else if (!strcmp(what, "somark") || !strcmp(what, "connect")) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		int val = argc == 4 ? atoi(argv[3]) : 1;

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((unsigned short)val);
		fd = call(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0,
			  0, 0);
		if (fd < 0) {
			say(fd);
			goto out;
		}
		if (!strcmp(what, "somark")) {
			poke(mem, &val, sizeof(val));
			rc = call(SYS_setsockopt, (uint64_t)fd, SOL_SOCKET,
				  SO_MARK, mem, sizeof(val));
		} else {
			poke(mem, &sa, sizeof(sa));
			rc = call(SYS_connect, (uint64_t)fd, mem, sizeof(sa),
				  0, 0);
		}
		say(rc);
		call(SYS_close, (uint64_t)fd, 0, 0, 0, 0);
	} else {
		fprintf(stderr, "inject: unknown WHAT %s\n", what);
		return 2;
	}
out:
	/*
	 * Put it back as it was stopped; a wait the kernel would have
	 * restarted is restarted here, by hand, as the kernel would have.
	 */
	r = base;
	if ((long long)r.rax <= -512 && (long long)r.rax >= -516) {
		r.rax = (long long)r.rax == -516 ? SYS_restart_syscall
						 : r.orig_rax;
		r.rip -= 2;
	}
	r.orig_rax = (uint64_t)-1;
	if (ptrace(PTRACE_SETREGS, pid, 0, &r) < 0)
		die("PTRACE_SETREGS");
	if (ptrace(PTRACE_DETACH, pid, 0, 0) < 0)
		die("PTRACE_DETACH");
	fflush(stdout);
	return 0;
}
