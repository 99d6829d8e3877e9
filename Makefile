# The developer's commands. `make run` starts the service and `make test` runs
# every test, each against a real PostgreSQL that scripts/postgres.sh finds or
# starts (WHITECROSS_DATABASE_URL, else 127.0.0.1:5432, else a private cluster
# in .data/postgres). `make` alone lists the targets.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

GO ?= go
PG := bash scripts/postgres.sh

# Overrides, as in `make test TESTFLAGS='-run TestAppend -v' PKGS=./eventstore/...`.
DEMO ?= 1
TESTFLAGS ?=
PKGS ?= ./...
BENCH ?= .
COUNT ?= 5
FUZZ ?= FuzzDecodeEnvelope
FUZZTIME ?= 30s
WHITECROSS_TEST_ESDB_URL ?= esdb://localhost:2113?tls=false

# with-db starts a recipe line: it exports WHITECROSS_DATABASE_URL, the URL that
# scripts/postgres.sh prints for database $(1), or stops the recipe when there
# is none. The URL is not echoed: one the user set may hold a password.
with-db = url="$$($(PG) $(1))" || { \
	echo "make $@: no PostgreSQL: scripts/postgres.sh failed (see above)" >&2; \
	exit 1; \
	}; \
	export WHITECROSS_DATABASE_URL="$$url";

.PHONY: help run simulate users-add log test bench build migrate verify seal fuzz pg-stop fmt vet tidy \
	clean clean-data esdb-test check-scripts

help: ## List the targets
	@echo 'Usage: make TARGET [VARIABLE=value ...]'
	@echo
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-z-]*:.*## / { printf "  %-14s %s\n", $$1, $$2 }' \
		$(MAKEFILE_LIST)
	@echo
	@echo 'Variables: DEMO (run), ARGS (simulate, users-add, log), TESTFLAGS, PKGS (test),'
	@echo '  BENCH, COUNT (bench), FUZZ, FUZZTIME (fuzz),'
	@echo '  WHITECROSS_DATABASE_URL (every target that needs PostgreSQL),'
	@echo '  WHITECROSS_TEST_ESDB_URL (esdb-test).'

# with-local exports, unless they are set already, where the local service
# keeps its keys, witnesses its checkpoints and keeps export bundles: all
# under .data/.
with-local = \
	export WHITECROSS_TOKEN_KEY_FILE="$${WHITECROSS_TOKEN_KEY_FILE:-.data/token-key.pem}"; \
	export WHITECROSS_SECRET_KEY_FILE="$${WHITECROSS_SECRET_KEY_FILE:-.data/secret-key}"; \
	export WHITECROSS_LEDGER_KEY_FILE="$${WHITECROSS_LEDGER_KEY_FILE:-.data/ledger-key}"; \
	export WHITECROSS_WITNESS_DIR="$${WHITECROSS_WITNESS_DIR:-.data/witness}"; \
	export WHITECROSS_EXPORT_DIR="$${WHITECROSS_EXPORT_DIR:-.data/exports}";

run: ## Start the service on the local database whitecross; an empty one gets a demo district first (DEMO=0: not)
	@$(call with-db,whitecross) $(with-local) set -x; \
	exec $(GO) run ./cmd/whitecross serve $(if $(filter 1,$(DEMO)),--demo --demo-logins .data/demo-logins.json)

simulate: ## Play a district's school days on the local database: make simulate ARGS='--schools 5 --students 1000 --days 5'
	@$(call with-db,whitecross) $(with-local) set -x; \
	exec $(GO) run ./cmd/whitecross simulate --logins .data/simulate-logins.json $(ARGS)

users-add: ## Create an account: make users-add ARGS='--email a@b.example --role sysadmin'
	@$(call with-db,whitecross) \
	exec $(GO) run ./cmd/whitecross users add $(ARGS)

log: ## Print the local database's events, identifiers only: make log ARGS='--stream user-ID'
	@$(call with-db,whitecross) \
	exec $(GO) run ./cmd/whitecross log $(ARGS)

test: ## Run go vet and every test against a real PostgreSQL
	bash scripts/test-postgres-sh.sh
	@$(call with-db,postgres) set -x; \
	$(GO) vet $(PKGS); \
	$(GO) test -race -count=1 -timeout 20m $(TESTFLAGS) $(PKGS)

# bench runs one package's benchmarks at a time (-p 1): two at once would
# share the machine's cores and each measure less than it can.
bench: ## Run the benchmarks (BENCH=regexp, COUNT=n) and write docs/benchmarks.md
	@$(call with-db,postgres) set -x; \
	mkdir -p .data; \
	$(GO) test -p 1 -run '^$$' -bench '$(BENCH)' -benchmem -count $(COUNT) -timeout 60m ./... \
		| tee .data/bench.txt; \
	$(GO) run ./cmd/benchreport -in .data/bench.txt -out docs/benchmarks.md

build: ## Build bin/whitecross
	$(GO) build -o bin/whitecross ./cmd/whitecross

