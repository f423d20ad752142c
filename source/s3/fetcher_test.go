package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/testpeers"
	"github.com/trailguard/trailguard/source/s3"
)

// newFetcher reads from endpoint, path-style, the configuration's defaults
// otherwise; a zero readTimeout keeps the default.
func newFetcher(t *testing.T, endpoint string, readTimeout time.Duration, allowed ...string) *s3.Fetcher {
	t.Helper()
	testpeers.AWSEnv(t)
	cfg := config.Default().Source.S3
	cfg.Endpoint, cfg.PathStyle, cfg.AllowedBuckets = endpoint, true, allowed
	if readTimeout != 0 {
		cfg.ReadTimeout = readTimeout
	}
	f, err := s3.New(context.Background(), cfg, s3.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOpenStreamsObject(t *testing.T) {
	s := testpeers.StartS3(t)
	s.CreateBucket(t, "trail-logs")
	want := make([]byte, 3<<20+17)
	rand.Read(want)
	key := "AWSLogs/123456789012/CloudTrail/us-east-1/2024/01/02/x.json.gz"
	s.Put(t, "trail-logs", key, want)

	f := newFetcher(t, s.Endpoint(), 0, "trail-logs")
	rc, err := f.Open(context.Background(), cloudtrail.ObjectRef{Bucket: "trail-logs", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want the %d put", len(got), len(want))
	}
}

func TestOpenEmptyAllowListAllowsAnyBucket(t *testing.T) {
	s := testpeers.StartS3(t)
	s.CreateBucket(t, "any-bucket")
	s.Put(t, "any-bucket", "k.json", []byte("{}"))
	f := newFetcher(t, s.Endpoint(), 0)
	rc, err := f.Open(context.Background(), cloudtrail.ObjectRef{Bucket: "any-bucket", Key: "k.json"})
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
}

func TestOpenBucketNotAllowedMakesNoRequest(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()

	f := newFetcher(t, srv.URL, 0, "trail-logs")
	ref := cloudtrail.ObjectRef{Bucket: "someone-elses", Key: "secret.json"}
	_, err := f.Open(context.Background(), ref)
	if !errors.Is(err, s3.ErrBucketNotAllowed) || !s3.IsPermanent(err) {
		t.Fatalf("err = %v, want ErrBucketNotAllowed", err)
	}
	if !strings.Contains(err.Error(), ref.String()) {
		t.Errorf("error %q does not name %s", err, ref)
	}
	if n := requests.Load(); n != 0 {
		t.Fatalf("%d requests made for a bucket not allowed", n)
	}
}

func TestOpenMissing(t *testing.T) {
	s := testpeers.StartS3(t)
	s.CreateBucket(t, "trail-logs")
	f := newFetcher(t, s.Endpoint(), 0, "trail-logs", "no-such-bucket")
	for _, ref := range []cloudtrail.ObjectRef{
		{Bucket: "trail-logs", Key: "gone.json.gz"},
		{Bucket: "no-such-bucket", Key: "gone.json.gz"},
	} {
		_, err := f.Open(context.Background(), ref)
		if !errors.Is(err, s3.ErrNotFound) || !s3.IsPermanent(err) {
			t.Errorf("%s: err = %v, want ErrNotFound", ref, err)
			continue
		}
		if !strings.Contains(err.Error(), ref.String()) {
			t.Errorf("error %q does not name %s", err, ref)
		}
	}
}

func TestOpenOtherErrorsAreRetryable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
	}))
	defer srv.Close()
	f := newFetcher(t, srv.URL, 0)
	ref := cloudtrail.ObjectRef{Bucket: "trail-logs", Key: "a.json"}
	_, err := f.Open(context.Background(), ref)
	if err == nil || s3.IsPermanent(err) {
		t.Fatalf("err = %v, want a retryable error", err)
	}
	if !strings.Contains(err.Error(), ref.String()) || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("error %q does not name %s and the cause", err, ref)
	}
}

// trickle stands in for S3: it sends the headers and first bytes of an
// object, then nothing until the client goes away.
func trickle(t *testing.T, sendHeaders bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sendHeaders {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"Records":[`)
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestReadTimeoutOnStalledBody(t *testing.T) {
	srv := trickle(t, true)
	f := newFetcher(t, srv.URL, 300*time.Millisecond)
	ref := cloudtrail.ObjectRef{Bucket: "trail-logs", Key: "slow.json"}
	rc, err := f.Open(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()

	// The first bytes arrive while the server still holds the rest: Open
	// streams, it does not wait for the whole body.
	start := time.Now()
	got, err := io.ReadAll(rc)
	if !errors.Is(err, s3.ErrReadTimeout) {
		t.Fatalf("err = %v, want ErrReadTimeout", err)
	}
	if string(got) != `{"Records":[` {
		t.Errorf("read %q before the stall", got)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stalled read failed after %s", d)
	}
	if !strings.Contains(err.Error(), ref.String()) || s3.IsPermanent(err) {
		t.Errorf("error %q: want it to name %s and be retryable", err, ref)
	}
}

func TestReadTimeoutWithoutHeaders(t *testing.T) {
	srv := trickle(t, false)
	f := newFetcher(t, srv.URL, 300*time.Millisecond)
	start := time.Now()
	_, err := f.Open(context.Background(), cloudtrail.ObjectRef{Bucket: "trail-logs", Key: "slow.json"})
	if !errors.Is(err, s3.ErrReadTimeout) {
		t.Fatalf("err = %v, want ErrReadTimeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Open failed after %s", d)
	}
}

func TestSlowConsumerIsNotTimedOut(t *testing.T) {
	s := testpeers.StartS3(t)
	s.CreateBucket(t, "trail-logs")
	s.Put(t, "trail-logs", "k.json", []byte(`{"Records":[]}`))
	f := newFetcher(t, s.Endpoint(), 100*time.Millisecond)
	rc, err := f.Open(context.Background(), cloudtrail.ObjectRef{Bucket: "trail-logs", Key: "k.json"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	first := make([]byte, 1)
	if _, err := io.ReadFull(rc, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // busy elsewhere, longer than ReadTimeout
	rest, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read after a pause: %v", err)
	}
	if got := string(first) + string(rest); got != `{"Records":[]}` {
		t.Fatalf("got %q", got)
	}
}

func TestCancelAbortsRead(t *testing.T) {
	srv := trickle(t, true)
	f := newFetcher(t, srv.URL, time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	rc, err := f.Open(ctx, cloudtrail.ObjectRef{Bucket: "trail-logs", Key: "slow.json"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err = io.ReadAll(rc)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
