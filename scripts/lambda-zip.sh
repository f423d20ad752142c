#!/usr/bin/env bash
# Builds the AWS Lambda deployment packages: one zip per architecture, each
# holding the static trailguard binary named bootstrap (what the
# provided.al2023 runtime starts) and, with -c, the configuration as
# trailguard.yaml (found in $LAMBDA_TASK_ROOT; $TRAILGUARD_CONFIG overrides it).
#
#   scripts/lambda-zip.sh [-c trailguard.yaml] [-o dist] [arm64|amd64]...
#
# Default: both architectures, into dist/trailguard-lambda-<arch>.zip.
# The Go toolchain and zip (or python3) are all it needs; nothing is uploaded.
set -euo pipefail
cd "$(dirname "$0")/.."

config="" out="dist"
while getopts "c:o:h" opt; do
  case $opt in
    c) config=$OPTARG ;;
    o) out=$OPTARG ;;
    *) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
archs=("$@")
[ ${#archs[@]} -gt 0 ] || archs=(arm64 amd64)
if [ -n "$config" ]; then
  [ -f "$config" ] || { echo "lambda-zip: no configuration file $config" >&2; exit 2; }
fi

version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
mkdir -p "$out"
out=$(cd "$out" && pwd)
for arch in "${archs[@]}"; do
  case $arch in arm64|amd64) ;; *) echo "lambda-zip: unknown architecture $arch (arm64 or amd64)" >&2; exit 2 ;; esac
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' EXIT
  # lambda.norpc: the provided runtimes speak only the Runtime API, so
  # aws-lambda-go's legacy RPC mode is left out of the binary.
  CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -tags lambda.norpc \
    -ldflags "-s -w -X main.version=$version" -o "$stage/bootstrap" ./cmd/trailguard
  [ -z "$config" ] || install -m 0644 "$config" "$stage/trailguard.yaml"
  zipfile="$out/trailguard-lambda-$arch.zip"
  rm -f "$zipfile"
  files=(bootstrap)
  [ -z "$config" ] || files+=(trailguard.yaml)
  if command -v zip >/dev/null; then
    (cd "$stage" && zip -q -X "$zipfile" "${files[@]}")
  else
    # zipfile keeps the files' modes: bootstrap stays executable.
    (cd "$stage" && python3 -m zipfile -c "$zipfile" "${files[@]}")
  fi
  rm -rf "$stage"
  trap - EXIT
  echo "$zipfile ($(du -h "$zipfile" | cut -f1), $arch, $version)"
done
