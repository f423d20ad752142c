package dispatch

import (
	"context"
	"log/slog"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// stage is one step of the dispatcher, in the manner of Alertmanager's
// notify.Stage. It returns the delivery the next stage gets (usually dl
// itself, possibly changed), or nil when nothing more is to be done: routed
// nowhere, suppressed, held back, already sent. A stage that ends a delivery
// reports the outcome to the Observer and logs why; an error ends it too, and
// is what Dispatch or Flush returns.
type stage interface {
	exec(ctx context.Context, dl *delivery) (*delivery, error)
}

// stages runs its stages in order, like Alertmanager's MultiStage.
type stages []stage

func (ss stages) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	for _, s := range ss {
		var err error
		if dl, err = s.exec(ctx, dl); err != nil || dl == nil {
			return nil, err
		}
	}
	return dl, nil
}

// kind tells an alert from a dedup summary, for the stages that treat them
// differently (dedup holds back alerts and reports summaries).
type kind int

const (
	kindAlert kind = iota
	kindSummary
	// kindReply: an alert the dedup window held back, on its way to the
	// notifiers that post it in the window's thread (see threadStage).
	kindReply
)

// delivery is what goes through the stages: one alert, or one dedup summary,
// and what the stages have decided about it so far.
type delivery struct {
	kind  kind
	alert *alert.Alert
	// pending is the held-back count a summary reports (kindSummary only).
	pending state.Pending
	// subject names it in log messages ("alert", "dedup summary"); what names it
	// in errors ("alert <rule> <event>", "summary for …").
	subject, what string
	// identity names the delivery in State; each notifier's key adds its name.
	// It must stay as it is: deliveries recorded before an upgrade are
	// recognised by it.
	identity string
	log      *slog.Logger

	// Set by the stages.
	targets []notifiers.Notifier // route: the notifiers to send to
	note    string               // dedup: text shown with the alert
	// dedup: the alert's group and window (see state.Verdict), and for a
	// reply how many the window holds back so far.
	group, window string
	repeats       int

	// Set per notifier by the fan-out, for the stages that run once per target.
	notifier notifiers.Notifier
	key      string // the State key of this notifier's delivery

	// rec collects the outcomes for the history; shared by the fan-out's
	// copies. Nil when there is no history.
	rec *record
}

// observe reports one outcome for every target.
func (d *Dispatcher) observe(dl *delivery, o Outcome) { d.observeTo(dl, dl.targets, o) }

// observeTo reports o for dl's alert to the notifiers ns.
func (d *Dispatcher) observeTo(dl *delivery, ns []notifiers.Notifier, o Outcome) {
	for _, n := range ns {
		d.notified(dl, n.Name(), o)
	}
}

// notified reports one notifier's outcome to the Observer and the history.
func (d *Dispatcher) notified(dl *delivery, notifier string, o Outcome) {
	d.obs.Notified(notifier, o)
	dl.rec.add(notifier, o, d.now())
}
