#!/bin/sh
# demo.sh - strait-proxy publishing a "container" port, in throw-away
# network namespaces. Nothing in the root namespace changes; everything is
# removed on exit, Ctrl-C included.
#
#   client ns  198.51.100.2 --veth-- 198.51.100.1  host ns  (strait-proxy)
#                                    203.0.113.1   bridge strait0
#   container ns 203.0.113.2 --veth--------------/  (HTTP server on :80)
set -eu
proxy=$(readlink -f "${1:-build/strait-proxy}")
[ -x "$proxy" ] || { echo "demo: no proxy binary at $proxy (run make)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: needs root for network namespaces" >&2; exit 1; }

id=sd$$
host=$id-host ctr=$id-ctr cli=$id-client
work=$(mktemp -d /tmp/strait-demo.XXXXXX)
pids=""

cleanup() {
	trap - EXIT INT TERM
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	for n in $cli $ctr $host; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }

say "Building the sandbox: host, container and client namespaces"
for n in $host $ctr $cli; do ip netns add "$n"; in_ns "$n" ip link set lo up; done
in_ns $host ip link add strait0 type bridge
in_ns $host ip addr add 203.0.113.1/24 dev strait0
in_ns $host ip link set strait0 up
in_ns $host ip link add veth-ctr type veth peer name eth0 netns $ctr
in_ns $host ip link set veth-ctr master strait0 up
in_ns $ctr ip addr add 203.0.113.2/24 dev eth0
in_ns $ctr ip link set eth0 up
in_ns $ctr ip route add default via 203.0.113.1
in_ns $host ip link add eth0 type veth peer name eth0 netns $cli
in_ns $host ip addr add 198.51.100.1/24 dev eth0
in_ns $host ip link set eth0 up
in_ns $cli ip addr add 198.51.100.2/24 dev eth0
in_ns $cli ip link set eth0 up
echo "host: uplink eth0 198.51.100.1, bridge strait0 203.0.113.1/24"
echo "container: 203.0.113.2 (no route from the client: only the proxy reaches it)"
echo "client: 198.51.100.2"

say "Starting the container's web server (203.0.113.2:80)"
mkdir -p "$work/www"
echo "hello from the container" >"$work/www/index.html"
head -c 8388608 /dev/urandom >"$work/www/blob.bin"
ip netns exec $ctr python3 "$(dirname "$0")/demo-httpd.py" 203.0.113.2 80 "$work/www" \
	>"$work/httpd.log" 2>&1 &
pids="$pids $!"
i=0
until in_ns $host curl -s -o /dev/null http://203.0.113.2/; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "demo: the container's server did not start" >&2; exit 1; }
	sleep 0.1
done
probes=$(wc -l <"$work/httpd.log")

say "Publishing 198.51.100.1:8080 -> 203.0.113.2:80 with strait-proxy"
echo "$ strait-proxy -proto tcp -host-ip 198.51.100.1 -host-port 8080 \\"
echo "      -container-ip 203.0.113.2 -container-port 80 -log-level debug"
exec 3>"$work/ready"
ip netns exec $host "$proxy" -proto tcp -host-ip 198.51.100.1 -host-port 8080 \
	-container-ip 203.0.113.2 -container-port 80 -log-level debug \
	2>"$work/proxy.log" &
ppid=$!
pids="$pids $ppid"
exec 3>&-
i=0
until [ -s "$work/ready" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
printf 'readiness on fd 3: %s\n' "$(od -An -c "$work/ready" | tr -s ' ')"
grep -E '^(Uid|CapPrm|CapEff|CapBnd|NoNewPrivs|VmRSS)' /proc/$ppid/status

say "The client fetches through the proxy"
run in_ns $cli curl -sS http://198.51.100.1:8080/
run in_ns $cli curl -sS -o "$work/got.bin" -w 'downloaded %{size_download} bytes at %{speed_download} B/s\n' \
	http://198.51.100.1:8080/blob.bin
if cmp -s "$work/www/blob.bin" "$work/got.bin"; then
	echo "8 MiB download: byte-exact"
else
	echo "8 MiB download: DIFFERS" >&2
	exit 1
fi
echo "the container's view (docker-proxy loses the client address too):"
tail -n +$((probes + 1)) "$work/httpd.log"

say "What the proxy logged"
cat "$work/proxy.log"

say "Stopping the proxy as dockerd does (SIGINT)"
kill -INT "$ppid"
wait "$ppid" && echo "strait-proxy exited 0"
pids=$(echo "$pids" | sed "s/ $ppid//")
say "Done: namespaces removed, nothing changed outside them"
