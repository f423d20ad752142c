// Command trailguard watches AWS CloudTrail with Rego policies: `run` is the
// daemon; `eval`, `test` and `validate` are for policy authors.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes: 0 all well, 1 some input or test was bad, 2 usage or configuration error.
const (
	exitOK    = 0
	exitBad   = 1
	exitUsage = 2
)

const usage = `trailguard watches AWS CloudTrail logs with Rego policies.

Usage:
  trailguard run      [--config FILE]            run the daemon (default: bundled sample logs, alerts to stdout)
  trailguard eval     [flags] [FILE|DIR|-]...    evaluate log files and print alerts
  trailguard test     [flags] [DIR]...           run the Rego unit tests of the policies
  trailguard validate [flags]                    check the configuration and policies without running
  trailguard version                             print the version

Run 'trailguard COMMAND -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a subcommand; it is main without the process around it, so
// tests can call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	var err error
	code := exitOK
	switch cmd {
	case "run":
		code, err = cmdRun(ctx, rest, stdout, stderr)
	case "eval":
		code, err = cmdEval(ctx, rest, stdin, stdout, stderr)
	case "test":
		code, err = cmdTest(ctx, rest, stdout, stderr)
	case "validate":
		code, err = cmdValidate(ctx, rest, stdout, stderr)
	case "sigma":
		code, err = cmdSigma(ctx, rest, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, versionString())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "trailguard: unknown command %q\n\n%s", cmd, usage)
		return exitUsage
	}
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "trailguard %s: %v\n", cmd, err)
			return exitUsage
		}
		fmt.Fprintf(stderr, "trailguard %s: %v\n", cmd, err)
		if code == exitOK {
			code = exitUsage
		}
	}
	return code
}

// usageError marks errors in how trailguard was called (exit 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }
