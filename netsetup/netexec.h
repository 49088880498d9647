/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_NETEXEC_H
#define STRAIT_NETEXEC_H

#include <stddef.h>

#include "args.h"

int netexec_run(const struct args *a, char *err, size_t errlen);

#endif
