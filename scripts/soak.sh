#!/usr/bin/env bash
# A soak of the daemon with its stateful rules (not a unit test): runs
# `trailguard run` (the built-in packs, whose stateful rules count, learn and
# sequence; state in SQLite, the daemon's default) against fauxqs (SQS),
# gofakes3 (S3) and a Slack recorder on loopback for a while, and prints the
# daemon's RSS, goroutines, CPU, events read and stateful records at each
# interval. Every notification names a newly generated log file whose events
# come a step of event time after the last one's, so windows turn over and
# new values keep arriving; every SOAK_BURST-th file carries a burst of
# secret reads and refused calls by one principal, so the threshold rules
# fire; and the web page is loaded every SOAK_WEB, as a browser left open
# (see bench/README.md, "The soak"): the state size and RSS should level off.
# bench/run.sh --soak 10m runs the same soak for the performance report.
#
#   scripts/soak.sh [minutes] [interval]      # default 10 minutes, a sample every 30s
#
# Environment: SOAK_RATE log files a second (default 10), SOAK_STEP event time
# per file (default 1m: ten minutes of events a second at the default rate),
# SOAK_BURST (default 100; 0: no bursts), SOAK_WEB (default 3s; 0: no page),
# SOAK_OUT output directory (default a temporary one, kept and named at the end).
# Needs Node.js (fauxqs) and Linux (/proc); installs fauxqs's modules if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes=${1:-10}
interval=${2:-30s}
rate=${SOAK_RATE:-10}
step=${SOAK_STEP:-1m}
burst=${SOAK_BURST:-100}
web=${SOAK_WEB:-3s}
out=${SOAK_OUT:-$(mktemp -d -t trailguard-soak.XXXXXX)}
mkdir -p "$out"

if [ ! -d test/fauxqs/node_modules ]; then
  npm ci --prefix test/fauxqs --no-audit --no-fund
fi
go build -o "$out/trailguard" ./cmd/trailguard
go build -o "$out/soak" ./bench/cmd/soak

echo "soak: ${minutes}m at $rate files/s, event time +$step a file, samples every $interval; output in $out" >&2
"$out/soak" -trailguard "$out/trailguard" -fresh "$step" -rate "$rate" -burst-every "$burst" -web-every "$web" \
  -duration "${minutes}m" -sample "$interval" -progress \
  -csv "$out/soak.csv" -daemon-log "$out/daemon.log" -name "SoakStateful/rate${rate}-${minutes}m"
echo "soak: samples in $out/soak.csv, the daemon's log in $out/daemon.log, its state in $out/soak-state.db" >&2
