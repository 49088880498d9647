/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_STATS_H
#define STRAIT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* What `strait-proxy -stats` looks for in /proc/PID/fd */
#define STATS_MEMFD_NAME "strait-stats"
#define STATS_MAGIC 0x31535441 /* "ATS1", little-endian */
#define STATS_VERSION 1
/* Most ports one process serves (a range of the whole port space) */
#define STATS_MAX_PORTS 65535

/*
 * The counters, per port. A reader of another version reads them by
 * number: never reorder, only append (and bump nothing: the header says
 * how many there are).
 */
enum stats_counter {
	/* TCP */
	STATS_ACCEPTED = 0,	/* clients accepted */
	STATS_ACTIVE,		/* connections open now (goes down too) */
	STATS_CLOSED,		/* ended cleanly: FIN both ways */
	STATS_REFUSED,		/* the container refused the connect, or
				 * it failed at once */
	STATS_RESET,		/* ended by a reset from a peer */
	STATS_ERRORS,		/* ended or turned away, another error */
	STATS_TIMED_OUT,	/* connect or half-close timeout */
	/* TCP and UDP */
	STATS_BYTES_TO_CONTAINER,
	STATS_BYTES_TO_CLIENT,
	/* TCP: of the bytes both ways, moved by splice(2), and copied */
	STATS_BYTES_SPLICED,
	STATS_BYTES_COPIED,
	STATS_ACCEPT_PAUSES,	/* for want of fds or memory */
	/* UDP */
	STATS_DGRAMS_TO_CONTAINER,
	STATS_DGRAMS_TO_CLIENT,
	STATS_DGRAMS_DROPPED,	/* either way: no flow or room, a failed
				 * send */
	STATS_FLOWS_ACTIVE,	/* flows now (goes down too) */
	STATS_FLOWS_CREATED,
	STATS_FLOWS_EVICTED,	/* given up to make room */
	STATS_FLOWS_EXPIRED,	/* idle for the timeout */
	STATS_NCOUNTERS,
};

/**
 * struct stats_port - the counters of one host port, in shared memory
 * @host_port:	host port
 * @container_port: container port
 * @reserved:	zero
 * @c:		counters, by enum stats_counter
 */
struct stats_port {
	uint16_t host_port, container_port;
	uint32_t reserved;
	uint64_t c[STATS_NCOUNTERS];
};

/**
 * struct stats_head - the start of the shared memory: what is counted
 * @magic:	STATS_MAGIC
 * @version:	STATS_VERSION
 * @head_size:	sizeof(struct stats_head): the ports follow it
 * @port_size:	sizeof(struct stats_port)
 * @ncounters:	counters per port
 * @nports:	ports, in host port order
 * @pid:	the proxy
 * @ipproto:	IPPROTO_TCP or IPPROTO_UDP
 * @started_ms:	when it started, wall clock, ms since the epoch
 * @host:	the host address as Go prints it ("0.0.0.0", "[::1]")
 * @container:	the container address, the same way
 */
struct stats_head {
	uint32_t magic, version;
	uint32_t head_size, port_size, ncounters, nports;
	uint32_t pid, ipproto;
	uint64_t started_ms;
	char host[64], container[64];
};

/* Counters are written by the proxy with plain stores (one writer, no
 * system call) and read by others at any time: relaxed atomics keep each
 * 64-bit value whole, and cost what a plain add costs */
static inline void stats_add(struct stats_port *p, enum stats_counter c,
			     uint64_t n)
{
	__atomic_store_n(&p->c[c],
			 __atomic_load_n(&p->c[c], __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline void stats_inc(struct stats_port *p, enum stats_counter c)
{
	stats_add(p, c, 1);
}

static inline void stats_dec(struct stats_port *p, enum stats_counter c)
{
	stats_add(p, c, UINT64_MAX);
}

int stats_open(int ipproto, const struct sockaddr *host,
	       const struct sockaddr *container, uint32_t nports, char *err,
	       size_t errlen);
struct stats_port *stats_port(uint32_t i);
struct stats_port *stats_discard(void);
bool stats_shared(void);
size_t stats_tag(char *buf, size_t len, const void *port);
const char *stats_name(enum stats_counter c);
bool stats_counts(enum stats_counter c, uint32_t ipproto);
void stats_sum(const struct stats_port *ports, uint32_t nports,
	       uint32_t ncounters, uint64_t *total);
size_t stats_format(char *buf, size_t len, uint32_t ipproto,
		    const uint64_t *c, uint32_t ncounters);
void stats_log(const char *what);
uint64_t stats_now_ms(void);
size_t stats_mapping(char *buf, size_t len, const struct stats_head *h,
		     const struct stats_port *ports, const struct stats_port *p);
bool stats_any(const struct stats_port *p);
int stats_print(FILE *out, const struct stats_head *h,
		const struct stats_port *ports, bool json, uint64_t now_ms);
int stats_show(FILE *out, FILE *errout, bool json);

#endif
