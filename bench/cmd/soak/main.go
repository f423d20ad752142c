//go:build linux

// Command soak runs the trailguard daemon (`trailguard run`, its own process)
// at a steady load for a while and samples its resident set size (VmRSS in
// /proc/PID/status), CPU time and goroutines (go_goroutines on its /metrics):
// does memory or the goroutine count grow while the load does not?
//
// The peers are those of the benchmarks, on loopback: fauxqs for SQS (Node,
// test/fauxqs), gofakes3 for S3 and a Slack recorder (both in this process).
// The log files are uploaded once and notified in a cycle, -rate a second.
//
//	go run ./bench/cmd/soak -trailguard bench/out/bin/trailguard -logs bench/out/logs -duration 10m
//
// It prints one benchmark-format line for bench/cmd/report and writes every
// sample to -csv.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/bench/internal/peers"
)

const bucket = "acme-cloudtrail-logs"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type options struct {
	trailguard, logs, data, csv, daemonLog, name string
	duration, sample                             time.Duration
	rate                                         float64
	progress                                     bool
	// fresh: each notification names a newly generated file, its events a
	// step of event time after the last one's, so stateful rules' windows turn
	// over (the cycled files would only be counted once: counting is
	// idempotent per event).
	fresh time.Duration
	// burstEvery: every this many fresh files, one carries a burst of
	// secret reads and refused calls by one principal (burstRecords), so
	// that the threshold rules fire; 0: none.
	burstEvery int
	// webEvery: how often the open triage page loads (browser); 0: never.
	webEvery time.Duration
}

