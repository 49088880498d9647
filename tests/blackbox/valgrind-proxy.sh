#!/bin/sh
# Runs strait-proxy under valgrind memcheck: any error or leak makes it
# exit 99, which the black-box tests see as a wrong exit code. The binary
# ($STRAIT_PROXY, else build/nosandbox/strait-proxy) must be a SANDBOX=0
# build: valgrind's own files and syscalls are not on the sandbox's lists.
# --vgdb=no: no gdbserver pipes in /tmp (see run-tests.sh).
exec valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --track-fds=no \
	"${STRAIT_PROXY:-$(dirname "$0")/../../build/nosandbox/strait-proxy}" "$@"
