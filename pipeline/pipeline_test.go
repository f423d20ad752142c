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

func rootEvent(i int, source string) string {
	return fmt.Sprintf(`{"eventID":"e%d","eventSource":%q,"eventName":"DescribeServers","eventTime":"2023-01-01T00:00:00Z","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}`, i, source)
}

// log builds a delivery file of n root events (each raises alerts), with a bad
// record at every badEvery-th position.
func log(n, badEvery int) string {
	var recs []string
	for i := range n {
		if badEvery > 0 && i%badEvery == badEvery-1 {
			recs = append(recs, `{"eventID":"bad",}`)
			continue
		}
		src := "ec2.amazonaws.com"
		if i%2 == 0 {
			src = "opsworks-cm.amazonaws.com"
		}
		recs = append(recs, rootEvent(i, src))
	}
	return `{"Records":[` + strings.Join(recs, ",\n") + `]}`
}

func TestRunKeepsOrderAndGoesOnAfterBadRecords(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithPacks("aws"))
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2, 7} {
		var got []string
		var errs []error
		st, err := pipeline.Run(ctx, eng, strings.NewReader(log(1000, 100)), "f.json", pipeline.Options{Workers: workers}, pipeline.Handler{
			Alert: func(_ context.Context, a *alert.Alert) error { got = append(got, a.EventID); return nil },
			Error: func(err error) { errs = append(errs, err) },
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != 1000 || st.Errors != 10 || st.Evaluated != 990 || st.Alerts != 990 || len(errs) != 10 {
			t.Fatalf("workers %d: stats %+v, %d errors", workers, st, len(errs))
		}
		// One aws.root_usage alert per good record, in record order.
		n := 0
		for i := range 1000 {
			if i%100 == 99 {
				continue
			}
			if got[n] != fmt.Sprintf("e%d", i) {
				t.Fatalf("workers %d: alert %d is for %s, want e%d", workers, n, got[n], i)
			}
			n++
		}
		if !strings.Contains(errs[0].Error(), "f.json:") || !strings.Contains(errs[0].Error(), "record 99") {
			t.Errorf("error does not locate the record: %v", errs[0])
		}
	}
}

func TestRunFilterAndStop(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithPacks("aws"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := pipeline.Run(ctx, eng, strings.NewReader(log(100, 0)), "f", pipeline.Options{EventSources: []string{"opsworks-cm.amazonaws.com"}}, pipeline.Handler{})
	if err != nil || st.Filtered != 50 || st.Evaluated != 50 || st.Alerts != 50 {
		t.Fatalf("filter: %+v %v", st, err)
	}

	stop := errors.New("notifier down")
	calls := 0
	_, err = pipeline.Run(ctx, eng, strings.NewReader(log(1000, 0)), "f", pipeline.Options{Workers: 2}, pipeline.Handler{
		Alert: func(context.Context, *alert.Alert) error {
			calls++
			if calls == 3 {
				return stop
			}
			return nil
		},
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Fatalf("handler error: %v after %d calls", err, calls)
	}

	// An unreadable input ends the run with its error, after what was read.
	st, err = pipeline.Run(ctx, eng, strings.NewReader(`{"Records":[`+rootEvent(1, "x")+`,{"eventID":`), "trunc.json", pipeline.Options{}, pipeline.Handler{})
	if err == nil || !strings.Contains(err.Error(), "trunc.json") || st.Alerts != 1 {
		t.Fatalf("truncated: %+v %v", st, err)
	}
}
