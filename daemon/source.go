package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/config"
)

// A Source feeds the daemon its inputs: the one that source.type names. A
// new source is a package of its own, an adapter file here and one line in
// sources; New, Run and readiness know none by name.
type Source interface {
	// Run hands inputs to handle until ctx is cancelled or, for a source
	// with an end (a directory read once), until none is left. handle
	// returns nil once the input was read, evaluated and its alerts handed
	// to every notifier: only then may the source acknowledge it (delete
	// the message). handle is safe for concurrent use.
	Run(ctx context.Context, handle Handle) error
}

// Handle does all the work one input asks for.
type Handle func(ctx context.Context, in Input) error

// Input is one piece of work from a source. Exactly one of Notification,
// Object and File is set.
type Input struct {
	// ID names the input in logs and errors: a message id, a path.
	ID string
	// Notification is a message body that names log objects or carries
	// records (an SQS message: CloudTrail's own, SNS, S3 event,
	// EventBridge). The objects are read from the source's ObjectStore.
	Notification []byte
	// Object is a log object, read from the source's ObjectStore.
	Object *cloudtrail.ObjectRef
	// File is a local log file.
	File string
}

// ObjectStore opens the log objects that inputs name. A source whose inputs
// name objects implements it.
type ObjectStore interface {
	// Allowed reports whether objects of bucket may be read at all.
	Allowed(bucket string) bool
	// Open streams one object; the caller closes it.
	Open(ctx context.Context, ref cloudtrail.ObjectRef) (io.ReadCloser, error)
}

// HealthReporter is a source that can say whether it reaches its input, for
// /readyz: nil when it does.
type HealthReporter interface {
	Healthy() error
}

// Serial is a source that hands over one input at a time, so each log is
// evaluated on every core rather than one core per input.
type Serial interface {
	Serial() bool
}

// sourceDeps is what the daemon gives a source beside the configuration.
type sourceDeps struct {
	log           *slog.Logger
	m             *metrics
	shutdownGrace time.Duration
	started       time.Time // Options.Started
}

// sources are the source types source.type may name.
var sources = map[string]func(ctx context.Context, cfg *config.Config, deps sourceDeps) (Source, error){
	config.SourceSQS: newSQSSource,
	config.SourceDir: newDirSource,
	// Only `trailguard lambda` runs it: see source/lambda.
	config.SourceLambda: newLambdaSource,
}

// newSource builds the source the configuration names.
func newSource(ctx context.Context, cfg *config.Config, deps sourceDeps) (Source, error) {
	build, ok := sources[cfg.Source.Type]
	if !ok {
		return nil, fmt.Errorf("unknown source type %q", cfg.Source.Type)
	}
	s, err := build(ctx, cfg, deps)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", cfg.Source.Type, err)
	}
	return s, nil
}
