// SPDX-License-Identifier: MIT
/*
 * state.c - a bridge's state file: what up set up, and the value each
 * sysctl had before the first up
 *
 * One file per network namespace (its inode) and bridge,
 * DIR/netsetup-NETNS-BRIDGE.state, so two namespaces with the same bridge
 * name never share one:
 *
 *   strait-netsetup-state 1
 *   bridge br0
 *   uplink eth0
 *   backend nft
 *   ipv6 off|masquerade|routed
 *   input on|off
 *   transparent 0x5354 21332                (with --transparent only)
 *   subnet 203.0.113.0/24
 *   subnet6 2001:db8:1::/64                 (with "ipv6 masquerade" only)
 *   publish tcp:198.51.100.1:8080           (any number, up to 64)
 *   sysctl ipv4 br0 forwarding 0            (up to 16)
 *
 * and, only while an up that changed the uplink runs, "uplink-old IF"
 * after "uplink". The file is ours, but it is still input: it is parsed
 * as strictly as the command line (every line in this order, every value
 * canonical, nothing after the last line), and its sysctls may only name
 * the bridge and the uplink(s) it names, with the keys up sets on each:
 * a file edited to name another interface is refused as a whole, so down
 * never writes anything up did not.
 *
 * Bridges set up side by side share the uplink's switches: the value
 * another bridge's file holds is the one found before the first of them,
 * and only the last one down puts it back (state_peers()). Every up and
 * down holds an exclusive flock on the directory from the first read to
 * the last write (state_lock()): two of them at once would each see the
 * other's half-done work.
 */
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAGIC "strait-netsetup-state 1"

/**
 * state_backend_name() - "nft" or "iptables"
 * @b:		backend
 *
 * Return: its name
 */
const char *state_backend_name(enum state_backend b)
{
	return b == STATE_IPTABLES ? "iptables" : "nft";
}

static const char *state_v6_name(const struct state_cfg *c)
{
	if (!c->ipv6)
		return "off";
	return c->ipv6_routed ? "routed" : "masquerade";
}

/**
 * state_format() - the text of a state file
 * @s:		state
 * @buf:	output
 * @len:	size of @buf
 *
 * Return: 0, or -1 if @buf is too small or a value cannot be formatted
 */
int state_format(const struct state *s, char *buf, size_t len)
{
	const struct state_cfg *c = &s->cfg;
	char v[VALID_PUBLISH_STRLEN];
	size_t off = 0, i;
	int n;

#define STATE_PUT(...)                                                    \
	do {                                                              \
		n = snprintf(buf + off, len - off, __VA_ARGS__);          \
		if (n < 0 || (size_t)n >= len - off)                      \
			return -1;                                        \
		off += (size_t)n;                                         \
	} while (0)

	STATE_PUT(STATE_MAGIC "\nbridge %s\nuplink %s\n", c->bridge,
		  c->uplink);
	if (s->uplink_old[0])
		STATE_PUT("uplink-old %s\n", s->uplink_old);
	STATE_PUT("backend %s\nipv6 %s\ninput %s\n",
		  state_backend_name(c->backend), state_v6_name(c),
		  c->input ? "on" : "off");
	if (c->transparent)
		STATE_PUT("transparent 0x%x %u\n", c->tp.mark, c->tp.table);
	if (valid_format_cidr(&c->subnet, v, sizeof(v)))
		return -1;
	STATE_PUT("subnet %s\n", v);
	if (c->have_subnet6) {
		if (valid_format_cidr(&c->subnet6, v, sizeof(v)))
			return -1;
		STATE_PUT("subnet6 %s\n", v);
	}
	for (i = 0; i < c->npublish; i++) {
		if (valid_format_publish(&c->publish[i], v, sizeof(v)))
			return -1;
		STATE_PUT("publish %s\n", v);
	}
	for (i = 0; i < s->nitems; i++)
		STATE_PUT("sysctl %s %s %s %s\n", s->item[i].fam,
			  s->item[i].ifname, s->item[i].key, s->item[i].val);
#undef STATE_PUT
	return 0;
}

