package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
)

// The fast decoder must give exactly what OPA's own decoding gives.
func TestDecodeMatchesOPA(t *testing.T) {
	var records [][]byte
	files, _ := filepath.Glob("../examples/logs/*/*.json")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := cloudtrail.NewReader(fh, f, cloudtrail.Limits{})
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			records = append(records, rec.Raw)
		}
		fh.Close()
	}
	if len(records) < 600 {
		t.Fatalf("only %d sample records", len(records))
	}
	records = append(records,
		[]byte(`{"a":"esc\"aped \\ \u00e9 \ud83d\ude00 \n","b":[1,-2.5e+3,0,1E2,true,false,null,{},[]],"c":{"d":{}},"a2":"\u0000"}`),
		[]byte(`{"dup":1,"dup":2}`),
		[]byte("{\"bad utf8\":\"\xff\xfe\"}"),
	)
	for _, raw := range records {
		want, err := ast.ValueFromReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeJSON(raw)
		if err != nil {
			t.Fatalf("decode %s: %v", raw, err)
		}
		if want.Compare(got) != 0 {
			t.Fatalf("decoded differently:\n got %v\nwant %v", got, want)
		}
	}
}

func TestDecodeRefusesWhatEncodingJSONRefuses(t *testing.T) {
	for _, in := range []string{
		`{"a":1,}`, `{"a" 1}`, `{a:1}`, `[1,]`, `[1 2]`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`,
		`{"a":tru}`, `{"a":nul}`, "{\"a\":\"x\ny\"}", `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":1} x`, `{"a":[1}`, `{"a":{"b":1]}`,
		`{"a":"unterminated}`, ``, `   `, `{"a":+1}`, `{"a":NaN}`, `{"a":Infinity}`,
	} {
		if json.Valid([]byte(in)) {
			t.Fatalf("test case %q is valid JSON", in)
		}
		_, err := decodeJSON([]byte(in))
		var want any
		if err == nil || err.Error() != json.Unmarshal([]byte(in), &want).Error() {
			t.Errorf("%q: decode error %v, encoding/json %v", in, err, json.Unmarshal([]byte(in), &want))
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":"\u00e9","b":[1,2,{"c":null}]}`, `{"\u0061":1,"b":{"a":2},"a":3}`, `[1,]`, `{"a":-0.5e-3}`, "{\"a\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := decodeJSON(data)
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("%q: json.Valid=%v but decode error %v", data, valid, err)
		}
		if err != nil {
			return
		}
		want, err := ast.ValueFromReader(bytes.NewReader(data))
		if err != nil {
			return // OPA refuses some valid JSON (e.g. huge numbers); nothing to compare
		}
		if want.Compare(got) != 0 {
			t.Fatalf("%q: decoded %v, OPA %v", data, got, want)
		}
		obj, ok := got.(ast.Object)
		if !ok {
			return
		}
		// decodeKeys: the same object with only the kept keys (every other
		// key, and a key written with escapes).
		keep := map[string]bool{}
		i := 0
		obj.Foreach(func(k, _ *ast.Term) {
			if s, ok := k.Value.(ast.String); ok && i%2 == 0 {
				keep[string(s)] = true
			}
			i++
		})
		part, err := decodeKeys(data, keep)
		if err != nil {
			t.Fatalf("%q: decodeKeys: %v", data, err)
		}
		wantPart := ast.NewObject()
		obj.Foreach(func(k, v *ast.Term) {
			if s, ok := k.Value.(ast.String); ok && keep[string(s)] {
				wantPart.Insert(k, v)
			}
		})
		if wantPart.Compare(part) != 0 {
			t.Fatalf("%q with %v: decodeKeys %v, want %v", data, keep, part, wantPart)
		}
	})
}

// The prefilter reads a record without decoding it, and the pipeline relies on
// that read to know the record is valid JSON: it must accept exactly what
// encoding/json accepts (for objects), and refuse the rest as the log reader
// does.
func FuzzPrefilterValidates(f *testing.F) {
	eng, err := New(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"eventSource":"ec2.amazonaws.com","eventName":"X","userIdentity":{"type":"Root"},"a":[1,{"b":"\u00e9\n"}]}`,
		`{"a":1,}`, `{"a":"\x"}`, `{"a":[1 2]}`, `{"userIdentity":{"type":"IAMUser",}}`, `{"a":"` + "\x01" + `"}`,
		`{"eventName":"A"} {}`, `{"a":-01}`, `{"a":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return
		}
		_, err := eng.pre.extract(data)
		if valid := json.Valid(data); (err == nil) != valid {
			t.Fatalf("%q: extract error %v, json.Valid=%v", data, err, valid)
		}
		// And it says what every other reader of a record says.
		if want := jsonscan.Valid(data); fmt.Sprint(err) != fmt.Sprint(want) {
			t.Fatalf("%q: extract error %v, jsonscan.Valid %v", data, err, want)
		}
	})
}
