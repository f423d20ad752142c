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

	"github.com/trailguard/trailguard/source/lambda"
)

// Exit codes: 0 all well, 1 some input or test was bad, 2 usage or configuration error.
const (
	exitOK    = 0
	exitBad   = 1
	exitUsage = 2
)

// commands are trailguard's subcommands, in the order its usage lists them. A
// new one is a file with its help and setup function, and a line here.
var commands = []command{
	{name: "run", args: "[--config FILE]", summary: "run the daemon (default: bundled sample logs, alerts to stdout)", help: daemonHelp, setup: setupDaemon},
	{name: "eval", args: "[flags] [PATH|S3URL|-]...", summary: "evaluate log files or S3 objects and print alerts", help: evalHelp, setup: setupEval},
	{name: "test", args: "[flags] [DIR]...", summary: "run the Rego unit tests of the policies", help: testHelp, setup: setupTest},
	{name: "validate", args: "[flags]", summary: "check the configuration and policies without running", help: validateHelp, setup: setupValidate},
	{name: "lambda", args: "[--config FILE]", summary: "run as an AWS Lambda function behind an SQS trigger", help: lambdaHelp, setup: setupLambda},
	{name: "rules", args: "[flags]", summary: "list the loaded rules and their ATT&CK mapping, or a Navigator layer", help: rulesHelp, setup: setupRules},
	// `sigma convert` has flags of its own, after the word convert.
	{name: "sigma", args: "convert [--placeholders FILE] FILE|DIR...", summary: "print the Rego that Sigma rules compile to", help: sigmaHelp, rawArgs: true, setup: setupSigma},
	// `trailguard version ANYTHING` prints the version: its arguments are not flags.
	{name: "version", aliases: []string{"--version", "-version"}, summary: "print the version", rawArgs: true, setup: setupVersion},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	// Lambda starts the zip's bootstrap without arguments.
	if len(args) == 0 && os.Getenv(lambda.RuntimeAPIEnv) != "" {
		args = []string{"lambda"}
	}
	os.Exit(run(ctx, args, os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches a subcommand; it is main without the process around it, so
// tests can call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage())
		return exitOK
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "trailguard: unknown command %q\n\n%s", name, usage())
		return exitUsage
	}
	code, err := c.run(ctx, rest, stdio{in: stdin, out: stdout, err: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "trailguard %s: %v\n", name, err)
		if errors.As(err, new(usageError)) || code == exitOK {
			return exitUsage
		}
	}
	return code
}
