/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_WATCH_H
#define STRAIT_WATCH_H

#include <stddef.h>
#include <stdio.h>

#include "args.h"

int watch_read_publishes(const char *path, struct args_wpub *w, size_t max,
			 size_t *n, char *err, size_t errlen);
int watch_run(const struct args *a, const char *dir, FILE *log, char *err,
	      size_t errlen);

#endif
