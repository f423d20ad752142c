package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/pipeline"
	"github.com/trailguard/trailguard/source/s3"
)

// errRefused marks a message the daemon will not act on (a bucket outside
// allowed_buckets, a forged key, a body that is no notification). It is left in
// the queue so that it reaches the dead-letter queue with its evidence intact.
var errRefused = errors.New("refused")

// errUndelivered marks a log that was read but one of whose alerts could not be
// handed to every notifier it was routed to.
var errUndelivered = errors.New("alert not delivered")

// handle does what one input asks; it is the Handle given to the source.
func (d *Daemon) handle(ctx context.Context, in Input) error {
	switch {
	case in.Notification != nil:
		return d.handleMessage(ctx, in.ID, in.Notification)
	case in.Object != nil:
		log := d.log.With("input", in.ID)
		if err := d.allowed(*in.Object, in.ID, log); err != nil {
			return err
		}
		return d.processObject(ctx, d.engines.Engine(), *in.Object, log)
	case in.File != "":
		return d.processFile(ctx, in.File)
	}
	return fmt.Errorf("input %s: nothing to read", in.ID)
}

// allowed refuses an object outside source.s3.allowed_buckets (or any
// object, when the source has no ObjectStore).
func (d *Daemon) allowed(o cloudtrail.ObjectRef, id string, log *slog.Logger) error {
	if d.store == nil {
		d.m.refused.WithLabelValues("no_object_store").Inc()
		log.Error("input names a log object, but the source reads none; refused", "bucket", o.Bucket, "key", o.Key)
		return fmt.Errorf("%s: %w: s3://%s/%s: source %s reads no objects", id, errRefused, o.Bucket, o.Key, d.cfg.Source.Type)
	}
	if !d.store.Allowed(o.Bucket) {
		d.m.refused.WithLabelValues("bucket_not_allowed").Inc()
		log.Error("message names a bucket outside source.s3.allowed_buckets; refused", "bucket", o.Bucket, "key", o.Key)
		return fmt.Errorf("message %s: %w: s3://%s/%s: %w", id, errRefused, o.Bucket, o.Key, s3.ErrBucketNotAllowed)
	}
	return nil
}

// handleMessage does everything one SQS message asks: it returns nil only when
// every object it names was read, every record evaluated and every alert handed
// to its notifiers, which is when the message may be deleted.
func (d *Daemon) handleMessage(ctx context.Context, id string, body []byte) error {
	log := d.log.With("message_id", id)
	n, err := cloudtrail.ParseNotification(body, cloudtrail.NotificationLimits{})
	if err != nil {
		reason := "malformed"
		if errors.Is(err, cloudtrail.ErrForged) {
			reason = "forged"
		} else if errors.Is(err, cloudtrail.ErrTooLarge) {
			reason = "too_many_objects"
		}
		d.m.refused.WithLabelValues(reason).Inc()
		log.Error("message refused", "reason", reason, "error", err)
		return fmt.Errorf("message %s: %w: %w", id, errRefused, err)
	}
	if n.Ignored != "" {
		log.Info("message needs no work", "kind", n.Ignored)
		return nil
	}
	for _, s := range n.Skipped {
		log.Debug("not a log file, skipped", "bucket", s.Bucket, "key", s.Key)
	}
	// Refuse the whole message before reading anything when it names a bucket
	// we do not watch: a forged notification must not make us read objects.
	for _, o := range n.Objects {
		if err := d.allowed(o, id, log); err != nil {
			return err
		}
	}
	// One rule set for the whole message, however a reload falls meanwhile.
	eng := d.engines.Engine()
	for _, o := range n.Objects {
		if err := d.processObject(ctx, eng, o, log); err != nil {
			return err
		}
	}
	if len(n.Records) > 0 {
		i := 0
		next := func() (cloudtrail.Record, error) {
			if i == len(n.Records) {
				return cloudtrail.Record{}, io.EOF
			}
			i++
			return cloudtrail.Record{Raw: n.Records[i-1], Source: "sqs:" + id, Index: i - 1, Line: 1, Col: 1}, nil
		}
		if _, err := d.run(ctx, eng, "sqs:"+id, log, func(opts pipeline.Options, h pipeline.Handler) (pipeline.Stats, error) {
			return pipeline.RunRecords(ctx, eng, next, opts, h)
		}); err != nil {
			return fmt.Errorf("message %s: %w", id, err)
		}
	}
	return nil
}

