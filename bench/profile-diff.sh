#!/usr/bin/env bash
# Where the time of one rule set goes beyond another's, per log file:
#
#   bench/profile-diff.sh [BASE] [SET] [BENCHTIME]
#   bench/profile-diff.sh packs packs+assumerole 6000x
#
# runs BenchmarkPipeline/BASE and BenchmarkPipeline/SET (GOMAXPROCS 1, one
# delivery file per op) with -cpuprofile, and prints, for every function whose
# cumulative time per op differs by more than 3 µs, the difference and both
# sides (µs per log file). The two runs are separate, so the machine's load
# changes between them: compare parts of one run's difference, not its total
# with another run's. The README's per-alert figures come from it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
BASE=${1:-packs} SET=${2:-packs+assumerole} TIME=${3:-6000x}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/b.test" .
for s in "$BASE" "$SET"; do
	re="^BenchmarkPipeline\$/^$(printf '%s' "$s" | sed 's/[+.]/\\&/g')\$"
	out=$("$tmp/b.test" -test.run '^$' -test.bench "$re" -test.benchtime "$TIME" -test.cpuprofile "$tmp/$s.prof")
	echo "$out" | grep Benchmark >&2
	ops=$(echo "$out" | awk '/^BenchmarkPipeline/ {print $2}')
	# cumulative seconds per function, as µs per op
	go tool pprof -top -cum -nodecount 100000 "$tmp/b.test" "$tmp/$s.prof" 2>/dev/null |
		awk -v ops="$ops" 'NR > 6 && $4 ~ /s$/ { v = $4; m = 1; if (v ~ /ms$/) { m = 0.001; sub(/ms$/, "", v) } else sub(/s$/, "", v); printf "%s %.2f\n", $6, v * m * 1e6 / ops }' |
		sort >"$tmp/$s.txt"
done
join "$tmp/$BASE.txt" "$tmp/$SET.txt" |
	awk '{ d = $3 - $2; if (d > 3 || d < -3) printf "%8.1f µs  (%8.1f → %8.1f)  %s\n", d, $2, $3, $1 }' | sort -rn
