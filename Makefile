# ast — see README.md. `make test` is the test command (CI runs it through .ci/run).
GO       ?= go
BIN      := $(CURDIR)/bin
PREFIX   ?= $(HOME)/.local
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
MODULE   := github.com/ast-cli/ast
GOBUILD  := CGO_ENABLED=0 $(GO) build -trimpath
# Each binary carries the release version in its own package's Version variable.
stamp     = -ldflags '-s -w -X $(MODULE)/$(1).Version=$(VERSION)'
PLUGINS  := local hashicorp awssm
FUZZTIME ?= 10s

.PHONY: build install test test-unit test-fuzz example proto dev-vault dev-k8s bench clean acceptance

build:
	$(GOBUILD) $(call stamp,internal/cli) -o $(BIN)/ast ./cmd/ast
	$(foreach p,$(PLUGINS),$(GOBUILD) $(call stamp,plugins/$(p)) -o $(BIN)/ast-plugin-$(p) ./plugins/$(p)/cmd/ast-plugin-$(p) &&) true
	cd plugins/kubernetes && $(GOBUILD) -ldflags '-s -w -X $(MODULE)/plugins/kubernetes.Version=$(VERSION)' -o $(BIN)/ast-target-kubernetes ./cmd/ast-target-kubernetes

# The example third-party plugin, built from its own module.
example:
	cd examples/ast-plugin-example && $(GOBUILD) -ldflags '-s -w' -o $(BIN)/ast-plugin-example .

install: build
	install -d $(PREFIX)/bin
	install -m 0755 $(BIN)/ast $(foreach p,$(PLUGINS),$(BIN)/ast-plugin-$(p)) $(BIN)/ast-target-kubernetes $(PREFIX)/bin/

# Every test: unit and end-to-end tests, the conformance suite of each backend against
# real servers (Vault dev server, moto_server, a Kubernetes control plane) started by
# scripts/with-servers, short fuzz runs.
test: build example dev-vault dev-k8s
	scripts/with-servers $(MAKE) --no-print-directory test-unit test-fuzz

test-unit:
	$(GO) test -count=1 ./...
	cd pluginsdk && $(GO) test -count=1 ./...
	cd examples/ast-plugin-example && $(GO) test -count=1 ./...
	cd plugins/kubernetes && $(GO) test -count=1 ./...

test-fuzz:
	$(GO) test ./internal/dotenv -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/dotenv -run '^$$' -fuzz '^FuzzRoundTrip$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/refs -run '^$$' -fuzz '^FuzzParseVar$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/refs -run '^$$' -fuzz '^FuzzField$$' -fuzztime $(FUZZTIME)
	cd pluginsdk && $(GO) test . -run '^$$' -fuzz '^FuzzScrub$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/termtext -run '^$$' -fuzz '^FuzzLine$$' -fuzztime $(FUZZTIME)

# A real Vault server for tests (MPL-2.0 v1.13.2, see tools/vault), built only when missing.
dev-vault: $(BIN)/vault
$(BIN)/vault:
	cd tools/vault && CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/vault github.com/hashicorp/vault

# The Kubernetes test cluster (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
# kwok; tools/k8s and tools/kwok): built only when missing into a cache outside the clone,
# keyed by those modules' go.sum ($$HOME/.cache/ast-dev-k8s/HASH/), and linked into bin/.
dev-k8s:
	GO=$(GO) scripts/dev-k8s

# Regenerates pluginsdk's protobuf code (backend and target protocols) (protoc from Debian's protobuf-compiler).
proto:
	GOBIN=$(BIN)/tools $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	GOBIN=$(BIN)/tools $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	cd pluginsdk && PATH=$(BIN)/tools:$$PATH protoc -I proto \
	  --go_out=internal/backendv1 --go_opt=paths=source_relative \
	  --go-grpc_out=internal/backendv1 --go-grpc_opt=paths=source_relative \
	  proto/backend.proto
	cd pluginsdk && PATH=$(BIN)/tools:$$PATH protoc -I proto \
	  --go_out=internal/targetv1 --go_opt=paths=source_relative \
	  --go-grpc_out=internal/targetv1 --go-grpc_opt=paths=source_relative \
	  proto/target.proto

bench: build example dev-vault dev-k8s
	scripts/with-servers scripts/bench

clean:
	rm -rf $(BIN)/ast $(BIN)/ast-plugin-* $(BIN)/ast-target-* $(BIN)/tools

# The black-box acceptance checks of ../shared/checks against the built binaries, on the
# local backend, on Vault (dev server from bin/vault) and on AWS (moto_server).
SHARED ?= ../shared
acceptance: build example dev-vault
	$(SHARED)/checks/acceptance.py
	AST_CHECK_BACKEND=example $(SHARED)/checks/acceptance.py seed refs
	$(SHARED)/checks/with-vault
	$(SHARED)/checks/with-moto
