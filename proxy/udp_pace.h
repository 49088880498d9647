/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_UDP_PACE_H
#define STRAIT_UDP_PACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* Pacing (see udp_pace.c): a full batch read within UDP_PACE_LAG_NS of
 * its last datagram's arrival leaves the next one the time it took to
 * arrive; one read later (the proxy fell behind) catches up, at most
 * UDP_PACE_CATCHUP times as densely as the datagrams arrived. Gaps kept
 * rather than halved: iperf3 at 1 Gbit/s lost 0.06-0.16 % on loopback
 * (kernel DNAT 0.09-0.54 %) where halving lost 0.46-2.1 %, and 0.02-0.29 %
 * on veth (DNAT 0.16-0.59 %, halving 0.18-3.9 %), 4 interleaved
 * repetitions each */
#define UDP_PACE_CATCHUP 2
#define UDP_PACE_LAG_NS 500000
/* under a stream with datagrams this close together (ns), a wake-up waits
 * UDP_PACE_COALESCE_NS first so that it carries several. 120 us: with
 * runs joined towards the container (udp_gso.c), 1 Gbit/s of iperf3 on
 * two shared vCPUs lost 0.2-2.0 % (veth) and 0.3-2.0 % (loopback) where
 * 60 us lost 1.6-5.4 % and 2.5-6.2 %, 10 of 10 interleaved pairs; 250 us
 * lost more again, and 25 us had lost more than 60 before joining; fewer
 * wake-ups of the proxy leave the container's server more of the CPU it
 * shares */
#define UDP_PACE_COALESCE_GAP_NS 20000
#define UDP_PACE_COALESCE_NS 120000
/* ... if the previous read was this recent: a stream in progress */
#define UDP_PACE_STREAM_NS 1000000
/* the longest a wake-up waits, whatever the reason */
#define UDP_PACE_WAIT_MAX_NS 250000

/**
 * struct udp_pace - when datagrams from clients may go out next
 * @release:	monotonic ns before which the next batch waits, 0 if none
 * @seen:	monotonic ns of the last read
 * @last:	kernel arrival time (ns, CLOCK_REALTIME) of the newest datagram
 *		read, 0 if unknown
 * @gap:	moving average of the arrival gap (ns), 0 if unknown
 * @behind:	the last read was a full batch: more is waiting
 */
struct udp_pace {
	uint64_t release, seen;
	int64_t last;
	uint64_t gap;
	bool behind;
};

void udp_pace_init(int fd);
uint64_t udp_pace_ns(void);
int64_t udp_pace_stamp(struct msghdr *h);
uint64_t udp_pace_wait(const struct udp_pace *p, uint64_t now);
void udp_pace_hold(const struct udp_pace *p);
int64_t udp_pace_rt_ns(void);
void udp_pace_read(struct udp_pace *p, unsigned n, int64_t first,
		   int64_t last, uint64_t now, int64_t now_rt);

#endif
