package daemon

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/dispatch"
	"github.com/trailguard/trailguard/notifiers/email"
	nmetrics "github.com/trailguard/trailguard/notifiers/metrics"
	"github.com/trailguard/trailguard/notifiers/slack"
	"github.com/trailguard/trailguard/notifiers/state"
	"github.com/trailguard/trailguard/notifiers/stdout"
)

// How often the notifiers' credentials and peers are checked again for
// /readyz: rarely while they pass, often while they fail, so that /readyz
// recovers soon after the peer does.
const (
	readyCheckEvery        = 5 * time.Minute
	readyCheckWhileFailing = 30 * time.Second
)

// notifier is the daemon's side of alert delivery: the dispatcher built from
// the configuration, and what its start-up checks found.
type notifier struct {
	d        *dispatch.Dispatcher
	log      *slog.Logger
	memState bool
	redis    *redis.Client
	sqlite   *state.SQLite

	mu      sync.Mutex
	readyOK error
}

func newNotifier(ctx context.Context, cfg *config.Config, opts Options, log *slog.Logger, m *metrics) (*notifier, error) {
	var out io.Writer = os.Stdout
	if opts.Stdout != nil {
		out = opts.Stdout
	}
	// Each stdout notifier serializes only its own writes, and the dispatcher
	// delivers to an alert's notifiers concurrently: several stdout notifiers
	// share out, which need not be safe for concurrent use.
	out = &lockedWriter{w: out}
	var ns []notifiers.Notifier
	for _, nc := range cfg.Notifiers {
		n, err := buildNotifier(nc, out, opts.EmailTLS, log)
		if err != nil {
			return nil, fmt.Errorf("notifier %q: %w", nc.Name, err)
		}
		ns = append(ns, n)
	}
	routes := make([]dispatch.Route, len(cfg.Routes))
	for i, r := range cfg.Routes {
		var sev alert.Severity
		if r.Match.MinSeverity != "" {
			var err error
			if sev, err = alert.ParseSeverity(r.Match.MinSeverity); err != nil {
				return nil, fmt.Errorf("routes[%d]: %w", i, err)
			}
		}
		routes[i] = dispatch.Route{
			Name: fmt.Sprintf("routes[%d]", i),
			Match: dispatch.Match{MinSeverity: sev, Rules: r.Match.Rules, EventSources: r.Match.EventSources,
				Accounts: r.Match.Accounts},
			Notifiers: r.Notifiers,
		}
	}
	sups := make([]dispatch.Suppression, len(cfg.Suppressions))
	for i, s := range cfg.Suppressions {
		sups[i] = dispatch.Suppression{Rule: s.Rule, Where: s.Where, Reason: s.Reason, Owner: s.Owner, Expires: s.Expires}
	}
	n := &notifier{log: log}
	var st state.State
	switch cfg.State.Type {
	case config.StateRedis:
		n.redis = redis.NewClient(&redis.Options{
			Addr: cfg.State.Redis.Addr, Password: cfg.State.Redis.Password.Reveal(), DB: cfg.State.Redis.DB,
		})
		st = state.NewRedis(n.redis, "")
	case config.StateSQLite:
		path := cmp.Or(cfg.State.SQLite.Path, state.DefaultSQLitePath)
		var err error
		if n.sqlite, err = state.OpenSQLite(ctx, path, state.SQLiteOptions{}); err != nil {
			return nil, err
		}
		st = n.sqlite
	default:
		n.memState = true
		st = state.NewMemory(state.MemoryOptions{})
	}
	obs := nmetrics.New("trailguard")
	m.reg.MustRegister(obs)
	d, err := dispatch.New(dispatch.Config{
		Notifiers:    ns,
		Routes:       routes,
		Suppressions: sups,
		Dedup:        dispatch.Dedup{Window: cfg.Dedup.Window, Key: cfg.Dedup.Key},
		Retry:        opts.Retry,
		State:        st,
		Observer:     obs,
		Logger:       log,
	})
	if err != nil {
		return nil, fmt.Errorf("notifiers: %w", err)
	}
	n.d = d
	n.check(ctx)
	return n, nil
}

// lockedWriter makes one writer safe for concurrent use.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func buildNotifier(nc config.Notifier, out io.Writer, emailTLS *tls.Config, log *slog.Logger) (notifiers.Notifier, error) {
	switch nc.Type {
	case config.NotifierStdout:
		return stdout.New(nc.Name, out), nil
	case config.NotifierSlack:
		s := nc.Slack
		return slack.New(slack.Config{Name: nc.Name, Token: s.Token.Reveal(), Channel: s.Channel,
			WebhookURL: s.WebhookURL.Reveal(), APIURL: s.APIURL, Logger: log})
	case config.NotifierEmail:
		e := nc.Email
		return email.New(email.Config{Name: nc.Name, Host: e.Host, Port: e.Port, TLS: email.TLSMode(e.TLS),
			TLSConfig: emailTLS, Username: e.Username, Password: e.Password.Reveal(), From: e.From, To: e.To})
	}
	return nil, fmt.Errorf("unknown notifier type %q", nc.Type)
}

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
	case prev != nil:
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

// run flushes dedup-window summaries and re-checks the notifiers until ctx ends.
func (n *notifier) run(ctx context.Context) {
	go n.d.Run(ctx)
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
	if n.redis != nil {
		_ = n.redis.Close()
	}
	if n.sqlite != nil {
		_ = n.sqlite.Close()
	}
}
