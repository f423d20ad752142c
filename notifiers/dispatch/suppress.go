package dispatch

import "context"

// suppressStage drops what a live Suppression matches, logging its reason and
// owner; summaries too, since a suppression added since the alerts were held
// back should silence their report as well.
type suppressStage struct{ d *Dispatcher }

func (s suppressStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	sup := s.d.suppressedBy(ctx, dl.alert)
	if sup == nil {
		return dl, nil
	}
	dl.log.InfoContext(ctx, dl.subject+" suppressed", "reason", sup.Reason, "owner", sup.Owner)
	s.d.observe(dl, OutcomeSuppressed)
	return nil, nil
}
