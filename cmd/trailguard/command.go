package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand of trailguard. Each lives in its own file and is
// listed once in commands; everything they share (the flag set, -h, usage
// errors, trailguard's own usage) is done here.
type command struct {
	name    string
	aliases []string
	args    string // what follows the name in usages, e.g. "[flags] [FILE|DIR|-]..."
	summary string // the command's line in trailguard's usage
	help    string // the paragraph of `trailguard NAME -h`, before the flags
	// rawArgs: the arguments are not parsed as flags but handed over as they are.
	rawArgs bool
	// setup registers the command's flags and returns what runs once they are
	// parsed, with the arguments that are not flags.
	setup func(flags *flag.FlagSet, std stdio) action
}

// stdio is where a command reads and writes: the process's own, or a test's.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// action runs a command: it returns the exit code, and an error to print after
// "trailguard NAME: ". An error with exitOK exits with exitUsage.
type action func(ctx context.Context, args []string) (int, error)

// usageError marks errors in how trailguard was called (exit 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// lookup finds a command by name or alias.
func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
		for _, a := range c.aliases {
			if a == name {
				return c, true
			}
		}
	}
	return command{}, false
}

// run parses the command's flags and runs it.
func (c command) run(ctx context.Context, args []string, std stdio) (int, error) {
	flags := flag.NewFlagSet("trailguard "+c.name, flag.ContinueOnError)
	flags.SetOutput(std.err)
	act := c.setup(flags, std)
	if c.rawArgs {
		return act(ctx, args)
	}
	flags.Usage = func() {
		fmt.Fprintf(std.err, "Usage: trailguard %s %s\n\n%s\n\n", c.name, c.args, c.help)
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, nil
		}
		return exitUsage, usageError{err}
	}
	return act(ctx, flags.Args())
}

// usage is trailguard's own usage, listing the commands.
func usage() string {
	var b strings.Builder
	b.WriteString("trailguard watches AWS CloudTrail logs with Rego policies.\n\nUsage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  trailguard %-8s %-26s %s\n", c.name, c.args, c.summary)
	}
	b.WriteString("\nRun 'trailguard COMMAND -h' for a command's flags.\n")
	return b.String()
}
