package main

import (
	"cmp"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// `trailguard test -v` lists the tests by file, then line: OPA runs them in
// no fixed order, and a listing that changes from run to run cannot be
// compared with the last one.
func TestTestVerboseOrder(t *testing.T) {
	code, out, errs := runCLI(t, "", "test", "-v", "--packs", "aws,threats")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	type loc struct {
		file string
		line int
	}
	var got []loc
	for _, m := range regexp.MustCompile(`(?m)^(\S+_test\.rego):(\d+):$`).FindAllStringSubmatch(out, -1) {
		n, _ := strconv.Atoi(m[2])
		got = append(got, loc{m[1], n})
	}
	files := map[string]bool{}
	for _, l := range got {
		files[l.file] = true
	}
	if len(got) < 50 || len(files) < 10 {
		t.Fatalf("only %d tests in %d files listed:\n%s", len(got), len(files), out)
	}
	sorted := slices.IsSortedFunc(got, func(a, b loc) int {
		return cmp.Or(strings.Compare(a.file, b.file), cmp.Compare(a.line, b.line))
	})
	if !sorted {
		t.Errorf("tests not listed by file, then line:\n%s", out)
	}
}
