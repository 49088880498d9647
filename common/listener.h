/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_LISTENER_H
#define STRAIT_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Where Docker 28+ (and strait-netsetup exec) pass the bound socket */
#define LISTENER_FD 4

int listener_bind(int ipproto, const struct addr_ip *ip, uint16_t port,
		  char *err, size_t errlen);
int listener_adopt(int fd, int ipproto, char *err, size_t errlen);
int listener_errno_text(int err, char *buf, size_t len);
const char *listener_proto_name(int ipproto);

#endif
