#!/usr/bin/env bash
# Where one rule set's time goes beyond another's, per log file, measured in
# one run under one load:
#
#   bench/profile-sets.sh [BASE] [SET] [BENCHTIME]
#   bench/profile-sets.sh packs packs+sigmahq 30s
#
# runs BenchmarkRuleSets (GOMAXPROCS 1, the three rule sets 24rules, packs
# and packs+sigmahq interleaved log file by log file) once with
# -cpuprofile. Each set's work runs under the profiler label set=NAME, and
# the pipeline's goroutines take it from their context, so pprof splits the
# one profile by set (-tagfocus). Prints each set's CPU seconds and, for
# every function whose cumulative time per log file differs by more than
# 1.5 µs between BASE and SET, the difference and both sides (µs per log
# file). Unlike profile-diff.sh, whose two runs meet different loads, the
# sides here are comparable with each other, shared code included (the
# reader, gunzip), which is how to tell noise from a difference: a shared
# function's line should read near 0. The collector's background work
# belongs to no set and is left out; its assists, in the allocating set's
# work, are in.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
BASE=${1:-24rules} SET=${2:-packs} TIME=${3:-30s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/b.test" .
out=$(GOMAXPROCS=1 "$tmp/b.test" -test.run '^$' -test.bench 'BenchmarkRuleSets$' -test.benchtime "$TIME" -test.cpuprofile "$tmp/cpu.prof")
echo "$out" | grep '^BenchmarkRuleSets' >&2
ops=$(echo "$out" | awk '/^BenchmarkRuleSets/ {print $2}') # one log file per set an op
go tool pprof -tags "$tmp/b.test" "$tmp/cpu.prof" 2>/dev/null | grep -E '^ *set:|: (24rules|packs|packs\+sigmahq)$' >&2 || true

# focus SET: pprof's -tagfocus regexp for set=SET, anchored (packs is in
# packs+sigmahq), its first digit bracketed (pprof takes a value that
# starts with one for a number).
focus() { printf 'set=^%s$' "$(printf '%s' "$1" | sed 's/[+.]/\\&/g; s/^\([0-9]\)/[\1]/')"; }
for s in "$BASE" "$SET"; do
	go tool pprof -tagfocus "$(focus "$s")" -top -cum -nodecount 100000 "$tmp/b.test" "$tmp/cpu.prof" 2>/dev/null |
		awk -v ops="$ops" 'NR > 6 && $4 ~ /s$/ { v = $4; m = 1; if (v ~ /ms$/) { m = 0.001; sub(/ms$/, "", v) } else sub(/s$/, "", v); printf "%s %.2f\n", $6, v * m * 1e6 / ops }' |
		sort >"$tmp/$s.txt"
done
join -a 1 -a 2 -e 0 -o 0,1.2,2.2 "$tmp/$BASE.txt" "$tmp/$SET.txt" |
	awk '{ d = $3 - $2; if (d > 1.5 || d < -1.5) printf "%8.1f µs  (%8.1f → %8.1f)  %s\n", d, $2, $3, $1 }' | sort -rn
