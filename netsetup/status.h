/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_STATUS_H
#define STRAIT_STATUS_H

#include <stdbool.h>
#include <stdio.h>

int status_run(const char *dir, const char *bridge, bool json, FILE *out,
	       char *err, size_t errlen);

#endif
