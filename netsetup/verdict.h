/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_VERDICT_H
#define STRAIT_VERDICT_H

#include <stddef.h>

#include "state.h"

int verdict_check(const struct state_cfg *c, const char *verb, char *err,
		  size_t errlen);
enum state_backend verdict_backend_auto(char *why, size_t len);

#endif
