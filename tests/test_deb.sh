#!/bin/sh
# test_deb.sh - make deb builds a Debian package that installs what
# `make install PREFIX=/usr` does, enables and starts no unit, lints
# without errors, and whose binaries run from a throw-away root.
#
#   test_deb.sh [--reuse] [DEB_DIR]
#
# DEB_DIR (default build/deb) is where `make deb DEB_O=DEB_DIR` builds;
# --reuse tests the package already there instead of building it again.
# Ends with one line "N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
reuse=0
[ "${1:-}" = --reuse ] && { reuse=1; shift; }
d=${1:-$top/build/deb}
case $d in /*) ;; *) d=$(pwd)/$d ;; esac
version=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile")
arch=$(dpkg --print-architecture)
deb=$d/strait_${version}_$arch.deb
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

ok() { echo "ok: $1"; passed=$((passed + 1)); }
nok() { echo "FAIL: $1"; failed=$((failed + 1)); }

# 1. the package builds (the test's environment must not reach its build)
if [ "$reuse" = 1 ] && [ -f "$deb" ]; then
	ok "reusing $deb"
elif env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -C "$top" deb DEB_O="$d" \
	>"$tmp/build.log" 2>&1 && [ -f "$deb" ]; then
	ok "make deb built $deb"
else
	tail -n 40 "$tmp/build.log"
	nok "make deb built no $deb"
	echo "test_deb: $passed passed, $failed failed (nothing else tested)"
	exit 1
fi

# 2. its control fields: name, the Makefile's version, the libraries:
# strait-netsetup's shared ones in Depends; strait-proxy (a static PIE)
# needs none, and the packages it holds are named with their versions
f() { dpkg-deb -f "$deb" "$1"; }
vers='[(]= [0-9][^)]*[)]'
if [ "$(f Package)" = strait ] && [ "$(f Version)" = "$version" ] &&
	[ "$(f Architecture)" = "$arch" ] &&
	f Depends | grep -q libnftables && ! f Depends | grep -q libevent &&
	! f Depends | grep -q libseccomp && ! f Depends | grep -q libcap-ng &&
	f Static-Built-Using | grep -q "glibc $vers" &&
	f Static-Built-Using | grep -q "libevent $vers" &&
	f Built-Using | grep -q "^glibc $vers\$"; then
	sbu=$(f Static-Built-Using)
	ok "control: strait $version $arch, Depends on netsetup's libraries, Static-Built-Using: $sbu"
else
	dpkg-deb -f "$deb"
	nok "control fields"
fi

# 3. every file make install lays out is in the package (compressed where
# Debian compresses, the licence as debian/copyright), and nothing else
# but Debian's own: make install is run with the package's binaries in
# place of a build (-o: make does not rebuild them)
o=$tmp/o
mkdir -p "$o" "$tmp/root"
dpkg -x "$deb" "$tmp/root"
cp "$tmp/root/usr/bin/strait-proxy" "$tmp/root/usr/sbin/strait-netsetup" "$o/"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' |
	sort >"$tmp/deb.list"
if env -u MAKEFLAGS -u MAKELEVEL -u MFLAGS make -s -C "$top" install \
	O="$o" -o "$o/strait-proxy" -o "$o/strait-netsetup" \
	DESTDIR="$tmp/inst" PREFIX=/usr UNITDIR=/lib/systemd/system \
	>"$tmp/install.log" 2>&1; then
	(cd "$tmp/inst" && find . -type f | sed 's/^\.//' | sort) >"$tmp/install.list"
else
	cat "$tmp/install.log"
	: >"$tmp/install.list"
fi
missing=""
while read -r p; do
	case $p in
	/usr/share/doc/strait/LICENSE) want=/usr/share/doc/strait/copyright ;;
	*) want=$p ;;
	esac
	grep -qxF -e "$want" -e "$want.gz" "$tmp/deb.list" || missing="$missing $p"
done <"$tmp/install.list"
extra=$(grep -v -x -F -e /usr/share/doc/strait/copyright \
	-e /usr/share/doc/strait/changelog.gz \
	-e /usr/share/lintian/overrides/strait "$tmp/deb.list" |
	sed 's/\.gz$//' | grep -v -x -F -f "$tmp/install.list")
if [ -s "$tmp/install.list" ] && [ -z "$missing" ] && [ -z "$extra" ]; then
	ok "contents: the $(wc -l <"$tmp/install.list") files of make install"
else
	echo "  missing:${missing:- none}"
	echo "  not from make install:" "$(echo "$extra" | tr "\n" " ")"
	nok "contents"
fi

# the layout Debian expects, whatever make install does
missing=""
expect="/usr/bin/strait-proxy /usr/sbin/strait-netsetup
/usr/share/man/man1/strait-proxy.1.gz /usr/share/man/man8/strait-netsetup.8.gz
/usr/share/doc/strait/copyright"
for u in "$top"/systemd/*; do
	expect="$expect /lib/systemd/system/${u##*/}"
done
for e in "$top"/etc/strait/*.example; do
	expect="$expect /usr/share/doc/strait/examples/${e##*/}"
done
for p in $expect; do
	grep -qxF -e "$p" -e "$p.gz" "$tmp/deb.list" || missing="$missing $p"
done
if [ -z "$missing" ] && ! grep -q '^/usr/local/' "$tmp/deb.list" &&
	! grep -rq /usr/local/ "$tmp/root/lib/systemd/system" &&
	grep -q '^ExecStart=/usr/bin/strait-proxy ' \
		"$tmp/root/lib/systemd/system/strait-proxy@.service" &&
	grep -q '^ExecStart=/usr/sbin/strait-netsetup ' \
		"$tmp/root/lib/systemd/system/strait-netsetup@.service"; then
	ok "layout: /usr/bin, /usr/sbin, man, /lib/systemd/system, examples"
