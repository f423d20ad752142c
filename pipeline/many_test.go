package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/pipeline"
)

// manyInputs is a mix of logs of very different lengths (so that later ones
// finish first), bad records, an input that cannot be opened and a truncated one.
func manyInputs() []pipeline.Input {
	var ins []pipeline.Input
	for i := range 12 {
		name := fmt.Sprintf("log%02d.json", i)
		var body string
		switch i {
		case 3:
			ins = append(ins, pipeline.Input{Name: name, Open: func() (io.ReadCloser, error) { return nil, os.ErrNotExist }})
			continue
		case 7:
			body = `{"Records":[` + rootEvent(700, "x") + `,{"eventID":`
		default:
			n := 150
			if i%2 == 1 {
				n = 3
			}
			body = strings.ReplaceAll(log(n, 50), `"eventID":"e`, fmt.Sprintf(`"eventID":"%s-e`, name))
		}
		ins = append(ins, pipeline.Input{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }})
	}
	return ins
}

// runAll records everything RunAll hands on, in the order it comes.
func runAll(t *testing.T, eng *engine.Engine, files int) []string {
	t.Helper()
	var out []string
	err := pipeline.RunAll(context.Background(), eng, manyInputs(), pipeline.Options{Files: files, Workers: 2}, pipeline.Handler{
		Alert: func(_ context.Context, a *alert.Alert) error { out = append(out, "alert "+a.EventID); return nil },
		Error: func(err error) { out = append(out, "error "+err.Error()) },
	}, func(in pipeline.Input, st pipeline.Stats, err error) {
		out = append(out, fmt.Sprintf("done %s %+v %v", in.Name, st, err))
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Several files at once give exactly the output of one file after another.
func TestRunAllKeepsInputOrder(t *testing.T) {
	eng, err := engine.New(context.Background(), engine.WithPacks("aws"))
	if err != nil {
		t.Fatal(err)
	}
	want := runAll(t, eng, 1)
	if n := len(want); n < 700 {
		t.Fatalf("only %d lines of output", n)
	}
	for _, line := range []string{"done log03.json {Records:0 Evaluated:0 Filtered:0 Alerts:0 Errors:1} file does not exist",
		"error log00.json:"} {
		if !slices.ContainsFunc(want, func(s string) bool { return strings.HasPrefix(s, line) }) {
			t.Errorf("no line starting %q", line)
		}
	}
	for _, files := range []int{2, 3, 8, 50} {
		for range 2 {
			if got := runAll(t, eng, files); !slices.Equal(got, want) {
				i := 0
				for i < min(len(got), len(want)) && got[i] == want[i] {
					i++
				}
				t.Fatalf("files %d: output differs from one at a time at line %d of %d/%d:\n got %q\nwant %q",
					files, i, len(got), len(want), got[min(i, len(got)-1)], want[min(i, len(want)-1)])
			}
		}
	}
}

// A failing alert handler stops every input and is the error returned.
func TestRunAllStopsOnHandlerError(t *testing.T) {
	eng, err := engine.New(context.Background(), engine.WithPacks("aws"))
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stdout closed")
	calls, dones := 0, 0
	err = pipeline.RunAll(context.Background(), eng, manyInputs(), pipeline.Options{Files: 4}, pipeline.Handler{
		Alert: func(context.Context, *alert.Alert) error {
			calls++
			if calls == 200 {
				return stop
			}
			return nil
		},
	}, func(pipeline.Input, pipeline.Stats, error) { dones++ })
	if !errors.Is(err, stop) || calls != 200 || dones != 2 {
		t.Fatalf("got %v after %d alerts and %d inputs done; want %v after 200 and 2 (147 alerts in log00, 3 in log01)", err, calls, dones, stop)
	}
}

// Cancelling the context stops RunAll promptly with the context's error, even
// with inputs still queued and one of them blocked in a read.
func TestRunAllStopsOnCancel(t *testing.T) {
	eng, err := engine.New(context.Background(), engine.WithPacks("aws"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	blocked := make(chan struct{})
	ins := manyInputs()
	pr, pw := io.Pipe() // never written: the read blocks until the pipe is closed
	ins[2] = pipeline.Input{Name: "stuck.json", Open: func() (io.ReadCloser, error) {
		close(blocked)
		return pr, nil
	}}
	done := make(chan error, 1)
	go func() {
		done <- pipeline.RunAll(ctx, eng, ins, pipeline.Options{Files: 2}, pipeline.Handler{}, nil)
	}()
	<-blocked
	cancel()
	pw.CloseWithError(context.Canceled) // what an HTTP body does when its request's context ends
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("RunAll returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunAll did not return 10s after its context was cancelled")
	}
}
