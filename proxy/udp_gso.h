/* SPDX-License-Identifier: MIT */
/*
 * udp_gso.h - datagrams of one client towards the container, several to a
 * message where the kernel can split them (UDP_SEGMENT). Not part of the
 * server's API: udp_server.c's sending half.
 */
#ifndef STRAIT_UDP_GSO_H
#define STRAIT_UDP_GSO_H

#include <stddef.h>

struct udp_batch;

/* Most payload bytes in one message the kernel splits (a UDP datagram
 * carries at most 65507 over IPv4) */
#define UDP_GSO_BYTES 65000

int udp_gso_probe(int fd);
int udp_gso_build(struct udp_batch *b, int from, int to, size_t below);

#endif
