package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard/sigma"
)

const sigmaHelp = "Prints the Rego module each Sigma rule (product: aws, service: cloudtrail) compiles to, formatted as opa fmt\n" +
	"formats it: what the engine runs. Every problem is reported with file:line. Exit 0: all converted; 1: some rule refused."

// setupSigma runs `trailguard sigma convert FILE|DIR...`. Its flags follow the
// word convert, so it parses them itself.
func setupSigma(_ *flag.FlagSet, std stdio) action {
	return func(_ context.Context, args []string) (int, error) {
		if len(args) == 0 || args[0] != "convert" {
			return exitUsage, usagef("usage: trailguard sigma convert [--placeholders FILE] FILE|DIR...")
		}
		fs := flag.NewFlagSet("trailguard sigma convert", flag.ContinueOnError)
		fs.SetOutput(std.err)
		placeholders := fs.String("placeholders", "", "YAML or JSON file mapping each expand placeholder to its list of values (data.sigma_placeholders)")
		fs.Usage = func() {
			fmt.Fprintf(std.err, "Usage: trailguard sigma convert [flags] FILE|DIR...\n\n%s\n\n", sigmaHelp)
			fs.PrintDefaults()
		}
		if err := fs.Parse(args[1:]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return exitOK, nil
			}
			return exitUsage, usageError{err}
		}
		if fs.NArg() == 0 {
			return exitUsage, usagef("name at least one Sigma rule file or directory")
		}
		var opts sigma.Options
		if *placeholders != "" {
			src, err := os.ReadFile(*placeholders)
			if err != nil {
				return exitUsage, err
			}
			if err := yaml.Unmarshal(src, &opts.Placeholders); err != nil {
				return exitUsage, fmt.Errorf("%s: want a mapping of names to lists of strings: %w", *placeholders, err)
			}
		}
		if err := sigma.Convert(std.out, fs.Args(), opts); err != nil {
			return exitBad, err
		}
		return exitOK, nil
	}
}
