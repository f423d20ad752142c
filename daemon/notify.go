package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/history"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/dispatch"
	"github.com/trailguard/trailguard/notifiers/email"
	nmetrics "github.com/trailguard/trailguard/notifiers/metrics"
	"github.com/trailguard/trailguard/notifiers/pagerduty"
	"github.com/trailguard/trailguard/notifiers/slack"
	"github.com/trailguard/trailguard/notifiers/state"
	"github.com/trailguard/trailguard/notifiers/stdout"
	"github.com/trailguard/trailguard/notifiers/teams"
	"github.com/trailguard/trailguard/notifiers/webhook"
)

// How often the notifiers' credentials and peers are checked again for
// /readyz: rarely while they pass, often while they fail, so that /readyz
// recovers soon after the peer does.
const (
	readyCheckEvery        = 5 * time.Minute
	readyCheckWhileFailing = 30 * time.Second
	// historyPruneEvery applies the history's retention while no alert comes.
	historyPruneEvery = time.Minute
)

// notifier is the daemon's side of alert delivery: the dispatcher built from
// the configuration, and what its start-up checks found.
type notifier struct {
	d        *dispatch.Dispatcher
	log      *slog.Logger
	memState bool
	redis    *redis.Client
	sqlite   *state.SQLite
	// history records every alert handled, for the web page; histSQLite is
	// its table in the state file, when the state is SQLite.
	history    *history.History
	histSQLite *history.SQLite
	// users counts what may still use redis or sqlite: run (with the
	// dispatcher's own Run) and the final flush, which the daemon calls in
	// either order. The last to finish closes the client.
	users atomic.Int32

	// health follows the sends and the state store's calls; probe, if set,
	// is the state store's check, repeated by run.
	health *health
	probe  notifiers.Checker

	mu      sync.Mutex
	readyOK error
}

// errChecking is readyOK until the first start-up check has answered: the
// checks run in the background, so that /healthz answers from the start
// however long a silent peer takes.
var errChecking = errors.New("start-up checks still running")

// newNotifier builds the notifiers and the dispatcher, handing each the
// configuration blocks as config validated them.
func newNotifier(ctx context.Context, cfg *config.Config, opts Options, log *slog.Logger, m *metrics, h *health) (*notifier, error) {
	out := opts.Stdout
	if out == nil {
		out = os.Stdout
	}
	// One stdout notifier, which serializes its writes, serves every stdout
	// block under its own name: the dispatcher delivers to an alert's
	// notifiers concurrently, and out need not be safe for that.
	console := stdout.NewFormat("stdout", out, opts.StdoutFormat)
	var ns []notifiers.Notifier
	timeouts := map[string]time.Duration{}
	for _, nc := range cfg.Notifiers {
		if nc.Timeout > 0 { // else the retry policy's attempt timeout, config.DefaultNotifierTimeout
			timeouts[nc.Name] = nc.Timeout
		}
		switch nc.Type {
		case config.NotifierSlack:
			ns = append(ns, slack.New(nc.Name, nc.Slack, log))
		case config.NotifierEmail:
			e, err := email.New(nc.Name, nc.Email, opts.EmailTLS)
			if err != nil {
				return nil, fmt.Errorf("notifier %q: %w", nc.Name, err)
			}
			ns = append(ns, e)
		case config.NotifierWebhook:
			ns = append(ns, webhook.New(nc.Name, nc.Webhook))
		case config.NotifierPagerDuty:
			// Incidents are keyed like the dispatcher's dedup groups.
			ns = append(ns, pagerduty.New(nc.Name, nc.PagerDuty, cfg.Dedup.Key, log))
		case config.NotifierTeams:
			ns = append(ns, teams.New(nc.Name, nc.Teams))
		default:
			ns = append(ns, named{console, nc.Name})
		}
	}
	ns = watchNotifiers(ns, h)
	n := &notifier{log: log, health: h, readyOK: errChecking}
	n.users.Store(2)
	var st state.State
	var hb history.Backend
	switch cfg.State.Type {
	case config.StateRedis:
		// go-redis logs (pool and connection trouble) in our format, not as
		// plain-text lines in the middle of a JSON log.
		redis.SetLogger(redisLog{log})
		n.redis = redis.NewClient(&redis.Options{
			Addr: cfg.State.Redis.Addr, Password: cfg.State.Redis.Password.Reveal(), DB: cfg.State.Redis.DB,
		})
		st = state.NewRedis(n.redis, "")
		hb = history.NewRedis(n.redis, "")
	case config.StateSQLite:
		path, note, err := state.SQLitePath(cfg.State.SQLite.Path)
		if err != nil {
			return nil, err
		}
		if note != "" {
			log.InfoContext(ctx, note)
		}
		// Opening a local file is quick; a stop asked for meanwhile is the
		// daemon's to handle, not a reason to fail the start.
		if n.sqlite, err = state.OpenSQLite(context.WithoutCancel(ctx), path, state.SQLiteOptions{}); err != nil {
			return nil, err
		}
		log.InfoContext(ctx, "state kept in SQLite: delivered alerts, dedup windows and stateful-rule records survive a restart", "path", path)
		st = n.sqlite
		if n.histSQLite, err = history.OpenSQLite(context.WithoutCancel(ctx), path); err != nil {
			_ = n.sqlite.Close()
			return nil, err
		}
		hb = n.histSQLite
	default:
		n.memState = true
		st = state.NewMemory(state.MemoryOptions{})
		hb = history.NewMemory()
	}
	if c, ok := st.(notifiers.Checker); ok && !n.memState {
		n.probe = c
	}
	// The stateful rules' records come from the store itself, as they did
	// before the store was wrapped for health.
	records, _ := st.(state.Records)
	n.history = history.New(hb, history.Options{Logger: log,
		Retention: history.Retention{MaxAge: cfg.History.MaxAge, MaxCount: cfg.History.MaxAlerts}})
	m.reg.MustRegister(n.history.Metrics())
	obs := nmetrics.New("trailguard")
	m.reg.MustRegister(obs)
	d, err := dispatch.New(dispatch.Config{
		Notifiers:    ns,
		Routes:       cfg.Routes,
		Suppressions: cfg.Suppressions,
		Dedup:        cfg.Dedup,
		Retry:        opts.Retry,
		Timeouts:     timeouts,
		State:        watchedState{st, h},
		Records:      records,
		DeliveredTTL: cfg.State.DeliveredTTL,
		Observer:     obs,
		Seen:         opts.Seen,
		Logger:       log,
		History:      n.history,
	})
	if err != nil {
		return nil, fmt.Errorf("notifiers: %w", err)
	}
	n.d = d
	m.watchStateSize(d.StatefulRecords)
	return n, nil
}

