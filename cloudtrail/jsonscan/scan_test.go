package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// sameAsEncodingJSON checks that Valid says what encoding/json says about
// data: the same verdict, message and offset.
func sameAsEncodingJSON(t *testing.T, data []byte) {
	t.Helper()
	got := Valid(data)
	if valid := json.Valid(data); valid != (got == nil) {
		t.Fatalf("%q: json.Valid says %v, Valid says %v", data, valid, got)
	}
	if got == nil {
		return
	}
	// Unmarshal's error, for invalid JSON, is the syntax error json.Valid found.
	var v any
	var wse *json.SyntaxError
	if !errors.As(json.Unmarshal(data, &v), &wse) {
		t.Fatalf("%q: encoding/json gives no syntax error", data)
	}
	var gse *SyntaxError
	if !errors.As(got, &gse) {
		t.Fatalf("%q: Valid returned %T %v", data, got, got)
	}
	if gse.Msg != wse.Error() || gse.Offset != wse.Offset {
		t.Fatalf("%q: Valid says %q at %d, encoding/json %q at %d", data, gse.Msg, gse.Offset, wse.Error(), wse.Offset)
	}
}

var cases = []string{
	`{"a":1}`, `{"a":"esc\"aped \\ \u00e9 \ud83d\ude00 \n"}`, `[1,-2.5e+3,0,1E2,true,false,null,{},[]]`, ` {"c":{"d":{}}} `,
	"{\"bad utf8\":\"\xff\xfe\"}", `"s"`, `12`, `-0.5e-3`,
	// every error encoding/json has
	``, `   `, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1,]`, `[1 2]`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`,
	`{"a":1e+}`, `{"a":tru}`, `{"a":nul}`, `{"a":fals}`, `{"a":trUe}`, "{\"a\":\"x\ny\"}", `{"a":"\x"}`, `{"a":"\u12"}`,
	`{"a":"\u12g4"}`, `{"a":1} x`, `{"a":[1}`, `{"a":{"b":1]}`, `{"a":"unterminated}`, `{"a":+1}`, `{"a":NaN}`,
	`{"a":Infinity}`, `{"a":1`, `{"a":`, `{"a"`, `{"a`, `{`, `[`, `["a"`, `{"a":-`, `{"a":1.`, `{"a":1e`, `{"a":t`,
	`{"a":"\`, `{"a":"\u`, `{"a":"\u00`, `tru`, `-`, `1.`, `1e+`, `"\u`, `{"a":1}}`, `{'a':1}`, `{"a":1]`, `[1}`,
	`{"a":"b" , "c" : [ 1 , 2 ] }x`, "\xef\xbb\xbf{}", `{"a":"` + "\x00" + `"}`, `{"a":"` + "\x7f\x1f" + `"}`,
	`{"a":` + "\x80" + `}`, `{"a":'x'}`, `{"a":"x"` + "\t\r\n" + `}`, `[,1]`, `{,}`, `{"a":1,,}`, `[]]`, `{}{}`,
	`{"` + strings.Repeat("k", 40) + "\x01" + `":1}`, `{"a":"` + strings.Repeat("x", 17) + `\q"}`,
	strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	`{"a":[` + strings.Repeat(`{"b":`, MaxDepth) + "1",
}

func TestValidSaysWhatEncodingJSONSays(t *testing.T) {
	for _, c := range cases {
		sameAsEncodingJSON(t, []byte(c))
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct {
		in    string
		plain bool
	}{
		{`"plain"`, true}, {`"é"`, true}, {`"a\"b"`, false}, {`"\u00e9\ud83d\ude00\ud800x"`, false},
		{"\"\xff\xfe\"", false}, {`""`, true}, {`"` + strings.Repeat("abcdefgh", 5) + `\n"`, false},
	} {
		s := New([]byte(tc.in))
		if s.Peek() != '"' {
			t.Fatalf("%s: Peek %q", tc.in, s.Peek())
		}
		str, ok := s.ReadString()
		if !ok || !s.End() {
			t.Fatalf("%s: %v", tc.in, s.Err())
		}
		var want string
		if err := json.Unmarshal([]byte(tc.in), &want); err != nil {
			t.Fatal(err)
		}
		if str.Plain != tc.plain || str.String() != want || (str.Plain && string(str.Bytes()) != want) {
			t.Errorf("%s: plain %v value %q, want %v %q", tc.in, str.Plain, str.String(), tc.plain, want)
		}
	}
}

// The walk reads keys and values where they are, and Skip passes over what
// the caller does not want; a caller reading nothing allocates nothing.
func TestWalk(t *testing.T) {
	data := []byte(`{"a": {"b": [1, "x", null]}, "k\u0065y": true, "n": -1.5e3}`)
	var keys, scalars []string
	s := New(data)
	var walk func() bool
	walk = func() bool {
		switch s.Peek() {
		case '{':
			for it := s.Begin(); s.Next(&it); {
				k, ok := s.Key()
				if !ok {
					return false
				}
				keys = append(keys, k.String())
				if !walk() {
					return false
				}
			}
			return !s.Failed()
		case '[':
			for it := s.Begin(); s.Next(&it); {
				s.Peek() // past the white space
				start := s.Pos()
				if !s.Skip() {
					return false
				}
				scalars = append(scalars, string(s.Text(start)))
			}
			return !s.Failed()
		case '"':
			str, ok := s.ReadString()
			scalars = append(scalars, str.String())
			return ok
		}
		v, ok := s.Scalar()
		scalars = append(scalars, string(v))
		return ok
	}
	if !walk() || !s.End() {
		t.Fatal(s.Err())
	}
	if got := strings.Join(keys, ","); got != "a,b,key,n" {
		t.Errorf("keys %s", got)
	}
	if got := strings.Join(scalars, ","); got != `1,"x",null,true,-1.5e3` {
		t.Errorf("values %s", got)
	}

	if n := testing.AllocsPerRun(100, func() {
		s := New(data)
		if !s.Skip() || !s.End() {
			t.Fatal(s.Err())
		}
	}); n != 0 {
		t.Errorf("Skip allocated %v times", n)
	}
}

func TestStringRun(t *testing.T) {
	for in, want := range map[string]int{`abc"`: 3, `ab\"`: 2, `abc`: 3, ``: 0, `"\`: 0, `a\b"c`: 1} {
		if got := StringRun([]byte(in)); got != want {
			t.Errorf("StringRun(%q) = %d, want %d", in, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range cases {
		if len(c) < 1000 {
			f.Add([]byte(c))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameAsEncodingJSON(t, data) })
}

// TestVerbatim holds the word-at-a-time test to its definition (no
// backslash, and UTF-8) at every length and position of the bytes that
// decide it.
func TestVerbatim(t *testing.T) {
	special := []string{"\\", "é", "\xff", "\xe2\x80", "\u2028", "\x7f", "\x80", "]", "[", "\\\\", "𝄞"}
	for n := 0; n <= 20; n++ {
		base := strings.Repeat("a", n)
		if got, want := Verbatim([]byte(base)), verbatimSlow([]byte(base)); got != want || !got {
			t.Fatalf("%q: %v", base, got)
		}
		for i := 0; i <= n; i++ {
			for _, sp := range special {
				b := []byte(base[:i] + sp + base[i:])
				if got, want := Verbatim(b), verbatimSlow(b); got != want {
					t.Errorf("Verbatim(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
}
