#!/usr/bin/env bash
# Compares the throughput of this tree with an older revision, in one run:
#
#   bench/compare.sh [--base REV] [--count N] [--benchtime D] [--quick]
#
#   --base REV      the revision to compare with (default: where this branch left main)
#   --count 6       rounds; each round runs every benchmark once for each side (default 6)
#   --benchtime 1s  -benchtime of each benchmark run (default 1s)
#   --quick         --count 2 --benchtime 200ms, a smoke run
#
# It checks REV out in a temporary `git worktree`, builds the test binaries of
# both sides once, then runs the same benchmarks for both, interleaved round by
# round and benchmark by benchmark (the side that goes first alternates), so
# that a machine whose load changes during the run weighs on both alike. Benchmark files this tree has
# and REV lacks (they use only exported API) are copied into REV's tree first.
# The benchmarks: the log pipeline at GOMAXPROCS 1 and 2 (bench
# BenchmarkLogFile), one matching and one non-matching event through the
# engine and their decoding alone (engine BenchmarkEvent*), and the log reader
# (cloudtrail BenchmarkReader). Output: bench/out/compare/{base,head}.txt
# (raw, benchstat-compatible) and benchstat's table of head against base,
# whose "vs base" column is the change (events/s: + is faster).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OUT=$ROOT/bench/out/compare
BIN=$ROOT/bench/out/bin

BASE=""
COUNT=6
BENCHTIME=1s
usage() { sed -n '2,21s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
	case "$1" in
	--base) BASE=$2; shift 2 ;;
	--base=*) BASE=${1#*=}; shift ;;
	--count) COUNT=$2; shift 2 ;;
	--count=*) COUNT=${1#*=}; shift ;;
	--benchtime) BENCHTIME=$2; shift 2 ;;
	--benchtime=*) BENCHTIME=${1#*=}; shift ;;
	--quick) COUNT=2 BENCHTIME=200ms; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "compare.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
done
if [ -z "$BASE" ]; then
	BASE=$(git merge-base HEAD main)
fi
BASE_SHA=$(git rev-parse --verify "$BASE^{commit}")
HEAD_DESC="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!bench/out' || echo '+changes')"

step() { printf '\n==> %s\n' "$*" >&2; }

# package|benchmark pattern; run from the package's directory, as go test does.
BENCHES=(
	"bench|^BenchmarkLogFile\$/^trailguard-gomaxprocs"
	"engine|^BenchmarkEvent(Matching|NonMatching)\$/^engine\$"
	"engine|^BenchmarkEventParts\$//^decode\$"
	"cloudtrail|^BenchmarkReader\$"
)
# Benchmark files REV may lack.
OVERLAY=(cloudtrail/bench_test.go)

mkdir -p "$OUT" "$BIN"
TMP=$(mktemp -d)
cleanup() {
	git -C "$ROOT" worktree remove --force "$TMP/base" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

step "base $(git rev-parse --short "$BASE_SHA") in a temporary worktree; head $HEAD_DESC"
git worktree add --quiet --detach "$TMP/base" "$BASE_SHA"
for f in "${OVERLAY[@]}"; do
	if [ ! -e "$TMP/base/$f" ]; then
		cp "$f" "$TMP/base/$f"
		echo "copied $f into the base" >&2
	fi
done

step "build the test binaries"
for side in base head; do
	tree=$ROOT
	[ "$side" = base ] && tree=$TMP/base
	for pkg in bench engine cloudtrail; do
		(cd "$tree" && go test -c -o "$TMP/$side.$pkg.test" "./$pkg")
	done
done

run() { # side package pattern
	local side=$1 pkg=$2 pattern=$3 tree=$ROOT
	[ "$side" = base ] && tree=$TMP/base
	(cd "$tree/$pkg" && "$TMP/$side.$pkg.test" -test.run '^$' -test.bench "$pattern" \
		-test.benchtime "$BENCHTIME" -test.count 1 -test.benchmem) >>"$OUT/$side.txt"
}

: >"$OUT/base.txt"
: >"$OUT/head.txt"
for round in $(seq "$COUNT"); do
	step "round $round of $COUNT (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	for entry in "${BENCHES[@]}"; do
		# Each benchmark runs for both sides back to back, the first side
		# alternating, so that both meet the same load.
		if [ $((round % 2)) -eq 1 ]; then
			run base "${entry%%|*}" "${entry#*|}"; run head "${entry%%|*}" "${entry#*|}"
		else
			run head "${entry%%|*}" "${entry#*|}"; run base "${entry%%|*}" "${entry#*|}"
		fi
	done
done

if [ ! -x "$BIN/benchstat" ]; then
	GOBIN=$BIN go install golang.org/x/perf/cmd/benchstat@latest
fi
step "head ($HEAD_DESC) against base ($(git rev-parse --short "$BASE_SHA")), $COUNT interleaved runs each"
"$BIN/benchstat" base="$OUT/base.txt" head="$OUT/head.txt" | tee "$OUT/benchstat.txt"
