package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/rules"
)

func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlagSet("validate", stderr)
	var pf policyFlags
	pf.register(fs)
	cfgPath := fs.String("config", "", "configuration file to check too (its rules section adds to the flags)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: trailguard validate [flags]\n\nChecks the configuration (with --config), compiles every policy and checks every rule's METADATA, reporting all problems at once with\nfile:row:col. Exit 0: valid (warnings may be printed); 2: problems.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	if fs.NArg() > 0 {
		return exitUsage, usagef("unexpected arguments %q", fs.Args())
	}
	opts := pf.options(rules.Packs())
	var warnings []string
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath)
		if err != nil {
			return exitUsage, err
		}
		warnings = append(warnings, cfg.Warnings()...)
		opts = append(engineOptions(cfg), pf.extraOptions()...)
	}
	eng, err := engine.New(ctx, opts...)
	if err != nil {
		return exitUsage, err
	}
	for _, w := range append(warnings, eng.Warnings()...) {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "ok: %d rules\n", len(eng.Rules()))
	return exitOK, nil
}