/* A cursor over the text being parsed */
struct state_cur {
	const char *p, *end;
	const char *at;	 /* the start of the line last looked at */
	const char *val; /* its value, after "KEY " */
	size_t vlen;
};

/*
 * The next line, if it is "@key VALUE\n": sets @c->val, moves on.
 * Return: true if it is
 */
static bool state_next(struct state_cur *c, const char *key)
{
	size_t k = strlen(key);
	const char *nl;

	c->at = c->p;
	if ((size_t)(c->end - c->p) <= k || memcmp(c->p, key, k) ||
	    c->p[k] != ' ')
		return false;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	if (!nl || nl == c->p + k + 1)
		return false;
	c->val = c->p + k + 1;
	c->vlen = (size_t)(nl - c->val);
	c->p = nl + 1;
	return true;
}

/* The current value as a string in @buf; false if it does not fit */
static bool state_val(const struct state_cur *c, char *buf, size_t len)
{
	if (c->vlen >= len)
		return false;
	memcpy(buf, c->val, c->vlen);
	buf[c->vlen] = '\0';
	return true;
}

/* An interface name line into @out (IFNAMSIZ) */
static bool state_ifname(struct state_cur *c, const char *key, char *out)
{
	char err[128];

	return state_next(c, key) && state_val(c, out, IFNAMSIZ) &&
	       !valid_ifname(out, err, sizeof(err));
}

/* The current value is one of @words: its index, or -1 */
static int state_word(const struct state_cur *c, const char *const *words,
		      int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strlen(words[i]) == c->vlen &&
		    !memcmp(words[i], c->val, c->vlen))
			return i;
	}
	return -1;
}

/* A network of @family, exactly as valid_format_cidr() writes it */
static bool state_cidr(struct state_cur *c, const char *key, int family,
		       struct valid_cidr *out)
{
	char v[VALID_PUBLISH_STRLEN], back[VALID_PUBLISH_STRLEN], err[160];

	return state_next(c, key) && state_val(c, v, sizeof(v)) &&
	       !valid_cidr(v, out, err, sizeof(err)) &&
	       out->net.family == family &&
	       !valid_format_cidr(out, back, sizeof(back)) && !strcmp(v, back);
}

static bool state_publish(const struct state_cur *c, struct valid_publish *p)
{
	char v[VALID_PUBLISH_STRLEN], back[VALID_PUBLISH_STRLEN], err[200];

	return state_val(c, v, sizeof(v)) &&
	       !valid_publish(v, p, err, sizeof(err)) &&
	       !valid_format_publish(p, back, sizeof(back)) && !strcmp(v, back);
}

/* The sysctls up sets on the bridge, and on an uplink */
static bool state_item_allowed(const struct state *s,
			       const struct sysctl_item *it)
{
	const char *i = it->ifname;
	bool v4 = !strcmp(it->fam, "ipv4");

	if (!strcmp(i, s->cfg.bridge))
		return v4 ? !strcmp(it->key, "forwarding") ||
				    !strcmp(it->key, "rp_filter")
			  : !strcmp(it->key, "force_forwarding");
	if (strcmp(i, s->cfg.uplink) &&
	    (!s->uplink_old[0] || strcmp(i, s->uplink_old)))
		return false;
	return !strcmp(it->key, v4 ? "forwarding" : "force_forwarding");
}

/* "transparent 0xMARK TABLE", exactly as state_format() writes it */
static bool state_tp(const struct state_cur *c, struct state_cfg *cfg)
{
	char v[64], back[64];
	unsigned mark, table;
	int used = 0;

	if (!state_val(c, v, sizeof(v)) ||
	    sscanf(v, "0x%x %u%n", &mark, &table, &used) != 2 ||
	    (size_t)used != strlen(v) || !mark || !tproute_table_ok(table))
		return false;
	snprintf(back, sizeof(back), "0x%x %u", mark, table);
	if (strcmp(v, back))
		return false;
	cfg->transparent = true;
	cfg->tp.mark = mark;
	cfg->tp.table = table;
	return true;
}

