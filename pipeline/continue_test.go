package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/pipeline"
)

// With ContinueOnAlertError, an alert that fails does not keep the later
// alerts of the log from the handler: every one is handed on, and the run
// ends with an *AlertsError counting the failures and unwrapping to the first.
// An unreadable end of the input is reported beside it.
func TestContinueOnAlertError(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithPacks("aws"))
	if err != nil {
		t.Fatal(err)
	}
	first := errors.New("slack: invalid_auth")
	var got []string
	st, err := pipeline.Run(ctx, eng, strings.NewReader(log(100, 0)), "f.json", pipeline.Options{Workers: 3}, pipeline.Handler{
		ContinueOnAlertError: true,
		Alert: func(_ context.Context, a *alert.Alert) error {
			got = append(got, a.EventID)
			switch {
			case len(got) == 3:
				return first
			case len(got)%10 == 0:
				return fmt.Errorf("alert %s: %w", a.EventID, errors.ErrUnsupported)
			}
			return nil
		},
	})
	ae, ok := errors.AsType[*pipeline.AlertsError](err)
	if !ok {
		t.Fatalf("error %T %v, want *pipeline.AlertsError", err, err)
	}
	if ae.Failed != 11 || ae.Alerts != 100 || !errors.Is(err, first) || errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("AlertsError %+v (%v)", ae, err)
	}
	if !strings.HasPrefix(err.Error(), "11 of 100 alerts failed, the first: slack: invalid_auth") {
		t.Errorf("message %q", err)
	}
	if len(got) != 100 || st.Alerts != 100 || got[99] != "e99" {
		t.Fatalf("%d alerts handed on (stats %+v), last %v", len(got), st, got[len(got)-1])
	}

	// One failure reads as itself; a truncated end is reported with it.
	calls := 0
	_, err = pipeline.Run(ctx, eng, strings.NewReader(`{"Records":[`+rootEvent(1, "x")+`,`+rootEvent(2, "x")+`,{"eventID":`), "trunc.json",
		pipeline.Options{}, pipeline.Handler{ContinueOnAlertError: true, Alert: func(context.Context, *alert.Alert) error {
			calls++
			if calls == 1 {
				return first
			}
			return nil
		}})
	if calls != 2 || !errors.Is(err, first) || !strings.Contains(err.Error(), "trunc.json") ||
		!strings.Contains(err.Error(), "\nslack: invalid_auth") {
		t.Fatalf("%d calls, error %v", calls, err)
	}

	// A cancelled run stops at once, as without the option.
	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	_, err = pipeline.Run(cctx, eng, strings.NewReader(log(1000, 0)), "f", pipeline.Options{Workers: 2}, pipeline.Handler{
		ContinueOnAlertError: true,
		Alert: func(ctx context.Context, _ *alert.Alert) error {
			calls++
			if calls == 5 {
				cancel()
				return ctx.Err()
			}
			return nil
		},
	})
	if !errors.Is(err, context.Canceled) || calls != 5 {
		t.Fatalf("cancelled: %v after %d calls", err, calls)
	}
}
