# outage-lab: the two commands a user needs are `make run` and `make test`.
SHELL := /bin/bash
NODE_MODULES_STAMP := node_modules/.package-lock.json
CLI := node dist/harness/cli.js

.PHONY: install build run test up down bench clean

install: $(NODE_MODULES_STAMP)

$(NODE_MODULES_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: install
	npx tsc -p tsconfig.json

# Until the flagship experiment lands: boot the Kinesis topology, push records through it with the
# AWS SDK, scale the fleet past its thread limit, show the breakage, scale back, restart, recover.
run: build
	$(CLI) demo

test: build
	npx tap

up: build
	$(CLI) up

down:
	@if [ -f .outage-lab/endpoints.json ]; then $(CLI) down; else echo "nothing is up (no .outage-lab/endpoints.json)"; fi

bench: build
	node dist/bench/data-path.js
	node dist/bench/fleet-scale.js
	node dist/bench/boot.js

clean:
	rm -rf dist runs .outage-lab .tap coverage
