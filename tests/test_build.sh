#!/bin/sh
# test_build.sh - the Makefile itself: a missing build dependency stops
# make at once, on one line naming the pkg-config module, its Debian
# package and scripts/install-deps.sh; changed flags rebuild the objects;
# LIBEVENT=static links libevent into the proxy, anything else is refused.
#
#   test_build.sh
#
# Nothing is uninstalled: a fake pkg-config says which modules are
# missing. Builds go to a temporary O. Ends with "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { echo "ok: $1"; passed=$((passed + 1)); }
nok() { echo "FAIL: $1"; failed=$((failed + 1)); }

# make in the repository, untouched by the caller's make or flags
m() {
	env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS -u O -u WERROR -u SAN \
		-u SANDBOX -u CFLAGS -u CPPFLAGS -u LDFLAGS -u PKG_CONFIG \
		-u LIBEVENT \
		make -C "$top" --no-print-directory "$@"
}

# fakepc MODULE...: a pkg-config for which those modules are missing
fakepc() {
	# shellcheck disable=SC2016 # $a and $@ are the fake's own
	printf '#!/bin/sh\nfor a; do case $a in %s) exit 1 ;; esac; done\nexec pkg-config "$@"\n' \
		"$(echo "$@" | tr ' ' '|')" >"$tmp/pc"
	chmod +x "$tmp/pc"
}

# missing LABEL WANT... -- MAKE ARGS: make fails, on one line holding
# every WANT, and has compiled nothing
missing() {
	label=$1
	shift
	want=""
	while [ "$1" != -- ]; do want="$want
$1"; shift; done
	shift
	rm -rf "$tmp/o"
	m O="$tmp/o" "$@" >"$tmp/out" 2>&1
	rc=$?
	good=1
	[ "$rc" != 0 ] || good=0
	[ "$(wc -l <"$tmp/out")" = 1 ] || good=0
	echo "$want" | while read -r w; do
		[ -z "$w" ] || grep -qF -- "$w" "$tmp/out" || echo x
	done | grep -q x && good=0
	[ -z "$(find "$tmp/o" -name '*.o' 2>/dev/null)" ] || good=0
	if [ "$good" = 1 ]; then
		ok "$label: $(cat "$tmp/out")"
	else
		sed 's/^/  /' "$tmp/out" | tail -n 5
		nok "$label (exit $rc)"
	fi
}

fakepc libseccomp
missing "libseccomp missing" "pkg-config module libseccomp" \
	"Debian package libseccomp-dev" \
	"run scripts/install-deps.sh build (as root)" -- PKG_CONFIG="$tmp/pc" all
missing "libseccomp missing, plain make" "libseccomp-dev" \
	"scripts/install-deps.sh build" -- PKG_CONFIG="$tmp/pc"
missing "libseccomp missing, make install" "libseccomp-dev" \
	"scripts/install-deps.sh build" -- PKG_CONFIG="$tmp/pc" \
	DESTDIR="$tmp/dest" install
fakepc libnftables libevent_core
missing "two missing" "libevent_core (Debian package libevent-dev)" \
	"libnftables (Debian package libnftables-dev)" \
	"libevent-dev), pkg-config module libnftables" -- PKG_CONFIG="$tmp/pc" all
missing "no pkg-config" "pkg-config (Debian package pkg-config)" \
	"scripts/install-deps.sh build" -- PKG_CONFIG="$tmp/no-such-pkg-config" all
fakepc cmocka
missing "cmocka missing for the unit tests" "libcmocka-dev" \
	"run scripts/install-deps.sh test (as root)" -- PKG_CONFIG="$tmp/pc" unit-bins

# goals that compile nothing do not ask; with the modules there, make goes on
if m -n O="$tmp/o" PKG_CONFIG="$tmp/no-such-pkg-config" clean uninstall \
	>"$tmp/out" 2>&1 && m -n O="$tmp/o" all >"$tmp/out" 2>&1 &&
	grep -q -- '-c -o .*/common/log.o' "$tmp/out"; then
	ok "clean and uninstall need no library; make -n all goes on"
else
	tail -n 5 "$tmp/out"
	nok "clean, uninstall, or make -n all with every module"
fi

# changed flags rebuild: make -q says whether the object is up to date
o=$tmp/f
obj=$o/common/log.o
q() { # q WANT_STATUS LABEL MAKE_ARGS...: make -q exits WANT_STATUS
	want=$1 label=$2
	shift 2
	m -q O="$o" "$@" "$obj" >/dev/null 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then
		ok "$label"
	else
		nok "$label (make -q: $rc, want $want)"
	fi
}
if m O="$o" "$obj" >"$tmp/out" 2>&1 && [ -f "$obj" ]; then
	q 0 "same flags: up to date"
	q 1 "WERROR=1: rebuilt" WERROR=1
	q 1 "CFLAGS: rebuilt" CFLAGS=-DSTRAIT_TEST_BUILD
	q 1 "CPPFLAGS: rebuilt" CPPFLAGS=-DSTRAIT_TEST_BUILD
	q 1 "LDFLAGS: rebuilt" LDFLAGS=-Wl,-O1
	q 1 "SANDBOX=0 in the same O: rebuilt" SANDBOX=0
	q 1 "SAN in the same O: rebuilt" SAN=undefined
	if m O="$o" WERROR=1 "$obj" >"$tmp/out" 2>&1 &&
		grep -q -- "-Werror .*-c -o $obj " "$tmp/out" &&
		grep -q "build flags changed" "$tmp/out"; then
		ok "make WERROR=1 recompiles with -Werror"
	else
		cat "$tmp/out"
		nok "make WERROR=1 recompiles with -Werror"
	fi
	q 0 "WERROR=1 again: up to date" WERROR=1
	q 1 "back to no WERROR: rebuilt"
else
	cat "$tmp/out"
	nok "a first build of $obj"
fi

# LIBEVENT=static: the proxy needs no libevent at run time, and works
o=$tmp/static
if m -j2 O="$o" LIBEVENT=static "$o/strait-proxy" >"$tmp/out" 2>&1 &&
	readelf -d "$o/strait-proxy" >"$tmp/dyn" &&
	grep -q 'NEEDED.*libc\.so' "$tmp/dyn" &&
	! grep -q 'NEEDED.*libevent' "$tmp/dyn" &&
	"$o/strait-proxy" -v 2>&1 | grep -q '^strait-proxy version'; then
	ok "LIBEVENT=static: libevent linked in, the proxy runs"
else
	tail -n 5 "$tmp/out"
	cat "$tmp/dyn" 2>/dev/null
	nok "LIBEVENT=static"
fi
if ! m -n O="$o" LIBEVENT=shared all >"$tmp/out" 2>&1 &&
	grep -q 'LIBEVENT=shared: say LIBEVENT=static, or leave it unset' \
		"$tmp/out"; then
	ok "LIBEVENT=shared: refused, on one line"
else
	cat "$tmp/out"
	nok "LIBEVENT=shared refused"
fi

echo "test_build: $passed passed, $failed failed"
[ "$failed" = 0 ]
