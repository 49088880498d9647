/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_PROXYHDR_H
#define STRAIT_PROXYHDR_H

#include <stddef.h>
#include <sys/socket.h>

/* Longest header either version makes: v1 allows 107 bytes */
#define PROXYHDR_MAX 108

int proxyhdr_build(int version, const struct sockaddr *src,
		   const struct sockaddr *dst, char *buf, size_t len);

#endif
