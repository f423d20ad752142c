package alert

import (
	"bytes"
	"encoding/json"
	"io"
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
	switch r.IntN(3) {
	case 0:
		return tricky[r.IntN(len(tricky))]
	case 1:
		// Mostly printable ASCII, with the odd byte that needs escaping at
		// any offset of a word: AppendJSON tests 8 bytes at a time.
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(0x20 + r.IntN(0x5f))
			if r.IntN(16) == 0 {
				b[i] = "\"\\\x00\x1f\x7f\x80\xe2\n"[r.IntN(8)]
			}
		}
		return string(b)
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
	// An alert of a SigmaHQ rule on an ordinary call.
	a := &Alert{
		RuleID: "sigma.905d389b-b853-46d0-9d3d-dea0d3a3cd49", Title: "AWS STS AssumeRole Misuse", Severity: Low,
		Description: "Identifies the suspicious use of AssumeRole. Attackers could move laterally and escalate privileges.",
		Message:     "AWS STS AssumeRole Misuse: arn:aws:sts::111122223333:assumed-role/app/s called ec2:DescribeInstances in us-east-1 from 203.0.113.7",
		Tags:        []string{"attack.lateral-movement", "attack.privilege-escalation", "attack.t1548", "attack.t1550", "attack.t1550.001"},
		References:  []string{"https://github.com/elastic/detection-rules/pull/1214", "https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html"},
		Attack:      []attack.Mapping{{Tactic: "TA0004", Technique: "T1548"}, {Tactic: "TA0008", Technique: "T1550"}},
		EventID:     "0f2f6a8e-6d0c-4c52-9b8e-3f4c5a6b7c8d", EventTime: "2026-11-25T10:00:00Z", EventSource: "ec2.amazonaws.com",
		EventName: "DescribeInstances", Region: "us-east-1", AccountID: "111122223333",
		Principal: "arn:aws:sts::111122223333:assumed-role/app/s", IdentityType: "AssumedRole", SourceIP: "203.0.113.7",
		UserAgent: "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2023",
	}
	b.Run("encoding-json", func(b *testing.B) {
		enc := json.NewEncoder(io.Discard)
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
