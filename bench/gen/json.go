package gen

import (
	"strconv"
	"unicode/utf8"
)

// enc appends JSON to a byte slice, writing fields in the order they are given
// (CloudTrail's own order), which encoding/json cannot do for maps and does
// slowly for ordered structures. It writes no whitespace, like CloudTrail.
type enc struct {
	b     []byte
	comma bool // a value was written at this level: the next one needs a ','
}

func (e *enc) sep() {
	if e.comma {
		e.b = append(e.b, ',')
	}
}

func (e *enc) open()  { e.sep(); e.b = append(e.b, '{'); e.comma = false }
func (e *enc) close() { e.b = append(e.b, '}'); e.comma = true }
func (e *enc) arr()   { e.sep(); e.b = append(e.b, '['); e.comma = false }
func (e *enc) end()   { e.b = append(e.b, ']'); e.comma = true }

func (e *enc) key(k string) {
	e.sep()
	e.b = appendString(e.b, k)
	e.b = append(e.b, ':')
	e.comma = false
}

func (e *enc) str(s string) { e.sep(); e.b = appendString(e.b, s); e.comma = true }
func (e *enc) num(n int64)  { e.sep(); e.b = strconv.AppendInt(e.b, n, 10); e.comma = true }
func (e *enc) boolean(v bool) {
	e.sep()
	e.b = strconv.AppendBool(e.b, v)
	e.comma = true
}
func (e *enc) null() { e.sep(); e.b = append(e.b, "null"...); e.comma = true }

// Field shorthands.
func (e *enc) kstr(k, v string)     { e.key(k); e.str(v) }
func (e *enc) knum(k string, n int) { e.key(k); e.num(int64(n)) }
func (e *enc) kbool(k string, v bool) {
	e.key(k)
	e.boolean(v)
}
func (e *enc) knull(k string) { e.key(k); e.null() }
func (e *enc) kobj(k string)  { e.key(k); e.open() }
func (e *enc) karr(k string)  { e.key(k); e.arr() }

// kstrs writes "k":["a","b"].
func (e *enc) kstrs(k string, vs ...string) {
	e.karr(k)
	for _, v := range vs {
		e.str(v)
	}
	e.end()
}

// kv writes string fields from alternating names and values.
func (e *enc) kv(pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		e.kstr(pairs[i], pairs[i+1])
	}
}

// obj writes an object of string fields from alternating names and values.
func (e *enc) obj(pairs ...string) {
	e.open()
	e.kv(pairs...)
	e.close()
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, so the
// output is always valid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
