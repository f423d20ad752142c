package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/trailguard/trailguard/engine"
)

// slowRules reports the rules a record's evaluation cut short (by id: in the
// log, in trailguard_rule_timeouts_total, on /readyz while it keeps
// happening). The record's other alerts went on as usual.
func (d *Daemon) slowRules(ee *engine.EvalError, log *slog.Logger) {
	for _, id := range ee.TimedOut {
		d.m.ruleTimeouts.WithLabelValues(id).Inc()
		d.health.ruleTimedOut(id)
	}
	log.Error("rule exceeded rules.eval_timeout; the record's other rules were evaluated without it",
		"rules", strings.Join(ee.TimedOut, ","), "eval_timeout", d.cfg.Rules.EvalTimeout,
		"origin", ee.Source, "record", ee.Index, "error", ee.Err)
}

// redisLog hands go-redis' own log lines (connection pool trouble and the
// like) to slog, in the configured format.
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "redis client", "detail", strings.TrimSpace(fmt.Sprintf(format, v...)))
}
