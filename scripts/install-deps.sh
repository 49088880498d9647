#!/bin/sh
# install-deps.sh - install what strait needs from Debian, only if missing.
#
#   install-deps.sh build   compiler, libc6-dev (glibc's headers, and libc.a:
#                           the proxy is a static PIE), pkg-config, libevent,
#                           libnftables, libseccomp (builds the proxy's
#                           syscall filter at build time)
#   install-deps.sh test    build + cmocka, python3, iproute2 (ip, ss), valgrind,
#                           iptables, nftables, iperf3 (the bench smoke pass),
#                           haproxy (reads our PROXY protocol headers),
#                           mandoc, groff-base (the man pages lint), ufw
#                           (netsetup on a ufw host; never enabled outside
#                           the tests' namespaces), systemd, util-linux
#                           (socket activation, unit verify, setpriv),
#                           and what make deb and its test use: debhelper,
#                           dpkg-dev, lintian
#   install-deps.sh deb     build + build-essential, debhelper, dpkg-dev:
#                           make deb alone (dpkg-buildpackage)
#   install-deps.sh demo    build + python3, iproute2, curl, iptables, nftables
#   install-deps.sh bench   build + iperf3, socat, haproxy, docker.io (for
#                           /usr/sbin/docker-proxy), gnuplot-nox, systemd
#                           (systemd-socket-activate, -proxyd), util-linux
#   install-deps.sh docker  test + docker.io (dockerd 20.10, containerd, runc,
#                           docker-proxy) and busybox-static, for make
#                           test-docker; no daemon is started by installing
#
# A second run asks apt nothing. Never starts a service.
set -eu

need="gcc libc6-dev make pkg-config libevent-dev libnftables-dev libseccomp-dev"
case "${1:-build}" in
build) ;;
test) need="$need libcmocka-dev python3 iproute2 valgrind iptables nftables iperf3 haproxy mandoc groff-base ufw systemd util-linux build-essential debhelper dpkg-dev lintian" ;;
deb) need="$need build-essential debhelper dpkg-dev" ;;
bench) need="$need python3 iproute2 nftables iperf3 socat haproxy docker.io gnuplot-nox systemd util-linux" ;;
demo) need="$need python3 iproute2 curl iptables nftables" ;;
docker) need="$need libcmocka-dev python3 iproute2 valgrind iptables nftables iperf3 haproxy mandoc groff-base ufw systemd util-linux build-essential debhelper dpkg-dev lintian docker.io busybox-static" ;;
*) echo "install-deps.sh: unknown set: $1 (build, test, deb, demo, docker, bench)" >&2; exit 2 ;;
esac

missing=""
for p in $need; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: missing packages:$missing (run as root, or install them)" >&2
	exit 1
fi
echo "install-deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Installing docker.io must not start a dockerd: a policy-rc.d that says
# "no" (exit 101) while we install, unless the machine has one already.
guard=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	guard=/usr/sbin/policy-rc.d
	trap 'rm -f "$guard"' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq -o DPkg::Lock::Timeout=300 --no-install-recommends $missing
