// Package s3source streams CloudTrail log objects out of S3.
//
// A [Fetcher] opens one object at a time as a stream: the body is never read
// whole into memory, and a body that stops delivering bytes fails after
// Options.ReadTimeout instead of holding a worker forever. Only buckets named
// in Options.AllowedBuckets are read: queue messages name the objects, and
// whoever can write to the queue must not be able to make the daemon read
// arbitrary buckets with its credentials.
package s3source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/cloudtrail"
)

var (
	// ErrBucketNotAllowed is wrapped by Open's error for a bucket not in
	// Options.AllowedBuckets. No request is made for it. Permanent.
	ErrBucketNotAllowed = errors.New("bucket not allowed")
	// ErrNotFound is wrapped by Open's error when S3 answers 404 (NoSuchKey,
	// NoSuchBucket). Permanent: retrying will not make the object appear.
	ErrNotFound = errors.New("object not found")
	// ErrReadTimeout is wrapped by the error of Open or of a body's Read
	// when no byte arrived for Options.ReadTimeout. Retryable.
	ErrReadTimeout = errors.New("read timeout")
)

// DefaultReadTimeout is the default Options.ReadTimeout.
const DefaultReadTimeout = 30 * time.Second

// Options configure a Fetcher.
type Options struct {
	// Region of the buckets. Empty: the SDK's default chain (AWS_REGION,
	// the shared config); with a custom Endpoint it falls back to us-east-1.
	Region string
	// Endpoint overrides the S3 endpoint (an S3-compatible store, a test
	// server). Checksums are then only computed and validated when an
	// operation requires them: the AWS defaults make some S3-compatible
	// servers store aws-chunked framing as object data.
	Endpoint string
	// PathStyle addresses buckets as ENDPOINT/bucket/key instead of
	// bucket.ENDPOINT/key; most S3-compatible servers need it.
	PathStyle bool
	// AllowedBuckets lists the buckets Open may read. Empty allows every
	// bucket: the configuration layer decides whether to permit that.
	AllowedBuckets []string
	// ReadTimeout bounds how long Open waits for the response headers and
	// each Read waits for its next bytes (an idle timeout, not a limit on
	// the whole transfer). Zero means DefaultReadTimeout.
	ReadTimeout time.Duration
	// Concurrency is how many objects may be read at once (the daemon's SQS
	// workers); the connection pool keeps that many connections per host.
	// Zero means the SDK's default of 10.
	Concurrency int
}

// getObjectAPI is the part of *s3.Client a Fetcher uses.
type getObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Fetcher opens S3 objects as streams. It is safe for concurrent use.
type Fetcher struct {
	client      getObjectAPI
	allowed     map[string]bool // nil allows every bucket
	readTimeout time.Duration
}

// New builds a Fetcher with the AWS SDK's default credential chain. It
// makes no network call.
func New(ctx context.Context, opts Options) (*Fetcher, error) {
	if opts.ReadTimeout < 0 {
		return nil, fmt.Errorf("s3source: negative read timeout %s", opts.ReadTimeout)
	}
	var loadOpts []func(*config.LoadOptions) error
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	if opts.Endpoint != "" {
		loadOpts = append(loadOpts,
			config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3source: load AWS config: %w", err)
	}
	if cfg.Region == "" {
		if opts.Endpoint == "" {
			return nil, errors.New("s3source: no region: set the region option or AWS_REGION")
		}
		cfg.Region = "us-east-1" // signing needs one; custom endpoints rarely care which
	}
	if opts.Concurrency > awshttp.DefaultHTTPTransportMaxIdleConnsPerHost {
		// With fewer idle connections kept than requests in flight, each
		// burst closes connections only to dial them again.
		cfg.HTTPClient = awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
			t.MaxIdleConnsPerHost = opts.Concurrency
			t.MaxIdleConns = max(t.MaxIdleConns, opts.Concurrency)
		})
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle
	})
	return newFetcher(client, opts), nil
}

