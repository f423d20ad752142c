package alert

import (
	"encoding/json"
	"slices"
	"testing"
)

// Every field name is a key of the alert's JSON form, and Field reads the
// value that JSON carries under it: the names in configuration are the names
// users see in `trailguard eval --format json`.
func TestFieldNamesAreJSONKeys(t *testing.T) {
	a := &Alert{RuleID: "r", Principal: "p", EventID: "e", AccountID: "123456789012", SourceIP: "203.0.113.7",
		EventName: "n", EventSource: "s.amazonaws.com", Region: "eu-west-1", Severity: High,
		IdentityType: "IAMUser", UserAgent: "ua"}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	names := FieldNames()
	if len(names) != 11 {
		t.Errorf("FieldNames() = %q, want 11 names", names)
	}
	for _, name := range names {
		got, ok := a.Field(name)
		if !ok || got == "" || m[name] != got {
			t.Errorf("Field(%q) = %q, %v; JSON has %v", name, got, ok, m[name])
		}
	}
	if _, ok := a.Field("colour"); ok {
		t.Error("Field(colour) is known")
	}
	names[0] = "changed"
	if slices.Contains(FieldNames(), "changed") {
		t.Error("FieldNames shares its slice with callers")
	}
}

func TestSeverityText(t *testing.T) {
	var s Severity
	if err := s.UnmarshalText([]byte("HIGH")); err != nil || s != High {
		t.Errorf("UnmarshalText(HIGH) = %v, %v", s, err)
	}
	if err := s.UnmarshalText([]byte("severe")); err == nil {
		t.Error("UnmarshalText(severe) accepted")
	}
	if b, _ := Critical.MarshalText(); string(b) != "critical" || Severity(42).String() != "invalid" {
		t.Errorf("MarshalText(Critical) = %s", b)
	}
}

// An alert on a record without a usable eventID is keyed by the record's
// content: distinct records give distinct keys, the same record the same key
// (also after the alert was written as JSON and read back), and an eventID,
// when there is one, is the key whatever the content.
func TestKeyWithoutEventID(t *testing.T) {
	raws := []string{
		`{"eventName":"GetCallerIdentity","eventTime":"2024-01-01T00:00:00Z"}`,
		`{"eventName":"GetCallerIdentity","eventTime":"2024-01-01T00:00:01Z"}`,
		`{"eventID":42,"eventName":"GetCallerIdentity"}`,
		`{"eventID":null,"eventName":"GetCallerIdentity"}`,
		`{"eventID":"","eventName":"GetCallerIdentity"}`,
	}
	seen := map[string]int{}
	for i, raw := range raws {
		a := &Alert{RuleID: "r", Severity: High, Raw: json.RawMessage(raw)}
		k := a.Key()
		if j, dup := seen[k]; dup {
			t.Errorf("records %d and %d share the key %q", j, i, k)
		}
		seen[k] = i
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back Alert
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.Key() != k {
			t.Errorf("record %d: key %q after a JSON round trip, %q before", i, back.Key(), k)
		}
		spaced := &Alert{RuleID: "r", Raw: json.RawMessage(" " + raw + "\n")}
		if spaced.Key() != k {
			t.Errorf("record %d: whitespace around the record changed its key", i)
		}
		if other := (&Alert{RuleID: "s", Raw: json.RawMessage(raw)}); other.Key() == k {
			t.Errorf("record %d: two rules share the key %q", i, k)
		}
	}
	a := &Alert{RuleID: "r", EventID: "e1", Raw: json.RawMessage(raws[0])}
	b := &Alert{RuleID: "r", EventID: "e1", Raw: json.RawMessage(raws[1])}
	if a.Key() != b.Key() {
		t.Errorf("the same eventID gave two keys: %q, %q", a.Key(), b.Key())
	}
}
