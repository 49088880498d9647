// SPDX-License-Identifier: MIT
/*
 * stats_show.c - `strait-proxy -stats`: the counters of every proxy on the
 * host, read from their memfds (see stats.c's theory of operation), as
 * text or JSON
 *
 * What a reader gets is written by the proxy, which is not trusted: sizes
 * are bounded and checked against the file, addresses must look like
 * addresses.
 */
#include "stats.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "log.h"

/* The counters as a JSON object's members */
static void stats_json_counters(FILE *out, uint32_t ipproto,
				const uint64_t *c, uint32_t ncounters)
{
	const char *sep = "";
	uint32_t i;

	for (i = 0; i < ncounters && i < STATS_NCOUNTERS; i++) {
		if (!stats_counts(i, ipproto))
			continue;
		fprintf(out, "%s\"%s\":%llu", sep, stats_name(i),
			(unsigned long long)c[i]);
		sep = ",";
	}
}

static void stats_print_json(FILE *out, const struct stats_head *h,
			     const struct stats_port *ports,
			     const uint64_t *total, uint64_t up_ms)
{
	uint32_t i, n = h->ncounters;

	fprintf(out, "{\"pid\":%u,\"proto\":\"%s\",\"host\":\"%s\","
		"\"container\":\"%s\",\"started_ms\":%llu,\"uptime_ms\":%llu,"
		"\"total\":{",
		h->pid, addr_proto_name(h->ipproto), h->host,
		h->container, (unsigned long long)h->started_ms,
		(unsigned long long)up_ms);
	stats_json_counters(out, h->ipproto, total, n);
	fputs("},\"ports\":[", out);
	for (i = 0; i < h->nports; i++) {
		fprintf(out, "%s{\"host_port\":%u,\"container_port\":%u,",
			i ? "," : "", ports[i].host_port,
			ports[i].container_port);
		stats_json_counters(out, h->ipproto, ports[i].c, n);
		fputc('}', out);
	}
	fputs("]}", out);
}

static void stats_print_text(FILE *out, const struct stats_head *h,
			     const struct stats_port *ports,
			     const uint64_t *total, uint64_t up_ms)
{
	char map[160], up[32], line[LOG_LINE_MAX];
	uint32_t i;

	stats_mapping(map, sizeof(map), h, ports, NULL);
	log_duration(up, sizeof(up), up_ms);
	stats_format(line, sizeof(line), h->ipproto, total, h->ncounters);
	fprintf(out, "%u %s, up %s\n  %s\n", h->pid, map, up, line);
	for (i = 0; h->nports > 1 && i < h->nports; i++) {
		if (!stats_any(&ports[i]))
			continue;
		stats_format(line, sizeof(line), h->ipproto, ports[i].c,
			     h->ncounters);
		fprintf(out, "  port %u -> %u: %s\n", ports[i].host_port,
			ports[i].container_port, line);
	}
}

/**
 * stats_print() - one proxy's counters, as text or as a JSON object
 * @out:	where
 * @h:		its header, checked (see stats_read())
 * @ports:	its @h->nports blocks
 * @json:	a JSON object rather than text lines
 * @now_ms:	wall clock now, ms since the epoch (for the uptime)
 *
 * Return: 0, or -1 if @out reports an error
 */
int stats_print(FILE *out, const struct stats_head *h,
		const struct stats_port *ports, bool json, uint64_t now_ms)
{
	uint64_t total[STATS_NCOUNTERS];
	uint64_t up = now_ms > h->started_ms ? now_ms - h->started_ms : 0;

	stats_sum(ports, h->nports, h->ncounters, total);
	if (json)
		stats_print_json(out, h, ports, total, up);
	else
		stats_print_text(out, h, ports, total, up);
	return ferror(out) ? -1 : 0;
}

/* An address as stats_addr() writes it: nothing else may reach a reader's
 * terminal or JSON */
static bool stats_addr_ok(char *s, size_t len)
{
	size_t i;

	s[len - 1] = '\0';
	for (i = 0; s[i]; i++)
		if (!strchr("0123456789abcdefABCDEF.:[]?", s[i]))
			return false;
	return i > 0;
}

/* The header at @fd, checked; Return: 0, or -1 if it is not one of ours */
static int stats_read_head(int fd, uint32_t pid, struct stats_head *h,
			   off_t size)
{
	if (pread(fd, h, sizeof(*h), 0) != (ssize_t)sizeof(*h) ||
	    h->magic != STATS_MAGIC || h->version != STATS_VERSION ||
	    h->head_size < sizeof(*h) || h->head_size > 4096 ||
	    h->port_size < offsetof(struct stats_port, c) + 8 ||
	    h->port_size > 4096 || h->nports < 1 ||
	    h->nports > STATS_MAX_PORTS || h->pid != pid ||
	    (h->ipproto != IPPROTO_TCP && h->ipproto != IPPROTO_UDP) ||
	    !stats_addr_ok(h->host, sizeof(h->host)) ||
	    !stats_addr_ok(h->container, sizeof(h->container)) ||
	    (off_t)h->head_size + (off_t)h->nports * h->port_size > size)
		return -1;
	if (h->ncounters > STATS_NCOUNTERS)
		h->ncounters = STATS_NCOUNTERS;
	if (h->ncounters > (h->port_size - offsetof(struct stats_port, c)) / 8)
		h->ncounters = (uint32_t)((h->port_size -
					   offsetof(struct stats_port, c)) / 8);
	return 0;
}

