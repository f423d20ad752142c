// Package gopool runs functions on goroutines kept from earlier ones.
//
// A new goroutine starts with a small stack. Evaluating Rego recurses deeply,
// and so does an AWS SDK call's middleware stack, so a fresh goroutine doing
// either grows its stack several times, copying it each time: profiles of the
// daemon and of eval showed about a tenth of all CPU time in that copying, as
// each log file and SQS message got new goroutines. A kept goroutine keeps its
// grown stack.
package gopool

import (
	"context"
	"runtime/pprof"
	"sync/atomic"
	"time"
)

// IdleTimeout is how long a kept goroutine waits for work before it exits, so
// that a burst leaves no goroutines behind for long.
const IdleTimeout = time.Minute

var (
	idle    = make(chan func()) // unbuffered: a send succeeds only if a goroutine waits
	waiting atomic.Int64
)

// Go runs f on a goroutine that is waiting for work, or on a new one.
func Go(f func()) {
	select {
	case idle <- f:
	default:
		go loop(f)
	}
}

// Labelled gives the calling goroutine the profiler labels of ctx
// (runtime/pprof) and returns what takes them off again. A kept goroutine
// otherwise carries the labels of the one that started it first, and a CPU
// profile would charge its later work to them:
//
//	gopool.Go(func() {
//		defer gopool.Labelled(ctx)()
//		…
//	})
func Labelled(ctx context.Context) func() {
	pprof.SetGoroutineLabels(ctx)
	return unlabel
}

func unlabel() { pprof.SetGoroutineLabels(context.Background()) }

// Idle is how many goroutines wait for work (for tests and metrics).
func Idle() int { return int(waiting.Load()) }

func loop(f func()) {
	t := time.NewTimer(IdleTimeout)
	defer t.Stop()
	for {
		f()
		f = nil // let f's captures go while waiting
		t.Reset(IdleTimeout)
		waiting.Add(1)
		select {
		case f = <-idle:
			waiting.Add(-1)
		case <-t.C:
			waiting.Add(-1)
			return
		}
	}
}
