// SPDX-License-Identifier: MIT
/*
 * cfg_duration.c - durations as strait-proxy's flags and variables take
 * them ("90", "90s", "500ms", "2m", "1h") and as its log lines and -stats
 * write them back; one parser for every timeout, with its error text.
 */
#include "cfg.h"

#include <stdio.h>
#include <string.h>

/**
 * cfg_duration_parse() - "90", "90s", "500ms", "2m", "1h": 1 ms to 7 days
 * @s:		text; a bare number is seconds
 * @ms:		result in milliseconds
 *
 * Return: 0 on success, -1 otherwise
 */
int cfg_duration_parse(const char *s, uint64_t *ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "", 1000 }, { "ms", 1 }, { "s", 1000 },
		      { "m", 60000 }, { "h", 3600000 } };
	uint64_t v = 0;
	size_t i, n;

	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		if (n >= 9)
			return -1;
		v = v * 10 + (uint64_t)(s[n] - '0');
	}
	if (n == 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s + n, units[i].unit))
			continue;
		v *= units[i].ms;
		if (v < 1 || v > 7ULL * 24 * 3600000)
			return -1;
		*ms = v;
		return 0;
	}
	return -1;
}

/**
 * cfg_duration_format() - a duration as it is written: "90s", "2m",
 * "500ms", "1h" (the largest unit that divides it)
 * @buf:	output, always NUL-terminated when @len > 0
 * @len:	size of @buf; 24 is always enough
 * @ms:		milliseconds
 *
 * cfg_duration_parse() reads back what this writes.
 *
 * Return: bytes in @buf, without the NUL
 */
size_t cfg_duration_format(char *buf, size_t len, uint64_t ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = { { "h", 3600000 }, { "m", 60000 }, { "s", 1000 } };
	const char *unit = "ms";
	size_t i;
	int n;

	for (i = 0; ms && i < sizeof(units) / sizeof(units[0]); i++) {
		if (ms % units[i].ms == 0) {
			unit = units[i].unit;
			ms /= units[i].ms;
			break;
		}
	}
	n = snprintf(buf, len, "%llu%s", (unsigned long long)ms, unit);
	if (n < 0 || !len)
		return 0;
	return (size_t)n < len ? (size_t)n : len - 1;
}

/**
 * cfg_duration_set() - a duration (cfg_duration_parse())
 * @what:	the flag or variable, for the message
 * @v:		its value
 * @ms:		result in milliseconds
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int cfg_duration_set(const char *what, const char *v, uint64_t *ms,
		     char *err, size_t errlen)
{
	if (cfg_duration_parse(v, ms))
		return snprintf(err, errlen,
				"invalid %s \"%s\" (want e.g. 90s, 500ms, 2m)",
				what, v),
		       -1;
	return 0;
}

/**
 * cfg_duration_set_or_0() - a duration, or "0" for never
 * @what:	the flag or variable, for the message
 * @v:		its value
 * @ms:		result in milliseconds, 0 for never
 * @err:	one-line message on failure
 * @errlen:	size of @err
 *
 * Return: 0, or -1 with @err set
 */
int cfg_duration_set_or_0(const char *what, const char *v, uint64_t *ms,
			  char *err, size_t errlen)
{
	if (!strcmp(v, "0")) {
		*ms = 0;
		return 0;
	}
	if (cfg_duration_parse(v, ms))
		return snprintf(err, errlen,
				"invalid %s \"%s\" (want e.g. 10m, 90s, or 0 "
				"for never)",
				what, v),
		       -1;
	return 0;
}
