# Lethe — build, demo, test, bench. `make demo` and `make test` work on a brand-new machine: `deps` installs
# what the Swift toolchain does not bring.
SHELL := /bin/bash
SWIFT ?= swift
# socat and jq: Clients/shell; python3-venv, python3-wheel: the Python client's offline `pip install` check; neovim: the
# editor-side JSON-RPC client that drives `lethe stdio` in CLITests; bsdutils (script): the CLI's terminal progress test;
# chromium: ReportTests renders `lethe report` headless. libdnnl-dev: oneDNN, inference's convolutions (Docs/Architecture.md §2.3).
APT_PACKAGES := libopenblas-dev libdnnl-dev zlib1g-dev libjson-c-dev libsvm-dev libsqlite3-dev dataset-fashion-mnist socat jq \
  python3-venv python3-wheel neovim bsdutils pkg-config chromium
DEMO_SOCKET ?= /tmp/lethe-demo-$(shell id -u)/lethed.sock
RELEASE_BIN = $(shell $(SWIFT) build -c release --show-bin-path)

.PHONY: deps build release demo demo-check protocol-check clients-check scale-check crosscheck test bench clean

# Installs the Debian packages that are missing; says what to run when it cannot.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "make deps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "make deps: missing Debian packages:$$missing"; \
	    echo "  run as root: apt-get update && apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

# Starts a release lethed on a private socket, runs the demo, and stops lethed again whatever happens.
define run_demo
	@bin="$(RELEASE_BIN)"; sock="$(DEMO_SOCKET)"; \
	"$$bin/lethed" --socket "$$sock" --state-dir "$$(dirname "$$sock")/state" 2>"$${TMPDIR:-/tmp}/lethed-demo.log" & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null' EXIT; \
	for i in $$(seq 100); do [ -S "$$sock" ] && break; sleep 0.1; done; \
	"$$bin/lethe" demo --socket "$$sock" $(1)
endef

demo: release
	$(call run_demo,$(DEMO_ARGS))

# The demo's acceptance criteria, checked on its JSON output.
demo-check: release
	$(call run_demo,--json) | python3 Tests/acceptance/check_demo.py

# Drives a real release lethed with Protocol/check_replies.py: every reply validated against the OpenRPC document,
# every documented method called. The session ends with shutdown and exit, and lethed must then exit with code 0
# (and remove its socket); a second lethed sent exit without shutdown must exit with code 1.
protocol-check: release
	@bin="$(RELEASE_BIN)"; dir="$$(mktemp -d)"; pid=; pid2=; \
	trap 'kill $$pid $$pid2 2>/dev/null; wait $$pid $$pid2 2>/dev/null; rm -rf "$$dir"' EXIT; \
	gone() { for i in $$(seq 100); do s=$$(cut -d" " -f3 /proc/$$1/stat 2>/dev/null); \
	  { [ -z "$$s" ] || [ "$$s" = Z ]; } && return 0; sleep 0.1; done; return 1; }; \
	expect_exit() { if ! gone $$1; then echo "FAIL  lethed is still running 10 s after $$3"; return 1; fi; \
	  wait $$1; code=$$?; if [ $$code != $$2 ]; then echo "FAIL  lethed exited with code $$code after $$3, expected $$2"; return 1; fi; \
	  echo "PASS  lethed exited with code $$2 after $$3"; }; \
	failed=0; sock="$$dir/lethed.sock"; "$$bin/lethed" --socket "$$sock" --state-dir "$$dir/state" 2>"$$dir/lethed.log" & pid=$$!; \
	for i in $$(seq 100); do [ -S "$$sock" ] && break; sleep 0.1; done; \
	python3 Protocol/check_replies.py --shutdown "$$sock" || failed=1; \
	if expect_exit $$pid 0 "shutdown and exit"; then pid=; else failed=1; fi; \
	if [ -n "$$pid" ]; then :; elif [ -e "$$sock" ]; then echo "FAIL  lethed left its socket file behind"; failed=1; \
	else echo "PASS  lethed removed its socket file"; fi; \
	sock2="$$dir/exit.sock"; "$$bin/lethed" --socket "$$sock2" --state-dir "$$dir/state2" 2>"$$dir/lethed-exit.log" & pid2=$$!; \
	for i in $$(seq 100); do [ -S "$$sock2" ] && break; sleep 0.1; done; \
	python3 Protocol/check_replies.py --exit-only "$$sock2" || failed=1; \
	if expect_exit $$pid2 1 "exit without shutdown"; then pid2=; else failed=1; fi; \
	exit $$failed

