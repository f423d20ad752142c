package faults

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	th "github.com/trailguard/trailguard/internal/testharness"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// trailguardBin is the trailguard command under test, built once by TestMain.
var trailguardBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	flag.Parse()
	// The faults spend their time waiting on clocks and peers (a 30 s
	// outage, a 30 s read timeout, retry delays), not on the CPU: run them
	// all at once, not GOMAXPROCS at a time, unless -parallel says so.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", "32"); err != nil {
			fmt.Fprintln(os.Stderr, "faults:", err)
			return 1
		}
	}
	dir, err := os.MkdirTemp("", "trailguard-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	trailguardBin = filepath.Join(dir, "trailguard")
	start := time.Now()
	build := exec.Command("go", "build", "-o", trailguardBin, "github.com/trailguard/trailguard/cmd/trailguard")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "faults: go build ./cmd/trailguard: %v\n%s", err, out)
		return 1
	}
	if testing.Verbose() {
		fmt.Printf("faults: built %s in %s\n", trailguardBin, time.Since(start).Round(time.Millisecond))
	}
	code := m.Run()
	writeReport()
	return code
}

// shared are the peers every scenario uses: one fauxqs, each scenario with
// queues of its own.
type shared struct {
	sqs *testpeers.Fauxqs
}

// TestFaults runs every fault as a parallel subtest: the longest waits (a
// 30 s Slack outage, S3's 30 s read timeout) overlap, so the suite takes
// about as long as the slowest fault. The daemons are child processes with
// environments of their own, so no scenario touches this process's
// environment.
func TestFaults(t *testing.T) {
	p := &shared{sqs: testpeers.StartFauxqs(t)}
	th.RunParallel(t, p, []th.Scenario[*shared]{
		// The slowest first.
		{Name: "SlackDown", Run: testSlackDown},
		{Name: "RedisDown", Run: testRedisDown},
		{Name: "SlowRule", Run: testSlowRule},
		{Name: "SlackHangs", Run: testSlackHangs},
		{Name: "SlackPermanent", Run: testSlackPermanent},
		{Name: "SilentSMTPAtStart", Run: testSilentSMTPAtStart},
		{Name: "S3Timeout", Run: testS3Timeout},
		{Name: "S3Trickle", Run: testS3Trickle},
		{Name: "SMTPRefused", Run: testSMTPRefused},
		{Name: "WebhookDown", Run: testHTTPDown("webhook")},
		{Name: "PagerDutyDown", Run: testHTTPDown("pagerduty")},
		{Name: "TeamsDown", Run: testHTTPDown("teams")},
		{Name: "SQSUnreachable", Run: testSQSUnreachable},
		{Name: "Secrets", Run: testSecrets},
		{Name: "S3NotFound", Run: testS3NotFound},
		{Name: "TruncatedGzip", Run: testTruncatedGzip},
		{Name: "KillRedis", Run: testKill(stateMiniredis)},
		{Name: "KillMemory", Run: testKill(stateMemory)},
		{Name: "ReplicasMiniredis", Run: testReplicas(stateMiniredis)},
		{Name: "ReplicasRedisServer", Run: testReplicas(stateRedisServer)},
		{Name: "ReloadBroken", Run: testReloadBroken},
		{Name: "S3Error500", Run: testS3Error500},
		{Name: "SlackRateLimited", Run: testSlackRateLimited},
		{Name: "HostileInput", Run: testHostileInput},
		{Name: "NoEventID", Run: testNoEventID},
		{Name: "RecordsNotArray", Run: testRecordsNotArray},
		{Name: "SlackInvalidAuth", Run: testSlackInvalidAuth},
		{Name: "StdoutBlocked", Run: testStdoutBlocked},
	})
}