func newFetcher(client getObjectAPI, opts Options) *Fetcher {
	f := &Fetcher{client: client, readTimeout: opts.ReadTimeout}
	if f.readTimeout == 0 {
		f.readTimeout = DefaultReadTimeout
	}
	if len(opts.AllowedBuckets) > 0 {
		f.allowed = make(map[string]bool, len(opts.AllowedBuckets))
		for _, b := range opts.AllowedBuckets {
			f.allowed[b] = true
		}
	}
	return f
}

// Allowed reports whether Open may read from bucket.
func (f *Fetcher) Allowed(bucket string) bool { return f.allowed == nil || f.allowed[bucket] }

// errIdle is the cancellation cause set by the idle timer.
var errIdle = errors.New("idle timeout")

// Open starts reading ref and returns its body as a stream; the caller must
// close it. Cancelling ctx aborts the transfer, also while reading the body.
//
// Every error names s3://bucket/key. Errors wrapping ErrBucketNotAllowed or
// ErrNotFound are permanent (see IsPermanent); all others (throttling,
// access denied, network failures, ErrReadTimeout) may succeed on a retry.
func (f *Fetcher) Open(ctx context.Context, ref cloudtrail.ObjectRef) (io.ReadCloser, error) {
	if !f.Allowed(ref.Bucket) {
		return nil, fmt.Errorf("open %s: %w", ref, ErrBucketNotAllowed)
	}
	// One cancellable context covers the request and the body: the idle
	// timer cancels it, which makes the HTTP transport close the
	// connection and a blocked Read return.
	ctx, cancel := context.WithCancelCause(ctx)
	timer := time.AfterFunc(f.readTimeout, func() { cancel(errIdle) })
	out, err := f.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(ref.Bucket), Key: aws.String(ref.Key)})
	timer.Stop()
	if err == nil && errors.Is(context.Cause(ctx), errIdle) {
		// The headers came just as the timer fired: the body is unusable.
		out.Body.Close()
		err = context.Cause(ctx)
	}
	if err != nil {
		timedOut := errors.Is(context.Cause(ctx), errIdle)
		cancel(nil)
		switch {
		case timedOut:
			return nil, fmt.Errorf("open %s: no response for %s: %w", ref, f.readTimeout, ErrReadTimeout)
		case isNotFound(err):
			return nil, fmt.Errorf("open %s: %w: %w", ref, ErrNotFound, err)
		default:
			return nil, fmt.Errorf("open %s: %w", ref, err)
		}
	}
	return &body{ref: ref, rc: out.Body, ctx: ctx, cancel: cancel, timer: timer, timeout: f.readTimeout}, nil
}

func isNotFound(err error) bool {
	var noKey *types.NoSuchKey
	var noBucket *types.NoSuchBucket
	var status interface{ HTTPStatusCode() int }
	return errors.As(err, &noKey) || errors.As(err, &noBucket) ||
		(errors.As(err, &status) && status.HTTPStatusCode() == 404)
}

// IsPermanent reports whether err, from Open or a body's Read, will recur on
// a retry: the object is missing or its bucket is not allowed.
func IsPermanent(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrBucketNotAllowed)
}

// body is an object's stream with an idle timeout on each Read.
type body struct {
	ref     cloudtrail.ObjectRef
	rc      io.ReadCloser
	ctx     context.Context
	cancel  context.CancelCauseFunc
	timer   *time.Timer
	timeout time.Duration
	closed  bool
}

func (b *body) Read(p []byte) (int, error) {
	// The timer runs only while a Read waits, so a slow consumer (a
	// handler busy evaluating events) is never mistaken for a slow server.
	b.timer.Reset(b.timeout)
	n, err := b.rc.Read(p)
	b.timer.Stop()
	switch {
	case err == nil || err == io.EOF:
		return n, err // io.EOF must stay unwrapped: readers compare it with ==
	case errors.Is(context.Cause(b.ctx), errIdle):
		return n, fmt.Errorf("read %s: no data for %s: %w", b.ref, b.timeout, ErrReadTimeout)
	default:
		return n, fmt.Errorf("read %s: %w", b.ref, err)
	}
}

func (b *body) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.timer.Stop()
	err := b.rc.Close()
	b.cancel(nil)
	if err != nil {
		return fmt.Errorf("close %s: %w", b.ref, err)
	}
	return nil
}
