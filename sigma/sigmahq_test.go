package sigma

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp/syntax"
	"strings"
	"testing"
)

// TestSigmaHQ compiles every SigmaHQ CloudTrail rule (testdata/sigmahq, see
// NOTICE), refusing none, and checks that each fires on a record built from
// its own detection, and not on an empty record.
func TestSigmaHQ(t *testing.T) {
	files, _ := filepath.Glob("testdata/sigmahq/*.yml")
	if len(files) != 57 {
		t.Fatalf("%d SigmaHQ rules in testdata, want 57", len(files))
	}
	rules, skipped, errs := LoadPaths([]string{"testdata/sigmahq"}, Options{})
	for _, err := range errs {
		t.Error(err)
	}
	if len(rules) != len(files) || len(skipped) != 0 {
		t.Fatalf("%d rules compiled, %d skipped, of %d", len(rules), len(skipped), len(files))
	}
	c := compileOPA(t, rules...) // all at once, as the engine loads them
	for _, r := range rules {
		src, err := os.ReadFile(r.File)
		if err != nil {
			t.Fatal(err)
		}
		record := recordFor(t, r.File, src)
		if !containsTitle(c.fires(t, record), r.Title) {
			t.Errorf("%s does not fire on %s\n%s", r.File, record, r.Module)
		}
		if containsTitle(c.fires(t, `{}`), r.Title) {
			t.Errorf("%s fires on an empty record", r.File)
		}
	}
}

func containsTitle(msgs []string, title string) bool {
	for _, m := range msgs {
		if strings.HasPrefix(m, title+": ") {
			return true
		}
	}
	return false
}

// recordFor builds a record satisfying the first alternative of a rule's
// condition: every test of its positive identifiers gets a value that
// satisfies it; negated identifiers are left unsatisfied by omission.
func recordFor(t *testing.T, file string, src []byte) string {
	docs, err := parseFile(file, src)
	if err != nil {
		t.Fatal(err)
	}
	det, probs := parseDetection(docs[0], Options{})
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	terms, err := dnf(det.cond, false)
	if err != nil {
		t.Fatal(err)
	}
	rec := map[string]any{}
	for _, l := range terms[0] {
		if l.neg {
			continue
		}
		for _, tst := range det.selections[l.name].alts[0] {
			setSample(t, rec, tst)
		}
	}
	out, _ := json.Marshal(rec)
	return string(out)
}

func setSample(t *testing.T, rec map[string]any, tst *test) {
	if tst.kind == tNull {
		return
	}
	var v any = "present"
	if tst.kind == tMatch {
		var samples []any
		for _, x := range tst.vals {
			samples = append(samples, sampleOf(t, x, rec))
			if !tst.all {
				break
			}
		}
		v = samples[0]
		if len(samples) > 1 {
			v = samples
		}
	}
	setPath(rec, tst.path, v)
}

func sampleOf(t *testing.T, x val, rec map[string]any) any {
	switch x.kind {
	case vNumber:
		return json.Number(x.num)
	case vBool:
		return x.b
	case vRegex:
		re, err := syntax.Parse(x.re, syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		return sampleRegex(re.Simplify())
	case vFieldRef:
		setPath(rec, x.ref, "same value")
		return "same value"
	}
	var b strings.Builder
	for _, p := range x.pat {
		switch p.wild {
		case '*':
		case '?':
			b.WriteByte('x')
		default:
			b.WriteString(p.lit)
		}
	}
	return b.String()
}

// sampleRegex writes a string the regex matches.
func sampleRegex(re *syntax.Regexp) string {
	switch re.Op {
	case syntax.OpLiteral:
		return string(re.Rune)
	case syntax.OpCharClass:
		return string(re.Rune[0])
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return "x"
	case syntax.OpCapture, syntax.OpPlus, syntax.OpRepeat:
		return sampleRegex(re.Sub[0])
	case syntax.OpConcat:
		var b strings.Builder
		for _, s := range re.Sub {
			b.WriteString(sampleRegex(s))
		}
		return b.String()
	case syntax.OpAlternate:
		return sampleRegex(re.Sub[0])
	}
	return "" // star, quest, anchors, empty
}

func setPath(rec map[string]any, path []string, v any) {
	m := rec
	for _, k := range path[:len(path)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}
