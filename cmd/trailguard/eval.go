package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/pipeline"
	"github.com/trailguard/trailguard/rules"
	dirsource "github.com/trailguard/trailguard/source/dir"
)

const evalHelp = "Evaluates CloudTrail logs (delivery files, arrays, NDJSON, single records, EventBridge events;\n" +
	"gzip or not) against the policies and prints one alert per line. Directories are read recursively;\n" +
	"no argument or - reads standard input. Exit 0: all input read; 1: some input was bad; 2: usage."

func setupEval(flags *flag.FlagSet, std stdio) action {
	var f evalFlags
	f.policy.register(flags)
	flags.StringVar(&f.format, "format", "json", "output format: json (one alert per line) or text")
	flags.IntVar(&f.workers, "workers", 0, "records of one file evaluated in parallel (default GOMAXPROCS)")
	flags.IntVar(&f.files, "files", 0, "files read at once; output stays in file order (default GOMAXPROCS)")
	flags.Var(&f.sources, "event-source", "only evaluate events of this eventSource (repeatable)")
	flags.StringVar(&f.state, "state", "", "SQLite file keeping stateful rules' counts and baselines from one run to the next (default: start empty, in memory)")
	return func(ctx context.Context, inputs []string) (int, error) {
		return evaluate(ctx, std, &f, inputs)
	}
}

type evalFlags struct {
	policy         policyFlags
	format         string
	workers, files int
	sources        listFlag
	state          string
}

func evaluate(ctx context.Context, std stdio, f *evalFlags, inputs []string) (int, error) {
	stdout, stderr := std.out, std.err
	var write func(*alert.Alert) error
	switch f.format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		write = func(a *alert.Alert) error { return enc.Encode(evalOutput(a)) }
	case "text":
		write = func(a *alert.Alert) error { _, err := fmt.Fprintln(stdout, textLine(a)); return err }
	default:
		return exitUsage, usagef("--format must be json or text, not %q", f.format)
	}

	start := time.Now()
	eng, err := engine.New(ctx, f.policy.options(rules.Packs())...)
	if err != nil {
		return exitUsage, fmt.Errorf("loading policies: %w", err)
	}
	for _, w := range eng.Warnings() {
		fmt.Fprintln(stderr, "warning:", w)
	}

	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	files, bad := expandInputs(inputs, stderr)
	opts := pipeline.Options{Workers: f.workers, Files: f.files, EventSources: f.sources}
	stateful, closeState, err := statefulWriter(ctx, f.state, write)
	if err != nil {
		return exitUsage, err
	}
	defer closeState()
	h := pipeline.Handler{
		Alert: stateful,
		Error: func(err error) { fmt.Fprintln(stderr, "error:", err) },
	}
	var total pipeline.Stats
	total.Errors = bad
	ins := make([]pipeline.Input, len(files))
	for i, name := range files {
		ins[i] = pipeline.Input{Name: name, Open: func() (io.ReadCloser, error) {
			if name == "-" {
				return io.NopCloser(std.in), nil
			}
			return os.Open(name)
		}}
	}
	err = pipeline.RunAll(ctx, eng, ins, opts, h, func(_ pipeline.Input, st pipeline.Stats, err error) {
		total.Add(st)
		if err != nil {
			if total.Errors == 0 {
				total.Errors++
			}
			fmt.Fprintln(stderr, "error:", err)
		}
	})
	if err != nil {
		return exitBad, err
	}
	fmt.Fprintf(stderr, "%d files, %d events, %d evaluated, %d alerts, %d errors in %s\n",
		len(files), total.Records, total.Evaluated, total.Alerts, total.Errors, time.Since(start).Round(time.Millisecond))
	if total.Errors > 0 {
		return exitBad, nil
	}
	return exitOK, nil
}

// expandInputs walks directories, taking the files the daemon's dir source
// would take; files named on the command line are read whatever their name. It
// reports unreadable inputs and counts them.
func expandInputs(inputs []string, stderr io.Writer) (files []string, bad int) {
	for _, in := range inputs {
		if in == "-" {
			files = append(files, in)
			continue
		}
		info, err := os.Stat(in)
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			bad++
			continue
		}
		if !info.IsDir() {
			files = append(files, in)
			continue
		}
		var found []string
		err = filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				fmt.Fprintln(stderr, "error:", err)
				bad++
				return nil
			}
			if d.IsDir() && p != in && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && dirsource.IsLogFile(d.Name()) {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			bad++
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, bad
}

// evalOutput is the alert as `eval` prints it: the alert without the raw event,
// which would make every line as long as the record.
func evalOutput(a *alert.Alert) *alert.Alert {
	c := *a
	c.Raw = nil
	return &c
}

func textLine(a *alert.Alert) string {
	return fmt.Sprintf("%-8s %s %s  %s %s by %s from %s (account %s, %s) [%s]",
		strings.ToUpper(a.Severity.String()), a.EventTime, a.RuleID, a.EventSource, a.EventName,
		a.Principal, a.SourceIP, a.AccountID, a.Region, a.EventID) + "\n         " + a.Message
}
