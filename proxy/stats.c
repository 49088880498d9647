// SPDX-License-Identifier: MIT
/*
 * stats.c - the counters every proxy keeps (the command that shows
 * those of every proxy on the host: stats_show.c)
 *
 * Theory of operation
 *
 * A proxy counts per host port: connections and how they ended, bytes
 * each way, splice against copy, datagrams, flows, accept pauses. The
 * counters live in a memfd ("strait-stats") made at start, before any
 * sandbox, and mapped shared: the relay adds to them with plain stores,
 * no system call, and they cost nothing to keep. The memory starts with a
 * header (magic, version, sizes, pid, protocol, addresses), then one
 * block per port.
 *
 * `strait-proxy -stats` (run as root) finds every running proxy the way
 * one finds any open file, whoever started it (dockerd, systemd, a
 * shell): it looks through /proc/PID/fd for links to
 * "/memfd:strait-stats", opens the memfd again through that link and
 * reads it, never mapping it (a read of pages never written allocates
 * nothing). Opening another process's fd needs the right to ptrace it:
 * root has it, also for proxies that made themselves non-dumpable and
 * dropped to nobody, and nothing in the sandbox takes it away. The proxy
 * needs no socket, thread or event for this, and a stats reader can
 * neither block nor slow it. What a reader gets is written by the proxy,
 * which is not trusted: sizes are bounded and checked against the file,
 * addresses must look like addresses.
 *
 * The memory is sealed at its size, so nobody can shrink it under the
 * proxy's mapping. Without memfd_create (an old kernel, a seccomp profile
 * that forbids it) the counters live in ordinary memory: SIGUSR1 and the
 * exit summary still report them, -stats does not list the proxy.
 */
#include "stats.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"

#define STATS_TCP 1
#define STATS_UDP 2

static const struct {
	const char *name;
	unsigned protos;
} stats_names[STATS_NCOUNTERS] = {
	[STATS_ACCEPTED] = { "accepted", STATS_TCP },
	[STATS_ACTIVE] = { "active", STATS_TCP },
	[STATS_CLOSED] = { "closed", STATS_TCP },
	[STATS_REFUSED] = { "refused", STATS_TCP },
	[STATS_RESET] = { "reset", STATS_TCP },
	[STATS_ERRORS] = { "errors", STATS_TCP },
	[STATS_TIMED_OUT] = { "timed_out", STATS_TCP },
	[STATS_BYTES_TO_CONTAINER] = { "bytes_to_container",
				       STATS_TCP | STATS_UDP },
	[STATS_BYTES_TO_CLIENT] = { "bytes_to_client", STATS_TCP | STATS_UDP },
	[STATS_BYTES_SPLICED] = { "bytes_spliced", STATS_TCP },
	[STATS_BYTES_COPIED] = { "bytes_copied", STATS_TCP },
	[STATS_ACCEPT_PAUSES] = { "accept_pauses", STATS_TCP },
	[STATS_DGRAMS_TO_CONTAINER] = { "dgrams_to_container", STATS_UDP },
	[STATS_DGRAMS_TO_CLIENT] = { "dgrams_to_client", STATS_UDP },
	[STATS_DGRAMS_DROPPED] = { "dgrams_dropped", STATS_UDP },
	[STATS_FLOWS_ACTIVE] = { "flows_active", STATS_UDP },
	[STATS_FLOWS_CREATED] = { "flows_created", STATS_UDP },
	[STATS_FLOWS_EVICTED] = { "flows_evicted", STATS_UDP },
	[STATS_FLOWS_EXPIRED] = { "flows_expired", STATS_UDP },
};

/* The process's counters: NULL until stats_open() */
static struct stats_head *stats_head;
static struct stats_port *stats_ports;
/* Where counters go for a server nobody gave any (unit tests) */
static struct stats_port stats_sink;
static bool stats_memfd;

/**
 * stats_name() - a counter's name, as -stats and the log print it
 * @c:		counter
 *
 * Return: static name
 */
const char *stats_name(enum stats_counter c)
{
	return stats_names[c].name;
}

/**
 * stats_counts() - does a proxy of @ipproto keep counter @c?
 * @c:		counter
 * @ipproto:	IPPROTO_TCP or IPPROTO_UDP
 *
 * Return: true if it does
 */
bool stats_counts(enum stats_counter c, uint32_t ipproto)
{
	return stats_names[c].protos &
	       (ipproto == IPPROTO_UDP ? STATS_UDP : STATS_TCP);
}

