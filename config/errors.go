package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Error is one problem in a configuration file.
type Error struct {
	File string // as given to Parse or Load
	Line int    // 1-based; 0 when unknown
	Path string // the value concerned, e.g. notifiers[0].slack; "" for the whole file
	Err  error
}

// Error formats the problem as "file:line: path: message", leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem found in a configuration file, in line order.
type Errors []*Error

// Error puts one problem on each line.
func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.Is and errors.As see each problem.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// sort orders problems by line; those without a line go last.
func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i].Line, es[j].Line
		if a == 0 || b == 0 {
			return a != 0 && b == 0
		}
		return a < b
	})
}

var syntaxLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// syntaxError turns yaml.v3's "yaml: line N: msg" into an Error with a Line.
func (d *decoder) syntaxError(err error) {
	m := syntaxLine.FindStringSubmatch(err.Error())
	if m == nil {
		d.fail(0, "", err)
		return
	}
	line, _ := strconv.Atoi(m[1])
	d.fail(line, "", errors.New(m[2]))
}
