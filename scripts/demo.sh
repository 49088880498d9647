#!/bin/sh
# demo.sh - the whole strait picture in throw-away network namespaces.
# Nothing in the root namespace changes; everything is removed on exit,
# Ctrl-C included.
#
#   container ns 203.0.113.2 --veth-- strait0 203.0.113.1 [host ns]
#   outside ns   192.0.2.2   --veth-- eth0    192.0.2.1   [host ns]
#   client ns    198.51.100.2 --veth-- cli0   198.51.100.1 [host ns]
#
# strait-netsetup configures the host namespace (forwarding on strait0 and
# eth0 only, masquerade, forward rules); the container reaches the outside
# through masquerade; a published port is served by an unprivileged
# strait-proxy that strait-netsetup started with the bound socket on fd 4.
set -eu
bin=$(readlink -f "${1:-build}")
proxy=$bin/strait-proxy
netsetup=$bin/strait-netsetup
here=$(dirname "$(readlink -f "$0")")
for b in "$proxy" "$netsetup"; do
	[ -x "$b" ] || { echo "demo: no $b (run make)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "demo: needs root for network namespaces" >&2; exit 1; }

id=sd$$
host=$id-host ctr=$id-ctr out=$id-out cli=$id-client
work=$(mktemp -d /tmp/strait-demo.XXXXXX)
chmod 755 "$work"
export STRAIT_STATE_DIR="$work/state"
pids=""

cleanup() {
	trap - EXIT INT TERM
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	for n in $cli $out $ctr $host; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
in_ns() { ns=$1; shift; ip netns exec "$ns" "$@"; }
sysctls() {
	for k in all/forwarding strait0/forwarding eth0/forwarding cli0/forwarding strait0/rp_filter; do
		printf '  net.ipv4.conf.%s = %s\n' "$(echo $k | tr / .)" \
			"$(in_ns $host cat /proc/sys/net/ipv4/conf/$k)"
	done
}
wait_for() { # ns url
	i=0
	until in_ns "$1" curl -s -o /dev/null --max-time 1 "$2"; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "demo: $2 did not come up" >&2; exit 1; }
		sleep 0.1
	done
}

say "Building the sandbox: host, container, outside and client namespaces"
for n in $host $ctr $out $cli; do ip netns add "$n"; in_ns "$n" ip link set lo up; done
in_ns $host ip link add strait0 type bridge
in_ns $host ip addr add 203.0.113.1/24 dev strait0
in_ns $host ip link set strait0 up
in_ns $host ip link add veth-ctr type veth peer name eth0 netns $ctr
in_ns $host ip link set veth-ctr master strait0 up
in_ns $ctr ip addr add 203.0.113.2/24 dev eth0
in_ns $ctr ip link set eth0 up
in_ns $ctr ip route add default via 203.0.113.1
in_ns $host ip link add eth0 type veth peer name eth0 netns $out
in_ns $host ip addr add 192.0.2.1/24 dev eth0
in_ns $host ip link set eth0 up
in_ns $out ip addr add 192.0.2.2/24 dev eth0
in_ns $out ip link set eth0 up
in_ns $host ip link add cli0 type veth peer name eth0 netns $cli
in_ns $host ip addr add 198.51.100.1/24 dev cli0
in_ns $host ip link set cli0 up
in_ns $cli ip addr add 198.51.100.2/24 dev eth0
in_ns $cli ip link set eth0 up
echo "host: bridge strait0 203.0.113.1/24, uplink eth0 192.0.2.1, cli0 198.51.100.1"
echo "container 203.0.113.2, outside server 192.0.2.2 (no route back to the bridge),"
echo "client 198.51.100.2"

mkdir -p "$work/www"
echo "hello from the container" >"$work/www/index.html"
head -c 8388608 /dev/urandom >"$work/www/blob.bin"
ip netns exec $ctr python3 "$here/demo-httpd.py" 203.0.113.2 80 "$work/www" \
	>"$work/httpd.log" 2>&1 &
pids="$pids $!"
ip netns exec $out python3 "$here/../tests/blackbox/nshelp.py" serve-peer 192.0.2.2 80 \
	>/dev/null 2>&1 &
pids="$pids $!"
wait_for $host http://203.0.113.2/
probes=$(wc -l <"$work/httpd.log")

say "Before: forwarding is off, the container cannot reach the outside"
sysctls
run in_ns $ctr python3 "$here/../tests/blackbox/nshelp.py" connect 192.0.2.2 80 2

say "strait-netsetup check: what up would do (changes nothing)"
run in_ns $host "$netsetup" check --bridge strait0 --uplink eth0 --publish tcp:198.51.100.1:8080

say "strait-netsetup up"
run in_ns $host "$netsetup" up --bridge strait0 --uplink eth0 --publish tcp:198.51.100.1:8080
sysctls

say "The container reaches the outside; the outside sees the host's address"
run in_ns $ctr python3 "$here/../tests/blackbox/nshelp.py" connect 192.0.2.2 80 5

say "Publishing 198.51.100.1:8080 -> 203.0.113.2:80: netsetup binds, drops every privilege, execs strait-proxy"
echo "$ strait-netsetup exec tcp:198.51.100.1:8080 -- strait-proxy -proto tcp \\"
echo "      -host-ip 198.51.100.1 -host-port 8080 -container-ip 203.0.113.2 \\"
echo "      -container-port 80 -use-listen-fd -log-level debug"
exec 3>"$work/ready"
ip netns exec $host "$netsetup" exec tcp:198.51.100.1:8080 -- "$proxy" -proto tcp \
	-host-ip 198.51.100.1 -host-port 8080 -container-ip 203.0.113.2 \
	-container-port 80 -use-listen-fd -log-level debug 2>"$work/proxy.log" &
ppid=$!
pids="$pids $ppid"
exec 3>&-
i=0
until [ -s "$work/ready" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
printf 'readiness on fd 3: %s\n' "$(od -An -c "$work/ready" | tr -s ' ')"
grep -E '^(Name|Uid|Groups|CapPrm|CapEff|CapBnd|NoNewPrivs|VmRSS)' /proc/$ppid/status

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

say "strait-netsetup down: rules removed, sysctls restored"
run in_ns $host "$netsetup" down --bridge strait0 --uplink eth0
sysctls
printf 'nft tables left in the host namespace: %s\n' "$(in_ns $host nft list tables | grep -c strait || true)"
say "Done: namespaces removed, nothing changed outside them"
