package dispatch

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/state"
)

// errNoThread is retryable: a repeat came before its window's first alert was
// posted (or recorded), and is posted into its thread when it comes back.
var errNoThread = errors.New("the dedup window's first alert is not posted yet; its repeat waits for the thread")

// threader is n as a Threader, when it threads and State can remember threads.
func (d *Dispatcher) threader(n notifiers.Notifier) (notifiers.Threader, state.Threads, bool) {
	t, ok := n.(notifiers.Threader)
	if !ok || !t.Threads() || d.dedupWindow == 0 {
		return nil, nil, false
	}
	th, ok := d.state.(state.Threads)
	return t, th, ok
}

// threadStage sends to notifiers that thread (see notifiers.Threader): a
// window's first alert opens the thread, whose reference is kept in State
// under the window and notifier, so that any replica posts the window's
// repeats (kindReply) into it. Other notifiers, and summaries, go on to send.
type threadStage struct {
	d    *Dispatcher
	send stage
}

func (s threadStage) exec(ctx context.Context, dl *delivery) (*delivery, error) {
	d := s.d
	t, threads, ok := d.threader(dl.notifier)
	if !ok || dl.window == "" || dl.kind == kindSummary {
		return s.send.exec(ctx, dl)
	}
	key := hash("thread", dl.group, dl.window, dl.notifier.Name())
	if dl.kind == kindReply {
		ref, err := waitThread(ctx, threads, key)
		if err != nil {
			return nil, err
		}
		// A reply given up on (the notifier's timeout) and posted late is
		// not marked: the redelivery may post it again, a repeat in a thread.
		if err := d.send(ctx, reply{t, ref, dl.repeats}, dl.alert, "", nil); err != nil {
			return nil, err
		}
		return dl, nil
	}
	// The note would count earlier windows' repeats, which their own threads
	// show.
	l := &lead{Threader: t}
	// A lead posted after its timeout has no reference to record: the
	// redelivery opens the thread again.
	if err := d.send(ctx, l, dl.alert, "", nil); err != nil {
		return nil, err
	}
	if err := threads.SetThread(ctx, key, l.ref, d.dedupWindow+d.pendingTTL); err != nil {
		// Sent, but the window's repeats could not find it: fail, so the
		// delivery is tried again (and the first alert posted again).
		return nil, fmt.Errorf("record the dedup thread: %w", err)
	}
	return dl, nil
}

// threadWait is how long a repeat waits for its window's first alert to be
// posted: the records of one log are evaluated, and their alerts dispatched,
// concurrently, so a repeat often overtakes its lead by a moment.
var threadWait = 10 * time.Second

// waitThread returns the thread recorded under key, polling for up to
// threadWait; errNoThread when there is none by then.
func waitThread(ctx context.Context, threads state.Threads, key string) (string, error) {
	deadline := time.Now().Add(threadWait)
	for {
		ref, err := threads.Thread(ctx, key)
		if err != nil {
			return "", fmt.Errorf("dedup thread: %w", err)
		}
		if ref != "" {
			return ref, nil
		}
		if time.Now().Add(threadPoll).After(deadline) {
			return "", errNoThread
		}
		t := time.NewTimer(threadPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return "", fmt.Errorf("%w (stopped: %w)", errNoThread, context.Cause(ctx))
		}
	}
}

const threadPoll = 100 * time.Millisecond

// lead is a Threader whose Notify opens a thread and keeps its reference:
// what the dispatcher's retries call.
type lead struct {
	notifiers.Threader
	ref string
}

func (l *lead) Notify(ctx context.Context, a *alert.Alert, note string) (err error) {
	l.ref, err = l.NotifyLead(ctx, a, note)
	return err
}

// reply is a Threader whose Notify posts into a thread.
type reply struct {
	notifiers.Threader
	ref     string
	repeats int
}

func (r reply) Notify(ctx context.Context, a *alert.Alert, _ string) error {
	return r.NotifyReply(ctx, r.ref, a, r.repeats)
}