func run() error {
	var o options
	flag.StringVar(&o.trailguard, "trailguard", "bench/out/bin/trailguard", "trailguard binary")
	flag.StringVar(&o.logs, "logs", "bench/out/logs", "directory of gzip delivery files to notify (bench/cmd/gen writes them)")
	flag.StringVar(&o.data, "data", "bench/opa/data.json", "data document for the rules (known_networks)")
	flag.DurationVar(&o.duration, "duration", time.Minute, "how long to keep the load on")
	flag.DurationVar(&o.sample, "sample", 2*time.Second, "sampling interval")
	flag.Float64Var(&o.rate, "rate", 50, "notifications (log files) sent per second")
	flag.StringVar(&o.csv, "csv", "bench/out/soak.csv", "file for the samples")
	flag.StringVar(&o.daemonLog, "daemon-log", "bench/out/soak-daemon.log", "file for the daemon's own log")
	flag.BoolVar(&o.progress, "progress", false, "print each sample to stderr as it is taken")
	flag.DurationVar(&o.fresh, "fresh", 0, "generate a new log file for each notification, event time advancing by this much per file (0: cycle -logs)")
	flag.IntVar(&o.burstEvery, "burst-every", 100, "with -fresh: every N-th file carries a burst of secret reads and refused calls by one principal (0: none)")
	flag.DurationVar(&o.webEvery, "web-every", 3*time.Second, "load a page of the web UI and ask its API this often, as a browser left open (0: never)")
	flag.StringVar(&o.name, "name", "", "name of the output line (default BenchmarkSoak/rate<N>-<duration>)")
	flag.Parse()
	if o.name == "" {
		o.name = fmt.Sprintf("BenchmarkSoak/rate%g-%s", o.rate, o.duration)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return soak(ctx, o)
}

// awsEnv is what every AWS client here and in the daemon needs: static test
// credentials, no shared config, no instance metadata, no aws-chunked bodies.
var awsEnv = map[string]string{
	"AWS_ACCESS_KEY_ID":                "test",
	"AWS_SECRET_ACCESS_KEY":            "test",
	"AWS_SESSION_TOKEN":                "",
	"AWS_REGION":                       "us-east-1",
	"AWS_DEFAULT_REGION":               "us-east-1",
	"AWS_PROFILE":                      "",
	"AWS_CONFIG_FILE":                  os.DevNull,
	"AWS_SHARED_CREDENTIALS_FILE":      os.DevNull,
	"AWS_EC2_METADATA_DISABLED":        "true",
	"AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
	"AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
}

func soak(ctx context.Context, o options) error {
	for k, v := range awsEnv {
		os.Setenv(k, v)
	}
	var keys files
	if o.fresh == 0 {
		var err error
		if keys, err = loadFiles(o.logs); err != nil {
			return err
		}
	}

	root, err := peers.ModuleRoot()
	if err != nil {
		return err
	}
	fq, err := peers.StartFauxqs(root)
	if err != nil {
		return err
	}
	defer fq.Stop()

	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		return err
	}
	for key, data := range keys.data {
		if _, err := backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
			return err
		}
	}
	s3srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server())
	defer s3srv.Close()
	slack := peers.NewSlack()
	defer slack.Close()

	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion("us-east-1"))
	if err != nil {
		return err
	}
	client := sqs.NewFromConfig(cfg, func(so *sqs.Options) { so.BaseEndpoint = aws.String(fq.Endpoint) })
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("cloudtrail-soak")})
	if err != nil {
		return fmt.Errorf("create queue: %w", err)
	}
	queueURL := aws.ToString(q.QueueUrl)

	port, err := peers.FreePort()
	if err != nil {
		return err
	}
	metricsAddr := "127.0.0.1:" + strconv.Itoa(port)
	data, err := os.ReadFile(o.data)
	if err != nil {
		return err
	}
	cfgPath := filepath.Join(filepath.Dir(o.csv), "soak.yaml")
	// The daemon's default state, in a file of this run's: one left by an
	// earlier run would hold its deliveries and counts.
	statePath := filepath.Join(filepath.Dir(o.csv), "soak-state.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(statePath + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	yaml := fmt.Sprintf(`log: {level: warn, format: json}
server: {listen: %q}
source:
  type: sqs
  sqs: {queue_url: %q, region: us-east-1, endpoint: %q, wait_time: 10s, max_messages: 10, visibility_timeout: 2m, workers: 16}
  s3: {region: us-east-1, endpoint: %q, path_style: true, allowed_buckets: [%s]}
rules:
  data: %s
notifiers:
  - name: slack
    type: slack
    slack: {token: xoxb-soak, channel: %s, api_url: %q}
routes:
  - notifiers: [slack]
dedup: {window: 1h, key: [rule_id, principal]}
state: {type: sqlite, sqlite: {path: %q}}
`, metricsAddr, queueURL, fq.Endpoint, s3srv.URL, bucket, strings.TrimSpace(string(data)), peers.Channel, slack.APIURL(), statePath)
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		return err
	}

	logf, err := os.Create(o.daemonLog)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(o.trailguard, "run", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			_ = err // how it exits after SIGTERM is the daemon tests' business
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			err := <-exited
			_ = err
		}
	}()
	if err := waitHealthy(ctx, "http://"+metricsAddr+"/healthz", exited); err != nil {
		return fmt.Errorf("%w (daemon log: %s)", err, o.daemonLog)
	}
	pid := cmd.Process.Pid
	what := fmt.Sprintf("%d log files", len(keys.order))
	if o.fresh > 0 {
		what = "new log files (event time +" + o.fresh.String() + " each)"
	}
	fmt.Fprintf(os.Stderr, "soak: daemon pid %d, %s notified %g/s for %s, sampling every %s\n",
		pid, what, o.rate, o.duration, o.sample)

	csv, err := os.Create(o.csv)
	if err != nil {
		return err
	}
	defer csv.Close()
	fmt.Fprintln(csv, "seconds,rss_mb,goroutines,cpu_seconds,events_read,messages_deleted,queue_visible,queue_inflight,slack_posts,stateful_records")

	fresh := &freshFiles{backend: backend, g: gen.New(gen.Options{Seed: 11}), step: o.fresh, start: time.Now().UTC(), burstEvery: o.burstEvery}

	// The load.
	loadCtx, stopLoad := context.WithTimeout(ctx, o.duration)
	defer stopLoad()
	var web *browser
	webDone := make(chan struct{})
	if o.webEvery > 0 {
		web = newBrowser(metricsAddr)
		go func() {
			defer close(webDone)
			web.run(loadCtx, o.webEvery)
		}()
	} else {
		close(webDone)
	}
	defer func() { stopLoad(); <-webDone }()
	sent := make(chan int, 1)
	go func() {
		// Every 50ms, send what the rate says is due by now, ten per
		// SendMessageBatch, so the rate holds whatever one call costs.
		n := 0
		began := time.Now()
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-loadCtx.Done():
				sent <- n
				return
			case <-t.C:
			}
			due := int(o.rate*time.Since(began).Seconds()) - n
			for due > 0 && loadCtx.Err() == nil {
				var entries []types.SendMessageBatchRequestEntry
				for i := 0; i < min(due, 10); i++ {
					var key string
					if o.fresh > 0 {
						key = fresh.put(n + i)
					} else {
						key = keys.order[(n+i)%len(keys.order)]
					}
					entries = append(entries, types.SendMessageBatchRequestEntry{
						Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(notification(n+i, key))})
				}
				_, err := client.SendMessageBatch(loadCtx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
				if err != nil {
					if loadCtx.Err() == nil {
						fmt.Fprintln(os.Stderr, "soak: send:", err)
					}
					break
				}
				n += len(entries)
				due -= len(entries)
			}
		}
	}()

	start := time.Now()
	var samples []sample
	take := func() error {
		s, err := sampleDaemon(ctx, pid, metricsAddr)
		if err != nil {
			return err
		}
		s.at = time.Since(start)
		if out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}}); err == nil {
			s.visible, _ = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
			s.inflight, _ = strconv.Atoi(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
		}
		s.posts = slack.Posts()
		samples = append(samples, s)
		fmt.Fprintf(csv, "%.1f,%.1f,%d,%.2f,%.0f,%.0f,%d,%d,%d,%.0f\n", s.at.Seconds(), s.rssMB, s.goroutines, s.cpu, s.events, s.deleted, s.visible, s.inflight, s.posts, s.records)
		if o.progress {
			fmt.Fprintf(os.Stderr, "soak: %6.0fs  rss %6.1f MB  goroutines %4d  cpu %7.1fs  events %9.0f  stateful records %6.0f  queue %d+%d\n",
				s.at.Seconds(), s.rssMB, s.goroutines, s.cpu, s.events, s.records, s.visible, s.inflight)
		}
		return nil
	}
	if err := take(); err != nil {
		return err
	}
	tick := time.NewTicker(o.sample)
	defer tick.Stop()
loop:
	for {
		select {
		case <-loadCtx.Done():
			break loop
		case err := <-exited:
			return fmt.Errorf("the daemon exited during the run: %w (log: %s)", err, o.daemonLog)
		case <-tick.C:
			if err := take(); err != nil {
				return err
			}
		}
	}
	if err := take(); err != nil {
		return err
	}
	nSent := <-sent
	<-webDone
	if ctx.Err() != nil {
		return ctx.Err()
	}
	x := extra{sent: nSent, posts: slack.Posts()}
	if web != nil {
		x.web = web.stats()
		x.webOn = true
	}
	if x.stateful, err = statefulAlerts(ctx, metricsAddr); err != nil {
		return fmt.Errorf("after the run: %w", err)
	}
	fmt.Println(summary(o.name, samples, x))
	fmt.Fprintf(os.Stderr, "soak: %d notifications sent, %d samples in %s, %d Slack posts; %d stateful rules had %d candidates, %d fired\n",
		nSent, len(samples), o.csv, x.posts, x.stateful.rules, x.stateful.candidates, x.stateful.fired)
	fmt.Fprintf(os.Stderr, "soak: stateful rules, fired/candidates: %s\n", x.stateful.byRule)
	if x.webOn {
		fmt.Fprintf(os.Stderr, "soak: the web page: %d requests, %d failed, slowest %s\n", x.web.requests, x.web.errors, x.web.slowest.Round(time.Millisecond))
		if x.web.lastErr != "" {
			fmt.Fprintf(os.Stderr, "soak: last failure: %s\n", x.web.lastErr)
		}
	}
	return nil
}

type files struct {
	order []string
	data  map[string][]byte
}

func loadFiles(dir string) (files, error) {
	f := files{data: map[string][]byte{}}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json.gz") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		key := filepath.ToSlash(rel)
		f.order = append(f.order, key)
		f.data[key] = b
		return nil
	})
	if err == nil && len(f.order) == 0 {
		err = fmt.Errorf("no .json.gz files under %s (write them with go run ./bench/cmd/gen)", dir)
	}
	return f, err
}

// notification is CloudTrail's SNS notification for a new log file.
func notification(i int, key string) string {
	inner, _ := json.Marshal(map[string]any{"s3Bucket": bucket, "s3ObjectKey": []string{key}})
	outer, _ := json.Marshal(map[string]any{
		"Type": "Notification", "MessageId": fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		"TopicArn": "arn:aws:sns:us-east-1:123456789012:cloudtrail-logs", "Message": string(inner),
		"Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
	})
	return string(outer)
}

func waitHealthy(ctx context.Context, url string, exited <-chan error) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("the daemon exited at start: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("the daemon is not healthy after 60s")
		}
	}
}

type sample struct {
	at                time.Duration
	rssMB             float64
	goroutines        int
	cpu               float64 // user+system seconds
	events, deleted   float64
	visible, inflight int
	posts             int64
	records           float64 // trailguard_stateful_records: the stateful rules' state size
}

func sampleDaemon(ctx context.Context, pid int, addr string) (sample, error) {
	var s sample
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return s, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			s.rssMB = kb / 1024
		}
	}
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name (which is in parentheses): utime and
		// stime are the 14th and 15th fields, in clock ticks (100 a second).
		if i := bytes.LastIndexByte(stat, ')'); i > 0 {
			f := strings.Fields(string(stat[i+1:]))
			if len(f) > 12 {
				ut, _ := strconv.ParseFloat(f[11], 64)
				st, _ := strconv.ParseFloat(f[12], 64)
				s.cpu = (ut + st) / 100
			}
		}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return s, fmt.Errorf("metrics: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		v, _ := strconv.ParseFloat(strings.TrimSpace(value), 64)
		switch name {
		case "go_goroutines":
			s.goroutines = int(v)
		case "trailguard_events_read_total":
			s.events = v
		case "trailguard_sqs_messages_deleted_total":
			s.deleted = v
		case "trailguard_stateful_records":
			s.records = v
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return s, sc.Err()
}

// extra is what the summary line reports besides the samples.
type extra struct {
	sent     int
	posts    int64
	stateful statefulRun
	webOn    bool
	web      browserStats
}

// summary is the run as one benchmark-format line. The start figures are
// those of the first sample after a warm-up of a tenth of the run (at least
// one sample; the first sample's are rss-first-MB and goroutines-first);
// the RSS slope, a least-squares fit over the samples after it, is given
// only for runs of five minutes or more.
func summary(name string, ss []sample, x extra) string {
	warm := max(1, len(ss)/10)
	if warm >= len(ss) {
		warm = len(ss) - 1
	}
	first, last := ss[warm], ss[len(ss)-1]
	var maxRSS float64
	var maxG int
	for _, s := range ss {
		maxRSS = max(maxRSS, s.rssMB)
		maxG = max(maxG, s.goroutines)
	}
	// Least squares of RSS over time after the warm-up, in MB per hour.
	var n, sx, sy, sxx, sxy float64
	for _, s := range ss[warm:] {
		x := s.at.Hours()
		n++
		sx += x
		sy += s.rssMB
		sxx += x * x
		sxy += x * s.rssMB
	}
	slope := 0.0
	if d := n*sxx - sx*sx; n > 1 && d != 0 {
		slope = (n*sxy - sx*sy) / d
	}
	slopeField := ""
	if last.at-first.at >= 5*time.Minute {
		// Shorter runs say more about start-up than about growth.
		slopeField = fmt.Sprintf("\t%.1f rss-slope-MB/h", slope)
	}
	elapsed := (last.at - ss[0].at).Seconds()
	events := (last.events - ss[0].events) / elapsed
	cpu := 100 * (last.cpu - ss[0].cpu) / elapsed
	line := fmt.Sprintf("%s\t1\t%d ns/op\t%.1f rss-first-MB\t%.1f rss-start-MB\t%.1f rss-max-MB\t%.1f rss-end-MB%s\t%d goroutines-first\t%d goroutines-start\t%d goroutines-max\t%d goroutines-end\t%d backlog-msgs\t%.0f events/s\t%.0f cpu-%%\t%d notifications",
		name, int64(elapsed*1e9), ss[0].rssMB, first.rssMB, maxRSS, last.rssMB, slopeField, ss[0].goroutines, first.goroutines, maxG, last.goroutines, last.visible+last.inflight, events, cpu, x.sent)
	line += fmt.Sprintf("\t%.0f stateful-records\t%d stateful-rules\t%d stateful-candidates\t%d stateful-fired\t%d slack-posts\t%.0f duration-s",
		last.records, x.stateful.rules, x.stateful.candidates, x.stateful.fired, x.posts, (last.at - ss[0].at).Seconds())
	if x.webOn {
		line += fmt.Sprintf("\t%d web-requests\t%d web-errors\t%.1f web-max-ms", x.web.requests, x.web.errors, float64(x.web.slowest.Microseconds())/1e3)
	}
	return line
}

// freshFiles makes the -fresh load: file n holds new events ending n steps of
// event time after the start, and replaces the object of file n-keep, so the
// S3 peer's memory stays bounded.
type freshFiles struct {
	backend *s3mem.Backend
	g       *gen.Generator
	step    time.Duration
	start   time.Time
	keys    []string
	// burstEvery: every this many files carries a burst (burstRecords).
	burstEvery int
}

const freshKeep = 2000

func (f *freshFiles) put(n int) string {
	end := f.start.Add(time.Duration(n) * f.step)
	file := f.g.File(59, "us-east-1", end)
	if f.burstEvery > 0 && n%f.burstEvery == f.burstEvery-1 {
		file = withBurst(f.g, n/f.burstEvery, end)
	}
	if _, err := f.backend.PutObject(bucket, file.Key, map[string]string{}, bytes.NewReader(file.Data), int64(len(file.Data)), nil); err != nil {
		fmt.Fprintln(os.Stderr, "soak: put:", err)
	}
	f.keys = append(f.keys, file.Key)
	if len(f.keys) > freshKeep {
		_, _ = f.backend.DeleteObject(bucket, f.keys[0])
		f.keys = f.keys[1:]
	}
	return file.Key
}