# The client libraries against a real release lethed each starts on a private socket: C (json-c), Python, shell.
clients-check: release
	$(MAKE) --no-print-directory -C Clients/c check LETHED="$(RELEASE_BIN)/lethed"
	bash Clients/python/run-tests.sh "$(RELEASE_BIN)"
	bash Clients/shell/tests/run-tests.sh "$(RELEASE_BIN)"

# lethe.ray on a local Ray cluster (ray.init(num_cpus=2)): fleets trained through Ray tasks are bit for bit the fleets
# one daemon trains, and epsilon and LiRA on them give the same numbers (Docs/ScaleOut.md). Installs Ray from PyPI
# into .build/ray-venv the first time (RAY_PYTHON: use a Python that has it instead).
scale-check: release
	bash Clients/python/ray-check.sh "$(RELEASE_BIN)"

# Models trained in real PyTorch, exported to safetensors, predict the same in Lethe (needs TORCH_PYTHON; not in CI);
# then the attack numbers (epsilon, mia-efficacy, lira) recomputed from the daemon's outputs with scikit-learn and the
# NeurIPS 2023 organisers' metric.py, which is not in this repository: `git clone
# https://github.com/google-deepmind/unlearning_evaluation` and set UNLEARNING_EVALUATION_DIR to the clone (unset, that
# comparison is skipped).
crosscheck: release
	@test -n "$(TORCH_PYTHON)" || { echo "crosscheck: set TORCH_PYTHON to a Python with torch, numpy, safetensors, scikit-learn and scipy"; exit 1; }
	@bin="$(RELEASE_BIN)"; dir="$$(mktemp -d)"; sock="$$dir/lethed.sock"; \
	"$$bin/lethed" --socket "$$sock" --state-dir "$$dir/state" 2>"$$dir/lethed.log" & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -rf "$$dir"' EXIT; \
	for i in $$(seq 100); do [ -S "$$sock" ] && break; sleep 0.1; done; \
	"$(TORCH_PYTHON)" Tests/acceptance/torch_crosscheck.py "$$sock" "$$dir/work" && \
	"$(TORCH_PYTHON)" Tests/acceptance/torch_methods_crosscheck.py "$$sock" "$$dir/work" && \
	UNLEARNING_EVALUATION_DIR="$(UNLEARNING_EVALUATION_DIR)" "$(TORCH_PYTHON)" Tests/acceptance/attacks_crosscheck.py "$$sock" "$$dir/work"

# Unit and end-to-end tests (the CLI, `lethe stdio` and `lethe mcp` among them), the protocol's schema check, the
# client libraries' tests, fleets over a local Ray cluster, then the demo's acceptance check. Everything runs on the
# release build: the engine's numerics are what a user gets, and finite-difference checks of whole networks take
# minutes in a debug build.
test: deps
	$(SWIFT) build -c release --build-tests
	$(SWIFT) test -c release --skip-build --disable-swift-testing
	$(MAKE) --no-print-directory protocol-check
	$(MAKE) --no-print-directory clients-check
	$(MAKE) --no-print-directory scale-check
	$(MAKE) --no-print-directory demo-check

# Lethe's engine against the PyTorch anchor; set TORCH_PYTHON to a Python with torch (see Benchmarks/RESULTS.md).
bench: release
	bash Benchmarks/run.sh

clean:
	rm -rf .build
