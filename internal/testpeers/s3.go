package testpeers

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is an in-process gofakes3 server with an in-memory backend.
type S3 struct {
	srv    *httptest.Server
	client *s3.Client
}

// StartS3 starts gofakes3 on a loopback httptest server, closed when the
// test ends. Clients must use path-style addressing (UsePathStyle) and
// when_required checksums; see [S3.Client].
func StartS3(t testing.TB) *S3 {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	client := s3.NewFromConfig(awsConfig(t), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
		o.UsePathStyle = true
	})
	return &S3{srv: srv, client: client}
}

// Endpoint is the server's base URL, http://127.0.0.1:PORT.
func (s *S3) Endpoint() string { return s.srv.URL }

// Client is a path-style client for the server with static test credentials.
func (s *S3) Client() *s3.Client { return s.client }

// CreateBucket creates a bucket.
func (s *S3) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := apiContext()
	defer cancel()
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("testpeers: create bucket %q: %v", name, err)
	}
}

// Put stores body as s3://bucket/key.
func (s *S3) Put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	ctx, cancel := apiContext()
	defer cancel()
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
	})
	if err != nil {
		t.Fatalf("testpeers: put s3://%s/%s: %v", bucket, key, err)
	}
}

// Delete removes s3://bucket/key.
func (s *S3) Delete(t testing.TB, bucket, key string) {
	t.Helper()
	ctx, cancel := apiContext()
	defer cancel()
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Fatalf("testpeers: delete s3://%s/%s: %v", bucket, key, err)
	}
}

// Front starts a server in front of s that the code under test talks to
// (its URL is returned), while the test fills buckets through Client.
// intercept sees every request first and returns true when it answered it
// itself; otherwise the request goes on to s.
func (s *S3) Front(t testing.TB, intercept func(w http.ResponseWriter, r *http.Request) bool) string {
	t.Helper()
	u, err := url.Parse(s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !intercept(w, r) {
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
