// Package pipeline reads one CloudTrail log through the engine: records are
// decoded by one goroutine, evaluated by several, and their alerts and errors
// come out in the order of the records.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/internal/gopool"
)

// Options tune a run. The zero value is usable.
type Options struct {
	// Workers evaluating records in parallel, per log; default GOMAXPROCS.
	Workers int
	// Files is how many logs RunAll reads at once; default GOMAXPROCS. With
	// more than one, Handler.Evaluated may be called from several goroutines
	// at once (Alert and Error never are).
	Files int
	// Limits for reading the log.
	Limits cloudtrail.Limits
	// EventSources, when not empty, keeps only events from these services
	// (e.g. opsworks-cm.amazonaws.com); the others are counted as filtered.
	EventSources []string
}

// Stats count what a run saw.
type Stats struct {
	Records   int // records read
	Evaluated int // records evaluated (read minus filtered and bad)
	Filtered  int // records skipped by EventSources
	Alerts    int
	Errors    int // bad records and evaluation errors, each reported
}

// Add sums two Stats.
func (s *Stats) Add(o Stats) {
	s.Records += o.Records
	s.Evaluated += o.Evaluated
	s.Filtered += o.Filtered
	s.Alerts += o.Alerts
	s.Errors += o.Errors
}

// Handler receives a run's output, in record order, from one goroutine.
type Handler struct {
	// Alert is called for each alert; an error stops the run and is returned.
	Alert func(ctx context.Context, a *alert.Alert) error
	// Error is told of each bad record or failed evaluation; the run goes on.
	Error func(err error)
	// Evaluated, if set, is called once per evaluated record with the time its
	// evaluation took (for metrics).
	Evaluated func(in *engine.Input, took time.Duration)
}

const batchSize = 16

type item struct {
	rec    cloudtrail.Record
	err    error // a bad record, from the reader
	alerts []alert.Alert
	evErr  error
	skip   bool
	input  *engine.Input
	took   time.Duration
}

type batch struct {
	items []item
	done  chan struct{}
}

// Run reads src (named source in errors) and evaluates every record with eng.
// It returns when the input is read to its end, when the input turns out
// unreadable (a fatal *cloudtrail.DecodeError, an I/O error) or when a handler
// or ctx says stop; the Stats count what was done up to then.
func Run(ctx context.Context, eng *engine.Engine, src io.Reader, source string, opts Options, h Handler) (Stats, error) {
	rd, err := cloudtrail.NewReader(src, source, opts.Limits)
	if err != nil {
		return Stats{Errors: 1}, err
	}
	defer rd.Close()
	// The reader only finds record boundaries; the workers check each record's
	// JSON as the engine decodes it (engine.DecodeRecord), so that work spreads
	// over the cores and is done once, with the reader's error message.
	rd.Unchecked()
	return RunRecords(ctx, eng, rd.Next, opts, h)
}

// RunRecords is Run over any record source (next returns io.EOF at the end, and
// non-fatal *cloudtrail.DecodeError for a bad record). Records need not have
// been checked (cloudtrail.Check): invalid JSON is reported as the reader
// would report it.
func RunRecords(ctx context.Context, eng *engine.Engine, next func() (cloudtrail.Record, error), opts Options, h Handler) (Stats, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var sources map[string]bool
	if len(opts.EventSources) > 0 {
		sources = map[string]bool{}
		for _, s := range opts.EventSources {
			sources[s] = true
		}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *batch, workers)
	order := make(chan *batch, workers*2)
	var readErr error

	// Reader: one goroutine, since a log is a stream.
	gopool.Go(func() {
		defer close(jobs)
		defer close(order)
		for {
			b := &batch{done: make(chan struct{})}
			for len(b.items) < batchSize {
				rec, err := next()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					var de *cloudtrail.DecodeError
					if errors.As(err, &de) && !de.Fatal {
						b.items = append(b.items, item{err: err})
						continue
					}
					readErr = err
					break
				}
				b.items = append(b.items, item{rec: rec})
			}
			if len(b.items) == 0 {
				return
			}
			select {
			case order <- b:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- b:
			case <-ctx.Done():
				return
			}
			if readErr != nil || len(b.items) < batchSize {
				return
			}
		}
	})

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		gopool.Go(func() {
			defer wg.Done()
			for b := range jobs {
				for i := range b.items {
					evaluate(ctx, eng, &b.items[i], sources)
				}
				close(b.done)
			}
		})
	}
	defer func() {
		cancel() // unblocks the reader, which then closes jobs for the workers
		wg.Wait()
	}()

	var st Stats
	for b := range order {
		select {
		case <-b.done:
		case <-ctx.Done():
			return st, ctx.Err()
		}
		for i := range b.items {
			it := &b.items[i]
			if it.err != nil {
				st.Records++
				st.Errors++
				report(h, it.err)
				continue
			}
			st.Records++
			if it.skip {
				st.Filtered++
				continue
			}
			if it.input != nil {
				st.Evaluated++
				if h.Evaluated != nil {
					h.Evaluated(it.input, it.took)
				}
			}
			if it.evErr != nil {
				st.Errors++
				report(h, it.evErr)
			}
			for j := range it.alerts {
				st.Alerts++
				if h.Alert != nil {
					if err := h.Alert(ctx, &it.alerts[j]); err != nil {
						return st, err
					}
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if readErr != nil {
		st.Errors++
		return st, readErr
	}
	return st, nil
}

func evaluate(ctx context.Context, eng *engine.Engine, it *item, sources map[string]bool) {
	if it.err != nil || ctx.Err() != nil {
		return
	}
	cloudtrail.Unwrap(&it.rec)
	in, err := eng.DecodeRecord(it.rec)
	if err != nil {
		if _, bad := errors.AsType[*cloudtrail.DecodeError](err); bad {
			it.err = err // not valid JSON, reported where and as the reader reports it
			return
		}
		it.evErr = err
		return
	}
	if sources != nil && !sources[in.EventSource()] {
		it.skip = true
		return
	}
	it.input = in
	start := time.Now()
	it.alerts, it.evErr = eng.EvaluateInput(ctx, in)
	it.took = time.Since(start)
	if it.evErr != nil && ctx.Err() != nil {
		it.evErr = fmt.Errorf("%s: record %d: %w", it.rec.Source, it.rec.Index, ctx.Err())
	}
}

func report(h Handler, err error) {
	if h.Error != nil {
		h.Error(err)
	}
}
