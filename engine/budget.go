package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// ErrEvalTimeout says that a rule was still running when its record's
// evaluation budget (WithEvalTimeout) ran out, and was cancelled.
var ErrEvalTimeout = errors.New("evaluation budget exceeded")

// overrunGrace is how long past its budget an evaluation may go on before
// Overruns counts it: OPA notices a cancellation between two evaluation steps,
// within microseconds, unless a builtin is busy in one long call.
const overrunGrace = time.Second

// WithEvalTimeout bounds each record's evaluation; 0 (the default) means no
// bound. A rule still running past it is cancelled through OPA's cancellation
// and named in the *EvalError (TimedOut), and the record's other rules are
// evaluated one by one, each with its own budget, so that only the slow rule's
// alerts are missing.
func WithEvalTimeout(d time.Duration) Option {
	return func(o *options) { o.evalTimeout = d }
}

// WithOverruns has the engine count in o its evaluations still running
// overrunGrace past their budget. Give every engine of a Reloader the same
// one, so that evaluations stuck in an engine reloaded away stay counted.
func WithOverruns(o *Overruns) Option {
	return func(opts *options) { opts.overruns = o }
}

// Overruns counts evaluations that went on past their budget without
// returning: stuck in a builtin that does not look at the cancellation. They
// hold a worker each, so the daemon reports them on /readyz.
type Overruns struct{ n atomic.Int64 }

// Running is how many evaluations are overrunning now.
func (o *Overruns) Running() int64 { return o.n.Load() }

// eval runs one prepared query against a record within the engine's budget.
// An evaluation cut short by the budget returns an error wrapping
// ErrEvalTimeout (never ctx's own error: callers check ctx for that).
func (e *Engine) eval(ctx context.Context, pq rego.PreparedEvalQuery, v ast.Value) (rego.ResultSet, error) {
	// The cancellation is the engine's, not OPA's: left to itself OPA starts
	// a goroutine per evaluation to watch the context (and the budget needs a
	// context with a timer of its own), and collects metrics nobody reads;
	// together 1.4-4 µs of an evaluation of 44-53 µs (BenchmarkQueryOverhead).
	// A timer and a callback on the caller's context cancel the query
	// instead.
	c := topdown.NewCancel()
	defer context.AfterFunc(ctx, c.Cancel)()
	timedOut, stop := e.budget(c)
	defer stop()
	rs, err := pq.Eval(ctx, rego.EvalParsedInput(v), rego.EvalExternalCancel(c), rego.EvalMetrics(noMetrics))
	if err != nil && ctx.Err() == nil && timedOut.Load() {
		return nil, errors.Join(ErrEvalTimeout, err)
	}
	return rs, err
}

// budget cancels c when the record's budget (if any) runs out, and has
// Overruns count an evaluation that goes on past it; stop ends the watch.
func (e *Engine) budget(c topdown.Cancel) (timedOut *atomic.Bool, stop func()) {
	timedOut = new(atomic.Bool)
	if e.evalTimeout <= 0 {
		return timedOut, func() {}
	}
	t := time.AfterFunc(e.evalTimeout, func() {
		timedOut.Store(true)
		c.Cancel()
	})
	endOverrun := func() {}
	if e.overruns != nil {
		endOverrun = e.watchOverrun()
	}
	return timedOut, func() {
		t.Stop()
		endOverrun()
	}
}

// noMetrics is where evaluations' metrics go: nowhere.
var noMetrics = metrics.NoOp()

// watchOverrun counts the evaluation in e.overruns while it runs past its
// budget and the grace; the function it returns ends the watch.
func (e *Engine) watchOverrun() func() {
	var (
		mu      sync.Mutex
		done    bool
		counted bool
	)
	t := time.AfterFunc(e.evalTimeout+overrunGrace, func() {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			counted = true
			e.overruns.n.Add(1)
		}
	})
	return func() {
		if t.Stop() {
			return // never fired
		}
		mu.Lock()
		defer mu.Unlock()
		done = true
		if counted {
			e.overruns.n.Add(-1)
		}
	}
}
