package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/rules"
)

const testHelp = "Runs the Rego unit tests (test_* rules in *_test.rego files) like `opa test`. With no DIR, the\n" +
	"built-in packs are tested; with DIRs, those policies are tested with the built-in helper library\n" +
	"(and the packs named by --packs). Exit 0: all passed; 1: a test failed; 2: policies do not compile."

func setupTest(flags *flag.FlagSet, std stdio) action {
	var pf policyFlags
	pf.register(flags)
	verbose := flags.Bool("v", false, "verbose: list every test, with print() output and traces of failures")
	filter := flags.String("run", "", "only run tests whose name matches this regular expression")
	return func(ctx context.Context, dirs []string) (int, error) {
		defaultPacks := rules.Packs()
		if len(dirs) > 0 {
			defaultPacks = nil
			pf.rules = append(pf.rules, dirs...)
		}
		opts := pf.options(defaultPacks)
		sum, err := engine.RunTests(ctx, std.out, engine.TestOptions{Verbose: *verbose, Filter: *filter}, opts...)
		if err != nil {
			return exitUsage, err
		}
		if sum.Passed+sum.Failed+sum.Errored == 0 {
			fmt.Fprintln(std.err, "no tests found")
			return exitBad, nil
		}
		if sum.Failed+sum.Errored > 0 {
			return exitBad, nil
		}
		return exitOK, nil
	}
}
