// Package daemon wires trailguard together: the source that the configuration
// names (see Source: SQS + S3, or a local directory) feeds logs through the
// engine, alerts go to the dispatcher, and an input is acknowledged (an SQS
// message deleted) only once all of that is done. It serves /metrics,
// /healthz and /readyz, and reloads the policies on SIGHUP or when a policy
// directory changes.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/notifiers/dispatch"
	"github.com/trailguard/trailguard/notifiers/stdout"
)

// Options are what a caller may set beside the configuration.
type Options struct {
	Logger *slog.Logger
	// Stdout receives the stdout notifier's alerts (default os.Stdout), in
	// StdoutFormat (default JSON lines).
	Stdout       interface{ Write([]byte) (int, error) }
	StdoutFormat stdout.Format
	// Seen, if set, is called with every alert that passed routing,
	// suppression and stateful rules (see dispatch.Config.Seen).
	Seen func(*alert.Alert)
	// ShutdownGrace bounds how long in-flight work may go on after the context
	// is cancelled (default 20s).
	ShutdownGrace time.Duration
	// Ready, if set, is called with the metrics server's address once it listens.
	Ready func(addr string)
	// EmailTLS overrides the TLS settings of email notifiers (a private CA).
	EmailTLS *tls.Config
	// Retry overrides the dispatcher's retry policy (zero: its defaults).
	Retry dispatch.RetryPolicy
	// NoServer: no /metrics, /healthz or /readyz listener. On Lambda nothing
	// could reach it, and the function's health is its invocations'.
	NoServer bool
	// Started is when the process started, for the cold start that the
	// lambda source logs with its first batch (zero: not logged).
	Started time.Time
}

// Daemon is one running trailguard.
type Daemon struct {
	cfg     *config.Config
	opts    Options
	log     *slog.Logger
	m       *metrics
	health  *health
	engines *engine.Reloader

	source Source
	store  ObjectStore // the source's, if its inputs name objects
	notify *notifier

	evalWorkers int

	reloadMu   sync.Mutex
	lastReload atomic.Value // time.Time of the last policy load, for the Health page
}

// New checks and builds everything the configuration asks for; nothing runs yet.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 20 * time.Second
	}
	d := &Daemon{cfg: cfg, opts: opts, log: opts.Logger, m: newMetrics(), health: newHealth(), evalWorkers: 1}
	// The first line says where to look: compiling the rules and reading the
	// first logs take a while, and their notes come next.
	switch {
	case opts.NoServer: // Lambda: no server, no page
		d.log.Info("trailguard starting", "source", cfg.Source.Type)
	case cfg.Server.Web.Enabled:
		d.log.Info("trailguard starting; web page on "+webURL(cfg.Server.Listen), "web", webURL(cfg.Server.Listen), "source", cfg.Source.Type)
	default:
		d.log.Info("trailguard starting", "listen", cfg.Server.Listen, "source", cfg.Source.Type)
	}
	for _, w := range cfg.Warnings() {
		d.log.Warn("configuration", "warning", w)
	}
	for _, n := range cfg.Notes() {
		d.log.Info("configuration", "note", n)
	}
	var err error
	d.engines, err = engine.NewReloader(ctx, d.buildEngine)
	if err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	d.noteEngine(d.engines.Engine())

	// The notifiers' start-up checks (Slack auth.test, SMTP, Redis PING) run
	// in the background once Run serves /healthz: a silent peer must not
	// keep the process from answering its liveness probe.
	if d.notify, err = newNotifier(ctx, cfg, opts, d.log, d.m, d.health); err != nil {
		return nil, err
	}

	if d.source, err = newSource(ctx, cfg, sourceDeps{log: d.log, m: d.m, shutdownGrace: opts.ShutdownGrace, started: opts.Started}); err != nil {
		return nil, err
	}
	d.store, _ = d.source.(ObjectStore)
	if s, ok := d.source.(Serial); ok && s.Serial() {
		// One input at a time: use the cores inside each log.
		d.evalWorkers = 0
	}
	return d, nil
}

func (d *Daemon) buildEngine(ctx context.Context) (*engine.Engine, error) {
	// Every engine counts its stuck evaluations and its fallbacks to OPA's
	// evaluator in the same place, so those of an engine reloaded away are
	// still seen.
	return engine.New(ctx, append(engine.FromConfig(d.cfg.Rules),
		engine.WithOverruns(d.health.overruns), engine.WithFallbacks(d.m.fallbacks))...)
}

