package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"slices"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/daemon"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/rules"
)

const validateHelp = "Checks the configuration (with --config), compiles every policy and checks every rule's METADATA, reporting all problems at once with\n" +
	"file:row:col. Exit 0: valid (warnings may be printed); 2: problems."

func setupValidate(flags *flag.FlagSet, std stdio) action {
	var pf policyFlags
	pf.register(flags)
	cfgPath := flags.String("config", "", "configuration file to check too (its rules section adds to the flags)")
	return func(ctx context.Context, args []string) (int, error) {
		if len(args) > 0 {
			return exitUsage, usagef("unexpected arguments %q", args)
		}
		opts := pf.options(rules.Packs())
		var warnings, notes []string
		if *cfgPath != "" {
			cfg, err := config.Load(*cfgPath)
			if err != nil {
				return exitUsage, err
			}
			warnings = append(warnings, cfg.Warnings()...)
			notes = cfg.Notes()
			// Build every client run builds, offline, so that validate and
			// run agree on what can start.
			if err := daemon.Check(ctx, cfg); err != nil {
				return exitUsage, fmt.Errorf("%s: %w", *cfgPath, err)
			}
			opts = append(engine.FromConfig(cfg.Rules), pf.extraOptions()...)
		}
		eng, err := engine.New(ctx, opts...)
		if err != nil {
			return exitUsage, err
		}
		for _, w := range append(warnings, eng.Warnings()...) {
			fmt.Fprintln(std.err, "warning:", w)
		}
		for _, n := range append(notes, eng.Notes()...) {
			fmt.Fprintln(std.err, "note:", n)
		}
		fallbacks := eng.PlanAll()
		for _, id := range slices.Sorted(maps.Keys(fallbacks)) {
			fmt.Fprintf(std.err, "note: rule %s runs on OPA's evaluator, not from its plan: %v\n", id, fallbacks[id])
		}
		fmt.Fprintf(std.out, "ok: %d rules\n", len(eng.Rules()))
		return exitOK, nil
	}
}
