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
	"sync/atomic"
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
	// Alert is called for each alert; an error stops the run and is returned,
	// unless ContinueOnAlertError is set.
	Alert func(ctx context.Context, a *alert.Alert) error
	// Borrows says that Alert keeps no pointer to an alert past its return
	// (a copy it may keep, and the strings in one: they are not reused). The
	// run then writes later records' alerts where earlier ones were, instead
	// of allocating each: with a noisy rule, allocating alerts was a tenth
	// of a log's time. trailguard eval's output sets it; the daemon does not
	// (a notifier that times out is abandoned, not stopped, and may still be
	// reading its alert).
	Borrows bool
	// ContinueOnAlertError makes an error from Alert fail that alert only: the
	// run goes on and hands every later alert to Alert too, and ends with an
	// *AlertsError. A daemon sets it so that one notifier that cannot deliver
	// does not keep the rest of a log's alerts from the others. RunAll
	// ignores it.
	ContinueOnAlertError bool
	// Error is told of each bad record or failed evaluation; the run goes on.
	Error func(err error)
	// Evaluated, if set, is called once per evaluated record with the time its
	// evaluation took (for metrics).
	Evaluated func(in *engine.Input, took time.Duration)
}

// AlertsError is Run's error when Handler.ContinueOnAlertError is set and
// Alert failed for some alerts. It unwraps to the first failure, so that
// errors.Is and errors.As see what the handler returned.
type AlertsError struct {
	Failed int   // alerts for which Alert failed
	Alerts int   // alerts handed to Alert
	First  error // the first failure
}

func (e *AlertsError) Error() string {
	if e.Failed == 1 {
		return e.First.Error()
	}
	return fmt.Sprintf("%d of %d alerts failed, the first: %v", e.Failed, e.Alerts, e.First)
}

func (e *AlertsError) Unwrap() error { return e.First }

// Records travel from the reader to the workers in batches, so that the
// hand-over costs little per record; but a batch is handed on as soon as no
// further record is ready within flushAfter, and each record's alerts come
// out as soon as it is evaluated, so an alert early in a slow (or stalled)
// log is not held back until its batch fills or is evaluated whole.
const (
	batchSize  = 16
	flushAfter = time.Millisecond
)

type item struct {
	rec    cloudtrail.Record
	err    error // a bad record, from the reader
	alerts []alert.Alert
	// buf holds alerts for its return to alertBufs (Handler.Borrows).
	buf   *[]alert.Alert
	evErr error
	skip  bool
	input *engine.Input
	took  time.Duration
}

type batch struct {
	items []item
	// evaluated counts the items done, in order; signal (capacity 1) wakes
	// the output loop after each.
	evaluated atomic.Int32
	signal    chan struct{}
}

