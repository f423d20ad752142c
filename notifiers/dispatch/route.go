package dispatch

import (
	"context"

	"github.com/trailguard/trailguard/history"
)

// routeStage picks the notifiers (see Config.Routes); a delivery that matches no
// route ends here, without error: nobody asked for it.
type routeStage struct{ d *Dispatcher }

func (s routeStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	dl.targets = s.d.route(dl.alert)
	if len(dl.targets) == 0 {
		dl.log.DebugContext(ctx, dl.subject+" matches no route")
		dl.rec.end(history.OutcomeUnrouted)
		return nil, nil
	}
	return dl, nil
}
