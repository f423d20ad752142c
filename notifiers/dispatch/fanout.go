package dispatch

import (
	"context"
	"sync"

	"github.com/trailguard/trailguard/notifiers"
)

// fanoutStage runs the per-notifier stages for every target at once, like
// Alertmanager's FanoutStage: a slow or failing notifier neither holds up nor
// stops the others. The failures are collected into one *Error, wrapped in
// notifiers.Permanent only when every one of them is permanent.
type fanoutStage struct {
	d    *Dispatcher
	each stage // run once per target, with dl.notifier and dl.key set
}

func (s fanoutStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	errs := make([]error, len(dl.targets))
	var wg sync.WaitGroup
	for i, n := range dl.targets {
		one := *dl
		one.targets = []notifiers.Notifier{n}
		one.notifier = n
		one.key = hash(dl.identity, n.Name())
		one.log = s.d.log.With("notifier", n.Name(), "rule_id", dl.alert.RuleID, "event_id", dl.alert.EventID)
		wg.Go(func() { _, errs[i] = s.each.exec(ctx, &one) })
	}
	wg.Wait()

	e := &Error{What: dl.what}
	permanent := true
	for i, err := range errs {
		if err != nil {
			e.Failures = append(e.Failures, Failure{Notifier: dl.targets[i].Name(), Err: err})
			permanent = permanent && notifiers.IsPermanent(err)
		}
	}
	switch {
	case len(e.Failures) == 0:
		return dl, nil
	case permanent:
		return nil, notifiers.Permanent(e)
	default:
		return nil, e
	}
}
