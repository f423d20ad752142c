package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/bench/internal/peers"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/daemon"
	"github.com/trailguard/trailguard/internal/testpeers"
)

// The daemon as deployed: SQS notifications (fauxqs, under Node) naming gzip
// logs in S3 (gofakes3, in this process), alerts posted to a Slack-shaped
// recorder, everything on loopback. The peers share the machine's cores with
// the daemon, so these figures are a floor for what it does against AWS.

const benchBucket = "acme-cloudtrail-logs"

var queueSeq atomic.Int64

// daemonEnv is one set of peers with the corpus uploaded.
type daemonEnv struct {
	fq       *testpeers.Fauxqs
	s3       *testpeers.S3
	slack    *peers.Slack
	queueURL string
}

func startDaemonEnv(b *testing.B, files []gen.File) *daemonEnv {
	b.Helper()
	testpeers.AWSEnv(b)
	env := &daemonEnv{fq: testpeers.StartFauxqs(b), s3: testpeers.StartS3(b), slack: peers.NewSlack()}
	b.Cleanup(env.slack.Close)
	env.s3.CreateBucket(b, benchBucket)
	for _, f := range files {
		env.s3.Put(b, benchBucket, f.Key, f.Data)
	}
	env.newQueue(b)
	return env
}

// newQueue gives the peers a fresh queue. A daemon that stopped may leave a
// long poll open in fauxqs that would still take (and hide for the visibility
// timeout) messages sent to its queue, so each daemon gets its own.
func (env *daemonEnv) newQueue(b *testing.B) {
	env.queueURL = env.fq.CreateQueue(b, fmt.Sprintf("cloudtrail-bench-%d", queueSeq.Add(1)), nil)
}

// config is the daemon's configuration for these peers: every shipped rule,
// every alert to Slack, dedup by rule and event (so each distinct alert is
// posted once), sixteen messages at a time (the default).
func (env *daemonEnv) config(b *testing.B) *config.Config {
	b.Helper()
	data, err := json.Marshal(must(ruleData()))
	if err != nil {
		b.Fatal(err)
	}
	yaml := fmt.Sprintf(`
server: {listen: "127.0.0.1:0"}
source:
  type: sqs
  sqs:
    queue_url: %q
    region: us-east-1
    endpoint: %q
    wait_time: 5s
    max_messages: 10
    visibility_timeout: 2m
    workers: 16
  s3:
    region: us-east-1
    endpoint: %q
    path_style: true
    allowed_buckets: [%s]
rules:
  data: %s
notifiers:
  - name: slack
    type: slack
    slack: {token: xoxb-bench, channel: %s, api_url: %q}
routes:
  - notifiers: [slack]
dedup: {window: 1h, key: [rule_id, event_id]}
state: {type: memory} # as measured before SQLite became the default; a fixed path would carry claims between runs
`, env.queueURL, env.fq.Endpoint(), env.s3.Endpoint(), benchBucket, data, peers.Channel, env.slack.APIURL())
	cfg, err := config.Parse("bench.yaml", []byte(yaml), nil)
	if err != nil {
		b.Fatalf("%v\n%s", err, yaml)
	}
	return cfg
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// newDaemon builds a daemon for the peers (compiling the rules).
func (env *daemonEnv) newDaemon(b *testing.B) *daemon.Daemon {
	b.Helper()
	log := slog.New(slog.NewJSONHandler(debugOut(), &slog.HandlerOptions{Level: debugLevel()}))
	d, err := daemon.New(context.Background(), env.config(b), daemon.Options{Logger: log, ShutdownGrace: 10 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// runDaemon runs d until stop, which waits for it to finish.
func runDaemon(b *testing.B, d *daemon.Daemon) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("daemon: %v", err)
		}
	}
}

// notification is what CloudTrail sends through SNS (without raw delivery) to
// the queue for a new log file.
func notification(i int, keys ...string) string {
	inner, _ := json.Marshal(map[string]any{"s3Bucket": benchBucket, "s3ObjectKey": keys})
	outer, _ := json.Marshal(map[string]any{
		"Type":      "Notification",
		"MessageId": fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		"TopicArn":  "arn:aws:sns:us-east-1:123456789012:cloudtrail-logs",
		"Message":   string(inner),
		"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
	})
	return string(outer)
}

// sendAll queues one notification per file, ten per SendMessageBatch.
func (env *daemonEnv) sendAll(b *testing.B, files []gen.File) {
	client := env.fq.SQSClient()
	for start := 0; start < len(files); start += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for i := start; i < min(start+10, len(files)); i++ {
			entries = append(entries, types.SendMessageBatchRequestEntry{
				Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(notification(i, files[i].Key))})
		}
		out, err := client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(env.queueURL), Entries: entries})
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Failed) > 0 {
			b.Fatalf("SendMessageBatch: %d failed: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
		}
	}
}

