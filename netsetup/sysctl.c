// SPDX-License-Identifier: MIT
/*
 * sysctl.c - per-interface sysctls, written safely, and their saved values
 *
 * A path is never built as a string: /proc/sys is opened and then each
 * component (net, ipv4|ipv6, conf, IFNAME, KEY) with openat() and
 * O_NOFOLLOW, from an allowlist or a validated interface name. So no name
 * can walk to conf/all (which would turn on forwarding everywhere) or
 * anywhere else. We never write "all" or "default".
 *
 * The values found before `up` are kept in a state file named after the
 * network namespace (its inode) and the bridge, so two namespaces with the
 * same bridge name never share one, and `down` puts them back. Bridges
 * set up side by side share the uplink's switches: a value another
 * bridge's file holds is the one found before the first of them, and only
 * the last one down puts it back (sysctl_state_peers()).
 */
#include "sysctl.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "valid.h"

static const char *const sysctl_keys[] = { "forwarding", "rp_filter",
					   "route_localnet",
					   "force_forwarding" };

static const char *sysctl_key(const char *k)
{
	size_t i;

	for (i = 0; i < sizeof(sysctl_keys) / sizeof(sysctl_keys[0]); i++) {
		if (!strcmp(k, sysctl_keys[i]))
			return sysctl_keys[i];
	}
	return NULL;
}

static const char *sysctl_fam(const char *f)
{
	if (!strcmp(f, "ipv4"))
		return "ipv4";
	if (!strcmp(f, "ipv6"))
		return "ipv6";
	return NULL;
}

/* Return: an fd of the sysctl file opened with @flags, or -1 */
static int sysctl_open(const struct sysctl_item *it, int flags)
{
	const char *comp[5] = { "net", it->fam, "conf", it->ifname, it->key };
	char err[128];
	int dir, fd, i;

	if (!sysctl_fam(it->fam) || !sysctl_key(it->key) ||
	    valid_ifname(it->ifname, err, sizeof(err))) {
		errno = EINVAL;
		return -1;
	}
	dir = open("/proc/sys", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	for (i = 0; i < 4 && dir >= 0; i++) {
		fd = openat(dir, comp[i],
			    O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dir);
		dir = fd;
	}
	if (dir < 0)
		return -1;
	fd = openat(dir, comp[4], flags | O_NOFOLLOW | O_CLOEXEC);
	i = errno;
	close(dir);
	errno = i;
	return fd;
}

/**
 * sysctl_exists() - whether this kernel and interface have the sysctl
 * @it:		which
 *
 * Return: true if it can be read
 */
bool sysctl_exists(const struct sysctl_item *it)
{
	int fd = sysctl_open(it, O_RDONLY);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/**
 * sysctl_read() - current value, without the newline
 * @it:		which
 * @val:	output
 * @len:	size of @val
 *
 * Return: 0, or -1 with errno
 */
int sysctl_read(const struct sysctl_item *it, char *val, size_t len)
{
	int fd = sysctl_open(it, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, val, len - 1);
	close(fd);
	if (n <= 0)
		return -1;
	while (n && (val[n - 1] == '\n' || val[n - 1] == ' '))
		n--;
	val[n] = '\0';
	return 0;
}

/**
 * sysctl_write() - set a value
 * @it:		which
 * @val:	decimal digits
 *
 * Return: 0, or -1 with errno
 */
int sysctl_write(const struct sysctl_item *it, const char *val)
{
	size_t n = strlen(val);
	int fd, e;

	if (!n || strspn(val, "0123456789") != n) {
		errno = EINVAL;
		return -1;
	}
	fd = sysctl_open(it, O_WRONLY);
	if (fd < 0)
		return -1;
	if (write(fd, val, n) != (ssize_t)n) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/**
 * sysctl_state_path() - DIR/netsetup-NETNS-BRIDGE.state
 * @dir:	state directory
 * @bridge:	validated bridge name
 * @buf:	output
 * @len:	size of @buf
 *
 * Return: 0, or -1 if the namespace cannot be identified or @buf is short
 */
int sysctl_state_path(const char *dir, const char *bridge, char *buf,
		      size_t len)
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
 * sysctl_state_parse() - one line "ipv4 eth0 forwarding 0"
 * @line:	text, newline optional
 * @it:		result (pointers to static strings)
 *
 * A state file is ours, but it is still input: every field is checked as
 * strictly as the command line.
 *
 * Return: 0, or -1 if the line is not exactly valid
 */
int sysctl_state_parse(const char *line, struct sysctl_item *it)
{
	char fam[8], ifn[32], key[32], val[32], err[128];

	memset(it, 0, sizeof(*it));
	if (sscanf(line, "%7s %31s %31s %31s", fam, ifn, key, val) != 4)
		return -1;
	it->fam = sysctl_fam(fam);
	it->key = sysctl_key(key);
	if (!it->fam || !it->key || valid_ifname(ifn, err, sizeof(err)) ||
	    strlen(val) >= SYSCTL_VALLEN || !*val ||
	    strspn(val, "0123456789") != strlen(val))
		return -1;
	/* both lengths were checked above */
	memcpy(it->ifname, ifn, strlen(ifn) + 1);
	memcpy(it->val, val, strlen(val) + 1);
	return 0;
}

/**
 * sysctl_state_save() - write the values found, atomically (tmp + rename)
 * @path:	state file
 * @it:		items with the values found
 * @n:		how many
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int sysctl_state_save(const char *path, const struct sysctl_item *it,
		      size_t n, char *err, size_t errlen)
{
	char tmp[4200], *slash;
	size_t i;
	FILE *f;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return snprintf(err, errlen, "state path too long"), -1;
	slash = strrchr(tmp, '/');
	if (slash) {
		*slash = '\0';
		mkdir(tmp, 0700);
		*slash = '/';
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		snprintf(err, errlen, "save state %s: %s", tmp,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (i = 0; i < n; i++)
		fprintf(f, "%s %s %s %s\n", it[i].fam, it[i].ifname,
			it[i].key, it[i].val);
	if (fflush(f) || fsync(fileno(f)) || fclose(f) ||
	    rename(tmp, path)) {
		snprintf(err, errlen, "save state %s: %s", path,
			 strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/**
 * sysctl_state_load() - read a state file
 * @path:	state file
 * @it:		output
 * @max:	room in @it
 * @n:		items read
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 1 if loaded, 0 if there is no state file, -1 with @err set
 */
int sysctl_state_load(const char *path, struct sysctl_item *it, size_t max,
		      size_t *n, char *err, size_t errlen)
{
	char line[128];
	FILE *f;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*n = 0;
	if (fd < 0 && errno == ENOENT)
		return 0;
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		snprintf(err, errlen, "read state %s: %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (*n == max || sysctl_state_parse(line, &it[*n])) {
			fclose(f);
			return snprintf(err, errlen, "bad state file %s", path),
			       -1;
		}
		(*n)++;
	}
	fclose(f);
	return 1;
}

/**
 * sysctl_same() - the same sysctl (values aside)
 * @x:		one
 * @y:		the other
 *
 * Return: true if family, interface and key are equal
 */
bool sysctl_same(const struct sysctl_item *x, const struct sysctl_item *y)
{
	return !strcmp(x->fam, y->fam) && !strcmp(x->ifname, y->ifname) &&
	       !strcmp(x->key, y->key);
}

/**
 * sysctl_find() - look a sysctl up in a list
 * @it:		list
 * @n:		its length
 * @x:		the sysctl
 *
 * Return: its entry in @it, or NULL
 */
const struct sysctl_item *sysctl_find(const struct sysctl_item *it, size_t n,
				      const struct sysctl_item *x)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (sysctl_same(&it[i], x))
			return &it[i];
	}
	return NULL;
}

