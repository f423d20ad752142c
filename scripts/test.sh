#!/usr/bin/env bash
# The one test command: installs what the tests need, then runs every check.
# Used by the README's quick start and by CI (.ci/run). Safe to rerun.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests build AWS clients: never let them probe real credentials or the
# instance-metadata address.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true

step() { printf '\n==> %s\n' "$*"; }

step "SQS emulator (fauxqs, pinned by test/fauxqs/package-lock.json)"
command -v node >/dev/null || { echo "node (>= 20) is required for the SQS emulator" >&2; exit 1; }
if [ ! -d test/fauxqs/node_modules/fauxqs ]; then
  npm ci --prefix test/fauxqs --no-audit --no-fund --loglevel=error
fi

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './test/*'))
if [ -n "$unformatted" ]; then echo "not gofmt-ed:" >&2; echo "$unformatted" >&2; exit 1; fi

step "go vet"
go vet ./...

step "golangci-lint (pinned, .golangci.yml)"
GOLANGCI_VERSION=v2.15.0
bin="$(go env GOPATH)/bin"
if ! "$bin/golangci-lint" version 2>/dev/null | grep -q "${GOLANGCI_VERSION#v}"; then
  GOFLAGS=-buildvcs=false go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_VERSION"
fi
"$bin/golangci-lint" run ./...

step "Rego policy tests (trailguard test)"
go run ./cmd/trailguard test

step "redis-server for the state store and history tests and benchmarks (started by each itself)"
if ! command -v redis-server >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
command -v redis-server

step "chromium for the web page's browser test (driven headless by the test itself)"
if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
command -v chromium

step "fuzz targets, 20 s each (anything found is saved under testdata/fuzz and fails the run)"
./scripts/fuzz.sh 20s

step "benchmarks, briefly, so they keep working (their output only when one fails)"
bench_log=$(mktemp)
if ! go test -run '^$' -bench . -benchtime=50x ./... >"$bench_log" 2>&1; then
  grep -v -e '^Benchmark.*/op' -e '^ok' -e '^PASS' -e '^goos:' -e '^goarch:' -e '^pkg:' -e '^cpu:' "$bench_log" >&2
  rm -f "$bench_log"
  exit 1
fi
rm -f "$bench_log"
echo "benchmarks ran"

step "go test -race"
go test -race -count=1 -timeout 20m ./...
