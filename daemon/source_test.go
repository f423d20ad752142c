package daemon

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/config"
)

// Every source type the configuration knows has a registration.
func TestEverySourceTypeIsRegistered(t *testing.T) {
	for _, typ := range []string{config.SourceSQS, config.SourceDir, config.SourceLambda} {
		if sources[typ] == nil {
			t.Errorf("source type %q has no registration", typ)
		}
	}
	cfg := config.Default()
	cfg.Source.Type = "kinesis"
	if _, err := newSource(context.Background(), cfg, sourceDeps{}); err == nil || !strings.Contains(err.Error(), `"kinesis"`) {
		t.Errorf("unknown source type: %v", err)
	}
}

// An input that names an object from a source that reads none is refused
// (left for the dead-letter queue, with its evidence), and an empty input is
// an error, never a silent success.
func TestHandleRefusesWhatTheSourceCannotRead(t *testing.T) {
	d := &Daemon{cfg: config.Default(), log: slog.New(slog.DiscardHandler), m: newMetrics()}
	err := d.handle(context.Background(), Input{ID: "x", Object: &cloudtrail.ObjectRef{Bucket: "b", Key: "k.json.gz"}})
	if !errors.Is(err, errRefused) || !strings.Contains(err.Error(), "reads no objects") {
		t.Errorf("object from a dir source: %v", err)
	}
	if err := d.handle(context.Background(), Input{ID: "y"}); err == nil {
		t.Error("an input with nothing to read succeeded")
	}
}

// source.type lambda runs only where Lambda set AWS_LAMBDA_RUNTIME_API:
// `trailguard run` with it says so instead of aws-lambda-go's bare exit.
func TestLambdaSourceNeedsTheRuntimeAPI(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	cfg := config.Default()
	cfg.Source.Type = config.SourceLambda
	cfg.Source.S3 = config.S3{Region: "us-east-1", AllowedBuckets: []string{"trail"}, ReadTimeout: time.Second}
	src, err := newSource(context.Background(), cfg, sourceDeps{log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := src.(ObjectStore); !ok {
		t.Error("the lambda source reads no objects")
	}
	err = src.Run(context.Background(), func(context.Context, Input) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "AWS_LAMBDA_RUNTIME_API") {
		t.Errorf("Run outside Lambda: %v", err)
	}
}
