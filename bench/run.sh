#!/usr/bin/env bash
# trailguard's performance suite, end to end (see bench/README.md):
#
#   bench/run.sh [--soak DURATION] [--soak-rate N] [--count N] [--benchtime D] [--ratio-benchtime D] [--big-size SIZE] [--quick]
#
#   --soak 10m       how long the daemon runs at steady load (default 60s; the README figure uses 10m)
#   --soak-rate 20   notifications (log files) a second during the soak (default 20)
#   --count 3        runs of each Go benchmark (the report takes the median; default 3)
#   --benchtime 2s   -benchtime of the time-based benchmarks (default 2s)
#   --ratio-benchtime 10s  -benchtime of the interleaved rule-set ratios (RuleSets,
#                    FloorRatios, ProcsScaling; default 10s: at 2s one run's ratio
#                    moves by ±4% on a shared machine, at 10s by about ±1%)
#   --big-size 1GiB  size of the uncompressed log for eval's peak RSS (default 1GiB)
#   --quick          a smoke run: --count 1 --benchtime 1s --big-size 100MiB --soak 15s
#
# It generates the data into bench/out/ (kept between runs; regenerated only
# when the flags change), builds trailguard and OPA v1.22.3 into bench/out/bin,
# starts an OPA server for the anchor benchmark, runs the Go benchmarks (each
# next to its baseline in the same run), measures eval's peak RSS on the big
# log and the daemon's RSS and goroutines over the soak (stateful rules
# counting and firing, the web page open), and prints the tables of figures,
# ratios and targets, issue 16's first (also written to bench/out/results.md;
# the raw benchmark output is in bench/out/bench.txt, benchstat-compatible).
# About 8 minutes on 2 cores with the defaults (7 plus the soak), and about a
# minute more the first time, to build OPA.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
OUT=bench/out
BIN=$OUT/bin

SOAK=60s
RATE=20
COUNT=3
BENCHTIME=2s
RATIO_BENCHTIME=10s
BIG=1GiB
ARGS="$*"

usage() { sed -n '2,24s/^# \{0,1\}//p' "$0"; }
while [ $# -gt 0 ]; do
	case "$1" in
	--soak) SOAK=$2; shift 2 ;;
	--soak=*) SOAK=${1#*=}; shift ;;
	--soak-rate) RATE=$2; shift 2 ;;
	--soak-rate=*) RATE=${1#*=}; shift ;;
	--count) COUNT=$2; shift 2 ;;
	--count=*) COUNT=${1#*=}; shift ;;
	--benchtime) BENCHTIME=$2; shift 2 ;;
	--benchtime=*) BENCHTIME=${1#*=}; shift ;;
	--ratio-benchtime) RATIO_BENCHTIME=$2; shift 2 ;;
	--ratio-benchtime=*) RATIO_BENCHTIME=${1#*=}; shift ;;
	--big-size) BIG=$2; shift 2 ;;
	--big-size=*) BIG=${1#*=}; shift ;;
	--quick) COUNT=1 BENCHTIME=1s RATIO_BENCHTIME=1s BIG=100MiB SOAK=15s; shift ;;
	-h | --help) usage; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
done

T0=$SECONDS
step() { printf '\n==> [%3ds] %s\n' $((SECONDS - T0)) "$*" >&2; }
warn() { printf 'run.sh: %s\n' "$*" >&2; }