/* Return: the wall clock, in ms since the epoch */
uint64_t stats_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Linux 6.3+: never executable (and required where vm.memfd_noexec=2) */
#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif

/* Shared memory of @size bytes in a sealed memfd; Return: it, or NULL */
static void *stats_map_memfd(size_t size, char *err, size_t errlen)
{
	unsigned flags = MFD_CLOEXEC | MFD_ALLOW_SEALING;
	int fd = memfd_create(STATS_MEMFD_NAME, flags | MFD_NOEXEC_SEAL);
	void *p = MAP_FAILED;

	if (fd < 0 && errno == EINVAL) /* a kernel before 6.3 */
		fd = memfd_create(STATS_MEMFD_NAME, flags);

	if (fd >= 0 && !ftruncate(fd, (off_t)size))
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "counters: memfd: %s (-stats will not "
			 "list this proxy)", strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	/* the fd stays open, unused: it is how -stats finds us */
	return p;
}

/* "0.0.0.0" or "[::1]": the address of @sa as Go prints it, no port */
static void stats_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char *colon;

	if (addr_format_sock(sa, buf, len)) {
		snprintf(buf, len, "?");
		return;
	}
	colon = strrchr(buf, ':');
	if (colon)
		*colon = '\0';
}

static uint16_t stats_sa_port(const struct sockaddr *sa)
{
	const union addr_sock *u = (const union addr_sock *)(const void *)sa;

	return ntohs(sa->sa_family == AF_INET6 ? u->sin6.sin6_port
					       : u->sin.sin_port);
}

/**
 * stats_open() - the process's counters, in shared memory where possible
 * @ipproto:	IPPROTO_TCP or IPPROTO_UDP
 * @host:	the first host port's address
 * @container:	the first container port's address
 * @nports:	ports served, from those on (1 to STATS_MAX_PORTS)
 * @err:	why the counters are not shared, or why there are none
 * @errlen:	size of @err
 *
 * Call once, before any sandbox.
 *
 * Return: 0 (shared), 1 (private memory: @err says why), -1 (none: out of
 * memory, @err set)
 */
int stats_open(int ipproto, const struct sockaddr *host,
	       const struct sockaddr *container, uint32_t nports, char *err,
	       size_t errlen)
{
	size_t size = sizeof(*stats_head) + nports * sizeof(*stats_ports);
	struct stats_head *h = stats_map_memfd(size, err, errlen);
	uint16_t hp = stats_sa_port(host), cp = stats_sa_port(container);
	uint32_t i;

	stats_memfd = h != NULL;
	if (!h)
		h = calloc(1, size);
	if (!h) {
		snprintf(err, errlen, "counters: out of memory");
		return -1;
	}
	*h = (struct stats_head){ STATS_MAGIC, STATS_VERSION, sizeof(*h),
				  sizeof(*stats_ports), STATS_NCOUNTERS,
				  nports, (uint32_t)getpid(),
				  (uint32_t)ipproto, stats_now_ms(), "", "" };
	stats_addr(host, h->host, sizeof(h->host));
	stats_addr(container, h->container, sizeof(h->container));
	stats_ports = (struct stats_port *)(h + 1);
	for (i = 0; i < nports; i++) {
		stats_ports[i].host_port = (uint16_t)(hp + i);
		stats_ports[i].container_port = (uint16_t)(cp + i);
	}
	stats_head = h;
	return stats_memfd ? 0 : 1;
}

/**
 * stats_port() - the counters of the @i-th port of the process
 * @i:		index, below the ports given to stats_open()
 *
 * Return: the port's block (stats_discard()'s before stats_open())
 */
struct stats_port *stats_port(uint32_t i)
{
	if (!stats_head || i >= stats_head->nports)
		return &stats_sink;
	return &stats_ports[i];
}

/**
 * stats_discard() - counters nobody reads, for servers given none
 *
 * Return: a block shared by all of them
 */
struct stats_port *stats_discard(void)
{
	return &stats_sink;
}

/**
 * stats_shared() - are the counters where -stats can see them?
 *
 * Return: true if they are in the memfd
 */
bool stats_shared(void)
{
	return stats_memfd;
}

