/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_IPT_H
#define STRAIT_IPT_H

#include <stddef.h>

int ipt_run(const char *const argv[], const char *input, char *err,
	    size_t errlen);
int ipt_up(const char *bridge, const char *filter, const char *nat,
	   const char *filter6, const char *nat6, char *err, size_t errlen);
int ipt_down(const char *bridge, char *err, size_t errlen);

#endif
