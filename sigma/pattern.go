package sigma

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
)

// piece is one part of a Sigma string: literal text, or a wildcard ('*' any
// run of characters, '?' exactly one character).
type piece struct {
	lit  string
	wild byte
}

// pattern is a Sigma string after escapes are resolved.
type pattern []piece

// parsePattern reads a Sigma string: `*` and `?` are wildcards, `\` escapes a
// wildcard or a backslash, and a backslash before anything else is itself
// (specification, "Escape Character").
func parsePattern(s string) pattern {
	var p pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p = append(p, piece{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			i++
		case c == '*' || c == '?':
			flush()
			p = append(p, piece{wild: c})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return p
}

// literalPattern is a pattern matching exactly s.
func literalPattern(s string) pattern {
	if s == "" {
		return nil
	}
	return pattern{{lit: s}}
}

func (p pattern) hasWildcard() bool {
	for _, x := range p {
		if x.wild != 0 {
			return true
		}
	}
	return false
}

// text is the literal text of a pattern without wildcards.
func (p pattern) text() string {
	var b strings.Builder
	for _, x := range p {
		b.WriteString(x.lit)
	}
	return b.String()
}

// String writes the pattern back in Sigma's notation.
func (p pattern) String() string {
	var b strings.Builder
	for _, x := range p {
		if x.wild != 0 {
			b.WriteByte(x.wild)
			continue
		}
		for i := 0; i < len(x.lit); i++ {
			if c := x.lit[i]; c == '*' || c == '?' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(x.lit[i])
		}
	}
	return b.String()
}

// wrap surrounds the pattern with `*` wildcards: contains, startswith, endswith.
func (p pattern) wrap(before, after bool) pattern {
	var out pattern
	if before {
		out = append(out, piece{wild: '*'})
	}
	out = append(out, p...)
	if after {
		out = append(out, piece{wild: '*'})
	}
	return out
}

// lower folds the literal parts the way Rego's lower() folds the value it is
// compared with (strings.ToLower, rune by rune), so that a case-insensitive
// match is "equal after lower() on both sides" everywhere.
func (p pattern) lower() pattern {
	out := make(pattern, len(p))
	for i, x := range p {
		out[i] = piece{lit: strings.ToLower(x.lit), wild: x.wild}
	}
	return out
}

// regex is the pattern as an anchored RE2 expression; (?s) lets wildcards
// match newlines, as they match any character.
func (p pattern) regex() string {
	var b strings.Builder
	b.WriteString("^(?s)")
	for _, x := range p {
		switch x.wild {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(x.lit))
		}
	}
	b.WriteByte('$')
	return b.String()
}

// glob is the pattern in glob.match's syntax (gobwas/glob), for use with no
// delimiters.
func (p pattern) glob() string {
	var b strings.Builder
	for _, x := range p {
		if x.wild != 0 {
			b.WriteByte(x.wild)
			continue
		}
		for _, r := range x.lit {
			if strings.ContainsRune(`*?[]{}\!,-`, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

// --- transformations ------------------------------------------------------------

// base64Of encodes a literal (a pattern with wildcards cannot be encoded).
func base64Of(p pattern) (pattern, error) {
	if p.hasWildcard() {
		return nil, fmt.Errorf("base64 of a value with wildcards is undefined")
	}
	return literalPattern(base64.StdEncoding.EncodeToString([]byte(p.text()))), nil
}

// base64Offsets are the three encodings of s that appear inside a longer
// base64 string, whatever its offset (as pySigma's base64offset computes them).
func base64Offsets(p pattern) ([]pattern, error) {
	if p.hasWildcard() {
		return nil, fmt.Errorf("base64offset of a value with wildcards is undefined")
	}
	s := []byte(p.text())
	start := []int{0, 2, 3}
	end := []int{0, -3, -2}
	var out []pattern
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append([]byte(strings.Repeat(" ", i)), s...))
		e := len(enc) + end[(len(s)+i)%3]
		if e < start[i] {
			e = start[i]
		}
		out = append(out, literalPattern(enc[start[i]:e]))
	}
	return out, nil
}

// dashes are what windash treats as interchangeable.
var dashes = []rune{'-', '/', '–', '—', '―'}

// maxWindash bounds the permutations one value may expand to.
const maxWindash = 625

// windash expands every dash character of the literal parts into each of the
// five, in all combinations (specification: "all possible permutations").
func windash(p pattern) ([]pattern, error) {
	out := []pattern{nil}
	for _, x := range p {
		if x.wild != 0 {
			for i := range out {
				out[i] = append(out[i], x)
			}
			continue
		}
		for _, r := range x.lit {
			alts := []rune{r}
			if strings.ContainsRune(string(dashes), r) {
				alts = dashes
			}
			if len(out)*len(alts) > maxWindash {
				return nil, fmt.Errorf("windash expands %q to more than %d values", p.String(), maxWindash)
			}
			next := make([]pattern, 0, len(out)*len(alts))
			for _, o := range out {
				for _, a := range alts {
					next = append(next, appendRune(o, a))
				}
			}
			out = next
		}
	}
	return out, nil
}

func appendRune(p pattern, r rune) pattern {
	q := make(pattern, len(p), len(p)+1)
	copy(q, p)
	if n := len(q); n > 0 && q[n-1].wild == 0 {
		q[n-1] = piece{lit: q[n-1].lit + string(r)}
		return q
	}
	return append(q, piece{lit: string(r)})
}

// expand replaces %name% placeholders (a `\%` is a plain percent sign) with
// each value of the placeholder, in all combinations.
func expand(raw string, placeholders map[string][]string) ([]string, error) {
	outs := []string{""}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+1 < len(raw) && raw[i+1] == '%' {
			for j := range outs {
				outs[j] += "%"
			}
			i++
			continue
		}
		if c != '%' {
			for j := range outs {
				outs[j] += string(c)
			}
			continue
		}
		end := strings.IndexByte(raw[i+1:], '%')
		if end < 0 {
			return nil, fmt.Errorf("expand: unterminated placeholder in %q", raw)
		}
		name := raw[i+1 : i+1+end]
		vals, ok := placeholders[name]
		if !ok {
			return nil, fmt.Errorf("expand: placeholder %%%s%% is not defined (data.sigma_placeholders.%s)", name, name)
		}
		var next []string
		for _, o := range outs {
			for _, v := range vals {
				next = append(next, o+v)
			}
		}
		outs = next
		i += end + 1
	}
	return outs, nil
}

// --- case variants ---------------------------------------------------------------

var (
	foldOnce sync.Once
	foldSets map[rune][]rune // lower-case rune -> every rune lowering to it
)

// variantsOf lists the runes r with unicode.ToLower(r) == unicode.ToLower(c):
// what a record may hold where a case-insensitive literal has c. Beyond the
// two ASCII cases this includes e.g. the Kelvin sign for k.
func variantsOf(c rune) []rune {
	foldOnce.Do(func() {
		foldSets = map[rune][]rune{}
		for r := rune(0); r <= unicode.MaxRune; r++ {
			if l := unicode.ToLower(r); l != r {
				foldSets[l] = append(foldSets[l], r)
			}
		}
	})
	l := unicode.ToLower(c)
	return append([]rune{l}, foldSets[l]...)
}

// maxPrefixVariants bounds the prefixes caseFoldPrefixes returns per literal.
const maxPrefixVariants = 16

// caseFoldPrefixes lists the spellings, in any case, of the longest prefix of
// s that has at most maxPrefixVariants of them. A value equal to s after
// lower() starts with one of them, since lower() maps rune by rune; OPA's index
// can look them up (strings.any_prefix_match), which keeps a case-insensitive
// comparison from making the rule a candidate for every record.
func caseFoldPrefixes(s string) []string {
	out := []string{""}
	for _, r := range s {
		vs := variantsOf(r)
		if len(out)*len(vs) > maxPrefixVariants {
			break
		}
		next := make([]string, 0, len(out)*len(vs))
		for _, o := range out {
			for _, v := range vs {
				next = append(next, o+string(v))
			}
		}
		out = next
	}
	return out
}
