// Package faults is trailguard's fault suite: it runs the real daemon
// (`trailguard run --config FILE`, built once per test binary and run as a
// separate process) against real protocol peers — fauxqs for SQS, gofakes3
// for S3 behind a fault-injecting front, a Slack-shaped recorder, go-smtp and
// miniredis, or a real redis-server the test starts — and breaks one
// thing at a time: S3 failing, hanging, trickling, missing or truncated;
// Slack down or rate limited; SMTP refusing connections; SQS unreachable; the
// daemon SIGKILLed mid-batch; two replicas on one queue; a policy reload that
// fails to compile while events flow; credentials that peers refuse; hostile
// event data.
//
// For every fault the suite counts the alert deliveries expected, delivered
// and delivered more than once, and the messages left in the queue and in its
// dead-letter queue, and asserts the delivery promise of README.md: nothing
// is lost; nothing is delivered twice with Redis state or by a single process
// that did not crash. With FAULTS_REPORT=FILE the counts of the run are
// written to FILE as a markdown table.
//
// There is no non-test code here: everything is in the _test.go files.
//
//	go test -race -count=1 ./test/faults/
package faults
