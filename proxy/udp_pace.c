// SPDX-License-Identifier: MIT
/*
 * udp_pace.c - when datagrams from clients may go out: pacing a UDP server
 *
 * Theory of operation
 *
 * A paced stream must leave paced. The listener's buffer is large
 * (listener.c), so a proxy that was not scheduled for a while finds a
 * backlog; sent at once, at the rate a batched sendmmsg() can go, it
 * arrives faster than a server reading one datagram per poll() drains its
 * default 208 KiB receive buffer, and the container loses what the proxy
 * did not (measured: iperf3 at 1 Gbit/s on loopback lost 23% through the
 * proxy with the server alone on a CPU, 0.3% paced, as with kernel DNAT).
 * So the listener stamps each datagram's arrival (SO_TIMESTAMPNS,
 * udp_pace_init()), and after a full batch of UDP_SERVER_BATCH (more is
 * waiting) the next one waits, from the read, as long as the batch took to
 * arrive: the datagrams leave with the gaps they came with. That holds
 * while the proxy keeps up: the batch's last datagram arrived under
 * UDP_PACE_LAG_NS before it was read (a client's burst, or a stream read
 * as it comes). Read later, the proxy has fallen behind (it was not
 * scheduled): then the wait is the arrival time divided by
 * UDP_PACE_CATCHUP, a catch-up at most twice as dense as the arrivals,
 * and the backlog drains; as it shrinks, the gaps come back. Keeping the
 * gaps rather than halving them whenever a batch is full matters at a
 * client's pace: iperf3 sends a millisecond's worth at a time, and halved
 * gaps handed the server twice the bursts it gets without a proxy. A
 * datagram that came in a burst leaves in one, as it would without a
 * proxy.
 *
 * Under a stream (datagrams less than UDP_PACE_COALESCE_GAP_NS apart on
 * average, the previous read under UDP_PACE_STREAM_NS ago), a wake-up
 * waits UDP_PACE_COALESCE_NS before it reads, so that it carries several
 * datagrams (unless the last read was a full batch: then more is waiting
 * already): at 1 Gbit/s this takes a third off the proxy's CPU, and the
 * proxy, the client and the server share the CPUs; each wake-up of the
 * proxy that lands on the server's CPU can hold the server off, and the
 * server is where datagrams are lost. A stream's datagrams wait 120 us at
 * most, about what two scheduling hops cost here. One datagram now and
 * then (a DNS query, request and response) never waits.
 *
 * Waits are short (UDP_PACE_WAIT_MAX_NS at most, one per wake-up) and
 * taken in the callback with ppoll() and no fd, which the sandbox already
 * allows: libevent's timers have a resolution of a millisecond, too coarse
 * for gaps of tens of microseconds. The process only serves UDP; replies
 * and the other ports of a range wait with it, as they would if it were
 * not scheduled. A longer wait a full batch asks for (a slow stream's
 * backlog) is cut to the cap: 32 datagrams at a time then do no harm.
 *
 * The decisions (udp_pace_wait(), udp_pace_read()) take the time as an
 * argument, so tests never sleep; udp_server.c reads the clock, waits
 * (udp_pace_hold()) and stamps.
 */
#include "udp_pace.h"

#include <poll.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "udp_server.h"

/**
 * udp_pace_init() - set a listener and the process up for pacing
 * @fd:		listening UDP socket
 *
 * Neither can fail in a way that matters: without arrival stamps there is
 * no pacing, without the slack waits are longer.
 */
void udp_pace_init(int fd)
{
	static bool slack_set;
	int one = 1;

	/* arrival times for pacing; without them there is none */
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	/* a wait of 120 us must not become 170 (the default slack is 50 us):
	 * the thread's, and the process has one: set once, not per port of
	 * a range */
	if (!slack_set)
		slack_set = !prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
}

/**
 * udp_pace_ns() - monotonic time in ns
 *
 * Return: ns
 */
uint64_t udp_pace_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

/**
 * udp_pace_rt_ns() - CLOCK_REALTIME in ns, as arrival stamps are
 *
 * Return: ns
 */
int64_t udp_pace_rt_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/**
 * udp_pace_stamp() - when a datagram arrived, from its SO_TIMESTAMPNS
 * @h:		the datagram's header, as recvmmsg() filled it
 *
 * Return: ns, CLOCK_REALTIME; 0 if it has none
 */
int64_t udp_pace_stamp(struct msghdr *h)
{
	struct cmsghdr *cm;
	struct timespec ts;

	for (cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SO_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
		return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	}
	return 0;
}

/**
 * udp_pace_wait() - how long a wake-up waits before it reads
 * @p:		pacing state
 * @now:	monotonic time (ns)
 *
 * Return: ns to wait (at most UDP_PACE_WAIT_MAX_NS), 0 to read now
 */
uint64_t udp_pace_wait(const struct udp_pace *p, uint64_t now)
{
	uint64_t wait = 0;

	if (p->release > now)
		wait = p->release - now;
	else if (!p->behind && p->gap && p->gap < UDP_PACE_COALESCE_GAP_NS &&
		 now - p->seen < UDP_PACE_STREAM_NS)
		wait = UDP_PACE_COALESCE_NS;
	return wait < UDP_PACE_WAIT_MAX_NS ? wait : UDP_PACE_WAIT_MAX_NS;
}

/* Sleep @ns, the whole process: see "Waits are short" above */
static void udp_pace_sleep(uint64_t ns)
{
	struct timespec ts = { 0, (long)ns };

	ppoll(NULL, 0, &ts, NULL);
}

/**
 * udp_pace_hold() - wait, if @p says so, before a wake-up reads
 * @p:		pacing state
 */
void udp_pace_hold(const struct udp_pace *p)
{
	uint64_t wait = udp_pace_wait(p, udp_pace_ns());

	if (wait)
		udp_pace_sleep(wait);
}

/**
 * udp_pace_read() - @n datagrams were read: when may the next go
 * @p:		pacing state
 * @n:		datagrams read, at least 1
 * @first:	arrival time of the first (ns, CLOCK_REALTIME), 0 if unknown
 * @last:	arrival time of the last, 0 if unknown
 * @now:	monotonic time (ns), just before they are sent
 * @now_rt:	CLOCK_REALTIME ns of the same moment, as the stamps are
 *
 * Arrival times are compared with each other, and the last with @now_rt:
 * a step of the clock makes one odd gap, or takes one batch for late or
 * prompt; the wait stays within UDP_PACE_WAIT_MAX_NS either way.
 */
void udp_pace_read(struct udp_pace *p, unsigned n, int64_t first,
		   int64_t last, uint64_t now, int64_t now_rt)
{
	int64_t from = p->last ? p->last : first;
	unsigned gaps = p->last ? n : n - 1;
	uint64_t g, span;

	/* a full batch: more is waiting; the next read waits for nothing
	 * but the release (a backlog needs no coalescing, and a proxy
	 * slower than its clients must not sleep: at full speed that halved
	 * what it could carry) */
	p->release = 0;
	p->behind = n >= UDP_SERVER_BATCH;
	if (p->behind && first && last > first) {
		span = (uint64_t)(last - first);
		if (now_rt - last > UDP_PACE_LAG_NS)
			span /= UDP_PACE_CATCHUP;
		p->release = now + span;
	}
	if (from && last > from && gaps) {
		g = (uint64_t)(last - from) / gaps;
		p->gap = p->gap ? p->gap - p->gap / 4 + g / 4 : g;
	}
	p->seen = now;
	if (last)
		p->last = last;
}