else
	echo "  missing:${missing:- none}"
	nok "layout"
fi

# 4. the maintainer scripts enable and start no unit (the postinst
# re-enables a unit only where the admin had enabled it: debian-installed)
dpkg-deb -e "$deb" "$tmp/ctl"
scripts=$(ls "$tmp/ctl"/preinst "$tmp/ctl"/postinst "$tmp/ctl"/prerm \
	"$tmp/ctl"/postrm 2>/dev/null)
# shellcheck disable=SC2086 # $scripts: one word a file
if [ -n "$scripts" ] &&
	! grep -E -q '_dh_action=start|deb-systemd-invoke (start|restart|\$)' \
		$scripts &&
	{ ! grep -q 'deb-systemd-helper enable' $scripts ||
		grep -q 'deb-systemd-helper debian-installed' "$tmp/ctl/postinst"; }; then
	ok "maintainer scripts enable and start no unit"
else
	for s in $scripts; do echo "== $s"; cat "$s"; done
	nok "maintainer scripts enable or start a unit"
fi

# 5. the installed binaries run; the proxy is a static PIE under
# Debian's build flags too (no interpreter, no shared object)
px=$tmp/root/usr/bin/strait-proxy
ns=$tmp/root/usr/sbin/strait-netsetup
if readelf -d -l "$px" >"$tmp/elf" 2>&1 && ! grep -q 'INTERP' "$tmp/elf" &&
	! grep -q 'NEEDED' "$tmp/elf" && grep -q 'FLAGS_1.*PIE' "$tmp/elf"; then
	ok "installed strait-proxy: a static PIE"
else
	grep -E 'INTERP|NEEDED|FLAGS' "$tmp/elf"
	nok "installed strait-proxy is not a static PIE"
fi
if [ "$("$px" -version 2>&1)" = "strait-proxy version $version" ] &&
	[ "$("$ns" --version 2>&1)" = "strait-netsetup version $version" ] &&
	"$px" -h 2>&1 | grep -q '^Usage: strait-proxy' &&
	"$ns" --help 2>&1 | grep -q '^Usage: strait-netsetup'; then
	ok "installed binaries: version $version, help"
else
	"$px" -version
	"$ns" --version
	nok "installed binaries: version, help"
fi

# and the installed proxy serves: 127.0.0.1, a socket on fd 4, readiness
# on fd 3, to an echo server on 127.0.0.1; SIGTERM ends it with status 0
if python3 - "$px" >"$tmp/echo.log" 2>&1 <<'EOF'; then
import fcntl, os, signal, socket, subprocess, sys, threading

echo = socket.socket()
echo.bind(("127.0.0.1", 0))
echo.listen(4)
echo.settimeout(20)


def serve():
    c, _ = echo.accept()
    with c:
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)


threading.Thread(target=serve, daemon=True).start()
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(16)
port = ls.getsockname()[1]
r, w = os.pipe()
# above 4 first, so that placing one cannot overwrite the other
hi = [fcntl.fcntl(f, fcntl.F_DUPFD_CLOEXEC, 10) for f in (w, ls.fileno())]


def fds():
    os.dup2(hi[0], 3)  # dup2 clears close-on-exec
    os.dup2(hi[1], 4)


p = subprocess.Popen([sys.argv[1], "-proto", "tcp", "-host-ip", "127.0.0.1",
                      "-host-port", str(port), "-container-ip", "127.0.0.1",
                      "-container-port", str(echo.getsockname()[1]),
                      "-use-listen-fd", "-log", "stderr"],
                     preexec_fn=fds, close_fds=False, stderr=subprocess.PIPE)
for f in [w, *hi]:
    os.close(f)
ls.close()
try:
    ready = os.read(r, 64)
    assert ready == b"0\n", "readiness on fd 3: %r" % ready
    msg = b"through the installed strait-proxy"
    c = socket.create_connection(("127.0.0.1", port), timeout=20)
    c.sendall(msg)
    c.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        got += b
    c.close()
    assert got == msg, "echo: sent %r, got %r" % (msg, got)
finally:
    p.send_signal(signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    sys.stderr.write(err.decode(errors="replace"))
assert p.returncode == 0, "exit status %r" % p.returncode
print("echo ok")
EOF
	ok "the installed strait-proxy relays an echo on 127.0.0.1"
else
	cat "$tmp/echo.log"
	nok "the installed strait-proxy relays an echo on 127.0.0.1"
fi

# 6. lintian: no error (warnings are printed, not counted)
changes=$d/strait_${version}_$arch.changes
root_opt=""
[ "$(id -u)" = 0 ] && root_opt=--allow-root
if ! command -v lintian >/dev/null 2>&1; then
	nok "lintian not installed (scripts/install-deps.sh test)"
else
	lintian $root_opt "$changes" >"$tmp/lintian.log" 2>&1
	rc=$?
	sed 's/^/  lintian: /' "$tmp/lintian.log"
	if [ "$rc" = 0 ] && ! grep -q '^E: ' "$tmp/lintian.log"; then
		ok "lintian: no error ($(grep -c '^W: ' "$tmp/lintian.log") warnings)"
	else
		nok "lintian: errors (exit $rc)"
	fi
fi

echo "test_deb: $passed passed, $failed failed"
[ "$failed" = 0 ]
