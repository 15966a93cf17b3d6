#!/usr/bin/env bash
# `make image`: build outage-lab's image (IMAGE, default outage-lab:latest) on BASE_IMAGE (default
# node:20-bookworm-slim). When the base is neither present nor pullable (no registry reachable),
# build outage-lab/node-base:<host node version> from the host's node (docker/build-base.sh) and
# use that instead. Needs a built dist/ (make image builds it first). `docker compose build` works
# too (context: the checkout, pruned inside the build), only slower.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${IMAGE:-outage-lab:latest}
base=${BASE_IMAGE:-node:20-bookworm-slim}

[ -f dist/services/kinesis/frontend/main.js ] && [ -f dist/harness/workload/container.js ] || { echo "build-image: dist/ is not built (run make build)" >&2; exit 2; }

if docker image inspect "$base" >/dev/null 2>&1; then
  echo "== base image $base (present)"
elif timeout "${PULL_TIMEOUT:-120}" docker pull "$base" >/dev/null 2>&1; then
  echo "== base image $base (pulled)"
else
  local_base="outage-lab/node-base:$(node -p process.versions.node)"
  if docker image inspect "$local_base" >/dev/null 2>&1; then
    echo "== base image $base cannot be pulled: using $local_base (built earlier from this machine's node)"
  else
    echo "== base image $base cannot be pulled: building $local_base from this machine's node"
    docker/build-base.sh "$local_base" >/dev/null
  fi
  base=$local_base
fi

# The build context: hard links to the compiled services and the production dependencies only
# (the lockfile's dev-only packages pruned here, so they are never sent to the engine).
ctx=.outage-lab/image-context
rm -rf "$ctx"
mkdir -p "$ctx/dist" "$ctx/docker"
cp -al dist/services "$ctx/dist/services"
# The customers service: the harness's workload and the defaults it runs at (nothing else of the harness).
mkdir -p "$ctx/dist/harness/experiment"
cp -al dist/harness/workload "$ctx/dist/harness/workload"
cp -al dist/harness/experiment/defaults.js "$ctx/dist/harness/experiment/defaults.js"
cp -al node_modules "$ctx/node_modules"
cp package.json package-lock.json Dockerfile .dockerignore "$ctx/"
cp docker/entry.mjs docker/health.mjs docker/membership-janitor.mjs docker/prune-dev-deps.mjs "$ctx/docker/"
node docker/prune-dev-deps.mjs "$ctx" >/dev/null

docker build --build-arg "BASE_IMAGE=$base" -t "$image" "$ctx"
rm -rf "$ctx"
echo "== $image on $base: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