/* "backend", "ipv6", "input" (and "transparent"): the words after the
 * uplinks */
static bool state_modes(struct state_cur *c, struct state_cfg *cfg)
{
	static const char *const backends[] = { "nft", "iptables" };
	static const char *const v6[] = { "off", "masquerade", "routed" };
	static const char *const onoff[] = { "off", "on" };
	int b, m, in;

	if (!state_next(c, "backend") || (b = state_word(c, backends, 2)) < 0 ||
	    !state_next(c, "ipv6") || (m = state_word(c, v6, 3)) < 0 ||
	    !state_next(c, "input") || (in = state_word(c, onoff, 2)) < 0)
		return false;
	cfg->backend = b ? STATE_IPTABLES : STATE_NFT;
	cfg->ipv6 = m > 0;
	cfg->ipv6_routed = m == 2;
	cfg->input = in == 1;
	if ((size_t)(c->end - c->p) > 12 && !memcmp(c->p, "transparent ", 12))
		return state_next(c, "transparent") && state_tp(c, cfg);
	return true;
}

/* From "bridge" to the last "publish" */
static bool state_parse_cfg(struct state_cur *c, const char *bridge,
			    struct state *s)
{
	struct state_cfg *cfg = &s->cfg;

	if (!state_ifname(c, "bridge", cfg->bridge) ||
	    strcmp(cfg->bridge, bridge) ||
	    !state_ifname(c, "uplink", cfg->uplink) ||
	    !strcmp(cfg->uplink, bridge))
		return false;
	if ((size_t)(c->end - c->p) > 11 && !memcmp(c->p, "uplink-old ", 11) &&
	    (!state_ifname(c, "uplink-old", s->uplink_old) ||
	     !strcmp(s->uplink_old, bridge) ||
	     !strcmp(s->uplink_old, cfg->uplink)))
		return false;
	if (!state_modes(c, cfg) ||
	    !state_cidr(c, "subnet", AF_INET, &cfg->subnet))
		return false;
	cfg->have_subnet6 = cfg->ipv6 && !cfg->ipv6_routed;
	if (cfg->have_subnet6 &&
	    !state_cidr(c, "subnet6", AF_INET6, &cfg->subnet6))
		return false;
	while (state_next(c, "publish")) {
		if (!cfg->input || cfg->npublish == STATE_MAX_PUBLISH ||
		    !state_publish(c, &cfg->publish[cfg->npublish++]))
			return false;
	}
	return true;
}

/**
 * state_parse() - read a state file's text, strictly
 * @text:	the file's bytes
 * @len:	how many
 * @bridge:	the bridge the file is named after
 * @s:		result
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set if the text is not exactly a state file
 * for @bridge
 */
int state_parse(const char *text, size_t len, const char *bridge,
		struct state *s, char *err, size_t errlen)
{
	struct state_cur c = { text, text + len, text, NULL, 0 };
	struct sysctl_item *it;
	size_t m = strlen(STATE_MAGIC);

	memset(s, 0, sizeof(*s));
	if (memchr(text, '\0', len) || len <= m ||
	    memcmp(text, STATE_MAGIC, m) || text[m] != '\n')
		goto bad;
	c.p += m + 1;
	if (!state_parse_cfg(&c, bridge, s))
		goto bad;
	while (state_next(&c, "sysctl")) {
		if (s->nitems == SYSCTL_MAX_ITEMS)
			goto bad;
		it = &s->item[s->nitems];
		if (sysctl_item_parse(c.val, c.vlen, it) ||
		    !state_item_allowed(s, it) ||
		    sysctl_find(s->item, s->nitems, it))
			goto bad;
		s->nitems++;
	}
	c.at = c.p;
	if (c.p != c.end)
		goto bad;
	return 0;
bad:
	for (len = 1, m = 0; text + m < c.at; m++)
		len += text[m] == '\n';
	snprintf(err, errlen, "not a state file of strait-netsetup for %s "
		 "(line %zu)", bridge, len);
	return -1;
}

