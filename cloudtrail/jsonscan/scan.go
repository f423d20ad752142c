// Package jsonscan is trailguard's one JSON scanner. It walks a JSON text held
// in memory, checking it as it goes, and leaves building to the caller: the
// engine decodes a record into OPA's value form with it, the prefilter reads a
// few fields and skips the rest, and the log reader validates a record. All of
// them therefore accept and refuse the same texts, and say why in the same
// words: the grammar is encoding/json's (RFC 8259, invalid UTF-8 allowed) and
// so are the error messages and offsets, which users read in "file:line:col:
// record N: invalid character ']' looking for beginning of value (byte 2236)".
//
// The walk is an iterator, not a callback: the caller asks for the next member
// or element and reads its value with whatever method suits it, so that a
// caller that builds nothing allocates nothing.
//
//	for it := s.Begin(); s.Next(&it); {
//		key, ok := s.Key()
//		… read or s.Skip() the value …
//	}
//	if s.Failed() { return s.Err() }
package jsonscan

import (
	"strconv"
)

// MaxDepth is encoding/json's nesting limit: the scanner refuses what it refuses.
const MaxDepth = 10000

// SyntaxError is what is wrong with a text and where.
type SyntaxError struct {
	Msg string
	// Offset counts the bytes read when the problem was found, as
	// encoding/json's SyntaxError.Offset does: the bad byte is Offset-1, and a
	// text that ends too soon has Offset len(text).
	Offset int64
}

func (e *SyntaxError) Error() string { return e.Msg }

// At is the 0-based index of the byte the error is about: the bad byte, or
// the last one when the text ended too soon.
func (e *SyntaxError) At() int64 { return max(e.Offset-1, 0) }

// Scanner reads one JSON text. The zero value reads an empty text; use New.
// Errors are sticky: after the first, every method reports failure.
type Scanner struct {
	data  []byte
	pos   int
	depth int
	err   *SyntaxError
}

// New returns a scanner at the start of data.
func New(data []byte) Scanner { return Scanner{data: data} }

// Failed reports whether the scanner met an error.
func (s *Scanner) Failed() bool { return s.err != nil }

// Err is the first error met, or nil.
func (s *Scanner) Err() error {
	if s.err == nil {
		return nil
	}
	return s.err
}

// Pos is the index of the next byte to read.
func (s *Scanner) Pos() int { return s.pos }

// Text returns the bytes read since start (a Pos).
func (s *Scanner) Text(start int) []byte { return s.data[start:s.pos] }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (s *Scanner) skipSpace() {
	for s.pos < len(s.data) && isSpace(s.data[s.pos]) {
		s.pos++
	}
}

// at is the byte at i, or a space past the end: encoding/json steps its state
// machine with a space at the end of input, and that step's error (say, in
// "tru") is the one it reports.
func (s *Scanner) at(i int) byte {
	if i < len(s.data) {
		return s.data[i]
	}
	return ' '
}

// fail records the first error; it returns false for the callers' convenience.
func (s *Scanner) fail(pos int, msg string) bool {
	if s.err == nil {
		s.err = &SyntaxError{Msg: msg, Offset: int64(min(pos+1, len(s.data)))}
	}
	s.pos = len(s.data)
	return false
}

// invalid reports the byte at pos (a space past the end) as encoding/json does.
func (s *Scanner) invalid(pos int, context string) bool {
	return s.fail(pos, "invalid character "+quoteChar(s.at(pos))+" "+context)
}

func (s *Scanner) unexpectedEnd() bool {
	return s.fail(len(s.data), "unexpected end of JSON input")
}

// quoteChar is encoding/json's: the byte as a Go character literal.
func quoteChar(c byte) string {
	switch c {
	case '\'':
		return `'\''`
	case '"':
		return `'"'`
	}
	q := strconv.Quote(string(rune(c)))
	return "'" + q[1:len(q)-1] + "'"
}

