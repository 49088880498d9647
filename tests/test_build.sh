#!/bin/sh
# test_build.sh - the Makefile itself: a missing build dependency stops
# make at once, on one line naming the pkg-config module, its Debian
# package and scripts/install-deps.sh; changed flags rebuild the objects;
# the proxy is a static PIE unless LINK=dynamic (or a valgrind or
# sanitizer build) says otherwise, anything else is refused.
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
		-u LINK \
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

# LINK: the default build's proxy is a static PIE (no interpreter, no
# shared object, full RELRO), runs, and none of our objects calls what a
# static glibc would have to load at run time (the name service, dlopen,
# locales: under Landlock it could not); LINK=dynamic loads glibc and
# libevent; a SANDBOX=0 (valgrind) or sanitizer build links dynamically;
# anything else is refused, on one line

# built_as LABEL O CHECK [MAKE ARGS]: O's proxy builds and runs, and
# CHECK (a function) passes on its dynamic section and program headers
built_as() {
	label=$1 o=$2 check=$3
	shift 3
	if m -j2 O="$o" "$@" "$o/strait-proxy" >"$tmp/out" 2>&1 &&
		readelf -d -l "$o/strait-proxy" >"$tmp/dyn" && "$check" &&
		"$o/strait-proxy" -v 2>&1 | grep -q '^strait-proxy version'; then
		ok "$label"
	else
		tail -n 5 "$tmp/out"
		cat "$tmp/dyn" 2>/dev/null
		nok "$label"
	fi
}
static_pie() {
	! grep -q 'NEEDED' "$tmp/dyn" && ! grep -q 'INTERP' "$tmp/dyn" &&
		grep -q 'FLAGS_1.*PIE' "$tmp/dyn" &&
		grep -q 'BIND_NOW' "$tmp/dyn" && grep -q 'GNU_RELRO' "$tmp/dyn"
}
loads_libs() {
	grep -q 'NEEDED.*libc\.so' "$tmp/dyn" &&
		grep -q 'NEEDED.*libevent_core' "$tmp/dyn"
}
o=$tmp/link
built_as "default link: strait-proxy is a static PIE, full RELRO, and runs" \
	"$o" static_pie
nss='getaddrinfo|getnameinfo|gethostby[a-z0-9_]*|getpw(nam|uid|ent)[_r]*'
nss="$nss|getgr(nam|gid|ent)[_r]*|getgrouplist|getspnam[_r]*|getserv[a-z_]*"
nss="$nss|getproto[a-z_]*|getnet[a-z_]*|initgroups|dlopen|setlocale|iconv_open"
nss="$nss|evutil_getaddrinfo|evutil_inet_pton_scope"
if ls "$o"/proxy/*.o "$o"/common/*.o >/dev/null 2>&1 &&
	nm -u "$o"/proxy/*.o "$o"/common/*.o >"$tmp/undef" &&
	grep -q ' U event_base_new' "$tmp/undef" &&
	! grep -Eq " U ($nss)\$" "$tmp/undef"; then
	ok "static link: no object of the proxy calls NSS, dlopen or locales"
else
	grep -E " U ($nss)\$" "$tmp/undef" 2>/dev/null
	nok "static link: the proxy's objects call what a static glibc loads"
fi
built_as "LINK=dynamic: glibc and libevent loaded at start, the proxy runs" \
	"$tmp/dynamic" loads_libs LINK=dynamic
for v in "SANDBOX=0" "SAN=address,undefined"; do
	if m -n -B O="$tmp/n" "$v" "$tmp/n/strait-proxy" >"$tmp/out" 2>&1 &&
		grep -q -- ' -pie .*-o [^ ]*/strait-proxy' "$tmp/out" &&
		! grep -q -- '-static-pie' "$tmp/out"; then
		ok "$v: the proxy links dynamically (valgrind and sanitizers replace malloc)"
	else
		grep 'strait-proxy' "$tmp/out" | tail -n 3
		nok "$v links dynamically"
	fi
done
# the bench's tools build in a sanitizer build too (no static floor there)
if m -j2 O="$tmp/san" SAN=address,undefined bench-tools >"$tmp/out" 2>&1 &&
	[ -x "$tmp/san/floor" ] && [ ! -e "$tmp/san/floor-static" ]; then
	ok "SAN=address,undefined bench-tools: built, with no static floor"
else
	tail -n 5 "$tmp/out"
	nok "SAN=address,undefined bench-tools"
fi
check_refused() { # $1 = label, $2 = expected message, rest = make arguments
	label=$1 want=$2
	shift 2
	if ! m -n O="$tmp/n" "$@" all >"$tmp/out" 2>&1 &&
		[ "$(wc -l <"$tmp/out")" = 1 ] && grep -qF -- "$want" "$tmp/out"; then
		ok "$label: refused, on one line"
	else
		cat "$tmp/out"
		nok "$label refused"
	fi
}
check_refused "LINK=shared" "LINK=shared: say LINK=static or LINK=dynamic" \
	LINK=shared
check_refused "LINK=static with a sanitizer" \
	"LINK=static: a sanitizer build links dynamically" \
	LINK=static SAN=address

echo "test_build: $passed passed, $failed failed"
[ "$failed" = 0 ]
