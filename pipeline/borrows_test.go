package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/pipeline"
)

// TestBorrows: a handler that borrows its alerts (Handler.Borrows) gets each
// alert right when it is called, for every record, in order, with any number
// of workers and through RunAll's sequencer, while the memory of handled
// alerts is written again for later ones; a handler that does not borrow
// may keep every alert it is given, and each stays as it was.
func TestBorrows(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithPacks("aws"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	want := func(i int) string { return fmt.Sprintf("e%d", i) }
	for _, workers := range []int{1, 3} {
		for _, borrows := range []bool{true, false} {
			name := fmt.Sprintf("workers %d, borrows %v", workers, borrows)
			var kept []*alert.Alert
			var got []string
			at := map[*alert.Alert]int{} // how often each address was handed over
			h := pipeline.Handler{
				Borrows: borrows,
				Alert: func(_ context.Context, a *alert.Alert) error {
					got = append(got, a.EventID+" "+a.RuleID+" "+a.Principal)
					kept = append(kept, a)
					at[a]++
					return nil
				},
			}
			ins := []pipeline.Input{
				{Name: "a.json", Open: openString(log(n, 0))},
				{Name: "b.json", Open: openString(log(n, 0))},
			}
			err := pipeline.RunAll(ctx, eng, ins, pipeline.Options{Workers: workers, Files: 2}, h, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2*n {
				t.Fatalf("%s: %d alerts, want %d", name, len(got), 2*n)
			}
			for i, g := range got {
				if w := want(i%n) + " aws.root_usage arn:aws:iam::1:root"; g != w {
					t.Fatalf("%s: alert %d is %q when handed over, want %q", name, i, g, w)
				}
			}
			if borrows {
				if len(at) >= 2*n {
					t.Errorf("%s: %d alerts in %d places: their memory was not written again", name, 2*n, len(at))
				}
				continue
			}
			if len(at) != 2*n {
				t.Errorf("%s: %d alerts in %d places: an alert the handler keeps was written over", name, 2*n, len(at))
			}
			for i, a := range kept {
				if a.EventID != want(i%n) {
					t.Fatalf("%s: kept alert %d is now for %s, want %s", name, i, a.EventID, want(i%n))
				}
			}
		}
	}
}

func openString(s string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
}
