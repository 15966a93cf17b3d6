# One image for every outage-lab service; the argument chooses which (see docker/entry.mjs):
#   docker run outage-lab:latest kinesis-metadata
# Build from a built checkout (`make image` runs tsc first and picks the base image):
#   docker build --build-arg BASE_IMAGE=node:20-bookworm-slim -t outage-lab:latest .
# BASE_IMAGE needs only a node binary at /usr/local/bin/node (or on PATH): where no registry is
# reachable, docker/build-base.sh makes one from the host's node with `docker import`.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY node_modules ./node_modules
COPY docker/prune-dev-deps.mjs ./docker/
# Exec form: the base may have no shell.
RUN ["node", "docker/prune-dev-deps.mjs", "/app"]
RUN ["node", "-e", "const fs = require('fs'); fs.mkdirSync('/data', { recursive: true }); fs.chownSync('/data', 1000, 1000)"]

FROM ${BASE_IMAGE}
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    OUTAGE_LAB_DATA_DIR=/data \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps --chown=1000:1000 /data /data
COPY package.json ./
COPY docker/entry.mjs docker/health.mjs docker/membership-janitor.mjs ./docker/
COPY dist/services ./dist/services
# The customers service (docker-compose.yml): the harness's seeded workload and its defaults.
COPY dist/harness/workload ./dist/harness/workload
COPY dist/harness/experiment/defaults.js ./dist/harness/experiment/defaults.js
# Numeric: works without a passwd entry, and lets the runtime check "non-root" before starting.
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=3s --timeout=10s --start-period=60s --retries=3 CMD ["node", "/app/docker/health.mjs"]
# serviceNodeFlags() (harness/platform/paths.ts): the young generation pinned at its size under load;
# docker-compose.yml gives the kinds that allocate slowly their smaller one with their own entrypoint.
ENTRYPOINT ["node", "--min-semi-space-size=16", "--max-semi-space-size=16", "/app/docker/entry.mjs"]