// waitEmpty polls the queue until no message is visible or in flight.
func (env *daemonEnv) waitEmpty(b *testing.B, timeout time.Duration, every time.Duration) {
	deadline := time.Now().Add(timeout)
	for {
		v, inflight := env.fq.ApproxCounts(b, env.queueURL)
		if v == 0 && inflight == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("queue not empty after %s: %d visible, %d in flight", timeout, v, inflight)
		}
		time.Sleep(every)
	}
}

// BenchmarkDaemon is the daemon's throughput through SQS and S3, next to
// `trailguard eval` over the same files in the same run:
//
//   - eval-pipeline: what `trailguard eval` does with the same b.N files
//     (pipeline.RunAll, as in BenchmarkLogFile);
//   - daemon-sqs-s3: a queue of b.N notifications, one log file each (the
//     corpus, cycled), and a daemon started on it; timed from its start until
//     the queue is empty (every message deleted, which the daemon does only
//     after every alert reached Slack).
//
// One op is one log file in both; events/s is the figure to compare.
func BenchmarkDaemon(b *testing.B) {
	files := corpus()
	env := startDaemonEnv(b, files)
	eng := newEngine(b)
	b.Run("eval-pipeline", func(b *testing.B) {
		batch := cycle(files, b.N)
		b.ResetTimer()
		events, size := evalFiles(b, batch, eng)
		b.StopTimer()
		report(b, events, size)
	})
	b.Run("daemon-sqs-s3", func(b *testing.B) {
		b.StopTimer()
		batch := cycle(files, b.N)
		var events, size int64
		for _, f := range batch {
			events += int64(f.Records)
			size += int64(f.Size)
		}
		env.newQueue(b)
		env.sendAll(b, batch)
		d := env.newDaemon(b)
		posts := env.slack.Posts()
		b.StartTimer()
		stop := runDaemon(b, d)
		env.waitEmpty(b, 2*time.Minute+time.Duration(b.N)*100*time.Millisecond, 25*time.Millisecond)
		b.StopTimer()
		stop()
		if env.slack.Posts() == posts {
			b.Fatal("no alert reached Slack")
		}
		report(b, events, size)
	})
}

// cycle is n files: the corpus, repeated.
func cycle(files []gen.File, n int) []gen.File {
	out := make([]gen.File, n)
	for i := range out {
		out[i] = files[i%len(files)]
	}
	return out
}

// BenchmarkDaemonLatency is the time from SendMessage to the alert reaching
// Slack, for small log files sent one at a time (the next only once the queue
// is empty again): one op is one file, and p50-ms and p99-ms are over the b.N
// files of the run (run it with -benchtime=50x).
func BenchmarkDaemonLatency(b *testing.B) {
	g := gen.New(gen.Options{Seed: latencySeed})
	env := startDaemonEnv(b, nil)
	stop := runDaemon(b, env.newDaemon(b))
	defer stop()

	b.Run("sqs-to-slack", func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		for i := range b.N {
			b.StopTimer()
			key, eventID := smallFile(b, env, g, i)
			got := env.slack.Expect(eventID)
			b.StartTimer()
			sent := time.Now()
			env.fq.Send(b, env.queueURL, notification(i, key))
			select {
			case at := <-got:
				lat = append(lat, at.Sub(sent))
			case <-time.After(time.Minute):
				env.slack.Forget(eventID)
				b.Fatalf("the alert for event %s (s3://%s/%s) did not reach Slack within a minute", eventID, benchBucket, key)
			}
			env.waitEmpty(b, time.Minute, 2*time.Millisecond)
		}
		b.StopTimer()
		slices.Sort(lat)
		b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
		b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
		b.ReportMetric(ms(lat[len(lat)-1]), "max-ms")
	})
}

// smallFile uploads a delivery file of a few records, one of which (a security
// group or IAM policy change) raises an alert, and returns its key and the id
// of that event.
func smallFile(b *testing.B, env *daemonEnv, g *gen.Generator, i int) (key, eventID string) {
	recs := g.Records(3 + i%20)
	change := g.AppendKind(nil, gen.KindCISChange, "us-east-1", gen.DefaultStart.Add(time.Duration(i)*time.Minute))
	var ev struct {
		EventID string `json:"eventID"`
	}
	if err := json.Unmarshal(change, &ev); err != nil || ev.EventID == "" {
		b.Fatalf("generated change without an eventID: %v", err)
	}
	at := i % len(recs)
	recs = slices.Insert(recs, at, change)
	key = fmt.Sprintf("AWSLogs/123456789012/CloudTrail/us-east-1/2024/03/04/123456789012_CloudTrail_us-east-1_20240304T%04dZ_latency%09d.json.gz", i%2400, i)
	env.s3.Put(b, benchBucket, key, gen.Gzip(gen.Log(recs)))
	return key, ev.EventID
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func debugOut() io.Writer {
	if os.Getenv("BENCH_DAEMON_LOG") != "" {
		return os.Stderr
	}
	return io.Discard
}

func debugLevel() slog.Level {
	if os.Getenv("BENCH_DAEMON_LOG") != "" {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}
