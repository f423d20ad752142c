package gen

import (
	"strconv"

	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
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
	e.b = jsonscan.AppendString(e.b, k)
	e.b = append(e.b, ':')
	e.comma = false
}

func (e *enc) str(s string) { e.sep(); e.b = jsonscan.AppendString(e.b, s); e.comma = true }
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
