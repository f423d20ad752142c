package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/internal/progress"
	"github.com/trailguard/trailguard/internal/tally"
	tgstdout "github.com/trailguard/trailguard/notifiers/stdout"
	"github.com/trailguard/trailguard/pipeline"
	"github.com/trailguard/trailguard/rules"
	dirsource "github.com/trailguard/trailguard/source/dir"
	"github.com/trailguard/trailguard/source/s3replay"
)

const evalHelp = "Evaluates CloudTrail logs (delivery files, arrays, NDJSON, single records, EventBridge events;\n" +
	"gzip or not) against the policies and prints the alerts (see --format), then on stderr a summary by\n" +
	"severity and by rule. Directories are read recursively;\n" +
	"no argument or - reads standard input. Exit 0: all input read; 1: some input was bad; 2: usage.\n\n" +
	"An S3URL, s3://BUCKET/PREFIX/, replays the log objects under the prefix, in key order, many at a time\n" +
	"(--files). --since, --until, --accounts and --regions choose the folders of CloudTrail's layout\n" +
	"([prefix/]AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/) and its files by their delivery time:\n" +
	"a file delivered up to 15 minutes after --until is read, since it holds events of up to 15 minutes\n" +
	"before; alerts on events outside --since/--until are not printed. Digests and Insights are skipped;\n" +
	"objects outside the layout are read whole. A progress bar is drawn when stderr is a terminal."

func setupEval(flags *flag.FlagSet, std stdio) action {
	var f evalFlags
	f.policy.register(flags)
	format := formatFlag(flags)
	flags.IntVar(&f.workers, "workers", 0, "records of one file evaluated in parallel (default GOMAXPROCS)")
	flags.IntVar(&f.files, "files", 0, fmt.Sprintf("files read at once; output stays in file order (default GOMAXPROCS; %d with s3:// inputs)", s3Files))
	flags.Var(&f.sources, "event-source", "only evaluate events of this eventSource (repeatable)")
	flags.StringVar(&f.state, "state", "", "SQLite file keeping stateful rules' counts and baselines from one run to the next (default: start empty, in memory)")
	f.s3.register(flags)
	return func(ctx context.Context, inputs []string) (int, error) {
		f.format = *format
		return evaluate(ctx, std, &f, inputs)
	}
}

type evalFlags struct {
	policy         policyFlags
	format         string
	workers, files int
	sources        listFlag
	state          string
	s3             s3Flags
}

// evalInput is one log to read, with its size in bytes (-1: unknown) for
// the progress bar.
type evalInput struct {
	pipeline.Input
	size int64
}

