// Package s3 streams CloudTrail log objects out of S3.
//
// A [Fetcher] opens one object at a time as a stream: the body is never read
// whole into memory, and a body that stops delivering bytes fails after
// config.S3.ReadTimeout instead of holding a worker forever. Only buckets named
// in config.S3.AllowedBuckets are read: queue messages name the objects, and
// whoever can write to the queue must not be able to make the daemon read
// arbitrary buckets with its credentials.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/source/internal/awsconf"
)

var (
	// ErrBucketNotAllowed is wrapped by Open's error for a bucket not in
	// config.S3.AllowedBuckets. No request is made for it. Permanent.
	ErrBucketNotAllowed = errors.New("bucket not allowed")
	// ErrNotFound is wrapped by Open's error when S3 answers 404 (NoSuchKey,
	// NoSuchBucket). Permanent: retrying will not make the object appear.
	ErrNotFound = errors.New("object not found")
	// ErrReadTimeout is wrapped by the error of Open or of a body's Read
	// when no byte arrived for config.S3.ReadTimeout. Retryable.
	ErrReadTimeout = errors.New("read timeout")
)

// Deps is what the daemon supplies beside the configuration (config.S3).
type Deps struct {
	// Concurrency is how many objects may be read at once (the daemon's SQS
	// workers); the connection pool keeps that many connections per host.
	// Zero means the SDK's default of 10.
	Concurrency int
}

// getObjectAPI is the part of *awss3.Client a Fetcher uses.
type getObjectAPI interface {
	GetObject(ctx context.Context, in *awss3.GetObjectInput, optFns ...func(*awss3.Options)) (*awss3.GetObjectOutput, error)
}

// Fetcher opens S3 objects as streams. It is safe for concurrent use.
type Fetcher struct {
	client      getObjectAPI
	allowed     map[string]bool // nil allows every bucket
	readTimeout time.Duration
	closeIdle   func()
}

// New builds a Fetcher with the AWS SDK's default credential chain. cfg is
// taken as it is (the config package validated it), with two readings for
// callers other than the daemon: an empty AllowedBuckets allows every bucket,
// and with a custom Endpoint, which is often an S3-compatible store, checksums
// are only computed and validated when an operation requires them (the AWS
// defaults make some such stores keep aws-chunked framing as object data).
// New makes no network call.
func New(ctx context.Context, cfg config.S3, deps Deps) (*Fetcher, error) {
	var loadOpts []func(*awsconfig.LoadOptions) error
	if cfg.Endpoint != "" {
		loadOpts = append(loadOpts,
			awsconfig.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			awsconfig.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	ac, err := awsconf.Load(ctx, cfg.Region, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	if ac.Region == "" {
		if cfg.Endpoint == "" {
			return nil, errors.New("s3: no region: set source.s3.region or AWS_REGION")
		}
		ac.Region = "us-east-1" // signing needs one; custom endpoints rarely care which
	}
	if deps.Concurrency > ac.Transport.MaxIdleConnsPerHost {
		// With fewer idle connections kept than requests in flight, each
		// burst closes connections only to dial them again.
		ac.Transport.MaxIdleConnsPerHost = deps.Concurrency
		ac.Transport.MaxIdleConns = max(ac.Transport.MaxIdleConns, deps.Concurrency)
	}
	client := awss3.NewFromConfig(ac.Config, func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	f := newFetcher(client, cfg)
	f.closeIdle = ac.CloseIdleConnections
	return f, nil
}

func newFetcher(client getObjectAPI, cfg config.S3) *Fetcher {
	f := &Fetcher{client: client, readTimeout: cfg.ReadTimeout, closeIdle: func() {}}
	if len(cfg.AllowedBuckets) > 0 {
		f.allowed = make(map[string]bool, len(cfg.AllowedBuckets))
		for _, b := range cfg.AllowedBuckets {
			f.allowed[b] = true
		}
	}
	return f
}

// CloseIdleConnections closes the connections to S3 kept for reuse, so that
// a stopped source leaves no connection goroutines behind.
func (f *Fetcher) CloseIdleConnections() { f.closeIdle() }

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
	out, err := f.client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(ref.Bucket), Key: aws.String(ref.Key)})
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
