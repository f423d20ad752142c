package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/trailguard/trailguard/internal/testpeers"
)

// replayS3 is gofakes3 on loopback behind a handler that records the
// prefixes listed and the objects read, and that can refuse some reads.
type replayS3 struct {
	url string

	mu     sync.Mutex
	lists  []string
	gets   []string
	denied map[string]bool // keys answered 403 AccessDenied
	gone   map[string]bool // keys answered as if deleted after the listing
}

func startReplayS3(t *testing.T) *replayS3 {
	t.Helper()
	s := &replayS3{denied: map[string]bool{}, gone: map[string]bool{}}
	inner := gofakes3.New(s3mem.New()).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			s.mu.Lock()
			listing := r.URL.Query().Get("list-type") == "2"
			if listing {
				s.lists = append(s.lists, r.URL.Query().Get("prefix"))
			} else if key != "" {
				s.gets = append(s.gets, key)
			}
			denied, gone := s.denied[key], s.gone[key]
			s.mu.Unlock()
			switch {
			case listing:
			case denied:
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><Key>%s</Key><RequestId>1</RequestId></Error>`, key)
				return
			case gone:
				// gofakes3 answers for a key that does not exist.
				r.URL.Path += ".deleted"
				r.URL.RawPath = ""
			}
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

func (s *replayS3) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists, s.gets = nil, nil
}

func (s *replayS3) recorded() (lists, gets []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lists), slices.Clone(s.gets)
}

// s3Put is a test's own S3 client for the server, to fill it.
type s3Put struct{ c *s3.Client }

func newS3Put(t *testing.T, url string) s3Put {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	if err != nil {
		t.Fatal(err)
	}
	return s3Put{s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
	})}
}

func (p s3Put) CreateBucket(t *testing.T, bucket string) {
	t.Helper()
	if _, err := p.c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
}

func (p s3Put) Put(t *testing.T, bucket, key string, body []byte) {
	t.Helper()
	_, err := p.c.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// deliveryFile is a CloudTrail delivery file of root deleting an OpsWorks
// CM server (two rules fire on it) at each of the event times.
func deliveryFile(t *testing.T, acct, region string, times ...time.Time) []byte {
	t.Helper()
	var recs []map[string]any
	for i, et := range times {
		recs = append(recs, map[string]any{
			"eventVersion": "1.08", "eventID": fmt.Sprintf("%s-%s-%s-%d", acct, region, et.Format("0102T1504"), i),
			"eventTime": et.Format(time.RFC3339), "eventSource": "opsworks-cm.amazonaws.com", "eventName": "DeleteServer",
			"awsRegion": region, "recipientAccountId": acct, "sourceIPAddress": "203.0.113.7", "userAgent": "aws-cli/2.15.0",
			"userIdentity":                 map[string]any{"type": "Root", "arn": "arn:aws:iam::" + acct + ":root", "accountId": acct},
			"requestParameters":            map[string]any{"serverName": "build"},
			"responseElements":             nil,
			"eventType":                    "AwsApiCall",
			"managementEvent":              true,
			"eventCategory":                "Management",
			"readOnly":                     false,
			"requestID":                    "req-1",
			"tlsDetails":                   map[string]any{"tlsVersion": "TLSv1.3"},
			"sessionCredentialFromConsole": false,
		})
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ctKey(org, acct, region string, delivered time.Time) string {
	p := "AWSLogs/"
	if org != "" {
		p += org + "/"
	}
	return p + acct + "/CloudTrail/" + region + "/" + delivered.Format("2006/01/02/") +
		acct + "_CloudTrail_" + region + "_" + delivered.Format("20060102T1504Z") + "_Xy7k2.json.gz"
}

type alertLine struct {
	RuleID    string `json:"rule_id"`
	EventID   string `json:"event_id"`
	EventTime string `json:"event_time"`
	Origin    string `json:"origin"`
}

func parseAlerts(t *testing.T, out string) []alertLine {
	t.Helper()
	var as []alertLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var a alertLine
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("not an alert: %q", l)
		}
		as = append(as, a)
	}
	return as
}

func TestEvalS3(t *testing.T) {
	testpeers.AWSEnv(t)
	s := startReplayS3(t)
	client := newS3Put(t, s.url)
	client.CreateBucket(t, "trail")

	const (
		org      = "o-abcdef1234"
		a1, a2   = "111122223333", "444455556666"
		invictus = "218007301253"
	)
	type object struct{ key, local string } // local: a plain copy of what the object holds
	var objects []object
	dir := t.TempDir()
	add := func(key string, body []byte) {
		local := filepath.Join(dir, fmt.Sprintf("%02d.json", len(objects)))
		if err := os.WriteFile(local, body, 0o644); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, object{key, local})
		client.Put(t, "trail", key, gz(t, body))
	}
	// Real logs of a compromised account, at their place in the layout.
	samples, _ := filepath.Glob("../../examples/logs/invictus-ir_aws_dataset/*_CloudTrail_*.json")
	if len(samples) != 5 {
		t.Fatalf("%d sample logs", len(samples))
	}
	for _, f := range samples {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		add("AWSLogs/"+invictus+"/CloudTrail/us-east-1/2023/07/10/"+filepath.Base(f)+".gz", b)
	}
	// An organisation trail across accounts, regions and a month boundary;
	// each file holds events of 5 and 12 minutes before its delivery.
	for _, acct := range []string{a1, a2} {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			for _, d := range []string{"2023-06-30T23:55:00Z", "2023-07-01T00:05:00Z", "2023-07-01T00:20:00Z", "2023-07-10T12:20:00Z", "2023-07-11T00:00:00Z"} {
				at, _ := time.Parse(time.RFC3339, d)
				add(ctKey(org, acct, region, at), deliveryFile(t, acct, region, at.Add(-12*time.Minute), at.Add(-5*time.Minute)))
			}
		}
	}
	// Never read: digests, Insights, and what is not a log.
	client.Put(t, "trail", "AWSLogs/"+org+"/"+a1+"/CloudTrail-Digest/us-east-1/2023/07/01/"+a1+"_CloudTrail-Digest_us-east-1_t_us-east-1_20230701T0010Z.json.gz", gz(t, []byte("{}")))
	client.Put(t, "trail", "AWSLogs/"+org+"/"+a1+"/CloudTrail-Insight/us-east-1/2023/07/01/x.json.gz", gz(t, []byte("{}")))
	client.Put(t, "trail", "AWSLogs/"+org+"/"+a1+"/CloudTrail/us-east-1/2023/07/01/_SUCCESS", nil)
	// A plain folder of logs beside the trail.
	add("exported/old.json", deliveryFile(t, a2, "us-east-1", time.Date(2023, 7, 5, 8, 0, 0, 0, time.UTC)))
	slices.SortFunc(objects, func(a, b object) int { return strings.Compare(a.key, b.key) })

	since, until := time.Date(2023, 7, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 7, 10, 12, 15, 0, 0, time.UTC)
	s3args := []string{"--s3-endpoint", s.url, "--s3-path-style"}

	t.Run("filters", func(t *testing.T) {
		s.reset()
		args := append([]string{"eval", "--since", since.Format(time.RFC3339), "--until", until.Format(time.RFC3339),
			"--accounts", invictus, "--accounts", a1 + ",999999999999", "--regions", "us-east-1", "--files", "3"}, s3args...)
		code, out, errs := runCLI(t, "", append(args, "s3://trail/")...)
		if code != exitOK {
			t.Fatalf("exit %d\n%s", code, errs)
		}

		// The files that may hold events of the window: delivered from
		// --since to 15 minutes after --until, in the chosen accounts and region.
		var want []object
		for _, o := range objects {
			name := filepath.Base(o.key)
			stamp, err := time.Parse("20060102T1504Z", strings.Split(name, "_")[max(0, len(strings.Split(name, "_"))-2)])
			inLayout := err == nil
			chosen := strings.Contains(o.key, "/"+invictus+"/") || strings.Contains(o.key, "/"+a1+"/")
			chosen = chosen && strings.Contains(o.key, "/us-east-1/")
			if !inLayout || chosen && !stamp.Before(since) && stamp.Before(until.Add(15*time.Minute)) {
				want = append(want, o)
			}
		}
		lists, gets := s.recorded()
		var wantKeys []string
		for _, o := range want {
			wantKeys = append(wantKeys, o.key)
		}
		slices.Sort(gets)
		if !slices.Equal(gets, wantKeys) {
			t.Errorf("objects read\n got %q\nwant %q", gets, wantKeys)
		}
		if len(wantKeys) != 8 { // 4 samples (12:25 is kept, 12:30 is not), 3 of a1, exported/old.json
			t.Errorf("the test selects %d objects: %q", len(wantKeys), wantKeys)
		}
		for _, l := range lists {
			for _, pruned := range []string{"/" + a2 + "/", "/eu-west-1/", "CloudTrail-Digest", "CloudTrail-Insight", "/2023/06/", "/2023/07/02/", "/2023/07/11/"} {
				if strings.Contains(l, pruned) {
					t.Errorf("listed %q, below the pruned %q", l, pruned)
				}
			}
		}
		if !strings.Contains(errs, "warning: s3://trail/: 1 objects outside CloudTrail's key layout (e.g. s3://trail/exported/old.json) could not be pruned by --accounts, --regions, --since/--until") {
			t.Errorf("no warning for the unprunable object:\n%s", errs)
		}

		// The same files read from disk, in the same order, give the same
		// alerts, less those on events outside the window.
		var locals []string
		for _, o := range want {
			locals = append(locals, o.local)
		}
		code, localOut, lerrs := runCLI(t, "", append([]string{"eval"}, locals...)...)
		if code != exitOK {
			t.Fatalf("local eval: exit %d\n%s", code, lerrs)
		}
		origin := map[string]string{}
		for _, o := range want {
			origin[o.local] = "s3://trail/" + o.key
		}
		var wantAlerts []alertLine
		hidden := 0
		for _, a := range parseAlerts(t, localOut) {
			et, err := time.Parse(time.RFC3339, a.EventTime)
			if err != nil {
				t.Fatal(err)
			}
			if et.Before(since) || !et.Before(until) {
				hidden++
				continue
			}
			a.Origin = origin[a.Origin]
			wantAlerts = append(wantAlerts, a)
		}
		got := parseAlerts(t, out)
		if !slices.Equal(got, wantAlerts) {
			t.Errorf("alerts\n got %d %v\nwant %d %v", len(got), got, len(wantAlerts), wantAlerts)
		}
		if hidden == 0 || !strings.Contains(errs, fmt.Sprintf("%d alerts on events outside --since/--until not printed", hidden)) {
			t.Errorf("%d alerts outside the window; stderr:\n%s", hidden, errs)
		}
		if !strings.Contains(errs, "8 files, ") || !strings.Contains(errs, " 0 errors") || strings.Contains(errs, "\r") {
			t.Errorf("summary (and no progress bar on a non-terminal):\n%s", errs)
		}
	})

	t.Run("unreadable objects are reported, the others read", func(t *testing.T) {
		s.reset()
		prefix := "AWSLogs/" + org + "/" + a2 + "/CloudTrail/eu-west-1/2023/07/"
		var keys []string
		for _, o := range objects {
			if strings.HasPrefix(o.key, prefix) {
				keys = append(keys, o.key)
			}
		}
		if len(keys) != 4 {
			t.Fatalf("%d objects under %s", len(keys), prefix)
		}
		s.mu.Lock()
		s.denied[keys[0]], s.gone[keys[2]] = true, true
		s.mu.Unlock()
		t.Cleanup(func() { s.mu.Lock(); clear(s.denied); clear(s.gone); s.mu.Unlock() })

		code, out, errs := runCLI(t, "", append(append([]string{"eval"}, s3args...), "s3://trail/"+prefix)...)
		if code != exitBad {
			t.Fatalf("exit %d, want %d\n%s", code, exitBad, errs)
		}
		if !strings.Contains(errs, "error: s3://trail/"+keys[0]+": access denied") || !strings.Contains(errs, "error: s3://trail/"+keys[2]+": object not found") {
			t.Errorf("stderr does not name the unreadable objects:\n%s", errs)
		}
		var origins []string
		for _, a := range parseAlerts(t, out) {
			if len(origins) == 0 || origins[len(origins)-1] != a.Origin {
				origins = append(origins, a.Origin)
			}
		}
		if want := []string{"s3://trail/" + keys[1], "s3://trail/" + keys[3]}; !slices.Equal(origins, want) {
			t.Errorf("alerts came from %q, want %q", origins, want)
		}
		if !strings.Contains(errs, "4 files, ") || !strings.Contains(errs, " 2 errors") {
			t.Errorf("summary:\n%s", errs)
		}
	})

	t.Run("a missing bucket", func(t *testing.T) {
		code, _, errs := runCLI(t, "", append(append([]string{"eval"}, s3args...), "s3://nobucket/AWSLogs/")...)
		if code != exitBad || !strings.Contains(errs, "listing s3://nobucket/AWSLogs/") {
			t.Errorf("exit %d\n%s", code, errs)
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"eval", "--since", "7d", "../../examples/logs"},
			{"eval", "--since", "last week", "s3://trail/"},
			{"eval", "--until", "2023-07-01", "--since", "2023-07-02", "s3://trail/"},
			{"eval", "--accounts", "12345", "s3://trail/"},
			{"eval", "--regions", "Frankfurt", "s3://trail/"},
			{"eval", "s3:///nobucket"},
		} {
			code, _, errs := runCLI(t, "", append(args, s3args...)...)
			want := exitUsage
			if args[1] == "s3:///nobucket" {
				want = exitBad
			}
			if code != want {
				t.Errorf("%v: exit %d, want %d\n%s", args, code, want, errs)
			}
		}
	})
}

// The replay stops when its context ends, as on ^C.
func TestEvalS3Cancelled(t *testing.T) {
	testpeers.AWSEnv(t)
	s := startReplayS3(t)
	client := newS3Put(t, s.url)
	client.CreateBucket(t, "trail")
	client.Put(t, "trail", "a.json", deliveryFile(t, "111122223333", "us-east-1", time.Now()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"eval", "--s3-endpoint", s.url, "--s3-path-style", "s3://trail/"}, strings.NewReader(""), &out, &errb)
	if code == exitOK {
		t.Errorf("exit 0 after cancellation\n%s", errb.String())
	}
}
