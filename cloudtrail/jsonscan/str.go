package jsonscan

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"
)

// Str is a string as read: its JSON text, quotes included, and whether that
// text is its value as it stands (Plain: no escapes, valid UTF-8), as almost
// every string of a CloudTrail record is.
type Str struct {
	Quoted []byte
	Plain  bool
}

// Bytes is the text between the quotes: the value itself when Plain, and no
// allocation.
func (q Str) Bytes() []byte { return q.Quoted[1 : len(q.Quoted)-1] }

// String is the value, decoded as encoding/json decodes it (escapes, and
// U+FFFD for each byte that is not UTF-8).
func (q Str) String() string {
	b := q.Bytes()
	switch {
	case q.Plain:
		return string(b)
	case bytes.IndexByte(b, '\\') < 0:
		return string([]rune(string(b)))
	}
	// Escapes are rare in CloudTrail (policy documents, user agents): the
	// standard library decodes them. The scanner checked the text already.
	var v string
	if err := json.Unmarshal(q.Quoted, &v); err != nil {
		return string(b)
	}
	return v
}

// ReadString reads the string that Peek found.
func (s *Scanner) ReadString() (Str, bool) {
	start := s.pos
	end, escaped, ok := s.str()
	if !ok {
		return Str{}, false
	}
	return s.strAt(start, end, escaped), true
}

func (s *Scanner) strAt(start, end int, escaped bool) Str {
	q := s.data[start : end+1]
	return Str{Quoted: q, Plain: !escaped && utf8.Valid(q[1:end-start])}
}

// StringRun is the length of the string content at the start of b: the bytes
// before the first quote or backslash. It is the fast path of every string
// trailguard reads, the log reader's boundary search included.
func StringRun(b []byte) int {
	n := bytes.IndexByte(b, '"')
	if n < 0 {
		n = len(b)
	}
	if e := bytes.IndexByte(b[:n], '\\'); e >= 0 {
		return e
	}
	return n
}

// str checks the string whose opening quote is at s.pos and moves past it. It
// returns the index of the closing quote and whether the string holds an
// escape.
func (s *Scanner) str() (end int, escaped bool, ok bool) {
	data := s.data
	i := s.pos + 1
	for {
		n := StringRun(data[i:])
		if c := controlIn(data[i : i+n]); c >= 0 {
			return 0, false, s.invalid(i+c, "in string literal")
		}
		i += n
		if i >= len(data) {
			return 0, false, s.unexpectedEnd()
		}
		if data[i] == '"' {
			s.pos = i + 1
			return i, escaped, true
		}
		escaped = true
		i++ // the backslash
		switch s.at(i) {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i++
		case 'u':
			for k := 1; k <= 4; k++ {
				if !isHex(s.at(i + k)) {
					return 0, false, s.invalid(i+k, `in \u hexadecimal character escape`)
				}
			}
			i += 5
		default:
			return 0, false, s.invalid(i, "in string escape code")
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// controlIn returns the index of the first byte below 0x20 in b, or -1: JSON
// strings may not hold them raw. It looks at eight bytes at a time, since it
// reads every byte of every string.
func controlIn(b []byte) int {
	const highs, below = 0x8080808080808080, 0x20 * 0x0101010101010101
	i := 0
	for ; i+8 <= len(b); i += 8 {
		// A byte x below 0x20 (and so below 0x80) turns x-0x20's high bit on.
		if x := binary.LittleEndian.Uint64(b[i:]); (x-below)&^x&highs != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] < 0x20 {
			return i
		}
	}
	return -1
}

// Verbatim says whether b, the text between the quotes of a string of a
// document already checked, is the string's value as it stands: no escape,
// and UTF-8. An alert copies a dozen of a record's strings, and nearly all
// are printable ASCII: eight bytes are tested at a time, and only text with
// a backslash or a byte past ASCII is looked at closely.
func Verbatim(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		bs := x ^ ('\\' * ones) // a zero byte where b has a backslash
		if ((bs-ones)&^bs|x)&highs != 0 {
			return verbatimSlow(b)
		}
	}
	for _, c := range b[i:] {
		if c == '\\' || c >= utf8.RuneSelf {
			return verbatimSlow(b)
		}
	}
	return true
}

func verbatimSlow(b []byte) bool { return bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) }
