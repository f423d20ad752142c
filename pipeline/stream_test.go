package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/pipeline"
)

// The alerts of a record are handed on as it is evaluated, not when its batch
// of records is full or evaluated whole: in a log that stalls after a few
// records (an S3 body that stops), their alerts come out during the stall.
// The records after the stall follow, in order.
func TestRunHandsAlertsOnDuringAStall(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithPacks("aws"))
	if err != nil {
		t.Fatal(err)
	}
	for _, early := range []int{1, 3, 20} {
		stall := make(chan struct{})
		alerts := make(chan string, 64)
		i := 0
		next := func() (cloudtrail.Record, error) {
			switch i {
			case early:
				<-stall // the input stops until the alerts before it were seen
			case early + 5:
				return cloudtrail.Record{}, io.EOF
			}
			i++
			return cloudtrail.Record{Raw: []byte(rootEvent(i-1, "ec2.amazonaws.com")), Source: "slow", Index: i - 1}, nil
		}
		done := make(chan error, 1)
		go func() {
			_, err := pipeline.RunRecords(ctx, eng, next, pipeline.Options{Workers: 2}, pipeline.Handler{
				Alert: func(_ context.Context, a *alert.Alert) error { alerts <- a.EventID; return nil },
			})
			done <- err
		}()
		var got []string
		timeout := time.After(10 * time.Second)
		for len(got) < early {
			select {
			case id := <-alerts:
				got = append(got, id)
			case <-timeout:
				close(stall)
				<-done
				t.Fatalf("early %d: %d alerts during the stall (%v), want %d before the log goes on", early, len(got), got, early)
			}
		}
		close(stall)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		close(alerts)
		for id := range alerts {
			got = append(got, id)
		}
		for j, id := range got {
			if want := fmt.Sprintf("e%d", j); id != want {
				t.Fatalf("early %d: alert %d is for %s, want %s (all: %v)", early, j, id, want, got)
			}
		}
		if len(got) != early+5 {
			t.Fatalf("early %d: %d alerts, want %d", early, len(got), early+5)
		}
	}
}
