/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_LISTENER_H
#define STRAIT_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Where Docker 28+ (and strait-netsetup exec) pass the bound socket */
#define LISTENER_FD 4
/* Receive buffer of a UDP listener, where CAP_NET_ADMIN allows: some
 * 1800 datagrams of 1400 bytes, about 20 ms of a 1 Gbit/s stream */
#define LISTENER_UDP_RCVBUF (4 << 20)

int listener_bind(int ipproto, const struct addr_ip *ip, uint16_t port,
		  char *err, size_t errlen);
int listener_adopt(int fd, int ipproto, char *err, size_t errlen);
int listener_errno_text(int err, char *buf, size_t len);
int listener_raise_nofile(void);

#endif
