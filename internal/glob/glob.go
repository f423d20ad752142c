// Package glob is trailguard's one pattern rule, used by configuration
// checks and by alert matching alike: path.Match syntax (*, ?, [a-z], \
// escapes) in which '/' is an ordinary character. ARNs and principals are
// full of slashes, and "arn:aws:iam::*" must match "arn:aws:iam::1:role/x"
// as a reader expects, which path.Match alone would refuse.
package glob

import (
	"path"
	"strings"
)

// ErrBadPattern is path.Match's: the pattern is malformed.
var ErrBadPattern = path.ErrBadPattern

// Pattern is a compiled glob.
type Pattern struct{ p string }

// slash stands in for '/' on both sides, so that path.Match sees no
// separator; NUL appears in neither rule ids nor CloudTrail values.
const slash = "\x00"

// Compile checks pattern's syntax and returns it ready for matching.
func Compile(pattern string) (Pattern, error) {
	p := strings.ReplaceAll(pattern, "/", slash)
	// path.Match reports a malformed pattern even when the name does not match.
	if _, err := path.Match(p, ""); err != nil {
		return Pattern{}, err
	}
	return Pattern{p: p}, nil
}

// Match reports whether s matches the pattern as a whole.
func (g Pattern) Match(s string) bool {
	ok, _ := path.Match(g.p, strings.ReplaceAll(s, "/", slash))
	return ok
}

// String returns the pattern as written.
func (g Pattern) String() string { return strings.ReplaceAll(g.p, slash, "/") }

// Match reports whether s matches pattern; a malformed pattern matches nothing.
func Match(pattern, s string) bool {
	g, err := Compile(pattern)
	return err == nil && g.Match(s)
}