// read is one result of next.
type read struct {
	rec cloudtrail.Record
	err error
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
	reads := make(chan read, 2*batchSize)
	jobs := make(chan *batch, workers)
	order := make(chan *batch, workers*2)
	var readErr error

	// Reader: one goroutine, since a log is a stream. It stops after a
	// fatal error or the end. (Each goroutine here runs under ctx's profiler
	// labels, so that a profile tells the callers' work apart.)
	gopool.Go(func() {
		defer gopool.Labelled(ctx)()
		defer close(reads)
		for {
			rec, err := next()
			if errors.Is(err, io.EOF) {
				return
			}
			select {
			case reads <- read{rec, err}:
			case <-ctx.Done():
				return
			}
			if err != nil && !isRecordErr(err) {
				return
			}
		}
	})

	// Batcher: groups what the reader has ready into batches for the
	// workers, and keeps their order for the output.
	gopool.Go(func() {
		defer gopool.Labelled(ctx)()
		defer close(jobs)
		defer close(order)
		// Wait for the reader (it is blocked in next at most until the
		// input ends or fails), so that the workers, and so RunRecords,
		// end after it.
		defer func() {
			for range reads {
			}
		}()
		flush := time.NewTimer(time.Hour)
		defer flush.Stop()
		for {
			var r read
			var ok bool
			select {
			case r, ok = <-reads:
			case <-ctx.Done():
				return
			}
			if !ok {
				return
			}
			b := &batch{signal: make(chan struct{}, 1)}
			last := false
			for {
				if r.err != nil && !isRecordErr(r.err) {
					readErr, last = r.err, true
					break
				}
				b.items = append(b.items, item{rec: r.rec, err: r.err})
				if len(b.items) == batchSize {
					break
				}
				// Take what is ready; else let the reader run (with one P it
				// cannot run beside us: a yield costs less than a timer and a
				// wake-up per record); else wait flushAfter at most for more.
				fired := false
				select {
				case r, ok = <-reads:
				default:
					runtime.Gosched()
					select {
					case r, ok = <-reads:
					default:
						flush.Reset(flushAfter)
						select {
						case r, ok = <-reads:
						case <-flush.C:
							fired = true // hand on what there is
						case <-ctx.Done():
							return
						}
					}
				}
				if fired {
					break
				}
				if !ok {
					last = true
					break
				}
			}
			if len(b.items) > 0 {
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
			}
			if last {
				return
			}
		}
	})

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		gopool.Go(func() {
			defer gopool.Labelled(ctx)()
			defer wg.Done()
			for b := range jobs {
				for i := range b.items {
					evaluate(ctx, eng, &b.items[i], sources, h.Borrows)
					b.evaluated.Store(int32(i + 1))
					select {
					case b.signal <- struct{}{}:
					default:
					}
				}
			}
		})
	}
	defer func() {
		cancel() // unblocks the reader and batcher, which then close jobs for the workers
		wg.Wait()
	}()

	var st Stats
	failed := &AlertsError{}
	for b := range order {
		for i := range b.items {
			for int(b.evaluated.Load()) <= i {
				select {
				case <-b.signal:
				case <-ctx.Done():
					return st, ctx.Err()
				}
			}
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
				it.input.Release() // nothing reads it after this
				it.input = nil
			}
			if it.evErr != nil {
				st.Errors++
				report(h, it.evErr)
			}
			for j := range it.alerts {
				st.Alerts++
				if h.Alert == nil {
					continue
				}
				failed.Alerts++
				err := h.Alert(ctx, &it.alerts[j])
				switch {
				case err == nil:
				case !h.ContinueOnAlertError || ctx.Err() != nil:
					return st, err
				default:
					failed.Failed++
					if failed.First == nil {
						failed.First = err
					}
				}
			}
			if h.Borrows {
				recycle(it)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	var alertsErr error
	if failed.Failed > 0 {
		alertsErr = failed
	}
	if readErr != nil {
		st.Errors++
		if alertsErr == nil {
			return st, readErr
		}
		return st, errors.Join(readErr, alertsErr)
	}
	return st, alertsErr
}

// alertBufs are alerts' slices given back once their alerts are handled
// (Handler.Borrows), for later records' alerts. What they still hold of
// their old alerts (strings, so records' bytes) is overwritten when they
// are used again, or dropped with them by the collector.
var alertBufs = sync.Pool{New: func() any { return new([]alert.Alert) }}

// maxRecycled bounds the slices kept: a record with many alerts is rare,
// and its slice would hold their records as long as it is pooled.
const maxRecycled = 16

// recycle gives the slice of it.alerts back, its alerts handled (it.buf
// is nil for a record that was not evaluated).
func recycle(it *item) {
	if it.buf == nil {
		return
	}
	*it.buf = it.alerts[:0]
	if cap(it.alerts) > maxRecycled {
		*it.buf = nil
	}
	alertBufs.Put(it.buf)
	it.buf, it.alerts = nil, nil
}

func evaluate(ctx context.Context, eng *engine.Engine, it *item, sources map[string]bool, borrows bool) {
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
		in.Release()
		it.skip = true
		return
	}
	it.input = in
	start := time.Now()
	var dst []alert.Alert
	if borrows {
		it.buf = alertBufs.Get().(*[]alert.Alert)
		dst = (*it.buf)[:0]
	}
	it.alerts, it.evErr = eng.AppendAlerts(ctx, dst, in)
	it.took = time.Since(start)
	if it.evErr != nil && ctx.Err() != nil {
		it.evErr = fmt.Errorf("%s: record %d: %w", it.rec.Source, it.rec.Index, ctx.Err())
	}
}

// isRecordErr says whether err concerns one record only, the input going on.
func isRecordErr(err error) bool {
	de, ok := errors.AsType[*cloudtrail.DecodeError](err)
	return ok && !de.Fatal
}

func report(h Handler, err error) {
	if h.Error != nil {
		h.Error(err)
	}
}