migrate: ## Apply the migrations to the local database whitecross
	@$(call with-db,whitecross) set -x; \
	$(GO) run ./cmd/whitecross migrate

verify: ## Recompute every hash of the local log and compare it with the witnessed checkpoints
	@$(call with-db,whitecross) $(with-local) set -x; \
	$(GO) run ./cmd/whitecross verify

seal: ## Seal the local log into the ledger and sign a checkpoint now
	@$(call with-db,whitecross) $(with-local) set -x; \
	$(GO) run ./cmd/whitecross ledger seal

fuzz: ## Fuzz the envelope decoder, then every command body, FUZZTIME each (default 30s)
	$(GO) test -run '^$$' -fuzz '^$(FUZZ)$$' -fuzztime $(FUZZTIME) ./eventstore/
	@$(call with-db,postgres) set -x; \
	$(GO) test -run '^$$' -fuzz '^FuzzCommandBodies$$' -fuzztime $(FUZZTIME) ./readapi/

pg-stop: ## Stop the private PostgreSQL of this checkout, if it runs
	@$(PG) stop

fmt: ## Format the Go code
	$(GO) fmt ./...

vet: ## Run go vet
	$(GO) vet ./...

tidy: ## Tidy go.mod and go.sum
	$(GO) mod tidy

clean: ## Remove bin/ (keeps .data; see clean-data)
	rm -rf bin/

clean-data: ## Stop and delete the private PostgreSQL, and remove .data/
	@$(PG) remove
	rm -rf .data/

# esdb-test checks that something answers at the URL's first host before it
# spends minutes on tests that would all fail to connect.
esdb-test: ## Run every test, the EventStoreDB backend's included (needs EventStoreDB)
	@url='$(WHITECROSS_TEST_ESDB_URL)'; \
	hostport="$${url#*://}"; hostport="$${hostport%%[/?]*}"; \
	hostport="$${hostport%%,*}"; hostport="$${hostport##*@}"; \
	host="$${hostport%:*}"; port=2113; \
	if [[ $$hostport == *:* ]]; then port="$${hostport##*:}"; fi; \
	if ! timeout 5 bash -c 'exec 8<>"/dev/tcp/$$1/$$2"' _ "$$host" "$$port" 2>/dev/null; then \
		echo "make esdb-test: no EventStoreDB answers at $$url." >&2; \
		echo "Start one with 'docker compose up -d eventstore' (needs Docker)," >&2; \
		echo "or set WHITECROSS_TEST_ESDB_URL to one you have." >&2; \
		exit 1; \
	fi
	@$(call with-db,postgres) \
	export WHITECROSS_TEST_ESDB_URL='$(WHITECROSS_TEST_ESDB_URL)'; set -x; \
	$(GO) test -race -count=1 -timeout 20m $(TESTFLAGS) $(PKGS)

check-scripts: ## Check the shell scripts and run scripts/test-postgres-sh.sh
	for f in scripts/*.sh .ci/run; do bash -n "$$f"; done
	@if command -v shellcheck >/dev/null; then \
		set -x; shellcheck scripts/*.sh .ci/run; \
	else \
		echo 'shellcheck not found, skipped (Debian: apt-get install shellcheck)'; \
	fi
	bash scripts/test-postgres-sh.sh

# The load and fault tests run the real binary on a database of their own
# (internal/loadtest; docs/faults.md). LOAD_DURATION and LOAD_CLIENTS set each
# load; the figures are written to .data/.
LOAD_DURATION ?= 60s
LOAD_CLIENTS ?= 32
load-args = -args -load.duration=$(LOAD_DURATION) -load.clients=$(LOAD_CLIENTS) -load.reports=.data

.PHONY: load faults fuzz-ci

load: ## Play the mixed load on the real server (LOAD_DURATION, LOAD_CLIENTS); figures in .data/load.txt
	@$(call with-db,postgres) set -x; \
	$(GO) test -count=1 -v -timeout 30m -run '^TestLoad$$' ./internal/loadtest/ $(load-args)

faults: ## Kill the server, then restart a private PostgreSQL, under load; figures in .data/faults-*.txt
	@$(call with-db,postgres) set -x; \
	$(GO) test -tags faults -count=1 -v -timeout 30m \
		-run '^Test(CrashDuringLoad|PostgresRestartDuringLoad)$$' ./internal/loadtest/ $(load-args)

# fuzz-ci finds every fuzz target of the module and runs each for FUZZTIME.
fuzz-ci: FUZZTIME = 5s
fuzz-ci: ## Run every fuzz target for FUZZTIME each (5s unless set), as CI does
	@$(call with-db,postgres) \
	files=$$(grep -rl --include='*_test.go' --exclude-dir=.data --exclude-dir=.git '^func Fuzz' . | sort); \
	for f in $$files; do \
		for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			(set -x; $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$(dirname "$$f")/") || exit 1; \
		done; \
	done
