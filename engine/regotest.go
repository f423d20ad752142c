package engine

import (
	"context"
	"fmt"
	"io"

	"github.com/open-policy-agent/opa/v1/tester"
)

// TestSummary counts the outcome of a Rego test run.
type TestSummary struct {
	Passed, Failed, Errored, Skipped int
}

// TestOptions configures RunTests.
type TestOptions struct {
	Verbose bool   // print every test, with print() output and traces of failures
	Filter  string // regular expression on test names; empty runs all
}

// RunTests runs the Rego unit tests (rules whose name starts with test_) of the
// chosen packs and policy paths, like `opa test`, and writes a report to w:
// failures with file:row, print() output. The policies are compiled in strict
// mode, as the serving engine compiles them.
func RunTests(ctx context.Context, w io.Writer, topts TestOptions, opts ...Option) (TestSummary, error) {
	o := newOptions(opts)
	set, err := load(o, true)
	if err != nil {
		return TestSummary{}, err
	}
	pol := newPolicies(set)
	pol.compiler.WithEnablePrintStatements(true)
	runner := pol.testRunner().
		CapturePrintOutput(true).
		EnableTracing(topts.Verbose)
	if topts.Filter != "" {
		runner = runner.Filter(topts.Filter)
	}
	ch, err := runner.SetModules(set.modules).RunTests(ctx, nil)
	if err != nil {
		return TestSummary{}, policyErrorFrom(err)
	}
	var sum TestSummary
	counted := make(chan *tester.Result)
	go func() {
		defer close(counted)
		for r := range ch {
			switch {
			case r.Skip:
				sum.Skipped++
			case r.Error != nil:
				sum.Errored++
			case r.Fail:
				sum.Failed++
			default:
				sum.Passed++
			}
			counted <- r
		}
	}()
	rep := tester.PrettyReporter{Output: w, Verbose: topts.Verbose, FailureLine: true, LocalVars: topts.Verbose}
	if err := rep.Report(counted); err != nil {
		return sum, fmt.Errorf("report: %w", err)
	}
	return sum, nil
}