func (d *Daemon) processObject(ctx context.Context, eng *engine.Engine, o cloudtrail.ObjectRef, log *slog.Logger) error {
	log = log.With("bucket", o.Bucket, "key", o.Key)
	body, err := d.store.Open(ctx, o)
	if err != nil {
		outcome := "error"
		if errors.Is(err, s3.ErrNotFound) {
			outcome = "not_found"
		}
		d.m.objectsFetched.WithLabelValues(outcome).Inc()
		log.Error("cannot read log object", "error", err)
		return err
	}
	defer body.Close()
	st, err := d.run(ctx, eng, o.String(), log, func(opts pipeline.Options, h pipeline.Handler) (pipeline.Stats, error) {
		return pipeline.Run(ctx, eng, body, o.String(), opts, h)
	})
	if err != nil {
		outcome := "error"
		if errors.Is(err, errUndelivered) {
			outcome = "undelivered"
		}
		d.m.objectsFetched.WithLabelValues(outcome).Inc()
		return err
	}
	d.m.objectsFetched.WithLabelValues("ok").Inc()
	log.Debug("log object done", "records", st.Records, "alerts", st.Alerts, "errors", st.Errors)
	return nil
}

// processFile is the dir source's handler.
func (d *Daemon) processFile(ctx context.Context, path string) error {
	log := d.log.With("file", path)
	f, err := os.Open(path)
	if err != nil {
		d.m.filesProcessed.WithLabelValues("error").Inc()
		return err
	}
	defer f.Close()
	eng := d.engines.Engine()
	st, err := d.run(ctx, eng, path, log, func(opts pipeline.Options, h pipeline.Handler) (pipeline.Stats, error) {
		return pipeline.Run(ctx, eng, f, path, opts, h)
	})
	if err != nil {
		d.m.filesProcessed.WithLabelValues("error").Inc()
		return err
	}
	d.m.filesProcessed.WithLabelValues("ok").Inc()
	log.Info("log file done", "records", st.Records, "alerts", st.Alerts, "errors", st.Errors)
	return nil
}

// run evaluates one log with the daemon's handler: alerts to the dispatcher,
// bad records logged and counted. A bad record does not fail the log (it will
// not get better by reading it again); an unreadable log or an alert that could
// not be delivered does, so the message comes back.
func (d *Daemon) run(ctx context.Context, eng *engine.Engine, source string, log *slog.Logger,
	do func(pipeline.Options, pipeline.Handler) (pipeline.Stats, error)) (pipeline.Stats, error) {
	opts := pipeline.Options{Workers: d.evalWorkers, EventSources: d.cfg.Filter.EventSources}
	var noID []byte // the last record without an eventID, counted once for all its alerts
	h := pipeline.Handler{
		// One notifier that cannot deliver must not keep the log's other
		// alerts from the notifiers that can: every alert is offered, and
		// the message comes back for the failed (alert, notifier) pairs only.
		ContinueOnAlertError: true,
		Alert: func(ctx context.Context, a *alert.Alert) error {
			d.m.alerts.WithLabelValues(a.RuleID, a.Severity.String()).Inc()
			if a.EventID == "" && !sameBytes(noID, a.Raw) {
				noID = a.Raw
				d.m.eventsNoID.Inc()
				log.Warn("record has no usable eventID; its alerts are keyed by a hash of its bytes",
					"origin", a.Origin, "rule", a.RuleID, "key", alert.ContentKey(a.Raw))
			}
			if err := d.dispatch(ctx, a); err != nil {
				return fmt.Errorf("%s: alert %s for event %s: %w: %w", source, a.RuleID, a.EventID, errUndelivered, err)
			}
			return nil
		},
		Error: func(err error) {
			d.m.eventErrors.Inc()
			if ee, ok := errors.AsType[*engine.EvalError](err); ok && len(ee.TimedOut) > 0 {
				d.slowRules(ee, log)
				return
			}
			log.Warn("bad record skipped", "error", err)
		},
		Evaluated: func(in *engine.Input, took time.Duration) {
			d.m.evalSeconds.Observe(took.Seconds())
			if t, err := time.Parse(time.RFC3339, in.EventTime()); err == nil {
				d.m.lagSeconds.Observe(time.Since(t).Seconds())
			}
		},
	}
	// The log's stateful steps are committed together, before the log may be
	// acknowledged (also when it failed: what was counted is kept, and
	// counted once when the log comes back).
	batch := d.notify.d.BeginStateful()
	st, err := do(opts, h)
	if cerr := batch.Commit(ctx); cerr != nil {
		err = errors.Join(err, fmt.Errorf("%s: stateful rules' counts not stored: %w", source, cerr))
	}
	d.m.eventsRead.Add(float64(st.Records))
	d.m.eventsEvaluated.Add(float64(st.Evaluated))
	d.m.eventsFiltered.Add(float64(st.Filtered))
	return st, err
}

// sameBytes says whether a and b are the same slice: a record's alerts share
// its bytes (pipeline hands them on one after another), another record's
// never do.
func sameBytes(a, b []byte) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}
