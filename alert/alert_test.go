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