func evaluate(ctx context.Context, std stdio, f *evalFlags, inputs []string) (int, error) {
	stdout, stderr := std.out, std.err
	format, err := outputFormat(f.format, stdout, os.Getenv)
	if err != nil {
		return exitUsage, err
	}
	var write func(*alert.Alert) error
	if format == tgstdout.JSON {
		var line []byte
		write = func(a *alert.Alert) error {
			var err error
			if line, err = evalOutput(a).AppendJSON(line[:0]); err != nil {
				return err
			}
			_, err = stdout.Write(append(line, '\n'))
			return err
		}
	} else {
		write = func(a *alert.Alert) error {
			_, err := fmt.Fprintln(stdout, tgstdout.TextLine(a, "", format == tgstdout.Color))
			return err
		}
	}
	filter, err := f.s3.filter(time.Now())
	if err != nil {
		return exitUsage, err
	}
	if !filter.Empty() && !slices.ContainsFunc(inputs, isS3) {
		return exitUsage, usagef("--since, --until, --accounts and --regions select S3 objects: give an s3:// input")
	}

	start := time.Now()
	eng, err := engine.New(ctx, f.policy.options(rules.Packs())...)
	if err != nil {
		return exitUsage, fmt.Errorf("loading policies: %w", err)
	}
	for _, w := range eng.Warnings() {
		fmt.Fprintln(stderr, "warning:", w)
	}
	for _, n := range eng.Notes() {
		fmt.Fprintln(stderr, "note:", n)
	}

	if len(inputs) == 0 {
		inputs = []string{"-"}
	}
	opts := pipeline.Options{Workers: f.workers, Files: f.files, EventSources: f.sources}
	if opts.Files <= 0 && slices.ContainsFunc(inputs, isS3) {
		opts.Files = s3Files
	}
	// printed counts what was written: a stateful rule's candidates are
	// counted by its state, and only its firings are alerts.
	// Alerts on events outside --since/--until are hidden, not left out: the
	// events still count for stateful rules.
	var printed tally.Tally
	hidden := 0
	stateful, closeState, err := statefulWriter(ctx, f.state, func(a *alert.Alert) error {
		if !inWindow(filter, a) {
			hidden++
			return nil
		}
		printed.Add(a)
		return write(a)
	})
	if err != nil {
		return exitUsage, err
	}
	defer closeState()
	s3l := &s3Lister{flags: &f.s3, filter: filter, files: opts.Files, stderr: stderr, clients: map[string]*s3replay.Client{}}
	var ins []evalInput
	var total pipeline.Stats
	for _, in := range inputs {
		if !isS3(in) {
			found, bad := expandInputs([]string{in}, stderr)
			total.Errors += bad
			ins = append(ins, localInputs(found, std.in)...)
			continue
		}
		found, err := s3l.inputs(ctx, in)
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			total.Errors++
		}
		ins = append(ins, found...)
	}

	// Messages during the run go through the bar, which clears its line
	// for them.
	bar, msgs := startBar(stderr, ins)
	h := pipeline.Handler{
		Alert: stateful.Alert,
		// write prints an alert and keeps nothing of it; the tally counts.
		Borrows: true,
		Error:   func(err error) { fmt.Fprintln(msgs, "error:", err) },
	}
	pins := make([]pipeline.Input, len(ins))
	for i, in := range ins {
		pins[i] = in.Input
		if bar != nil {
			pins[i].Open = func() (io.ReadCloser, error) {
				rc, err := in.Open()
				if err != nil {
					return nil, err
				}
				return countingReader{rc, bar}, nil
			}
		}
	}
	err = pipeline.RunAll(ctx, eng, pins, opts, h, func(_ pipeline.Input, st pipeline.Stats, err error) {
		total.Add(st)
		bar.Add(1, st.Records, 0)
		if err != nil {
			if total.Errors == 0 {
				total.Errors++
			}
			fmt.Fprintln(msgs, "error:", err)
		}
	})
	bar.Stop()
	if err != nil {
		return exitBad, err
	}
	fmt.Fprintf(stderr, "%d files, %d events, %d evaluated, %d alerts, %d errors in %s\n",
		len(ins), total.Records, total.Evaluated, printed.Total(), total.Errors, time.Since(start).Round(time.Millisecond))
	reportTally(stderr, &printed)
	if n := stateful.Skipped(); n > 0 {
		fmt.Fprintf(stderr, "%d candidates of stateful rules skipped: their records have no valid eventTime\n", n)
	}
	if hidden > 0 {
		fmt.Fprintf(stderr, "%d alerts on events outside --since/--until not printed\n", hidden)
	}
	if total.Errors > 0 {
		return exitBad, nil
	}
	return exitOK, nil
}

// localInputs are files (or - for stdin) as inputs.
func localInputs(files []string, stdin io.Reader) []evalInput {
	ins := make([]evalInput, len(files))
	for i, name := range files {
		ins[i] = evalInput{size: -1, Input: pipeline.Input{Name: name, Open: func() (io.ReadCloser, error) {
			if name == "-" {
				return io.NopCloser(stdin), nil
			}
			return os.Open(name)
		}}}
		if info, err := os.Stat(name); err == nil && name != "-" {
			ins[i].size = info.Size()
		}
	}
	return ins
}

// startBar starts a progress bar when stderr is a terminal, and returns
// where messages go while it runs.
func startBar(stderr io.Writer, ins []evalInput) (*progress.Bar, io.Writer) {
	if len(ins) == 0 || !progress.IsTerminal(stderr) {
		return nil, stderr
	}
	total := progress.Counts{Files: len(ins)}
	for _, in := range ins {
		if in.size < 0 {
			total.Bytes = 0 // ETA by files
			break
		}
		total.Bytes += in.size
	}
	bar := progress.Start(stderr, progress.Width(stderr), total)
	return bar, bar
}

// countingReader adds the bytes read to the progress bar.
type countingReader struct {
	io.ReadCloser
	bar *progress.Bar
}

func (r countingReader) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.bar.Add(0, 0, int64(n))
	return n, err
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
