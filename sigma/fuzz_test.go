package sigma

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// FuzzSigmaCompile builds random rules (selections, modifiers, values,
// conditions) and records from the fuzzer's bytes, compiles each rule and
// checks that OPA compiles the module and agrees, record by record, with
// interpret below: the specification read a second time, directly.
func FuzzSigmaCompile(f *testing.F) {
	for _, seed := range []string{"", "\x00\x01\x02\x03", "hello sigma", "\xff\xfe\x10\x20\x30\x40\x50\x60\x70\x80", strings.Repeat("\x07\x13", 20)} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &bytesrc{data: data}
		rule := randomRule(src)
		r, err := Compile("fuzz.yml", []byte(rule.yaml()), Options{})
		if err != nil {
			t.Fatalf("rule refused: %v\n%s", err, rule.yaml())
		}
		c := compileOPA(t, r)
		for i := 0; i < 4; i++ {
			rec := randomRecord(src)
			js, _ := json.Marshal(rec)
			got := len(c.fires(t, string(js))) > 0
			if want := rule.eval(rec); got != want {
				t.Fatalf("record %s: compiled rule says %v, interpreter %v\nrule:\n%s\nrego:\n%s", js, got, want, rule.yaml(), r.Module)
			}
			// The guard is a necessary condition: it never turns away a
			// record the rule matches.
			if got && r.Guard != nil && !r.Guard.Admits(guardFields(r.Guard, js)) {
				t.Fatalf("record %s: the rule matches, its guard rejects it\nrule:\n%s", js, rule.yaml())
			}
		}
	})
}

// guardFields reads a guard's fields from a record's JSON the way the engine's
// prefilter does: through objects only (a list on the way is "other", a
// scalar on the way leaves the field absent), strings as strings, anything
// else "other".
func guardFields(g *Guard, js []byte) []Field {
	var rec any
	if err := json.Unmarshal(js, &rec); err != nil {
		panic(err)
	}
	out := make([]Field, len(g.Fields()))
	for i, path := range g.Fields() {
		v, kind := rec, FieldString
		for _, k := range path {
			switch o := v.(type) {
			case map[string]any:
				var ok bool
				if v, ok = o[k]; !ok {
					kind = FieldAbsent
				}
			case []any:
				kind = FieldOther
			default:
				kind = FieldAbsent
			}
			if kind != FieldString {
				break
			}
		}
		switch s, ok := v.(string); {
		case kind != FieldString:
			out[i] = Field{Kind: kind}
		case ok:
			out[i] = Field{Kind: FieldString, Str: s}
		default:
			out[i] = Field{Kind: FieldOther}
		}
	}
	return out
}

type bytesrc struct {
	data []byte
	pos  int
}

func (b *bytesrc) n(k int) int {
	if b.pos >= len(b.data) {
		b.pos++
		return b.pos % k
	}
	v := int(b.data[b.pos])
	b.pos++
	return v % k
}

var (
	fuzzFields = []string{"eventName", "f", "o.k"}
	fuzzMods   = []string{"", "contains", "startswith", "endswith", "cased", "contains|all", "neq", "exists", "null"}
	fuzzRunes  = []string{"a", "A", "é", "É", "*", "?", `\`, "1", " "}
)

type fTest struct {
	field, mod string
	vals       []any // string, int or bool; for exists a bool
}

type fRule struct {
	sels [][]fTest
	cond string
}

func randomString(b *bytesrc) string {
	var s strings.Builder
	for i, n := 0, b.n(4); i < n; i++ {
		s.WriteString(fuzzRunes[b.n(len(fuzzRunes))])
	}
	return s.String()
}

func randomRule(b *bytesrc) *fRule {
	r := &fRule{}
	for i, n := 0, 1+b.n(3); i < n; i++ {
		var sel []fTest
		for j, m := 0, 1+b.n(2); j < m; j++ {
			t := fTest{field: fuzzFields[b.n(len(fuzzFields))], mod: fuzzMods[b.n(len(fuzzMods))]}
			switch t.mod {
			case "exists":
				t.vals = []any{b.n(2) == 0}
			case "null":
			default:
				k := 1 + b.n(3)
				if t.mod == "contains|all" && k < 2 {
					k = 2
				}
				for v := 0; v < k; v++ {
					switch b.n(6) {
					case 0:
						t.vals = append(t.vals, 1)
					case 1:
						t.vals = append(t.vals, true)
					default:
						t.vals = append(t.vals, randomString(b))
					}
				}
			}
			sel = append(sel, t)
		}
		r.sels = append(r.sels, sel)
	}
	r.cond = randomCond(b, len(r.sels), 2)
	return r
}

func randomCond(b *bytesrc, n, depth int) string {
	if depth == 0 {
		return fmt.Sprintf("sel%d", b.n(n))
	}
	switch b.n(7) {
	case 0:
		return "not " + randomCond(b, n, depth-1)
	case 1:
		return "(" + randomCond(b, n, depth-1) + " and " + randomCond(b, n, depth-1) + ")"
	case 2:
		return "(" + randomCond(b, n, depth-1) + " or " + randomCond(b, n, depth-1) + ")"
	case 3:
		return "1 of sel*"
	case 4:
		return "all of them"
	}
	return fmt.Sprintf("sel%d", b.n(n))
}

func (r *fRule) yaml() string {
	var s strings.Builder
	for i, sel := range r.sels {
		fmt.Fprintf(&s, "    sel%d:\n", i)
		for _, t := range sel {
			key := t.field
			switch t.mod {
			case "":
			case "null":
				fmt.Fprintf(&s, "        %s: null\n", key)
				continue
			default:
				key += "|" + t.mod
			}
			fmt.Fprintf(&s, "        %s:\n", key)
			for _, v := range t.vals {
				if str, ok := v.(string); ok {
					v = "'" + strings.ReplaceAll(str, "'", "''") + "'"
				}
				fmt.Fprintf(&s, "            - %v\n", v)
			}
		}
	}
	fmt.Fprintf(&s, "    condition: %s\n", r.cond)
	src := ruleWith(s.String())
	// exists takes a scalar boolean, not a list.
	return strings.ReplaceAll(strings.ReplaceAll(src, "|exists:\n            - true", "|exists: true"), "|exists:\n            - false", "|exists: false")
}

func randomScalar(b *bytesrc) any {
	switch b.n(6) {
	case 0:
		return 1.0
	case 1:
		return 1.5
	case 2:
		return true
	case 3:
		return nil
	}
	return randomString(b)
}

func randomValue(b *bytesrc) any {
	if b.n(4) == 0 {
		var l []any
		for i, n := 0, b.n(3); i < n; i++ {
			l = append(l, randomScalar(b))
		}
		return append([]any{}, l...)
	}
	return randomScalar(b)
}

func randomRecord(b *bytesrc) map[string]any {
	rec := map[string]any{}
	if b.n(3) > 0 { // CloudTrail writes eventName as a string (see indexedFields)
		rec["eventName"] = randomString(b)
	}
	if b.n(3) > 0 {
		rec["f"] = randomValue(b)
	}
	switch b.n(4) {
	case 1:
		rec["o"] = map[string]any{"k": randomValue(b)}
	case 2:
		rec["o"] = []any{map[string]any{"k": randomValue(b)}, map[string]any{"k": randomValue(b)}}
	case 3:
		rec["o"] = map[string]any{}
	}
	return rec
}
