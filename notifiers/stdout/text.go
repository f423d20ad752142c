package stdout

import (
	"fmt"
	"strings"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

// Format is how a Notifier writes alerts.
type Format int

const (
	// JSON is one alert per line with alert.Alert's field names, for programs.
	JSON Format = iota
	// Text is one or two lines per alert, for people.
	Text
	// Color is Text with the severity coloured (ANSI), for a terminal.
	Color
)

// ANSI styles by severity: the eye should find critical and high first.
var severityStyle = map[alert.Severity]string{
	alert.Critical: "\x1b[1;97;41m", // bold white on red
	alert.High:     "\x1b[1;31m",    // bold red
	alert.Medium:   "\x1b[33m",      // yellow
	alert.Low:      "\x1b[36m",      // cyan
	alert.Info:     "\x1b[2m",       // dim
}

const reset = "\x1b[0m"

// Severity is s as a fixed-width label, coloured when color is set.
func Severity(s alert.Severity, color bool) string {
	label := fmt.Sprintf("%-8s", notifiers.SeverityLabel(s))
	if !color {
		return label
	}
	trimmed := strings.TrimRight(label, " ")
	return severityStyle[s] + trimmed + reset + label[len(trimmed):]
}

// TextLine renders a for people in two lines: severity, event time, rule and
// who did what where; then the message and the dispatcher's note. Every value
// from the event is made one line first (notifiers.OneLine drops control
// characters), so a forged userAgent or message can neither add lines nor send
// escape sequences to the terminal.
func TextLine(a *alert.Alert, note string, color bool) string {
	v := notifiers.OneLine
	rule := v(a.RuleID)
	if color {
		rule = "\x1b[1m" + rule + reset
	}
	first := fmt.Sprintf("%s %s %s  %s %s by %s from %s (account %s, %s) [%s]",
		Severity(a.Severity, color), v(a.EventTime), rule, v(a.EventSource), v(a.EventName),
		v(a.Principal), v(a.SourceIP), v(a.AccountID), v(a.Region), v(a.EventID))
	second := v(a.Message)
	if note = v(note); note != "" {
		if second != "" {
			second += " · "
		}
		second += note
	}
	return first + "\n         " + second
}
