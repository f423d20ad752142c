package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/source/s3"
	"github.com/trailguard/trailguard/source/sqs"
)

// sqsSource is source.type sqs: notifications from an SQS queue, naming log
// objects in S3. A message is deleted once its Handle returned nil.
type sqsSource struct {
	*sqs.Consumer
	*s3.Fetcher
}

func newSQSSource(ctx context.Context, cfg *config.Config, deps sourceDeps) (Source, error) {
	f, err := s3.New(ctx, cfg.Source.S3, s3.Deps{Concurrency: cfg.Source.SQS.Workers})
	if err != nil {
		return nil, err
	}
	c, err := sqs.New(ctx, cfg.Source.SQS, sqs.Deps{
		ShutdownGrace: deps.shutdownGrace, Logger: deps.log, Observer: sqsObserver{deps.m},
	})
	if err != nil {
		return nil, err
	}
	return sqsSource{c, f}, nil
}

func (s sqsSource) Run(ctx context.Context, handle Handle) error {
	// The consumer closes its own idle connections; the fetcher's are
	// closed once the last handler is done with it.
	defer s.CloseIdleConnections() // the Fetcher's
	return s.Consumer.Run(ctx, func(ctx context.Context, m *sqs.Message) error {
		return handle(ctx, Input{ID: m.ID, Notification: m.Body})
	})
}

// sqsObserver counts what the consumer does.
type sqsObserver struct{ m *metrics }

func (o sqsObserver) Received(n int) { o.m.messagesReceived.Add(float64(n)) }
func (o sqsObserver) Deleted(*sqs.Message, time.Duration) {
	o.m.messagesDeleted.Inc()
}
func (o sqsObserver) Failed(_ *sqs.Message, err error) {
	reason := "error"
	switch {
	case errors.Is(err, errRefused):
		reason = "refused"
	case errors.Is(err, sqs.ErrHeldTooLong):
		reason = "held_too_long"
	}
	o.m.messagesFailed.WithLabelValues(reason).Inc()
}
func (o sqsObserver) VisibilityExtended(*sqs.Message) { o.m.visibilityExtend.Inc() }

// HeldTooLong is counted by Failed (reason held_too_long), which follows.
func (o sqsObserver) HeldTooLong(*sqs.Message) {}
func (o sqsObserver) ReceiveError(error)       { o.m.receiveErrors.Inc() }
func (o sqsObserver) CallError(op string, _ *sqs.Message, _ error) {
	o.m.sqsCallErrors.WithLabelValues(op).Inc()
}
