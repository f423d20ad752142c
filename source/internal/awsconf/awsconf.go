// Package awsconf loads the AWS SDK configuration that the source clients
// (SQS, S3) share: the default credential chain, a region, and an HTTP client
// whose idle connections the source can close when it stops, so that no
// connection goroutine outlives the daemon's Run.
package awsconf

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Config is the SDK configuration and the transport its HTTP client uses.
type Config struct {
	aws.Config
	Transport *http.Transport
}

// CloseIdleConnections closes the connections kept for reuse. Connections in
// use are left alone.
func (c *Config) CloseIdleConnections() { c.Transport.CloseIdleConnections() }

// Load reads the SDK's default configuration (environment, shared files) with
// region, when it is not empty, and opts. It makes no network call.
func Load(ctx context.Context, region string, opts ...func(*awsconfig.LoadOptions) error) (*Config, error) {
	if region != "" {
		opts = append([]func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(region)}, opts...)
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	// The SDK's client copies its transport on every change and never hands
	// out the one it uses; build the client here from that transport (it
	// carries AWS_CA_BUNDLE's roots, if set) to keep a handle on it.
	bc, ok := cfg.HTTPClient.(*awshttp.BuildableClient)
	if !ok {
		bc = awshttp.NewBuildableClient()
	}
	tr := bc.GetTransport()
	cfg.HTTPClient = &http.Client{Transport: tr, Timeout: bc.GetTimeout(), CheckRedirect: limitedRedirect}
	return &Config{Config: cfg, Transport: tr}, nil
}

// limitedRedirect follows only 307 and 308, which keep the method and body,
// as the SDK's own client does: S3 answers a wrong region with 301, which
// must reach the SDK as an error, not be followed as a GET.
func limitedRedirect(r *http.Request, via []*http.Request) error {
	if len(via) < 10 && r.Response != nil &&
		(r.Response.StatusCode == http.StatusTemporaryRedirect || r.Response.StatusCode == http.StatusPermanentRedirect) {
		return nil
	}
	return http.ErrUseLastResponse
}
