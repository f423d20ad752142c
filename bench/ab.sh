#!/usr/bin/env bash
# Whether a change moves issue 12's and issue 13's ratios:
#
#   bench/ab.sh [OLD] [NEW] [ROUNDS] [BENCHTIME]
#   bench/ab.sh HEAD~3 . 6            # the work tree against three commits back
#   GOGC=100 bench/ab.sh HEAD~1 HEAD  # with the collector running
#
# builds bench's test binary at both revisions (OLD and NEW are git
# revisions; "." is the work tree as it is) and runs BenchmarkRuleSets of
# each in turn, GOMAXPROCS 1, ROUNDS times each (default 4), alternating;
# then prints each run's x-packs/24rules and x-sigmahq/packs and the medians
# per side.
#
# The runs are made with GOGC=off unless GOGC is set. With the collector on,
# one binary's ratios move by ±2–3% from one 10-second run to the next here,
# more than most single changes move them: a collection's work lands on
# whichever rule set runs while it marks, and there are a few dozen of them
# a run. With GOGC=off they move by ±0.5–1% (the memory a run takes, 2 GB or
# so, is touched once: what a set allocates still costs it its page faults,
# not its share of the collector's work). So GOGC=off tells whether a change
# to the evaluation moves the ratios; bench/run.sh gives the ratios as they
# are. Timing the process's CPU time instead of the wall clock did not help
# (it moved with the wall clock, run for run), nor did running the two
# binaries side by side on the two cores (they did not run the same work
# equally fast). The spreads above are this script's: GOGC=100 and GOGC=off
# runs of HEAD against HEAD.
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
export GOGC=${GOGC:-off}
for r in $(seq "$ROUNDS"); do
	for side in old new; do
		run $side "$tmp/$side.out"
		ratios $side "$tmp/$side.out" | tee -a "$tmp/all"
	done
done
median() { # median SIDE COLUMN
	awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$tmp/all" | sort -n |
		awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2) }'
}
echo "medians over $ROUNDS rounds, GOGC=$GOGC (x-packs/24rules, x-sigmahq/packs):"
echo "  old ($OLD): $(median old 2) $(median old 3)"
echo "  new ($NEW): $(median new 2) $(median new 3)"
