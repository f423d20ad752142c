package engine

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

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
	// OPA runs the tests in no fixed order; the report lists them by file,
	// then line, so two runs can be compared. All results are in before the
	// report starts, which costs nothing here: the reporter prints the
	// failures' details only at the end anyway.
	var sum TestSummary
	var results []*tester.Result
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
		results = append(results, r)
	}
	slices.SortStableFunc(results, compareTests)
	counted := make(chan *tester.Result, len(results))
	for _, r := range results {
		counted <- r
	}
	close(counted)
	rep := tester.PrettyReporter{Output: w, Verbose: topts.Verbose, FailureLine: true, LocalVars: topts.Verbose}
	if err := rep.Report(counted); err != nil {
		return sum, fmt.Errorf("report: %w", err)
	}
	return sum, nil
}

// compareTests orders test results by file, line and name; results without a
// location come last.
func compareTests(a, b *tester.Result) int {
	if a.Location == nil || b.Location == nil {
		return cmp.Compare(boolInt(a.Location == nil), boolInt(b.Location == nil))
	}
	return cmp.Or(strings.Compare(a.Location.File, b.Location.File), cmp.Compare(a.Location.Row, b.Location.Row),
		strings.Compare(a.Package+"."+a.Name, b.Package+"."+b.Name))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
