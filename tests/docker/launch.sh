#!/bin/sh
# launch.sh WORK PROXY IPTABLES IPFORWARD - containerd + dockerd, private.
#
# Run as `ip netns exec NS sh launch.sh ...`: that gives a private mount
# namespace, in which /run is replaced by a tmpfs and the cgroup hierarchies
# (hidden by the fresh /sys that ip netns exec mounts) are mounted again,
# from the list the driver saved in WORK/cgroups. Both daemons share this
# mount namespace, as overlay mounts and netns bind-mounts require. Nothing
# is written to /run/docker, /etc/docker or /var/lib/docker.
set -eu
w=$1 proxy=$2 ipt=$3 ipfwd=$4

mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=755 tmpfs /sys/fs/cgroup
while read -r dir fstype opts; do
	mkdir -p "$dir"
	if [ "$fstype" = cgroup2 ]; then
		mount -t cgroup2 cgroup2 "$dir"
	else
		mount -t cgroup -o "$opts" cgroup "$dir"
	fi
done <"$w/cgroups"

cat >"$w/containerd.toml" <<EOT
version = 2
root = "$w/containerd/root"
state = "$w/containerd/state"
[grpc]
  address = "$w/containerd.sock"
EOT
cat >"$w/daemon.json" <<EOT
{ "deprecated-key-path": "$w/key.json" }
EOT

# dockerd passes every inherited fd on to the proxies: close them all
exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
containerd --config "$w/containerd.toml" >"$w/containerd.log" 2>&1 &
echo $! >"$w/containerd.pid"
i=0
while [ ! -S "$w/containerd.sock" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
exec dockerd --containerd "$w/containerd.sock" --data-root "$w/data" \
	--exec-root "$w/exec" --pidfile "$w/dockerd.pid" -H "unix://$w/docker.sock" \
	--config-file "$w/daemon.json" --userland-proxy=true \
	--userland-proxy-path "$proxy" --iptables="$ipt" --ip-forward="$ipfwd" \
	--bip 203.0.113.1/24 --storage-driver overlay2 >"$w/dockerd.log" 2>&1
