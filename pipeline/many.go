package pipeline

import (
	"context"
	"io"
	"runtime"
	"sync"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/internal/gopool"
)

// Input is one log for RunAll: a name for messages and a way to open it.
type Input struct {
	Name string
	Open func() (io.ReadCloser, error)
}

// RunAll runs each input through Run, up to opts.Files at a time, and hands
// their output to h as if they had run one after another: every alert and
// error of an input comes after those of the inputs before it. done, if not
// nil, is called once per input, in order, after its output, with its Stats
// and the error that ended it (an unreadable input does not stop the others).
//
// CloudTrail writes many small files (one per account, region and five
// minutes, typically tens of records), and one file is too short a stream to
// keep several cores busy: its gunzip and record scan run in one goroutine
// and it ends before the workers have much to share. Several files at once
// use the cores; the ordering keeps the output the same as reading them in
// turn.
//
// RunAll stops early, with the error, when h.Alert fails or ctx ends; the
// inputs not yet reported to done are then not reported.
func RunAll(ctx context.Context, eng *engine.Engine, inputs []Input, opts Options, h Handler, done func(in Input, st Stats, err error)) error {
	par := opts.Files
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s := &sequencer{h: h, done: done, inputs: inputs, outs: make([]inputOut, len(inputs)), cancel: cancel}
	s.cond = sync.NewCond(&s.mu)
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()

	// An input starts only within a window of the one whose output is being
	// handed on, so that one slow input cannot make all the others' alerts
	// pile up in memory behind it. The window is wide because delivery files
	// vary in length (a quiet region's few records, a busy one's thousands):
	// with a narrow one, the cores would wait for each long file in turn.
	window := 16 * par
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i, in := range inputs {
		s.mu.Lock()
		for i-s.turn >= window && ctx.Err() == nil {
			s.cond.Wait()
		}
		s.mu.Unlock()
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		gopool.Go(func() {
			defer gopool.Labelled(ctx)()
			defer wg.Done()
			defer func() { <-sem }()
			st, err := runInput(ctx, eng, in, opts, s.handler(i))
			s.finish(i, st, err)
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}

func runInput(ctx context.Context, eng *engine.Engine, in Input, opts Options, h Handler) (Stats, error) {
	rc, err := in.Open()
	if err != nil {
		return Stats{Errors: 1}, err
	}
	defer rc.Close()
	return Run(ctx, eng, rc, in.Name, opts, h)
}

// sequencer passes the inputs' output on in input order. The input whose turn
// it is writes straight through; the others queue theirs until their turn.
type sequencer struct {
	mu     sync.Mutex
	cond   *sync.Cond
	h      Handler
	done   func(Input, Stats, error)
	inputs []Input
	outs   []inputOut
	turn   int // the input whose output is being handed on
	cancel context.CancelCauseFunc
	failed bool // h.Alert failed: nothing more is handed on
}

type inputOut struct {
	queued   []func() error
	finished bool
	st       Stats
	err      error
}

// handler is the Handler input i runs with.
func (s *sequencer) handler(i int) Handler {
	// emit runs now if it is input i's turn to output, and otherwise queues
	// what later makes: a copy of anything the caller may reuse once emit
	// returns (an alert is copied only when it waits).
	emit := func(now func() error, later func() func() error) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.failed {
			return context.Canceled
		}
		if s.turn != i {
			s.outs[i].queued = append(s.outs[i].queued, later())
			return nil
		}
		return s.call(now)
	}
	// An alert whose turn has not come is copied (later), so that this
	// handler borrows its alerts whenever s.h does.
	h := Handler{Borrows: s.h.Borrows}
	if s.h.Alert != nil {
		h.Alert = func(ctx context.Context, a *alert.Alert) error {
			return emit(func() error { return s.h.Alert(ctx, a) }, func() func() error {
				c := *a
				return func() error { return s.h.Alert(ctx, &c) }
			})
		}
	}
	if s.h.Error != nil {
		h.Error = func(err error) {
			f := func() error { s.h.Error(err); return nil }
			_ = emit(f, func() func() error { return f })
		}
	}
	if s.h.Evaluated != nil {
		h.Evaluated = s.h.Evaluated // for metrics: order does not matter (see Options.Files)
	}
	return h
}

// call runs one piece of output with s.mu held; a failure stops everything.
func (s *sequencer) call(f func() error) error {
	if err := f(); err != nil {
		s.failed = true
		s.cancel(err)
		return err
	}
	return nil
}

// finish records that input i ended and, if it was its turn, hands on the
// queued output of the inputs after it that are ready.
func (s *sequencer) finish(i int, st Stats, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outs[i].finished, s.outs[i].st, s.outs[i].err = true, st, err
	for s.turn < len(s.outs) && !s.failed {
		o := &s.outs[s.turn]
		for len(o.queued) > 0 && !s.failed {
			f := o.queued[0]
			o.queued = o.queued[1:]
			_ = s.call(f)
		}
		if !o.finished || s.failed {
			break
		}
		if s.done != nil {
			s.done(s.inputs[s.turn], o.st, o.err)
		}
		*o = inputOut{}
		s.turn++
		s.cond.Broadcast()
	}
}