mkdir -p "$BIN"
RAW=$OUT/bench.txt
: >"$RAW"
MODEL=$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
MACHINE="$(nproc) × ${MODEL:-unknown CPU}, $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GB RAM"}'), $(go env GOVERSION)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Every process started here is stopped on the way out, by its pid.
PIDS=()
cleanup() {
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT INT TERM

free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# Runs go test benchmarks, appending their output to $RAW; a failure is
# reported and the suite goes on (the report then says "not measured").
bench() {
	local pkg=$1
	shift
	step "go test -run '^\$' $* $pkg"
	if ! go test -run '^$' "$@" "$pkg" 2>&1 | tee -a "$RAW"; then
		warn "benchmarks of $pkg failed; going on"
	fi
	return 0
}

step "machine: $MACHINE; load average $LOAD0"

step "generate data (cached in $OUT)"
go run ./bench/cmd/gen -out "$OUT/logs" -files 300 -large "$OUT/large.json.gz"
go run ./bench/cmd/gen -files 0 -big "$OUT/big.json" -big-size "$BIG"

if [ ! -d test/fauxqs/node_modules ]; then
	step "install the SQS emulator's modules (once)"
	npm ci --prefix test/fauxqs --no-audit --no-fund
fi

step "build trailguard and the tools"
go build -o "$BIN/trailguard" ./cmd/trailguard
go build -o "$BIN/report" ./bench/cmd/report
go build -o "$BIN/soak" ./bench/cmd/soak
go build -o "$BIN/peakrss" ./bench/cmd/peakrss
go build -o "$BIN/gen" ./bench/cmd/gen

step "build OPA v1.22.3 (once)"
if ! "$BIN/opa" version 2>/dev/null | grep -q '^Version: 1.22.3$'; then
	GOBIN="$ROOT/$BIN" go install github.com/open-policy-agent/opa@v1.22.3
fi
if [ ! -x "$BIN/benchstat" ]; then
	# Optional: a benchstat summary of the raw output, when it installs.
	GOBIN="$ROOT/$BIN" timeout 180 go install golang.org/x/perf/cmd/benchstat@latest 2>/dev/null ||
		warn "benchstat not installed; skipping its summary"
fi

step "start an OPA server with the shipped rules"
OPA_PORT=$(free_port)
# The same arguments as opaArgs in bench/opa_test.go.
"$BIN/opa" run --server --addr "127.0.0.1:$OPA_PORT" --log-level error --ignore '*_test.rego' --ignore testdata \
	rules bench/opa/alerts.rego bench/opa/data.json >"$OUT/opa.log" 2>&1 &
PIDS+=($!)
for i in $(seq 300); do
	(exec 3<>"/dev/tcp/127.0.0.1/$OPA_PORT") 2>/dev/null && break
	kill -0 "${PIDS[0]}" 2>/dev/null || { warn "the OPA server exited (see $OUT/opa.log)"; break; }
	[ "$i" = 300 ] && warn "the OPA server is not listening after 30 s (see $OUT/opa.log)"
	sleep 0.1
done
export OPA_URL="http://127.0.0.1:$OPA_PORT" TRAILGUARD_BENCH_OPA=1

# a. The engine per event, next to json.Unmarshal (engine/bench_test.go).
bench ./engine -bench '^BenchmarkEvent(Matching|NonMatching)$' -benchtime "$BENCHTIME" -count "$COUNT" -benchmem
# b. A log file end to end, next to the floor; GOMAXPROCS 1 and 2.
bench ./bench -bench '^BenchmarkLogFile$' -benchtime "$BENCHTIME" -count "$COUNT"
# e. Rule count: the pipeline with 24 rules, every pack, every pack + SigmaHQ's
#    rules, and a non-matching event against 24 to 400 rules; the sets are
#    interleaved within each op (bench/rulesets_test.go).
# f. Issue 16's ratios, each side interleaved with the other within each op:
#    the pipeline with every pack (and with SigmaHQ's rules too) vs the floor,
#    GOMAXPROCS 2 vs 1 with every pack, a matching event vs json.Unmarshal
#    (bench/rulesets_test.go, bench/issue16_test.go). The whole-pipeline
#    ratios run longer (--ratio-benchtime): their two sides share each op,
#    but a short run still meets a load that comes and goes.
bench ./bench -bench '^Benchmark(RuleSets|FloorRatios|ProcsScaling)$' -benchtime "$RATIO_BENCHTIME" -count "$COUNT"
bench ./bench -bench '^Benchmark(NonMatchingRuleCount|MatchingEvent)$' -benchtime "$BENCHTIME" -count "$COUNT"
# g. A stateful candidate (threshold, distinct, new value, sequence) on each
#    state backend next to a stateless one (rules/stateful_bench_test.go); the
#    report reads its x-sqlite/… ratios.
bench ./rules -bench '^BenchmarkStatefulCandidate$' -benchtime "$BENCHTIME" -count "$COUNT" -benchmem
# d. The anchor: the same rules in the OPA server, per event.
bench ./bench -bench '^BenchmarkOPAServer$' -benchtime "$BENCHTIME" -count "$COUNT"
# c. The daemon through SQS and S3 next to eval over the same files (3,000 log
#    files, about 180,000 events, per run: a few seconds of steady work, so
#    that starting the daemon and noticing the empty queue weigh little), and
#    the SQS-to-Slack latency.
bench ./bench -bench '^BenchmarkDaemon$' -benchtime 3000x -count "$COUNT" -timeout 30m
bench ./bench -bench '^BenchmarkDaemonLatency$' -benchtime 50x -count 1
kill "${PIDS[0]}" 2>/dev/null && wait "${PIDS[0]}" 2>/dev/null || true
PIDS=()

# measure NAME BYTES INPUT...: `trailguard eval` over INPUT as a process: its
# time, events/s, bytes/s (of BYTES uncompressed, if not 0) and peak RSS (from
# /usr/bin/time -v when present, else from VmHWM sampled in /proc by
# bench/cmd/peakrss), as a benchmark line in $RAW.
measure() {
	local name=$1 bytes=$2
	shift 2
	local eval=("$BIN/trailguard" eval --data bench/opa/data.json "$@")
	if /usr/bin/time -v true >/dev/null 2>&1; then
		/usr/bin/time -v -o "$OUT/eval.time" "${eval[@]}" >/dev/null 2>"$OUT/eval.stderr" ||
			warn "eval exited non-zero (see $OUT/eval.stderr)"
		"$BIN/peakrss" -name "$name" -input-bytes "$bytes" -time-v "$OUT/eval.time" -stderr "$OUT/eval.stderr" | tee -a "$RAW"
	else
		warn "/usr/bin/time is missing: sampling VmHWM from /proc instead"
		"$BIN/peakrss" -name "$name" -input-bytes "$bytes" -- "${eval[@]}" | tee -a "$RAW"
	fi
}

step "trailguard eval as a process: the $BIG uncompressed log (peak RSS), the large file, the 300 files"
measure "BenchmarkEvalPeakRSS/$BIG" "$(stat -c %s "$OUT/big.json")" "$OUT/big.json"
measure "BenchmarkEvalProcess/large-file-25000-records" 0 "$OUT/large.json.gz"
measure "BenchmarkEvalProcess/300-delivery-files" 0 "$OUT/logs"

# The soak: every notification names a newly generated file, its events two
# minutes of event time after the last one's (half the density of bench/gen's
# own delivery files), so the stateful rules' windows turn over, new-value
# rules finish learning (7 days of event time: about 4 minutes in) and new
# values keep arriving; every 100th file carries a burst of secret reads and refused
# calls by one principal, so the threshold rules fire; and the web page is
# loaded every 3 s (a page, its script and style, one API question), as a
# browser left open.
step "the daemon at steady load for $SOAK ($RATE log files/s, stateful rules, the web page open): RSS and goroutines"
"$BIN/soak" -trailguard "$BIN/trailguard" -fresh 2m -burst-every 100 -web-every 3s -duration "$SOAK" -rate "$RATE" \
	-csv "$OUT/soak.csv" -daemon-log "$OUT/soak-daemon.log" | tee -a "$RAW" ||
	warn "the soak failed (see $OUT/soak-daemon.log)"

LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
if [ -x "$BIN/benchstat" ]; then
	"$BIN/benchstat" "$RAW" >"$OUT/benchstat.txt" 2>&1 || true
fi
step "report ($((SECONDS - T0))s in all)"
NOTE="Load average (1, 5, 15 min) $LOAD0 at the start and $LOAD1 at the end; anything else running on the machine shares its cores with the benchmarks and the peers (fauxqs, gofakes3, the OPA server)."
"$BIN/report" -machine "$MACHINE" -command "bench/run.sh${ARGS:+ $ARGS}" -note "$NOTE" "$RAW" | tee "$OUT/results.md"
