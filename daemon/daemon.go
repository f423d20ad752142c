// Package daemon wires trailguard together: a source (SQS + S3, or a local
// directory) feeds logs through the engine, alerts go to the dispatcher, and an
// SQS message is deleted only once all of that is done. It serves /metrics,
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
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/notifiers/dispatch"
	dirsource "github.com/trailguard/trailguard/source/dir"
	s3source "github.com/trailguard/trailguard/source/s3"
	sqssource "github.com/trailguard/trailguard/source/sqs"
)

// Options are what a caller may set beside the configuration.
type Options struct {
	Logger *slog.Logger
	// Stdout receives the stdout notifier's alerts (default os.Stdout).
	Stdout interface{ Write([]byte) (int, error) }
	// ShutdownGrace bounds how long in-flight work may go on after the context
	// is cancelled (default 20s).
	ShutdownGrace time.Duration
	// Ready, if set, is called with the metrics server's address once it listens.
	Ready func(addr string)
	// EmailTLS overrides the TLS settings of email notifiers (a private CA).
	EmailTLS *tls.Config
	// Retry overrides the dispatcher's retry policy (zero: its defaults).
	Retry dispatch.RetryPolicy
}

// Daemon is one running trailguard.
type Daemon struct {
	cfg     *config.Config
	opts    Options
	log     *slog.Logger
	m       *metrics
	engines *engine.Reloader

	fetcher  *s3source.Fetcher
	consumer *sqssource.Consumer
	dir      *dirsource.Source
	notify   *notifier

	evalWorkers int
	limits      cloudtrail.Limits

	reloadMu sync.Mutex
}

// New checks and builds everything the configuration asks for; nothing runs yet.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Daemon, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 20 * time.Second
	}
	d := &Daemon{cfg: cfg, opts: opts, log: opts.Logger, m: newMetrics(), evalWorkers: 1}
	for _, w := range cfg.Warnings() {
		d.log.Warn("configuration", "warning", w)
	}
	var err error
	d.engines, err = engine.NewReloader(ctx, d.buildEngine)
	if err != nil {
		return nil, fmt.Errorf("policies: %w", err)
	}
	d.noteEngine(d.engines.Engine())

	if d.notify, err = newNotifier(ctx, cfg, opts, d.log, d.m); err != nil {
		return nil, err
	}

	switch cfg.Source.Type {
	case config.SourceSQS:
		s := cfg.Source
		d.fetcher, err = s3source.New(ctx, s3source.Options{
			Region: s.S3.Region, Endpoint: s.S3.Endpoint, PathStyle: s.S3.PathStyle, AllowedBuckets: s.S3.AllowedBuckets,
			ReadTimeout: s.S3.ReadTimeout, Concurrency: s.SQS.Workers,
		})
		if err != nil {
			return nil, fmt.Errorf("s3: %w", err)
		}
		d.consumer, err = sqssource.New(ctx, sqssource.Options{
			QueueURL: s.SQS.QueueURL, Region: s.SQS.Region, Endpoint: s.SQS.Endpoint, WaitTime: s.SQS.WaitTime,
			MaxMessages: s.SQS.MaxMessages, VisibilityTimeout: s.SQS.VisibilityTimeout, Workers: s.SQS.Workers,
			ShutdownGrace: opts.ShutdownGrace, Logger: d.log, Observer: sqsObserver{d.m},
		})
		if err != nil {
			return nil, fmt.Errorf("sqs: %w", err)
		}
	case config.SourceDir:
		d.dir, err = dirsource.New(dirsource.Options{Dir: cfg.Source.Dir.Path, Watch: cfg.Source.Dir.Watch, Logger: d.log})
		if err != nil {
			return nil, fmt.Errorf("source.dir: %w", err)
		}
		// Files are read one at a time; use the cores inside each file.
		d.evalWorkers = 0
	default:
		return nil, fmt.Errorf("unknown source type %q", cfg.Source.Type)
	}
	return d, nil
}

func (d *Daemon) buildEngine(ctx context.Context) (*engine.Engine, error) {
	return engine.New(ctx,
		engine.WithPacks(d.cfg.Rules.Packs...),
		engine.WithPolicyPaths(d.cfg.Rules.Paths...),
		engine.WithData(d.cfg.Rules.Data),
	)
}

func (d *Daemon) noteEngine(e *engine.Engine) {
	d.m.rulesLoaded.Set(float64(len(e.Rules())))
	for _, w := range e.Warnings() {
		d.log.Warn("policies", "warning", w)
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
// left for redelivery.
func (d *Daemon) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", d.cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen: %w", err)
	}
	srv := &http.Server{Handler: d.mux(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("metrics server", "error", err)
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	d.log.Info("trailguard started", "source", d.cfg.Source.Type, "listen", ln.Addr().String(), "rules", len(d.engines.Engine().Rules()))
	if d.opts.Ready != nil {
		d.opts.Ready(ln.Addr().String())
	}

	// The helpers end with the source: a dir source without watch returns
	// once the files are read, before ctx is done.
	hctx, stopHelpers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); d.watchPolicies(hctx) }()
	go func() { defer wg.Done(); d.notify.run(hctx) }()
	defer func() {
		stopHelpers()
		wg.Wait()
	}()

	switch d.cfg.Source.Type {
	case config.SourceSQS:
		err = d.consumer.Run(ctx, func(ctx context.Context, m *sqssource.Message) error {
			return d.handleMessage(ctx, m.ID, m.Body)
		})
	case config.SourceDir:
		err = d.dir.Run(ctx, d.processFile)
	}
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
	if d.consumer != nil {
		if err := d.consumer.Healthy(); err != nil {
			problems = append(problems, "sqs: "+err.Error())
		}
	}
	problems = append(problems, d.notify.problems()...)
	return problems
}

// sqsObserver counts what the consumer does.
type sqsObserver struct{ m *metrics }

func (o sqsObserver) Received(n int) { o.m.messagesReceived.Add(float64(n)) }
func (o sqsObserver) Deleted(*sqssource.Message, time.Duration) {
	o.m.messagesDeleted.Inc()
}
func (o sqsObserver) Failed(_ *sqssource.Message, err error) {
	reason := "error"
	if errors.Is(err, errRefused) {
		reason = "refused"
	}
	o.m.messagesFailed.WithLabelValues(reason).Inc()
}
func (o sqsObserver) VisibilityExtended(*sqssource.Message) { o.m.visibilityExtend.Inc() }
func (o sqsObserver) ReceiveError(error)                    { o.m.receiveErrors.Inc() }
func (o sqsObserver) CallError(op string, _ *sqssource.Message, _ error) {
	o.m.sqsCallErrors.WithLabelValues(op).Inc()
}
