#!/usr/bin/env bash
# Builds a base image from this machine's own node binary and the shared libraries it links
# (ldd), for machines that reach no image registry: `docker import` needs no pull.
# Usage: docker/build-base.sh [TAG]   (default outage-lab/node-base:<node version>)
# The image has node at /usr/local/bin/node, /tmp, and an /etc/passwd naming uid 1000 "node";
# no shell: health checks and build steps run node itself.
set -euo pipefail

node_bin=$(readlink -f "$(command -v node)")
version=$("$node_bin" -p process.versions.node)
tag=${1:-outage-lab/node-base:$version}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$node_bin" "$root/usr/local/bin/node"
# Every library the dynamic loader will look for, at the path it will look (the loader too).
for lib in $(ldd "$node_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
  cp --parents -L "$lib" "$root"
done
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:1000:1000:node:/home/node:/usr/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"

tar -C "$root" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'CMD ["node"]' \
  - "$tag" >/dev/null
echo "$tag"
