package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"gopkg.in/yaml.v3"

	"github.com/trailguard/trailguard/sigma"
)

// cmdSigma runs `trailguard sigma convert FILE|DIR...`: it prints the Rego
// module (with its METADATA) each Sigma rule compiles to, as the engine runs it.
func cmdSigma(_ context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 || args[0] != "convert" {
		return exitUsage, usagef("usage: trailguard sigma convert [--placeholders FILE] FILE|DIR...")
	}
	fs := newFlagSet("sigma convert", stderr)
	placeholders := fs.String("placeholders", "", "YAML or JSON file mapping each expand placeholder to its list of values (data.sigma_placeholders)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: trailguard sigma convert [flags] FILE|DIR...\n\nPrints the Rego module each Sigma rule (product: aws, service: cloudtrail) compiles to,\nformatted as opa fmt formats it. Every problem is reported with file:line. Exit 0: all converted; 1: some rule refused.\n\n")
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
	if err := sigma.Convert(stdout, fs.Args(), opts); err != nil {
		return exitBad, err
	}
	return exitOK, nil
}
