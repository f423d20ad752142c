package s3replay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

var (
	// ErrNotFound is wrapped by Open's error when the object or bucket does
	// not exist (it may have expired since it was listed).
	ErrNotFound = errors.New("object not found")
	// ErrAccessDenied is wrapped by Open's error when S3 refuses the read.
	ErrAccessDenied = errors.New("access denied")
)

// Options configure a Client; the zero value uses the AWS SDK's default
// chain for region and credentials.
type Options struct {
	// Region of the bucket; empty: the SDK's default chain (AWS_REGION, the
	// shared config), or us-east-1 with a custom Endpoint.
	Region string
	// Endpoint of an S3-compatible store instead of AWS's.
	Endpoint string
	// PathStyle addresses buckets as ENDPOINT/bucket/key; most
	// S3-compatible stores need it.
	PathStyle bool
	// Concurrency is how many objects are read at once; the connection pool
	// keeps that many idle connections so that bursts do not redial.
	Concurrency int
}

// api is the part of *s3.Client a Client uses.
type api interface {
	listAPI
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Client lists and reads one bucket's log objects. It is safe for
// concurrent use.
type Client struct {
	api    api
	bucket string
}

// New builds a Client for bucket. It makes no network call.
func New(ctx context.Context, bucket string, opts Options) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx, loadOptions(opts)...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	// Requests to a custom endpoint must still be signed for some region.
	region := cmp.Or(opts.Region, cfg.Region)
	if region == "" && opts.Endpoint == "" {
		return nil, errors.New("no AWS region: give --s3-region or set AWS_REGION")
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.Region = cmp.Or(region, "us-east-1")
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle
	})
	return &Client{api: s3c, bucket: bucket}, nil
}

// loadOptions are the SDK configuration's options for opts.
func loadOptions(opts Options) []func(*config.LoadOptions) error {
	// A buildable client, not a plain http.Client: the SDK applies
	// AWS_CA_BUNDLE to it while loading. It keeps as many idle connections
	// as objects are read at once, so that bursts do not redial.
	pool := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, opts.Concurrency)
		t.MaxIdleConns = max(t.MaxIdleConns, opts.Concurrency)
	})
	load := []func(*config.LoadOptions) error{config.WithHTTPClient(pool)}
	if opts.Region != "" {
		// Also for the credential providers that call STS.
		load = append(load, config.WithRegion(opts.Region))
	}
	if opts.Endpoint == "" {
		return load
	}
	// With AWS's defaults some S3-compatible stores keep the aws-chunked
	// framing as the object's data.
	return append(load,
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
}

// List lists the client's bucket; see the package's List.
func (c *Client) List(ctx context.Context, prefix string, f Filter, parallel int) (*Listing, error) {
	return List(ctx, c.api, c.bucket, prefix, f, parallel)
}

// URL is the s3:// URL of a key in the client's bucket.
func (c *Client) URL(key string) string { return "s3://" + c.bucket + "/" + key }

// Open starts reading an object; the caller closes the stream. Its errors
// name the object and wrap ErrNotFound or ErrAccessDenied when S3 said so.
func (c *Client) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := c.api.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.URL(key), classify(err))
	}
	return out.Body, nil
}

// classify marks the SDK's error (which keeps S3's code and message) as
// ErrNotFound or ErrAccessDenied by its HTTP status.
func classify(err error) error {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		case http.StatusForbidden:
			return fmt.Errorf("%w: %w", ErrAccessDenied, err)
		}
	}
	return err
}

// ParseURL splits s3://bucket/prefix; the prefix may be empty.
func ParseURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// URL", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q names no bucket", u)
	}
	return bucket, prefix, nil
}
