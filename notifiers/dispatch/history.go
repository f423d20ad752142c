package dispatch

import (
	"context"
	"sync"
	"time"

	"github.com/trailguard/trailguard/history"
)

// Recorder keeps the alert history (history.History is one).
type Recorder interface {
	Record(ctx context.Context, e history.Entry) error
}

// historyWriteTimeout bounds one history write: recording comes after
// delivery and must not hold up the acknowledgement for long.
const historyWriteTimeout = 2 * time.Second

// exec runs a delivery through the stages, recorded in the history.
func (d *Dispatcher) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	return historyStage{d, d.stages}.exec(ctx, dl)
}

// historyStage brackets the other stages: once they end (sent, held back,
// suppressed, counted, failed) it records the alert as it then is (a
// stateful alert replaces its candidate) with each notifier's outcome. The
// write never changes the result: a failure is logged (and counted by the
// history's metrics), and the alert has gone out all the same.
type historyStage struct {
	d    *Dispatcher
	then stage
}

func (s historyStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	if s.d.history == nil {
		return s.then.exec(ctx, dl)
	}
	dl.rec = &record{}
	out, err := s.then.exec(ctx, dl)

	e := history.Entry{ID: dl.identity, Kind: history.KindAlert, Alert: *dl.alert, Note: dl.note}
	if dl.kind == kindSummary {
		e.Kind = history.KindSummary
	}
	e.Alert.Stateful = nil
	dl.rec.mu.Lock()
	e.Deliveries = dl.rec.deliveries
	e.Outcome = history.OutcomeOf(e.Deliveries, dl.rec.status)
	dl.rec.mu.Unlock()
	hctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), historyWriteTimeout)
	defer cancel()
	if herr := s.d.history.Record(hctx, e); herr != nil {
		dl.log.WarnContext(ctx, "alert not recorded in the history", "error", herr)
	}
	return out, err
}

// record collects what the stages decided for the history.
type record struct {
	mu         sync.Mutex
	deliveries []history.Delivery
	status     string // why no notifier was reached
}

func (r *record) add(notifier string, o Outcome, at time.Time) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, history.Delivery{Notifier: notifier, Outcome: string(o), At: at.UTC()})
}

func (r *record) end(status string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = status
}
