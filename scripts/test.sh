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

step "fuzz targets, 20 s each (anything found is saved under testdata/fuzz and fails the run)"
./scripts/fuzz.sh 20s

step "benchmarks, briefly, so they keep working"
go test -run '^$' -bench . -benchtime=50x ./... >/dev/null
echo "benchmarks ran"

step "redis-server for the replica fault test (REDIS_ADDR)"
if ! command -v redis-server >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
REDIS_PORT=
for p in $(shuf -i 20000-59999 -n 50); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then REDIS_PORT=$p; break; fi
done
[ -n "$REDIS_PORT" ] || { echo "no free port for redis-server" >&2; exit 1; }
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no >/dev/null
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping | grep -q PONG || { echo "redis-server did not start on 127.0.0.1:$REDIS_PORT" >&2; exit 1; }
trap 'redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true' EXIT
export REDIS_ADDR="127.0.0.1:$REDIS_PORT"

step "go test -race"
go test -race -count=1 -timeout 20m ./...