// Peek skips white space and returns the byte that starts the next value:
// '{', '[', '"', or the first byte of a scalar (read those with Scalar, which
// also reports a byte that starts nothing). It returns 0 at the end of input
// or after an error.
func (s *Scanner) Peek() byte {
	if s.err != nil {
		return 0
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

// Iter walks the members of one object or the elements of one array.
type Iter struct {
	close byte // '}' or ']'
	first bool
}

// Begin consumes the '{' or '[' that Peek returned and starts walking it.
func (s *Scanner) Begin() Iter {
	c := s.data[s.pos]
	s.pos++
	s.depth++
	if s.depth > MaxDepth {
		s.invalid(s.pos-1, "exceeded max depth")
	}
	if c == '[' {
		return Iter{close: ']', first: true}
	}
	return Iter{close: '}', first: true}
}

// Next moves to the next member of the object (then read its Key, then its
// value) or element of the array (read its value). It consumes the comma
// before it, or the closing bracket, and returns false there and on an error.
func (s *Scanner) Next(it *Iter) bool {
	if s.err != nil {
		return false
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		return s.unexpectedEnd()
	}
	c := s.data[s.pos]
	if it.first {
		it.first = false
		if c != it.close {
			return true // Key or the value says what is wrong with it
		}
	} else if c == ',' {
		s.pos++
		return true
	} else if c != it.close {
		if it.close == '}' {
			return s.invalid(s.pos, "after object key:value pair")
		}
		return s.invalid(s.pos, "after array element")
	}
	s.pos++
	s.depth--
	return false
}

// Key reads a member's key and the colon after it.
func (s *Scanner) Key() (Str, bool) {
	start, end, escaped, ok := s.key()
	if !ok {
		return Str{}, false
	}
	return s.strAt(start, end, escaped), true
}

// key reads a key and its colon, checking them, and returns where the key's
// quotes are and whether it holds an escape.
func (s *Scanner) key() (start, end int, escaped, ok bool) {
	if s.err != nil {
		return 0, 0, false, false
	}
	s.skipSpace()
	start = s.pos
	if start >= len(s.data) {
		return 0, 0, false, s.unexpectedEnd()
	}
	if s.data[start] != '"' {
		return 0, 0, false, s.invalid(start, "looking for beginning of object key string")
	}
	if end, escaped, ok = s.str(); !ok {
		return 0, 0, false, false
	}
	s.skipSpace()
	if s.pos >= len(s.data) {
		return 0, 0, false, s.unexpectedEnd()
	}
	if s.data[s.pos] != ':' {
		return 0, 0, false, s.invalid(s.pos, "after object key")
	}
	s.pos++
	return start, end, escaped, true
}

// Scalar reads a number, true, false or null and returns its text.
func (s *Scanner) Scalar() ([]byte, bool) {
	if s.err != nil {
		return nil, false
	}
	s.skipSpace()
	start := s.pos
	if start >= len(s.data) {
		return nil, s.unexpectedEnd()
	}
	var ok bool
	switch c := s.data[start]; {
	case c == 't':
		ok = s.literal("true")
	case c == 'f':
		ok = s.literal("false")
	case c == 'n':
		ok = s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		ok = s.number()
	default:
		return nil, s.invalid(start, "looking for beginning of value")
	}
	if !ok {
		return nil, false
	}
	return s.data[start:s.pos], true
}

func (s *Scanner) literal(word string) bool {
	for k := 1; k < len(word); k++ {
		if s.at(s.pos+k) != word[k] {
			return s.invalid(s.pos+k, "in literal "+word+" (expecting "+quoteChar(word[k])+")")
		}
	}
	s.pos += len(word)
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func (s *Scanner) number() bool {
	i := s.pos
	if s.data[i] == '-' {
		i++
		if !isDigit(s.at(i)) {
			return s.invalid(i, "in numeric literal")
		}
	}
	if s.data[i] == '0' {
		i++
	} else {
		for isDigit(s.at(i)) {
			i++
		}
	}
	if s.at(i) == '.' {
		i++
		if !isDigit(s.at(i)) {
			return s.invalid(i, "after decimal point in numeric literal")
		}
		for isDigit(s.at(i)) {
			i++
		}
	}
	if c := s.at(i); c == 'e' || c == 'E' {
		i++
		if c := s.at(i); c == '+' || c == '-' {
			i++
		}
		if !isDigit(s.at(i)) {
			return s.invalid(i, "in exponent of numeric literal")
		}
		for isDigit(s.at(i)) {
			i++
		}
	}
	s.pos = i
	return true
}

// Skip checks and passes over one value, building nothing.
func (s *Scanner) Skip() bool {
	switch s.Peek() {
	case '{':
		for it := s.Begin(); s.Next(&it); {
			if _, _, _, ok := s.key(); !ok || !s.Skip() {
				return false
			}
		}
		return s.err == nil
	case '[':
		for it := s.Begin(); s.Next(&it); {
			if !s.Skip() {
				return false
			}
		}
		return s.err == nil
	case '"':
		_, _, ok := s.str()
		return ok
	}
	_, ok := s.Scalar()
	return ok
}

// End checks that nothing but white space follows the value read.
func (s *Scanner) End() bool {
	if s.err != nil {
		return false
	}
	s.skipSpace()
	if s.pos < len(s.data) {
		return s.invalid(s.pos, "after top-level value")
	}
	return true
}

// Valid returns nil when data is one JSON value, and otherwise the
// *SyntaxError encoding/json would report.
func Valid(data []byte) error {
	s := New(data)
	if s.Skip() && s.End() {
		return nil
	}
	return s.Err()
}