/**
 * state_path() - DIR/netsetup-NETNS-BRIDGE.state
 * @dir:	state directory
 * @bridge:	validated bridge name
 * @buf:	output
 * @len:	size of @buf
 *
 * Return: 0, or -1 if the namespace cannot be identified or @buf is short
 */
int state_path(const char *dir, const char *bridge, char *buf, size_t len)
{
	struct stat st;
	int n;

	if (stat("/proc/self/ns/net", &st))
		return -1;
	n = snprintf(buf, len, "%s/netsetup-%lu-%s.state", dir,
		     (unsigned long)st.st_ino, bridge);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/**
 * state_load() - read and parse a bridge's state file
 * @path:	state file
 * @bridge:	its bridge
 * @s:		result
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 1 if loaded, 0 if there is none, -1 with @err set
 */
int state_load(const char *path, const char *bridge, struct state *s,
	       char *err, size_t errlen)
{
	static char text[STATE_MAX_BYTES + 1];
	char why[160];
	size_t len = 0;
	ssize_t k;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	memset(s, 0, sizeof(*s));
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return snprintf(err, errlen, "read state %s: %s", path,
				strerror(errno)),
		       -1;
	while (len < sizeof(text) &&
	       (k = read(fd, text + len, sizeof(text) - len)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(err, errlen, "read state %s: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
		len += (size_t)k;
	}
	close(fd);
	if (len > STATE_MAX_BYTES ||
	    state_parse(text, len, bridge, s, why, sizeof(why)))
		return snprintf(err, errlen, "bad state file %s: %s", path,
				len > STATE_MAX_BYTES ? "too long" : why),
		       -1;
	return 1;
}

/**
 * state_save() - write a state file atomically (tmp + rename), under the
 * lock
 * @path:	state file
 * @s:		state
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int state_save(const char *path, const struct state *s, char *err,
	       size_t errlen)
{
	static char text[STATE_MAX_BYTES];
	char tmp[4200];
	size_t n, off = 0;
	ssize_t k;
	int fd;

	if (state_format(s, text, sizeof(text)))
		return snprintf(err, errlen, "state too long"), -1;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return snprintf(err, errlen, "state path too long"), -1;
	n = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		return snprintf(err, errlen, "save state %s: %s", tmp,
				strerror(errno)),
		       -1;
	while (off < n && ((k = write(fd, text + off, n - off)) > 0 ||
			   (k < 0 && errno == EINTR)))
		off += k > 0 ? (size_t)k : 0;
	if (off < n || fsync(fd) || close(fd) || rename(tmp, path)) {
		snprintf(err, errlen, "save state %s: %s", path,
			 off < n && !errno ? "short write" : strerror(errno));
		if (off < n)
			close(fd);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * Our own file name's prefix, "netsetup-NETNS-": the files of this
 * network namespace share it. Return: 0, or -1
 */
static int state_prefix(char *buf, size_t len)
{
	struct stat st;
	int n;

	if (stat("/proc/self/ns/net", &st))
		return -1;
	n = snprintf(buf, len, "netsetup-%lu-", (unsigned long)st.st_ino);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* The bridge a file of this namespace is for, or false */
static bool state_file_bridge(const char *name, const char *prefix,
			      char br[IFNAMSIZ])
{
	size_t pl = strlen(prefix), len = strlen(name);
	char err[128];

	if (len <= pl + 6 || strncmp(name, prefix, pl) ||
	    strcmp(name + len - 6, ".state") || len - pl - 6 >= IFNAMSIZ)
		return false;
	memcpy(br, name + pl, len - pl - 6);
	br[len - pl - 6] = '\0';
	return !valid_ifname(br, err, sizeof(err));
}

/**
 * state_bridges() - the bridges with a state file in this network
 * namespace
 * @dir:	state directory
 * @br:		output names
 * @max:	room in @br
 * @n:		names found
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set (there are more than @max)
 */
int state_bridges(const char *dir, char (*br)[IFNAMSIZ], size_t max,
		  size_t *n, char *err, size_t errlen)
{
	char prefix[64];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*n = 0;
	if (state_prefix(prefix, sizeof(prefix)))
		return snprintf(err, errlen, "cannot name the state file"), -1;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0
				       : (snprintf(err, errlen, "read %s: %s",
						   dir, strerror(errno)),
					  -1);
	while (!rc && (de = readdir(d))) {
		char one[IFNAMSIZ];

		if (!state_file_bridge(de->d_name, prefix, one))
			continue;
		if (*n == max)
			rc = -1;
		else
			memcpy(br[(*n)++], one, IFNAMSIZ);
	}
	closedir(d);
	if (rc)
		snprintf(err, errlen, "too many state files in %s", dir);
	return rc;
}

/**
 * state_peers() - what the other bridges' state files of this network
 * namespace hold
 * @dir:	state directory
 * @bridge:	our bridge (its file is left out)
 * @it:		output: each sysctl once, with its value from before the
 *		first up
 * @max:	room in @it
 * @n:		entries filled
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set if a file is bad or there are too many
 */
int state_peers(const char *dir, const char *bridge, struct sysctl_item *it,
		size_t max, size_t *n, char *err, size_t errlen)
{
	static char br[256][IFNAMSIZ];
	static struct state one;
	char path[4096];
	size_t nbr, b, i;

	*n = 0;
	if (state_bridges(dir, br, 256, &nbr, err, errlen))
		return -1;
	for (b = 0; b < nbr; b++) {
		if (!strcmp(br[b], bridge))
			continue;
		if (state_path(dir, br[b], path, sizeof(path)) ||
		    state_load(path, br[b], &one, err, errlen) < 0)
			return -1;
		for (i = 0; i < one.nitems; i++) {
			if (sysctl_find(it, *n, &one.item[i]))
				continue;
			if (*n == max)
				return snprintf(err, errlen, "too many state "
						"files in %s", dir),
				       -1;
			it[(*n)++] = one.item[i];
		}
	}
	return 0;
}

/**
 * state_lock() - flock the state directory (made if missing)
 * @dir:	state directory
 * @exclusive:	for up and down; shared for readers
 * @timeout_ms:	give up after this long
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Another up or down holds the lock only for the moments it runs, so a
 * short wait is the normal case; one that never ends is a wedged process,
 * named in the message rather than waited for forever.
 *
 * Return: the fd holding the lock (close it to release), or -1 with @err
 */
int state_lock(const char *dir, bool exclusive, unsigned timeout_ms,
	       char *err, size_t errlen)
{
	struct timespec nap = { 0, 1000000 };
	unsigned waited = 0;
	int fd;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return snprintf(err, errlen, "mkdir %s: %s", dir,
				strerror(errno)),
		       -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return snprintf(err, errlen, "open %s: %s", dir,
				strerror(errno)),
		       -1;
	while (flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB)) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    waited >= timeout_ms) {
			snprintf(err, errlen, "lock %s: %s", dir,
				 errno == EWOULDBLOCK
					 ? "held by another strait-netsetup "
					   "for too long"
					 : strerror(errno));
			close(fd);
			return -1;
		}
		/* 1 ms, doubling to 16 ms: a short hold costs little */
		nanosleep(&nap, NULL);
		waited += (unsigned)(nap.tv_nsec / 1000000);
		if (nap.tv_nsec < 16000000)
			nap.tv_nsec *= 2;
	}
	return fd;
}
