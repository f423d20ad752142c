#!/usr/bin/env bash
# Whether a change moves issue 12's and issue 13's ratios, measured so that
# the shared machine's load falls on both sides alike:
#
#   bench/ab.sh [OLD] [NEW] [ROUNDS] [BENCHTIME]
#   bench/ab.sh HEAD~3 . 6            # the work tree against three commits back
#
# builds bench's test binary at both revisions (OLD and NEW are git
# revisions; "." is the work tree as it is) and runs BenchmarkRuleSets of
# both AT THE SAME TIME, GOMAXPROCS 1 each (one per core), ROUNDS times
# (default 4), the two swapping which one starts first; then prints each
# run's x-packs/24rules and x-sigmahq/packs and the medians per side.
#
# Why: run one after the other, the same binary's ratios move by ±2–3% from
# run to run here, more than most single changes move them. Timing the
# process's CPU time instead of the wall clock does not help (it moved with
# the wall clock, run for run): the noise is how fast the core runs, not how
# long we wait for it. Two binaries running side by side meet the same
# slowdowns; compare their medians, not single runs.
set -euo pipefail
OLD=${1:-HEAD~1} NEW=${2:-HEAD} ROUNDS=${3:-4} TIME=${4:-10s}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
tmp=$(mktemp -d)
trees=()
cleanup() {
	for t in "${trees[@]}"; do git -C "$root" worktree remove --force "$t" >/dev/null 2>&1 || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# build REV NAME: the bench test binary at REV as $tmp/NAME.test, and the
# directory it runs in (its own bench/, for the SigmaHQ rules of that tree).
build() {
	local rev=$1 name=$2 dir
	if [ "$rev" = . ]; then
		dir=$root
	else
		dir=$tmp/$name-tree
		git worktree add --quiet --detach "$dir" "$rev"
		trees+=("$dir")
	fi
	(cd "$dir" && go test -c -o "$tmp/$name.test" ./bench)
	echo "$dir/bench" >"$tmp/$name.dir"
}
build "$OLD" old
build "$NEW" new

run() { # run NAME OUT
	(cd "$(cat "$tmp/$1.dir")" && GOMAXPROCS=1 "$tmp/$1.test" -test.run '^$' -test.bench 'BenchmarkRuleSets$' -test.benchtime "$TIME" >"$2")
}
ratios() { # ratios NAME FILE: "NAME x-packs/24rules x-sigmahq/packs"
	awk -v n="$1" '/^BenchmarkRuleSets/ { for (i = 1; i <= NF; i++) { if ($i == "x-packs/24rules") p = $(i-1); if ($i == "x-sigmahq/packs") s = $(i-1) } print n, p, s }' "$2"
}
for r in $(seq "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then a=old b=new; else a=new b=old; fi
	run $a "$tmp/$a.out" &
	run $b "$tmp/$b.out"
	wait
	ratios old "$tmp/old.out" | tee -a "$tmp/all"
	ratios new "$tmp/new.out" | tee -a "$tmp/all"
done
median() { # median SIDE COLUMN
	awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$tmp/all" | sort -n |
		awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2) }'
}
echo "medians over $ROUNDS rounds (x-packs/24rules, x-sigmahq/packs):"
echo "  old ($OLD): $(median old 2) $(median old 3)"
echo "  new ($NEW): $(median new 2) $(median new 3)"
