package s3replay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/trailguard/trailguard/internal/testpeers"
)

// fakeS3 is gofakes3 on loopback behind a handler that records every list
// prefix and every object read.
type fakeS3 struct {
	url string

	mu    sync.Mutex
	lists []string // prefixes listed
	gets  []string // keys read
}

func startS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{}
	inner := gofakes3.New(s3mem.New()).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			f.mu.Lock()
			if r.URL.Query().Get("list-type") == "2" {
				f.lists = append(f.lists, r.URL.Query().Get("prefix"))
			} else if _, key, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/"); ok {
				f.gets = append(f.gets, key)
			}
			f.mu.Unlock()
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fakeS3) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists, f.gets = nil, nil
}

func (f *fakeS3) listed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.lists)
}

func newTestClient(t *testing.T, f *fakeS3, bucket string) *Client {
	t.Helper()
	testpeers.AWSEnv(t)
	c, err := New(context.Background(), bucket, Options{Endpoint: f.url, PathStyle: true, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	s3c := c.api.(*s3.Client)
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return c
}

func put(t *testing.T, c *Client, key, body string) {
	t.Helper()
	_, err := c.api.(*s3.Client).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(c.bucket), Key: aws.String(key), Body: strings.NewReader(body), ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func sorted(s []string) []string { slices.Sort(s); return s }

func ctKey(org, acct, region, stamp string) string {
	d, _ := time.Parse("20060102T1504Z", stamp)
	p := "AWSLogs/"
	if org != "" {
		p += org + "/"
	}
	return p + acct + "/CloudTrail/" + region + "/" + d.Format("2006/01/02/") + acct + "_CloudTrail_" + region + "_" + stamp + "_Ab12.json.gz"
}

func TestList(t *testing.T) {
	s := startS3(t)
	c := newTestClient(t, s, "trail")
	const (
		org = "o-abcdef1234"
		a1  = "111122223333"
		a2  = "444455556666"
	)
	keys := []string{
		ctKey(org, a1, "us-east-1", "20240130T2355Z"),
		ctKey(org, a1, "us-east-1", "20240131T0000Z"),
		ctKey(org, a1, "us-east-1", "20240131T2355Z"),
		ctKey(org, a1, "us-east-1", "20240201T0005Z"), // may hold January's last events
		ctKey(org, a1, "us-east-1", "20240201T0020Z"),
		ctKey(org, a1, "us-east-1", "20240202T0000Z"),
		ctKey(org, a1, "us-east-1", "20240301T0000Z"),
		ctKey(org, a1, "eu-west-1", "20240131T1200Z"),
		ctKey(org, a2, "us-east-1", "20240131T1200Z"),
		ctKey("", a1, "us-east-1", "20240131T1300Z"), // the account's own trail
		"AWSLogs/" + org + "/" + a1 + "/CloudTrail-Digest/us-east-1/2024/01/31/" + a1 + "_CloudTrail-Digest_us-east-1_x_20240131T1200Z.json.gz",
		"AWSLogs/" + org + "/" + a1 + "/CloudTrail-Insight/us-east-1/2024/01/31/x.json.gz",
		"AWSLogs/" + org + "/" + a1 + "/CloudTrail/us-east-1/2024/01/31/README.txt",
		"plain/old.json",
		"plain/notes.md",
		"plainer.json",
	}
	for _, k := range keys {
		put(t, c, k, "{}")
	}

	tests := []struct {
		name   string
		prefix string
		f      Filter
		want   []string
		// listed must include every prefix here and none of notListed.
		listed, notListed []string
		unpruned          int
	}{
		{
			name: "everything", prefix: "",
			want: sorted(append(slices.Clone(keys[:10]), "plain/old.json", "plainer.json")),
		},
		{
			name: "one account, one region, January's last day", prefix: "",
			f:    Filter{Accounts: []string{a1}, Regions: []string{"us-east-1"}, Since: day(2024, 1, 31), Until: day(2024, 2, 1)},
			want: []string{keys[9], keys[1], keys[2], keys[3], "plain/old.json", "plainer.json"},
			listed: []string{
				"AWSLogs/" + org + "/" + a1 + "/CloudTrail/us-east-1/2024/01/31/",
				"AWSLogs/" + org + "/" + a1 + "/CloudTrail/us-east-1/2024/02/01/",
				"AWSLogs/" + a1 + "/CloudTrail/us-east-1/2024/01/31/",
			},
			notListed: []string{
				"AWSLogs/" + org + "/" + a2 + "/",
				"AWSLogs/" + org + "/" + a1 + "/CloudTrail-Digest/",
				"AWSLogs/" + org + "/" + a1 + "/CloudTrail-Insight/",
				"AWSLogs/" + org + "/" + a1 + "/CloudTrail/eu-west-1/",
				"AWSLogs/" + org + "/" + a1 + "/CloudTrail/us-east-1/2024/01/30/",
				"AWSLogs/" + org + "/" + a1 + "/CloudTrail/us-east-1/2024/02/02/",
				"AWSLogs/" + org + "/" + a1 + "/CloudTrail/us-east-1/2024/03/",
			},
			unpruned: 2,
		},
		{
			name: "prefix inside the layout", prefix: "AWSLogs/" + org + "/" + a1 + "/CloudTrail/us-east-1/2024/02/",
			f:    Filter{Until: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
			want: []string{keys[3]},
		},
		{
			name: "a prefix without slash is a folder or an object", prefix: "plain",
			want: []string{"plain/old.json"},
		},
		{
			name: "an object", prefix: "plainer.json",
			want: []string{"plainer.json"},
		},
		{
			name: "accounts of the organisation only", prefix: "AWSLogs/" + org + "/",
			f:    Filter{Accounts: []string{a2}},
			want: []string{keys[8]},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.reset()
			got, err := c.List(context.Background(), tt.prefix, tt.f, 3)
			if err != nil {
				t.Fatal(err)
			}
			var gotKeys []string
			for _, o := range got.Objects {
				gotKeys = append(gotKeys, o.Key)
				if o.Size != 2 {
					t.Errorf("%s: size %d", o.Key, o.Size)
				}
			}
			if !slices.Equal(gotKeys, tt.want) {
				t.Errorf("objects\n got %q\nwant %q", gotKeys, tt.want)
			}
			listed := s.listed()
			if got.Requests != len(listed) {
				t.Errorf("Requests = %d, server saw %d", got.Requests, len(listed))
			}
			for _, p := range tt.listed {
				if !slices.Contains(listed, p) {
					t.Errorf("%q was not listed; listed %q", p, listed)
				}
			}
			for _, p := range tt.notListed {
				for _, l := range listed {
					if strings.HasPrefix(l, p) {
						t.Errorf("%q was listed, though %q is pruned", l, p)
					}
				}
			}
			if got.Unpruned != tt.unpruned {
				t.Errorf("Unpruned = %d (%q %v), want %d", got.Unpruned, got.Example, got.Filters, tt.unpruned)
			}
		})
	}
}

func TestOpen(t *testing.T) {
	s := startS3(t)
	c := newTestClient(t, s, "trail")
	put(t, c, "a/b.json", `{"Records":[]}`)
	rc, err := c.Open(context.Background(), "a/b.json")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(body, []byte(`{"Records":[]}`)) {
		t.Errorf("body %q", body)
	}
	_, err = c.Open(context.Background(), "a/missing.json")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "s3://trail/a/missing.json") {
		t.Errorf("missing object: %v", err)
	}
	if _, err := c.List(context.Background(), "", Filter{}, 1); err != nil {
		t.Fatal(err)
	}
	other, err := New(context.Background(), "nobucket", Options{Endpoint: s.url, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.List(context.Background(), "", Filter{}, 1); err == nil || !strings.Contains(err.Error(), "s3://nobucket/") {
		t.Errorf("listing a missing bucket: %v", err)
	}
}

func TestParseURL(t *testing.T) {
	for in, want := range map[string][2]string{
		"s3://b":            {"b", ""},
		"s3://b/":           {"b", ""},
		"s3://b/AWSLogs/":   {"b", "AWSLogs/"},
		"s3://b/x/y.json":   {"b", "x/y.json"},
		"s3://b/with space": {"b", "with space"},
	} {
		b, p, err := ParseURL(in)
		if err != nil || b != want[0] || p != want[1] {
			t.Errorf("ParseURL(%q) = %q, %q, %v", in, b, p, err)
		}
	}
	for _, in := range []string{"s3:///x", "b/x", "https://b/x", ""} {
		if _, _, err := ParseURL(in); err == nil {
			t.Errorf("ParseURL(%q): no error", in)
		}
	}
}

func TestNewRegion(t *testing.T) {
	testpeers.AWSEnv(t)
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	if _, err := New(context.Background(), "b", Options{}); err == nil || !strings.Contains(err.Error(), "--s3-region") {
		t.Errorf("no region anywhere: %v", err)
	}
	for opts, want := range map[Options]string{
		{Region: "eu-west-3"}:                             "eu-west-3",
		{Endpoint: "http://127.0.0.1:1"}:                  "us-east-1",
		{Endpoint: "http://127.0.0.1:1", Region: "x-y-1"}: "x-y-1",
	} {
		c, err := New(context.Background(), "b", opts)
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		if got := c.api.(*s3.Client).Options().Region; got != want {
			t.Errorf("%+v: region %q, want %q", opts, got, want)
		}
	}
}
