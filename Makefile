# Tools are pinned in tools/go.mod and run with `go tool`; nothing else needs installing.
BUF := go tool -modfile=tools/go.mod buf

.PHONY: generate lint check-generated test bench build run

# PostgreSQL for the suites that run on both databases; override to use another server.
GPCORE_TEST_POSTGRES_DSN ?= postgres://postgres@127.0.0.1:5432/test?sslmode=disable
export GPCORE_TEST_POSTGRES_DSN

## build: the gpcore binary in ./bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
build:
	go build -ldflags "-X github.com/gpcore/gpcore/internal/version.Override=$(VERSION)" -o bin/gpcore ./cmd/gpcore

## run: build and run `gpcore serve` on the embedded default (pass flags with ARGS="--listen ...")
run: build
	./bin/gpcore serve $(ARGS)

## test: the whole suite with the race detector on PostgreSQL, then again on SQLite (the embedded default)
test:
	go vet ./...
	go test -race -count=1 ./...
	GPCORE_TEST_POSTGRES_DSN= go test -count=1 ./...

## bench: throughput and latency benchmarks through real clients, plus start-up and idle memory
bench:
	go test -run '^$$' -bench . -benchmem ./internal/bench/...
	./scripts/startup-memory.sh


## generate: lint proto/, regenerate gen/ (protoc-gen-go + protoc-gen-connect-go) and the
## API reference docs/api.md (protoc-gen-doc, buf.gen.docs.yaml)
generate: lint
	$(BUF) generate
	$(BUF) generate --template buf.gen.docs.yaml

## lint: buf lint and buf format check of proto/
lint:
	$(BUF) lint
	$(BUF) format --diff --exit-code

## check-generated: fail if gen/ or docs/api.md differs from what `make generate` produces
check-generated: generate
	@if [ -n "$$(git status --porcelain -- gen/ docs/api.md)" ]; then \
		echo "gen/ or docs/api.md is out of date: run 'make generate' and commit the result"; \
		git status --porcelain -- gen/ docs/api.md; \
		exit 1; \
	fi
