# Tools are pinned in tools/go.mod and run with `go tool`; nothing else needs installing.
BUF := go tool -modfile=tools/go.mod buf

.PHONY: generate lint check-generated

## generate: lint proto/ and regenerate gen/ (protoc-gen-go + protoc-gen-connect-go)
generate: lint
	$(BUF) generate

## lint: buf lint and buf format check of proto/
lint:
	$(BUF) lint
	$(BUF) format --diff --exit-code

## check-generated: fail if gen/ differs from what `make generate` produces
check-generated: generate
	@if [ -n "$$(git status --porcelain -- gen/)" ]; then \
		echo "gen/ is out of date: run 'make generate' and commit the result"; \
		git status --porcelain -- gen/; \
		exit 1; \
	fi