/**
 * sysctl_state_peers() - what the other bridges' state files of this
 * network namespace hold
 * @dir:	state directory
 * @bridge:	our bridge (its file is left out)
 * @it:		output: each sysctl once, with its value from before the first up
 * @max:	room in @it
 * @n:		entries filled
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set if a file is bad or there are too many
 */
int sysctl_state_peers(const char *dir, const char *bridge,
		       struct sysctl_item *it, size_t max, size_t *n, char *err,
		       size_t errlen)
{
	struct sysctl_item one[SYSCTL_MAX_ITEMS];
	char mine[4096], path[4096];
	const char *base;
	struct dirent *de;
	size_t k, i, plen;
	DIR *d;
	int rc = 0;

	*n = 0;
	if (sysctl_state_path(dir, bridge, mine, sizeof(mine)))
		return snprintf(err, errlen, "cannot name the state file"), -1;
	/* ours is "netsetup-NETNS-BRIDGE.state": peers share its prefix */
	base = strrchr(mine, '/') ? strrchr(mine, '/') + 1 : mine;
	plen = strlen(base) - strlen(bridge) - strlen(".state");
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0
				       : (snprintf(err, errlen, "read %s: %s",
						   dir, strerror(errno)),
					  -1);
	while (!rc && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (strncmp(de->d_name, base, plen) ||
		    len < 6 || strcmp(de->d_name + len - 6, ".state") ||
		    !strcmp(de->d_name, base))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(path)) {
			snprintf(err, errlen, "state path too long");
			rc = -1;
			break;
		}
		if (sysctl_state_load(path, one, SYSCTL_MAX_ITEMS, &k, err,
				      errlen) < 0) {
			rc = -1;
			break;
		}
		for (i = 0; i < k && !rc; i++) {
			if (sysctl_find(it, *n, &one[i]))
				continue;
			if (*n == max) {
				snprintf(err, errlen, "too many state files in "
					 "%s", dir);
				rc = -1;
			} else {
				it[(*n)++] = one[i];
			}
		}
	}
	closedir(d);
	return rc;
}
