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

func cmdValidate(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlagSet("validate", stderr)
	var pf policyFlags
	pf.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: trailguard validate [flags]\n\nCompiles every policy and checks every rule's METADATA, reporting all problems at once with\nfile:row:col. Exit 0: valid (warnings may be printed); 2: problems.\n\n")
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
	eng, err := engine.New(ctx, pf.options(rules.Packs())...)
	if err != nil {
		return exitUsage, err
	}
	for _, w := range eng.Warnings() {
		fmt.Fprintln(stderr, "warning:", w)
	}
	fmt.Fprintf(stdout, "ok: %d rules\n", len(eng.Rules()))
	return exitOK, nil
}
