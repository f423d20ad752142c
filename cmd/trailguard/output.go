package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/internal/progress"
	"github.com/trailguard/trailguard/internal/tally"
	"github.com/trailguard/trailguard/notifiers/stdout"
)

// formatFlag registers --format, shared by run and eval.
func formatFlag(flags *flag.FlagSet) *string {
	return flags.String("format", "auto", "how alerts are printed: text (for people: one or two lines per alert, "+
		"coloured on a terminal), json (one alert per line), or auto: text when standard output is a terminal, else json")
}

// outputFormat decides how alerts are printed on out: --format, or for
// "auto" text on a terminal and JSON lines otherwise (a pipe, a file), so
// `trailguard eval … | jq` keeps working while a person at a terminal reads
// text. Text is coloured only on a terminal, and never when NO_COLOR is set
// (https://no-color.org).
func outputFormat(format string, out io.Writer, getenv func(string) string) (stdout.Format, error) {
	tty := progress.IsTerminal(out)
	switch format {
	case "auto":
		if !tty {
			return stdout.JSON, nil
		}
	case "text":
	case "json":
		return stdout.JSON, nil
	default:
		return 0, usagef("--format must be auto, json or text, not %q", format)
	}
	if tty && getenv("NO_COLOR") == "" {
		return stdout.Color, nil
	}
	return stdout.Text, nil
}

// reportTally writes the alerts' breakdown by severity and rule to w
// (standard error, beside the logs), coloured when w is a terminal.
func reportTally(w io.Writer, t *tally.Tally) {
	color := progress.IsTerminal(w) && os.Getenv("NO_COLOR") == ""
	if err := t.Report(w, func(s alert.Severity) string { return stdout.Severity(s, color) }); err != nil {
		fmt.Fprintln(w, "error: writing the summary:", err)
	}
}