// named is a notifier under another name.
type named struct {
	notifiers.Notifier
	name string
}

func (n named) Name() string { return n.name }

// check runs every notifier's start-up check (Slack auth.test, SMTP
// handshake, Redis PING): permanent problems such as a revoked token show in
// the log and on /readyz before the first alert needs them.
func (n *notifier) check(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := n.d.Ready(ctx)
	n.mu.Lock()
	prev := n.readyOK
	n.readyOK = err
	n.mu.Unlock()
	switch {
	case err != nil:
		n.log.Error("notifier check failed: alerts for it will be retried and their messages kept", "error", err)
	case prev != nil && !errors.Is(prev, errChecking):
		n.log.Info("notifiers ok again")
	}
}

func (n *notifier) problems() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.readyOK == nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(n.readyOK.Error(), "\n") {
		out = append(out, "notifiers: "+l)
	}
	return out
}

// run checks the notifiers (then again from time to time), probes the state
// store and flushes dedup-window summaries until ctx ends, and returns once
// the dispatcher's Run has returned too.
func (n *notifier) run(ctx context.Context) {
	defer n.release()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { n.d.Run(ctx) })
	wg.Go(func() { n.history.Run(ctx, historyPruneEvery) })
	if n.probe != nil {
		wg.Go(func() { n.health.probeState(ctx, n.probe) })
	}
	n.check(ctx)
	for {
		every := readyCheckEvery
		if n.problems() != nil {
			every = readyCheckWhileFailing
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(every):
			n.check(ctx)
		}
	}
}

// dispatch hands one alert to its notifiers. Any failure, permanent ones too,
// keeps the SQS message: it comes back, and after the queue's maxReceiveCount it
// waits in the dead-letter queue until the notifier is fixed and the queue is
// redriven. Notifiers that did deliver are not sent to again.
func (n *notifier) dispatch(ctx context.Context, a *alert.Alert) error {
	err := n.d.Dispatch(ctx, a)
	if err != nil && notifiers.IsPermanent(err) {
		n.log.Error("alert cannot be delivered until the notifier is fixed", "rule", a.RuleID, "event_id", a.EventID, "error", err)
	}
	return err
}

// flush reports what the dedup window still holds before the daemon exits:
// with in-memory state the open windows too, since they die with the process.
func (n *notifier) flush(ctx context.Context) {
	var err error
	if n.memState {
		err = n.d.Drain(ctx)
	} else {
		err = n.d.Flush(ctx)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		n.log.Warn("dedup summaries not all sent at shutdown", "error", err)
	}
	if err := n.d.Close(ctx); err != nil {
		n.log.Warn("notifier calls still running at shutdown", "error", err)
	}
	n.release()
}

// release closes the Redis client or the SQLite file once neither run nor
// flush uses it.
func (n *notifier) release() {
	if n.users.Add(-1) != 0 {
		return
	}
	if n.redis != nil {
		if err := n.redis.Close(); err != nil {
			n.log.Warn("closing the Redis client", "error", err)
		}
	}
	if n.sqlite != nil {
		if err := n.sqlite.Close(); err != nil {
			n.log.Warn("closing the SQLite state", "error", err)
		}
	}
	if n.histSQLite != nil {
		if err := n.histSQLite.Close(); err != nil {
			n.log.Warn("closing the SQLite alert history", "error", err)
		}
	}
}
