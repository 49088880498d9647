/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_READY_H
#define STRAIT_READY_H

#include <stddef.h>
#include <sys/types.h>

#define READY_FD 3
/* Longest wait for room in the readiness pipe: dockerd itself waits 16 s */
#define READY_TIMEOUT_MS 5000

int ready_open(int fd);
ssize_t ready_format(char *buf, size_t len, const char *msg);
int ready_write(int fd, const char *buf, size_t len, int timeout_ms);
int ready_ok(int fd);
void ready_fail(int fd, const char *msg);

#endif
