package alert

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/trailguard/trailguard/attack"
)

// encodingJSON is what AppendJSON must equal: encoding/json with HTML
// escaping off, as `trailguard eval` wrote alerts before.
func encodingJSON(t testing.TB, a *Alert) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(a); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// tricky are strings encoding/json treats specially.
var tricky = []string{
	"", "plain", `quote " and \ backslash`, "<html> & 'amp'", "tab\tnew\nline\rret\bback\fform",
	"\x00\x01\x1f\x7f", "caf\u00e9 \u65e5\u672c", "line\u2028para\u2029", "bad \xff\xfe utf8", "\xe2\x82",
	"emoji \U0001F600", "/slash/", "\u0000end",
}

func randString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return tricky[r.IntN(len(tricky))]
	}
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

func randStrings(r *rand.Rand) []string {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []string{}
	}
	out := make([]string, 1+r.IntN(4))
	for i := range out {
		out[i] = randString(r)
	}
	return out
}

func randMap(r *rand.Rand) map[string]string {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		return map[string]string{}
	}
	m := map[string]string{}
	for range 1 + r.IntN(5) {
		m[randString(r)] = randString(r)
	}
	return m
}

func randAlert(r *rand.Rand) *Alert {
	maybe := func() string {
		if r.IntN(2) == 0 {
			return ""
		}
		return randString(r)
	}
	a := &Alert{
		RuleID: randString(r), Title: maybe(), Severity: Severity(r.IntN(8) - 1), Description: maybe(),
		Message: maybe(), Tags: randStrings(r), Runbook: maybe(), References: randStrings(r),
		EventID: maybe(), EventTime: maybe(), EventSource: maybe(), EventName: maybe(), Region: maybe(),
		AccountID: maybe(), Principal: maybe(), IdentityType: maybe(), SourceIP: maybe(), UserAgent: maybe(),
		ErrorCode: maybe(), DedupKey: maybe(), Origin: maybe(), Fields: randMap(r),
		Count: r.IntN(5) - 1, Window: maybe(), Group: randMap(r), FirstEventTime: maybe(), LastEventTime: maybe(),
		EventIDs: randStrings(r), Value: maybe(), KnownValues: randStrings(r),
		Stateful: &Stateful{},
	}
	for range r.IntN(3) {
		a.Attack = append(a.Attack, attack.Mapping{Tactic: randString(r), Technique: maybe()})
	}
	switch r.IntN(3) {
	case 1:
		a.Raw = json.RawMessage(`{"eventID": "e-1",  "list": [1, 2.5e3, true, null, "x\u00e9"],` + "\n\t" + `"nested": {"a": {}}}`)
	case 2:
		a.Raw = json.RawMessage(`{"eventID":"e-2"}`)
	}
	return a
}

func TestAppendJSONIsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		a := randAlert(r)
		want := encodingJSON(t, a)
		got, err := a.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("alert %d:\n got %s\nwant %s", i, got, want)
		}
	}
	// Every tricky string in every string position at least once.
	for _, s := range tricky {
		a := &Alert{RuleID: s, Title: s, Message: s, Tags: []string{s}, Fields: map[string]string{s: s}}
		got, err := a.AppendJSON([]byte("prefix"))
		if err != nil {
			t.Fatal(err)
		}
		if want := append([]byte("prefix"), encodingJSON(t, a)...); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
}

func TestAppendJSONRefusesAnEventThatIsNotJSON(t *testing.T) {
	a := &Alert{RuleID: "r", Raw: json.RawMessage(`{"eventID":`)}
	if _, err := json.Marshal(a); err == nil {
		t.Fatal("encoding/json accepted it: the test is wrong")
	}
	if _, err := a.AppendJSON(nil); err == nil {
		t.Fatal("AppendJSON accepted an event that is not JSON")
	}
}

func BenchmarkAlertJSON(b *testing.B) {
	a := randAlert(rand.New(rand.NewPCG(3, 4)))
	a.Raw = nil
	b.Run("encoding-json", func(b *testing.B) {
		enc := json.NewEncoder(&bytes.Buffer{})
		enc.SetEscapeHTML(false)
		b.ReportAllocs()
		for b.Loop() {
			if err := enc.Encode(a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("AppendJSON", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			buf, _ = a.AppendJSON(buf[:0])
		}
	})
}
