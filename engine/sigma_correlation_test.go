package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/notifiers/dispatch"
)

// Sigma correlation rules (testdata/sigmacorr: multi-document files of
// detection and correlation rules) run through the engine and the
// dispatcher's stateful stage (dispatch.Replay, as eval and the daemon do):
// event_count and value_count as thresholds, temporal and temporal_ordered as
// sequences, a temporal_ordered chained onto an event_count, aliases, and
// referenced rules that are signals unless generate: true.

var c0 = time.Date(2025, 4, 2, 9, 0, 0, 0, time.UTC)

type rec map[string]any

func ctRecord(id string, at time.Time, name, source, arn string, extra rec) rec {
	r := rec{"eventVersion": "1.08", "eventID": id, "eventTime": at.Format(time.RFC3339), "eventName": name,
		"eventSource": source, "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.9", "recipientAccountId": "111122223333",
		"userIdentity": map[string]any{"type": "IAMUser", "arn": arn, "accountId": "111122223333", "accessKeyId": "AKIA" + strings.ToUpper(arn[len(arn)-3:])}}
	maps.Copy(r, extra)
	return r
}

// replay evaluates the records in order and returns every notified alert.
func replay(t *testing.T, eng *engine.Engine, recs []rec) []*alert.Alert {
	t.Helper()
	ctx := context.Background()
	var out []*alert.Alert
	r, err := dispatch.NewReplay(nil, func(a *alert.Alert) error { out = append(out, a); return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range recs {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		alerts, err := eng.Evaluate(ctx, cloudtrail.Record{Source: "test", Index: i, Raw: raw})
		if err != nil {
			t.Fatal(err)
		}
		for j := range alerts {
			if err := r.Alert(ctx, &alerts[j]); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

func sigmaCorrEngine(t *testing.T, files ...string) *engine.Engine {
	t.Helper()
	var paths []string
	for _, f := range files {
		paths = append(paths, filepath.Join("testdata", "sigmacorr", f))
	}
	eng, err := engine.New(context.Background(), engine.WithPacks(), engine.WithSigma(paths...))
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func ruleIDs(as []*alert.Alert) []string {
	var ids []string
	for _, a := range as {
		ids = append(ids, strings.TrimPrefix(a.RuleID, "sigma.7d3f1c1e-5a8e-4d8e-9a59-1f0c4a0b"))
	}
	return ids
}

// Denied calls (signals) count toward a burst (event_count, gte 3, a signal
// too, since a temporal_ordered correlation refers to it); the burst followed
// by an access key created by the same principal raises the outer rule.
func TestSigmaCorrelationChained(t *testing.T) {
	eng := sigmaCorrEngine(t, "denied_then_key.yml")
	alice, bob := "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/bob"
	denied := rec{"errorCode": "AccessDenied"}
	recs := []rec{
		// A key created before any burst: the order is wrong.
		ctRecord("k0", c0, "CreateAccessKey", "iam.amazonaws.com", alice, nil),
		ctRecord("d1", c0.Add(1*time.Minute), "ListUsers", "iam.amazonaws.com", alice, denied),
		ctRecord("d2", c0.Add(2*time.Minute), "ListRoles", "iam.amazonaws.com", alice, denied),
		ctRecord("b1", c0.Add(2*time.Minute), "ListRoles", "iam.amazonaws.com", bob, denied),
		ctRecord("d2", c0.Add(2*time.Minute), "ListRoles", "iam.amazonaws.com", alice, denied), // read twice
		// Bob creates a key: bob has no burst.
		ctRecord("kb", c0.Add(3*time.Minute), "CreateAccessKey", "iam.amazonaws.com", bob, nil),
		// A late record: alice's third denied call, in the window.
		ctRecord("d3", c0.Add(4*time.Minute), "GetUser", "iam.amazonaws.com", alice, rec{"errorCode": "accessdenied"}),
	}
	if got := replay(t, eng, recs); len(got) != 0 {
		t.Fatalf("before the key that follows the burst: %v", ruleIDs(got))
	}
	recs = append(recs, ctRecord("k1", c0.Add(20*time.Minute), "CreateAccessKey", "iam.amazonaws.com", alice, nil))
	got := replay(t, eng, recs)
	if len(got) != 1 {
		t.Fatalf("want the outer correlation alone, got %v", ruleIDs(got))
	}
	a := got[0]
	if a.RuleID != "sigma.7d3f1c1e-5a8e-4d8e-9a59-1f0c4a0b0004" || a.Severity != alert.High ||
		a.Title != "Denied calls, then an access key" || a.Group["userIdentity.arn"] != alice ||
		!slices.Equal(a.EventIDs, []string{"d3", "k1"}) || a.Window != "1h" {
		t.Fatalf("alert %+v", a)
	}
}

// value_count: distinct secrets per principal, gt 2 (so 3); the secret reads
// are notified on their own too (generate: true).
func TestSigmaCorrelationValueCount(t *testing.T) {
	eng := sigmaCorrEngine(t, "secrets.yml")
	alice := "arn:aws:iam::111122223333:user/alice"
	read := func(id string, min int, secret string) rec {
		return ctRecord(id, c0.Add(time.Duration(min)*time.Minute), "GetSecretValue", "secretsmanager.amazonaws.com", alice,
			rec{"requestParameters": map[string]any{"secretId": secret}})
	}
	recs := []rec{read("s1", 0, "db"), read("s2", 1, "db"), read("s3", 2, "api"), read("s4", 20, "ssh"), read("s5", 21, "tls")}
	got := replay(t, eng, recs)
	if ids := ruleIDs(got); slices.Contains(ids, "0012") {
		t.Fatalf("three distinct secrets but not within 15m raised %v", ids)
	}
	if n := len(got); n != 5 {
		t.Fatalf("%d alerts, want the five reads (generate: true)", n)
	}
	got = replay(t, eng, append(recs, read("s6", 22, "api")))
	if len(got) != 7 {
		t.Fatalf("want the six reads and the correlation, got %v", ruleIDs(got))
	}
	last := got[5] // raised as the sixth read is counted, before it is notified
	if last.RuleID != "sigma.7d3f1c1e-5a8e-4d8e-9a59-1f0c4a0b0012" || last.Count != 3 ||
		!slices.Equal(last.EventIDs, []string{"s4", "s5", "s6"}) || !strings.Contains(last.Message, "distinct requestParameters.secretId values") {
		t.Fatalf("value_count alert: %+v", last)
	}
}

// temporal (any order) with an alias: the two steps of one session, in
// reverse order, raise it; another session's step does not complete it.
func TestSigmaCorrelationTemporalAliases(t *testing.T) {
	eng := sigmaCorrEngine(t, "stop_start.yml")
	alice, bob := "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/bob"
	recs := []rec{
		ctRecord("m1", c0, "ModifyInstanceAttribute", "ec2.amazonaws.com", alice, nil),
		ctRecord("x1", c0.Add(time.Minute), "StopInstances", "ec2.amazonaws.com", bob, nil),
	}
	if got := replay(t, eng, recs); len(got) != 0 {
		t.Fatalf("two sessions: %v", ruleIDs(got))
	}
	got := replay(t, eng, append(recs, ctRecord("x2", c0.Add(5*time.Minute), "StopInstances", "ec2.amazonaws.com", alice, nil)))
	if len(got) != 1 || got[0].Group["session"] != "AKIAICE" || !slices.Equal(got[0].EventIDs, []string{"m1", "x2"}) {
		for _, a := range got {
			t.Logf("%+v", *a)
		}
		t.Fatalf("temporal alert: %v", ruleIDs(got))
	}
}

// What the stateful engine cannot decide is refused with the file, the line
// and why; so is what does not resolve.
func TestSigmaCorrelationRefused(t *testing.T) {
	base := "title: Base\nid: base-1\nname: base\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n    sel:\n        eventName: X\n    condition: sel\nlevel: low\n---\n" +
		"title: Other\nid: base-2\nname: other\nlogsource:\n    product: aws\n    service: cloudtrail\ndetection:\n    sel:\n        eventName: Y\n    condition: sel\nlevel: low\n---\n"
	corr := func(body string) string {
		return base + "title: C\nid: corr-1\nlevel: high\ncorrelation:\n" + body
	}
	tests := []struct{ name, src, want string }{
		{"upper bound", corr("    type: event_count\n    rules: [base]\n    group-by: [sourceIPAddress]\n    timespan: 1h\n    condition:\n        lt: 5\n"),
			`c.yml:34:9: correlation "C": condition {lt: 5}: trailguard supports one of gte or gt for event_count`},
		{"range", corr("    type: event_count\n    rules: [base]\n    group-by: [sourceIPAddress]\n    timespan: 1h\n    condition:\n        gt: 5\n        lte: 10\n"),
			`condition {gt: 5, lte: 10}: trailguard supports one of gte or gt`},
		{"subset of a temporal", corr("    type: temporal\n    rules: [base, other]\n    group-by: [sourceIPAddress]\n    timespan: 1h\n    condition:\n        gte: 1\n"),
			`condition {gte: 1}: trailguard's sequences need every one of the 2 rules`},
		{"no group-by", corr("    type: event_count\n    rules: [base]\n    timespan: 1h\n    condition:\n        gte: 5\n"),
			`correlation "C": group-by is missing`},
		{"unknown rule", corr("    type: event_count\n    rules: [nope]\n    group-by: [sourceIPAddress]\n    timespan: 1h\n    condition:\n        gte: 5\n"),
			`c.yml:30:12: correlation "C": refers to rule "nope", which is not loaded`},
		{"counting a correlation", corr("    type: event_count\n    rules: [base]\n    group-by: [sourceIPAddress]\n    timespan: 1h\n    condition:\n        gte: 5\n") +
			"---\ntitle: D\nid: corr-2\nlevel: high\ncorrelation:\n    type: event_count\n    rules: [corr-1]\n    group-by: [sourceIPAddress]\n    timespan: 1h\n    condition:\n        gte: 2\n",
			`correlation "D": event_count counts the events of correlation "corr-1"`},
		{"alias missing a rule", corr("    type: temporal\n    rules: [base, other]\n    group-by: [ip]\n    aliases:\n        ip:\n            base: sourceIPAddress\n    timespan: 1h\n"),
			`alias "ip" names no field for rule "other"`},
		{"alert field name", corr("    type: event_count\n    rules: [base]\n    group-by: [principal]\n    timespan: 1h\n    condition:\n        gte: 5\n"),
			`field "principal" is also the name of a field of trailguard's alerts`},
		{"one-rule temporal", corr("    type: temporal\n    rules: [base]\n    group-by: [sourceIPAddress]\n    timespan: 1h\n"),
			`temporal needs at least two rules`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "c.yml"), []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := engine.New(context.Background(), engine.WithPacks(), engine.WithSigma(dir))
			var pe *engine.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("want a PolicyError, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error does not say %q:\n%v", tc.want, err)
			}
		})
	}
}

// The correlation's rules appear in the engine as a counter and a sequence,
// with the referenced rules as signals.
func TestSigmaCorrelationRules(t *testing.T) {
	eng := sigmaCorrEngine(t, "denied_then_key.yml", "secrets.yml", "stop_start.yml")
	byID := map[string]engine.Rule{}
	for _, r := range eng.Rules() {
		byID[strings.TrimPrefix(r.ID, "sigma.7d3f1c1e-5a8e-4d8e-9a59-1f0c4a0b")] = r
	}
	for id, signal := range map[string]bool{"0001": true, "0002": true, "0011": false, "0021": true, "0022": true} {
		if sf := byID[id].Stateful; sf == nil || sf.Signal != signal {
			t.Errorf("%s: stateful %+v, want signal %v", id, sf, signal)
		}
	}
	if c := byID["0001"].Stateful.CountedBy; len(c) != 1 || c[0].Threshold.Count != 3 || !c[0].Signal || len(c[0].Then) != 1 {
		t.Errorf("denied_call counted by %+v", c)
	}
	if s := byID["0002"].Stateful.StepOf; len(s) != 1 || !s[0].Ordered || fmt.Sprint(s[0].GroupBy) != "[userIdentity.arn]" {
		t.Errorf("access_key_created steps %+v", s)
	}
}