/* Return: the port blocks at @fd (free()), or NULL */
static struct stats_port *stats_read_ports(int fd, const struct stats_head *h)
{
	size_t each = h->port_size < sizeof(struct stats_port)
			      ? h->port_size
			      : sizeof(struct stats_port);
	struct stats_port *p = calloc(h->nports, sizeof(*p));
	uint32_t i;

	for (i = 0; p && i < h->nports; i++) {
		if (pread(fd, &p[i], each,
			  (off_t)h->head_size + (off_t)i * h->port_size) !=
		    (ssize_t)each) {
			free(p);
			return NULL;
		}
	}
	return p;
}

/* Print the proxy @pid whose memfd is @name in its /proc/@pid/fd, @dfd;
 * Return: 1 if it was one, 0 if not, -1 if it could not be read */
static int stats_show_fd(FILE *out, bool json, bool first, uint32_t pid,
			 int dfd, const char *name)
{
	struct stats_head h;
	struct stats_port *ports = NULL;
	struct stat st;
	int fd, rc = 0;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (!fstat(fd, &st) && !stats_read_head(fd, pid, &h, st.st_size))
		ports = stats_read_ports(fd, &h);
	if (ports) {
		if (json && !first)
			fputc(',', out);
		stats_print(out, &h, ports, json, stats_now_ms());
		rc = 1;
	}
	free(ports);
	close(fd);
	return rc;
}

static bool stats_is_ours(int dfd, const char *name)
{
	static const char want[] = "/memfd:" STATS_MEMFD_NAME " ";
	char link[64];
	ssize_t n = readlinkat(dfd, name, link, sizeof(link) - 1);

	if (n <= 0)
		return false;
	link[n] = '\0';
	return !strncmp(link, want, sizeof(want) - 1) ||
	       !strcmp(link, "/memfd:" STATS_MEMFD_NAME);
}

/* Is @pid a strait-proxy (by its name, which anyone may read)? */
static bool stats_named(uint32_t pid)
{
	char path[64], comm[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	return n > 0 && !strncmp(comm, "strait-proxy", 12);
}

/* Every proxy memfd of process @pid. Return: proxies printed, or -1 if a
 * strait-proxy's fds could not be read */
static int stats_show_pid(FILE *out, bool json, int shown, uint32_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0, rc;

	snprintf(path, sizeof(path), "/proc/%u/fd", pid);
	d = opendir(path);
	if (!d)
		return errno == EACCES && stats_named(pid) ? -1 : 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !stats_is_ours(dirfd(d), e->d_name))
			continue;
		rc = stats_show_fd(out, json, shown + n == 0, pid, dirfd(d),
				   e->d_name);
		if (rc < 0) {
			n = -1;
			break;
		}
		n += rc;
	}
	closedir(d);
	return n;
}

/**
 * stats_show() - every running proxy's counters: `strait-proxy -stats`
 * @out:	where the report goes
 * @errout:	where problems go
 * @json:	one JSON object ({"proxies": [...]}) rather than text
 *
 * Return: 0, or 1 if /proc could not be read or some proxies could not
 * be (not root: their fds are not ours to open)
 */
int stats_show(FILE *out, FILE *errout, bool json)
{
	DIR *proc = opendir("/proc");
	int shown = 0, unread = 0, n;
	struct dirent *e;
	char *end;
	unsigned long pid;

	if (!proc) {
		fprintf(errout, "strait-proxy: /proc: %s\n", strerror(errno));
		return 1;
	}
	if (json)
		fputs("{\"proxies\":[", out);
	while ((e = readdir(proc))) {
		pid = strtoul(e->d_name, &end, 10);
		if (*end || end == e->d_name || pid > UINT32_MAX)
			continue;
		n = stats_show_pid(out, json, shown, (uint32_t)pid);
		if (n < 0)
			unread++;
		else
			shown += n;
	}
	closedir(proc);
	if (json)
		fputs("]}\n", out);
	else if (!shown && !unread)
		fputs("no strait-proxy running\n", out);
	if (unread)
		fprintf(errout, "strait-proxy: -stats: %d proxies could not be "
			"read (run as root)\n", unread);
	return unread ? 1 : 0;
}
