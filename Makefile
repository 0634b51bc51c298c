# flytesec.hardening — developer and CI entry points. `make help` lists them.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
VENV = $(shell bash $(ROOT)/hack/venv.sh)
BUILD := $(ROOT)/build
COLLECTION_VERSION := $(shell sed -n 's/^version: *//p' $(ROOT)/galaxy.yml)
ARTIFACT := $(BUILD)/flytesec-hardening-$(COLLECTION_VERSION).tar.gz
CLUSTER ?= local
PYTEST_ARGS ?=
# make bench: sizes, its own cluster (never `local`), and the largest N at which the baseline is measured (above:
# extrapolated, and marked so); BENCH_BASELINE_MAX=1000 measures it everywhere (about an hour more per N=1000 run).
BENCH_N ?= 10,100,1000
BENCH_CLUSTER ?= bench
BENCH_PORT ?= 6545
BENCH_BASELINE_MAX ?= 100

.PHONY: help deps venv test unit sanity lint changelog-lint build install-check integration \
        cluster-up cluster-down flyte-build flyte-build-bg flyte-up demo molecule collection-link ee-check clean bench

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

deps: ## Debian packages the tests need (only when missing)
	bash $(ROOT)/hack/system-deps.sh

venv: ## create the cached virtualenv with the pinned tool chain
	@echo $(VENV)

test: deps flyte-build-bg unit sanity lint changelog-lint build install-check ee-check integration molecule ## everything CI runs
	@echo "make test: all steps passed"

flyte-build-bg: ## start the (cached) builds in the background, in the order the tests need them: the local control plane, the Flyte servers, the External Secrets Operator, the policy CLIs; tests wait for them (flock)
	@mkdir -p $(BUILD)
	@nohup bash -c 'bash $(ROOT)/hack/cluster/build.sh all; bash $(ROOT)/hack/flyte/build.sh; bash $(ROOT)/hack/external-secrets.sh build; for c in kyverno gator; do bash $(ROOT)/hack/policy-clis.sh $$c; done' \
		> $(BUILD)/flyte-build.log 2>&1 < /dev/null &

unit: ## unit tests (no cluster)
	cd $(ROOT) && $(VENV)/bin/python -m pytest tests/unit -q $(PYTEST_ARGS)

sanity: deps ## ansible-test sanity (offline, --venv)
	bash $(ROOT)/hack/sanity.sh

lint: collection-link ## ansible-lint, production profile
	cd $(ROOT) && PATH=$(VENV)/bin:$$PATH ANSIBLE_COLLECTIONS_PATH=$(BUILD)/collections ansible-lint --offline

changelog-lint: ## every fragment is valid
	cd $(ROOT) && $(VENV)/bin/antsibull-changelog lint

build: ## ansible-galaxy collection build
	mkdir -p $(BUILD)
	cd $(ROOT) && $(VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD) .

install-check: build ## install the artifact into a temporary path and render every module's docs
	bash $(ROOT)/hack/install-check.sh $(ARTIFACT)

ee-check: build ## ansible-builder create: check the execution environment's build context
	bash $(ROOT)/hack/ee-check.sh

cluster-up: ## build (if needed) and start the local control plane
	bash $(ROOT)/hack/cluster/up.sh --name $(CLUSTER)

cluster-down: ## stop the local control plane started by cluster-up
	bash $(ROOT)/hack/cluster/down.sh --name $(CLUSTER)

flyte-build: ## build the real flyteadmin, flytepropeller and flyte v1.16.8 from ../shared/upstream (cached)
	bash $(ROOT)/hack/flyte/build.sh

flyte-up: cluster-up ## install upstream Flyte v1.16.8 (flyte-core and flyte-binary) on it
	bash $(ROOT)/hack/cluster/flyte-up.sh --name $(CLUSTER)

integration: ## integration tests against the real local cluster (started if needed)
	cd $(ROOT) && $(VENV)/bin/python -m pytest tests/integration -q $(PYTEST_ARGS)

bench: collection-link ## benchmark (issue 20): N project namespaces, collection vs kubernetes.core loop vs floor; not part of test
	PKGS=$$(bash $(ROOT)/hack/bench-deps.sh); cd $(ROOT) && $(VENV)/bin/python benchmarks/bench.py \
		--cluster $(BENCH_CLUSTER) --port $(BENCH_PORT) --n $(BENCH_N) --baseline-max $(BENCH_BASELINE_MAX) \
		--profile --pkgs "$$PKGS"

collection-link: ## make the checkout importable as flytesec.hardening (build/collections)
	mkdir -p $(BUILD)/collections/ansible_collections/flytesec
	ln -sfn $(ROOT) $(BUILD)/collections/ansible_collections/flytesec/hardening

molecule: collection-link ## molecule default scenario: create, converge, idempotence, check, verify, destroy
	cd $(ROOT) && PATH=$(VENV)/bin:$$PATH molecule test -s default

demo: ## local cluster + Flyte, then playbooks/harden-flyte.yml, and what changed
	bash $(ROOT)/hack/demo.sh

clean: ## remove build output (keeps ~/.cache)
	rm -rf $(BUILD) tests/output
