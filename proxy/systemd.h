/* SPDX-License-Identifier: MIT */
#ifndef STRAIT_SYSTEMD_H
#define STRAIT_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

/* Where systemd's socket activation passes the first socket */
#define SYSTEMD_LISTEN_FDS_START 3
/* Most sockets we take from it: a range of ports, one each */
#define SYSTEMD_LISTEN_FDS_MAX 65535

int systemd_listen_fds(const char *listen_pid, const char *listen_fds,
		       pid_t self);
size_t systemd_fd_name(const char *names, unsigned i, char *buf,
		       size_t len);
int systemd_notify_addr(const char *s, struct sockaddr_un *sa,
			socklen_t *len);
bool systemd_notify_wanted(const char *notify_socket, bool ready_pipe,
			   const char *exec_pid, pid_t self);
int systemd_notify_open(const char *notify_socket, char *err, size_t errlen);
int systemd_notify(int fd, const char *msg);

#endif