func (d *Daemon) noteEngine(e *engine.Engine) {
	d.lastReload.Store(time.Now())
	d.m.rulesLoaded.Set(float64(len(e.Rules())))
	for _, w := range e.Warnings() {
		d.log.Warn("policies", "warning", w)
	}
	for _, n := range e.Notes() {
		d.log.Info("policies", "note", n)
	}
}

// Reload compiles the policies again and swaps them in; on error the rule set
// serving now goes on serving, and the error (with file:row:col) is returned.
func (d *Daemon) Reload(ctx context.Context) error {
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	e, err := d.engines.Reload(ctx)
	if err != nil {
		d.m.reloads.WithLabelValues("failed").Inc()
		d.log.Error("policy reload refused; the previous rules keep serving", "error", err)
		return err
	}
	d.m.reloads.WithLabelValues("ok").Inc()
	d.noteEngine(e)
	d.log.Info("policies reloaded", "rules", len(e.Rules()))
	return nil
}

// Run serves until ctx is cancelled, then shuts down gracefully: no new work is
// taken, in-flight work gets the grace period, and unfinished SQS messages are
// left for redelivery. Every goroutine Run starts has ended when it returns,
// each before what it uses is closed: the source and the helpers before the
// dedup summaries are flushed (and the state store closed), the metrics server
// last.
func (d *Daemon) Run(ctx context.Context) error {
	addr, stopServer, err := d.serve()
	if err != nil {
		return err
	}
	defer stopServer()
	started := []any{"source", d.cfg.Source.Type, "listen", addr, "rules", len(d.engines.Engine().Rules())}
	if d.cfg.Server.Web.Enabled && addr != "" {
		started = append([]any{"web", webURL(addr)}, started...)
	}
	d.log.Info("trailguard started", started...)
	if d.opts.Ready != nil && addr != "" {
		d.opts.Ready(addr)
	}

	// The helpers end with the source: a dir source without watch returns
	// once the files are read, before ctx is done.
	hctx, stopHelpers := context.WithCancel(ctx)
	defer stopHelpers()
	var g errgroup.Group
	g.Go(func() error {
		defer stopHelpers()
		return d.source.Run(ctx, d.handle)
	})
	g.Go(func() error { d.watchPolicies(hctx); return nil })
	g.Go(func() error { d.notify.run(hctx); return nil })
	err = g.Wait()

	// Say what was held back by the dedup window before going.
	fctx, cancel := context.WithTimeout(context.Background(), d.opts.ShutdownGrace)
	defer cancel()
	d.notify.flush(fctx)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	d.log.Info("trailguard stopped")
	return nil
}

// serve starts the metrics server, unless Options.NoServer, and returns its
// address and what stops it once its goroutine has ended.
func (d *Daemon) serve() (addr string, stop func(), err error) {
	if d.opts.NoServer {
		return "", func() {}, nil
	}
	ln, err := net.Listen("tcp", d.cfg.Server.Listen)
	if err != nil {
		return "", nil, fmt.Errorf("server.listen: %w", err)
	}
	mux := d.mux()
	if err := d.mountWeb(mux); err != nil {
		_ = ln.Close()
		return "", nil, fmt.Errorf("web page: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	var server errgroup.Group
	server.Go(func() error {
		// A server that fails after it listened is logged, as before: the
		// source goes on, and /healthz failing tells the orchestrator.
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics server", "error", err)
		}
		return nil
	})
	return ln.Addr().String(), func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		_ = server.Wait()
	}, nil
}

func (d *Daemon) dispatch(ctx context.Context, a *alert.Alert) error {
	return d.notify.dispatch(ctx, a)
}

func (d *Daemon) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		problems := d.readiness(r.Context())
		if len(problems) > 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			for _, p := range problems {
				fmt.Fprintln(w, p)
			}
			return
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}

// readiness lists what keeps the daemon from doing its job.
func (d *Daemon) readiness(ctx context.Context) []string {
	var problems []string
	if d.engines.Engine() == nil {
		problems = append(problems, "policies: not loaded")
	}
	if h, ok := d.source.(HealthReporter); ok {
		if err := h.Healthy(); err != nil {
			problems = append(problems, d.cfg.Source.Type+": "+err.Error())
		}
	}
	problems = append(problems, d.notify.problems()...)
	problems = append(problems, d.health.problems()...)
	return problems
}
