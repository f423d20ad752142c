package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/rules"
)

func cmdTest(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlagSet("test", stderr)
	var pf policyFlags
	pf.register(fs)
	verbose := fs.Bool("v", false, "verbose: list every test, with print() output and traces of failures")
	run := fs.String("run", "", "only run tests whose name matches this regular expression")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: trailguard test [flags] [DIR]...\n\nRuns the Rego unit tests (test_* rules in *_test.rego files) like `opa test`. With no DIR, the\nbuilt-in packs are tested; with DIRs, those policies are tested with the built-in helper library\n(and the packs named by --packs). Exit 0: all passed; 1: a test failed; 2: policies do not compile.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	defaultPacks := rules.Packs()
	if fs.NArg() > 0 {
		defaultPacks = nil
		pf.rules = append(pf.rules, fs.Args()...)
	}
	opts := pf.options(defaultPacks)
	sum, err := engine.RunTests(ctx, stdout, engine.TestOptions{Verbose: *verbose, Filter: *run}, opts...)
	if err != nil {
		return exitUsage, err
	}
	if sum.Passed+sum.Failed+sum.Errored == 0 {
		fmt.Fprintln(stderr, "no tests found")
		return exitBad, nil
	}
	if sum.Failed+sum.Errored > 0 {
		return exitBad, nil
	}
	return exitOK, nil
}
