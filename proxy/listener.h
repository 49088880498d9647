/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_LISTENER_H
#define STRAIT_LISTENER_H

#include <stddef.h>

#include "cfg.h"

#define LISTENER_FD 4

int listener_bind(const struct cfg *cfg, char *err, size_t errlen);
int listener_adopt(int fd, const struct cfg *cfg, char *err, size_t errlen);
int listener_errno_text(int err, char *buf, size_t len);

#endif
