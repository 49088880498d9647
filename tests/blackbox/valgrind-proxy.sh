#!/bin/sh
# Runs build/strait-proxy under valgrind memcheck: any error or leak makes it
# exit 99, which the black-box tests see as a wrong exit code.
exec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --track-fds=no \
	"${STRAIT_PROXY:-$(dirname "$0")/../../build/strait-proxy}" "$@"