static size_t stats_fit(int n, size_t len)
{
	if (n < 0 || !len)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

/**
 * stats_mapping() - what a port, or a whole process, maps
 * @buf:	output
 * @len:	size of @buf
 * @h:		the process's header
 * @ports:	its @h->nports blocks
 * @p:		one of them, or NULL for the whole process
 *
 * "tcp 0.0.0.0:80 -> 172.17.0.2:8080", or for a whole process with more
 * than one port "tcp 0.0.0.0:8000-8099 -> 172.17.0.2:9000-9099".
 *
 * Return: bytes written, without the NUL
 */
size_t stats_mapping(char *buf, size_t len,
			    const struct stats_head *h,
			    const struct stats_port *ports,
			    const struct stats_port *p)
{
	const char *proto = addr_proto_name(h->ipproto);
	const struct stats_port *last = &ports[h->nports - 1];

	if (!p && h->nports == 1)
		p = ports;
	if (p)
		return stats_fit(snprintf(buf, len, "%s %s:%u -> %s:%u", proto,
					  h->host, p->host_port, h->container,
					  p->container_port),
				 len);
	return stats_fit(snprintf(buf, len, "%s %s:%u-%u -> %s:%u-%u", proto,
				  h->host, ports->host_port, last->host_port,
				  h->container, ports->container_port,
				  last->container_port),
			 len);
}

/**
 * stats_tag() - what log lines about a port (or the process) are about
 * @buf:	output
 * @len:	size of @buf
 * @port:	a block from stats_port(), or NULL for the whole process
 *
 * A log_tag_fn: "tcp 0.0.0.0:80 -> 172.17.0.2:8080".
 *
 * Return: bytes written, without the NUL
 */
size_t stats_tag(char *buf, size_t len, const void *port)
{
	if (!stats_head || port == &stats_sink)
		return 0;
	return stats_mapping(buf, len, stats_head, stats_ports, port);
}

/**
 * stats_sum() - the process's totals: every port's counters added up
 * @ports:	blocks
 * @nports:	how many
 * @ncounters:	counters to add, at most STATS_NCOUNTERS
 * @total:	result, @ncounters of them
 */
void stats_sum(const struct stats_port *ports, uint32_t nports,
	       uint32_t ncounters, uint64_t *total)
{
	uint32_t i, c;

	memset(total, 0, ncounters * sizeof(*total));
	for (i = 0; i < nports; i++)
		for (c = 0; c < ncounters; c++)
			total[c] += __atomic_load_n(&ports[i].c[c],
						    __ATOMIC_RELAXED);
}

/**
 * stats_format() - "accepted=3 active=1 ..." for a proxy of @ipproto
 * @buf:	output, always NUL-terminated when @len > 0
 * @len:	size of @buf
 * @ipproto:	IPPROTO_TCP or IPPROTO_UDP: which counters are shown
 * @c:		counters
 * @ncounters:	how many @c holds (those past STATS_NCOUNTERS are not
 *		shown: a newer proxy's)
 *
 * Return: bytes in @buf, without the NUL
 */
size_t stats_format(char *buf, size_t len, uint32_t ipproto,
		    const uint64_t *c, uint32_t ncounters)
{
	size_t n = 0;
	uint32_t i;

	if (len)
		buf[0] = '\0';
	for (i = 0; i < ncounters && i < STATS_NCOUNTERS; i++) {
		if (!stats_counts(i, ipproto))
			continue;
		n += stats_fit(snprintf(buf + n, len - n, "%s%s=%llu",
					n ? " " : "", stats_names[i].name,
					(unsigned long long)c[i]),
			       len - n);
	}
	return n;
}

/* Return: true if any counter of @p is not zero */
bool stats_any(const struct stats_port *p)
{
	uint32_t c;

	for (c = 0; c < STATS_NCOUNTERS; c++)
		if (__atomic_load_n(&p->c[c], __ATOMIC_RELAXED))
			return true;
	return false;
}

/**
 * stats_log() - the counters, in the log at info: the totals, and for a
 * range each port that saw any traffic
 * @what:	what the lines say they are ("counters", "counters at exit")
 */
void stats_log(const char *what)
{
	uint64_t total[STATS_NCOUNTERS];
	char line[LOG_LINE_MAX];
	uint32_t i;

	if (!stats_head)
		return;
	stats_sum(stats_ports, stats_head->nports, STATS_NCOUNTERS, total);
	stats_format(line, sizeof(line), stats_head->ipproto, total,
		     STATS_NCOUNTERS);
	log_tagged(NULL, LOG_LVL_INFO, stats_tag, NULL, "%s: %s", what, line);
	for (i = 0; stats_head->nports > 1 && i < stats_head->nports; i++) {
		if (!stats_any(&stats_ports[i]))
			continue;
		stats_format(line, sizeof(line), stats_head->ipproto,
			     stats_ports[i].c, STATS_NCOUNTERS);
		log_tagged(NULL, LOG_LVL_INFO, stats_tag, &stats_ports[i],
			   "%s: %s", what, line);
	}
}
