// Package testharness holds what the daemon's end-to-end tests (daemon/) and
// the fault suite (test/faults/) both build: CloudTrail records and log files,
// the notifications that name them, configuration fragments, the marker rule
// that hot-reload scenarios rewrite, and a reader of /metrics. The peers they
// talk to are in internal/testpeers.
package testharness
