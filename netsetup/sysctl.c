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
 * The values found before `up` are kept in the bridge's state file
 * (state.c), one sysctl_item_parse() line each.
 */
#include "sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
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
 * sysctl_item_parse() - exactly "FAMILY IFNAME KEY VALUE", single spaces
 * @s:		text (not NUL-terminated)
 * @n:		its length
 * @it:		result (pointers to static strings)
 *
 * Saved values are input too: every field is checked as strictly as the
 * command line, and the value must be canonical decimal digits.
 *
 * Return: 0, or -1 if the text is not exactly valid
 */
int sysctl_item_parse(const char *s, size_t n, struct sysctl_item *it)
{
	char f[4][32], err[128];
	size_t i, k = 0, len;

	memset(it, 0, sizeof(*it));
	for (i = 0; i < 4; i++) {
		len = 0;
		while (k < n && s[k] != ' ' && len < sizeof(f[i]) - 1)
			f[i][len++] = s[k++];
		f[i][len] = '\0';
		if (!len || (i < 3 && (k >= n || s[k++] != ' ')))
			return -1;
	}
	if (k != n)
		return -1;
	it->fam = sysctl_fam(f[0]);
	it->key = sysctl_key(f[2]);
	len = strlen(f[3]);
	if (!it->fam || !it->key || valid_ifname(f[1], err, sizeof(err)) ||
	    len >= SYSCTL_VALLEN || strspn(f[3], "0123456789") != len ||
	    (f[3][0] == '0' && len > 1))
		return -1;
	/* both lengths were checked above */
	memcpy(it->ifname, f[1], strlen(f[1]) + 1);
	memcpy(it->val, f[3], len + 1);
	return 0;
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
