# Two commands for a fresh machine:
#   make run    install what is missing, build in release, serve on 127.0.0.1:3000
#   make test   install what is missing, run every test, browser tests included
# Only crates.io, npm and Debian packages are needed; nothing is downloaded from elsewhere.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

CARGO_LEPTOS_VERSION := 0.3.10
WASM_BINDGEN_VERSION := 0.2.130
BINARYEN_VERSION := 123.0.0

TOOLS := $(CURDIR)/.tools
# Our wasm-opt (from npm) comes before anything else on PATH: cargo-leptos uses the first one it
# finds, and would otherwise try to download one.
export PATH := $(TOOLS)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

# Runtime configuration for the server binary (see README).
export LEPTOS_SITE_ADDR ?= 127.0.0.1:3000
export LEPTOS_SITE_ROOT ?= target/site
export LEPTOS_SITE_PKG_DIR ?= pkg
export LEPTOS_OUTPUT_NAME ?= calling
export LEPTOS_WASM_OUTPUT_NAME ?= calling
export LEPTOS_ENV ?= PROD

# Run the browser suite as root in new network and mount namespaces: only loopback, and a /run of
# its own, where the NAT tests' namespaces live and die with the run.
NETNS := $(if $(filter 0,$(shell id -u)),unshare --net --mount,unshare --map-root-user --net --mount)

.PHONY: run test tools test-tools fuzz-tools build build-debug cargo-test e2e bench-smoke fuzz fuzz-smoke bench fmt lint clean

run: tools build
	mkdir -p data
	./target/release/server

test: tools test-tools build-debug cargo-test e2e bench-smoke fuzz-smoke

build:
	cargo leptos build --release

# Tests use debug builds, one profile per run. cargo-leptos builds only the Wasm and assets;
# the server binary comes from `cargo test`, whose dev-dependencies unify features differently:
# building it in both would compile the server's dependencies twice.
build-debug:
	cargo leptos build --frontend-only

cargo-test:
	cargo test -p app -p engine -p usersig -p server -p bench

e2e:
	$(NETNS) sh -c 'mount -t tmpfs tmpfs /run && ip link set lo up && cd end2end \
	  && CALLING_SERVER_BIN=$(CURDIR)/target/debug/server npx playwright test'

# Fuzzing what parses bytes from strangers (server/fuzz): each target for FUZZ_SECONDS, from the
# seeds and whatever corpus earlier runs left; libFuzzer's last line gives the inputs run.
FUZZ_TARGETS := frame usersig forms
FUZZ_SECONDS ?= 300
fuzz: fuzz-tools
	cd server && for target in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$target && \
	  cargo +nightly fuzz run $$target fuzz/corpus/$$target fuzz/seeds/$$target -- \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 2>&1 | grep -E '^(#[0-9]+ *DONE|stat::number_of_executed_units|Done)' ; \
	done

# A few seconds each, so that the targets keep building and nothing shallow crashes them.
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=5

fuzz-tools:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

# Benchmarks, in a loopback-only namespace with a wide port range and as many open files as
# allowed (ten thousand clients and the server each hold one socket per connection).
BENCH_SHELL = $(NETNS) sh -c 'mount -t tmpfs tmpfs /run && ip link set lo up && \
	  { sysctl -qw net.ipv4.ip_local_port_range="1024 65535" || true; } && \
	  ulimit -n "$$(ulimit -Hn)" && $(1)'

# Each benchmark once with tiny sizes, to keep them working; the figures mean nothing.
bench-smoke:
	$(call BENCH_SHELL,target/debug/bench signaling --smoke --server target/debug/server \
	  && target/debug/bench download --smoke --server target/debug/server --site target/site \
	  && target/debug/bench turn --smoke --server target/debug/server \
	  && target/debug/bench abuse --smoke --server target/debug/server \
	  && cd end2end && CALLING_SERVER_BIN=$(CURDIR)/target/debug/server BENCH_CALLS=2 \
	     npx playwright test -c playwright.bench.config.ts)

# Every benchmark at full size on release builds: prints one table, writes bench/results.json.
BENCH_PARTS := target/bench
bench: tools test-tools
	cargo leptos build --release --frontend-only
	cargo build --release -p server -p bench
	rm -rf $(BENCH_PARTS) && mkdir -p $(BENCH_PARTS)
	$(call BENCH_SHELL,target/release/bench signaling --server target/release/server \
	    --out $(BENCH_PARTS)/signaling.json \
	  && target/release/bench download --server target/release/server --site target/site \
	    --out $(BENCH_PARTS)/download.json \
	  && target/release/bench turn --server target/release/server --out $(BENCH_PARTS)/turn.json \
	  && target/release/bench abuse --server target/release/server --out $(BENCH_PARTS)/abuse.json \
	  && cd end2end && CALLING_SERVER_BIN=$(CURDIR)/target/release/server \
	     BENCH_OUT=$(CURDIR)/$(BENCH_PARTS)/browser.json \
	     BENCH_OUT_RELAYED=$(CURDIR)/$(BENCH_PARTS)/relayed.json \
	     npx playwright test -c playwright.bench.config.ts)
	@echo
	target/release/bench report --out bench/results.json \
	  $(BENCH_PARTS)/signaling.json $(BENCH_PARTS)/download.json $(BENCH_PARTS)/turn.json \
	  $(BENCH_PARTS)/abuse.json $(BENCH_PARTS)/browser.json $(BENCH_PARTS)/relayed.json

tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown \
	  || rustup target add wasm32-unknown-unknown
	@wasm-bindgen --version 2>/dev/null | grep -q ' $(WASM_BINDGEN_VERSION)' \
	  || cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --force
	@cargo leptos --version 2>/dev/null | grep -q ' $(CARGO_LEPTOS_VERSION)' \
	  || cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --force
	@test -x $(TOOLS)/node_modules/.bin/wasm-opt \
	  || npm install --prefix $(TOOLS) --no-audit --no-fund binaryen@$(BINARYEN_VERSION)

test-tools:
	@command -v wrk >/dev/null \
	  || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
	@command -v chromium >/dev/null \
	  || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }
	@command -v ip >/dev/null \
	  || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y iproute2; }
	@command -v nft >/dev/null && command -v conntrack >/dev/null && command -v turnserver >/dev/null \
	  && command -v openssl >/dev/null \
	  || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nftables conntrack coturn openssl; }

test-tools: end2end/node_modules/.package-lock.json

end2end/node_modules/.package-lock.json: end2end/package-lock.json
	cd end2end && npm ci --no-audit --no-fund

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy -p app -p engine -p usersig -p server -p bench --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

clean:
	cargo clean
	rm -rf $(TOOLS) end2end/node_modules end2end/test-results
