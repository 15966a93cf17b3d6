# outage-lab: the two commands a user needs are `make run` and `make test`.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json
CLI := node dist/harness/cli.js

.PHONY: install build run suite test lint format up down bench clean image compose-up compose-down

install: $(NODE_MODULES_STAMP)

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: install
	npx tsc -p tsconfig.json
	npx tsc -p examples/clickstream-ts

# The flagship experiment on the local backend: boot the whole system, drive customer traffic with
# the AWS SDK, add capacity past the thread limit, watch the cascade, remove it (no help), restart
# at a pace (recovery). Prints the summary and the report's path (runs/latest/report.html).
FLAGSHIP := experiments/kinesis-2020-11-25.yaml
run: build
	$(CLI) run $(FLAGSHIP)

# Every experiment (the flagship, each remediation, the all-at-once restart) and their comparison.
suite: build
	$(CLI) suite experiments --out runs/suite

test: build
	npx tap

# Type-check, ESLint with zero warnings (eslint.config.js), and prettier's check of the code's format
# (.prettierrc.json). `make format` rewrites the code in that format.
lint: install
	npm run lint

format: install
	npm run format

up: build
	$(CLI) up

down:
	@if [ -f .outage-lab/endpoints.json ]; then $(CLI) down; else echo "nothing is up (no .outage-lab/endpoints.json)"; fi

bench: build
	node dist/bench/data-path.js
	node dist/bench/fleet-scale.js
	node dist/bench/boot.js
	node dist/bench/flagship.js

clean:
	rm -rf dist runs .outage-lab .tap coverage

# The one image of every service (docs/compose.md). BASE_IMAGE is pulled when it can be; where no
# registry is reachable, a base is built from this machine's node with `docker import`.
IMAGE ?= outage-lab:latest
BASE_IMAGE ?= node:20-bookworm-slim
COMPOSE_PROJECT ?= outage-lab
COMPOSE := $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)

image: build
	IMAGE=$(IMAGE) BASE_IMAGE=$(BASE_IMAGE) docker/build-image.sh

# The whole system on containers, by hand (ports on 127.0.0.1: see README "On containers").
compose-up: image
	OUTAGE_LAB_IMAGE=$(IMAGE) $(COMPOSE) -p $(COMPOSE_PROJECT) up -d

compose-down:
	$(COMPOSE) -p $(COMPOSE_PROJECT) --profile partitioned down -t 1
