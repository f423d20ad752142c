package daemon

import (
	"context"
	"fmt"
	"os"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/source/lambda"
	"github.com/trailguard/trailguard/source/s3"
)

// lambdaSource is source.type lambda: SQS batches handed over by AWS Lambda
// (`trailguard lambda`), naming log objects in S3. A message whose Handle
// returned nil is left for Lambda to delete; the others are named in the
// invocation's partial batch response.
type lambdaSource struct {
	*s3.Fetcher
	opts lambda.Options
}

func newLambdaSource(ctx context.Context, cfg *config.Config, deps sourceDeps) (Source, error) {
	f, err := s3.New(ctx, cfg.Source.S3, s3.Deps{Concurrency: lambda.DefaultWorkers})
	if err != nil {
		return nil, err
	}
	return lambdaSource{Fetcher: f, opts: lambda.Options{Logger: deps.log, Started: deps.started}}, nil
}

// Run serves invocations until ctx is done (SIGTERM, which Lambda sends
// before it shuts the environment down), then returns so that the daemon
// flushes what it holds before Lambda's SIGKILL. The goroutine running
// aws-lambda-go's loop is the one Run cannot wait for: that loop never
// returns (it ends the process itself when the Runtime API fails), so it
// lives as long as the process.
func (s lambdaSource) Run(ctx context.Context, handle Handle) error {
	defer s.CloseIdleConnections() // the Fetcher's
	// aws-lambda-go would end the process with a bare log line instead.
	if os.Getenv(lambda.RuntimeAPIEnv) == "" {
		return fmt.Errorf("source.type %s runs only on AWS Lambda, which sets %s; deploy it as the function's bootstrap (see the README)", config.SourceLambda, lambda.RuntimeAPIEnv)
	}
	fn := lambda.New(func(ctx context.Context, m *lambda.Message) error {
		return handle(ctx, Input{ID: m.ID, Notification: m.Body})
	}, s.opts)
	go fn.Start(ctx)
	<-ctx.Done()
	return nil
}
