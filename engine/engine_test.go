package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

// createServer is the CreateServer record from the AWS OpsWorks user guide
// (MIT-0), as the bundled sample has it.
func createServer(t testing.TB) cloudtrail.Record {
	t.Helper()
	raw, err := os.ReadFile("../examples/logs/awsdocs-opsworks-cm/logging-opsca-using-cloudtrail.CreateServer.json")
	if err != nil {
		t.Fatal(err)
	}
	return cloudtrail.Record{Raw: raw, Source: "create.json"}
}

const readOnly = `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE","userName":"alice"},"eventTime":"2026-11-25T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0","requestParameters":{"maxResults":100},"responseElements":null,"requestID":"r-1","eventID":"e-readonly","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333","eventCategory":"Management"}`

func ids(alerts []alert.Alert) string {
	var out []string
	for _, a := range alerts {
		out = append(out, a.RuleID)
	}
	return strings.Join(out, ",")
}

func TestBuiltinPacksOnSample(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}}))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(eng.Rules()); n != 59 {
		t.Errorf("%d rules loaded, want 59 (10 opsworkscm + 15 aws + 34 threats)", n)
	}
	alerts, err := eng.Evaluate(ctx, createServer(t))
	if err != nil {
		t.Fatal(err)
	}
	// The published event: an assumed role without MFA, from a public IP, in 2017.
	if got := ids(alerts); got != "opsworkscm.create_server_without_mfa,opsworkscm.unknown_source_ip" {
		t.Fatalf("alerts %s", got)
	}
	a := alerts[0]
	want := alert.Alert{
		RuleID: "opsworkscm.create_server_without_mfa", Severity: alert.High,
		EventID: "8r7b18df-6c90-47be-87cf-e8346428cfc3", EventTime: "2017-01-05T22:18:23Z",
		EventSource: "opsworks-cm.amazonaws.com", EventName: "CreateServer", Region: "us-west-2",
		AccountID: "831000000000", Principal: "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser",
		IdentityType: "AssumedRole", SourceIP: "101.25.190.51", UserAgent: "console.amazonaws.com",
	}
	if a.RuleID != want.RuleID || a.Severity != want.Severity || a.EventID != want.EventID || a.EventTime != want.EventTime ||
		a.EventSource != want.EventSource || a.EventName != want.EventName || a.Region != want.Region ||
		a.AccountID != want.AccountID || a.Principal != want.Principal || a.IdentityType != want.IdentityType ||
		a.SourceIP != want.SourceIP || a.UserAgent != want.UserAgent {
		t.Errorf("alert fields\n got %+v\nwant %+v", a, want)
	}
	if a.Title == "" || a.Description == "" || a.Message == "" || a.Origin != "create.json" || len(a.Raw) == 0 {
		t.Errorf("alert lacks metadata or evidence: %+v", a)
	}

	// A successful read-only call by an IAM user matches nothing.
	alerts, err = eng.Evaluate(ctx, cloudtrail.Record{Raw: []byte(readOnly)})
	if err != nil || len(alerts) != 0 {
		t.Fatalf("read-only event: %v %v", ids(alerts), err)
	}
}

func TestPacksSwitchOff(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithPacks("aws"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range eng.Rules() {
		if !strings.HasPrefix(r.ID, "aws.") {
			t.Fatalf("rule %s loaded with only the aws pack", r.ID)
		}
		// Named by their path in the source tree, which errors point to.
		if !strings.HasPrefix(r.File, "rules/aws/") || strings.HasSuffix(r.File, "_test.rego") {
			t.Errorf("rule %s from %q", r.ID, r.File)
		}
	}
	alerts, _ := eng.Evaluate(ctx, createServer(t))
	if len(alerts) != 0 {
		t.Fatalf("alerts with opsworkscm off: %s", ids(alerts))
	}
	if _, err := engine.New(ctx, engine.WithPacks("nope")); err == nil || !strings.Contains(err.Error(), `unknown pack "nope"`) {
		t.Fatalf("unknown pack: %v", err)
	}
}

const goodRule = `# METADATA
# title: Test rule
# description: fires on CreateServer
# custom:
#   id: custom.create
#   severity: low
#   tags: [t1]
#   runbook: https://runbooks.example/custom.create
package rules.custom.create

import rego.v1

alert contains {"message": sprintf("created by %s", [input.userIdentity.arn])} if {
	input.eventName == "CreateServer"
}

alert contains {"message": "overridden", "severity": "critical", "dedup_key": "k1"} if {
	input.eventName == "CreateServer"
	data.extra.flag == true
}
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPolicyDirsAndData(t *testing.T) {
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{
		"custom/create.rego": goodRule,
		// A test file in a policy directory must never reach the serving engine.
		"custom/create_test.rego": "package rules.custom.create_test\nimport rego.v1\ntest_x if { true }\nalert contains {\"message\": \"from a test file\"} if { true }\n",
	})
	data := writeFiles(t, map[string]string{"extra.yaml": "extra:\n  flag: true\n"})
	eng, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir), engine.WithDataFiles(filepath.Join(data, "extra.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := eng.Evaluate(ctx, createServer(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 2 {
		t.Fatalf("alerts: %+v", alerts)
	}
	var plain, over alert.Alert
	for _, a := range alerts {
		if a.DedupKey == "k1" {
			over = a
		} else {
			plain = a
		}
	}
	if plain.Severity != alert.Low || plain.Message != "created by arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser" ||
		plain.Runbook != "https://runbooks.example/custom.create" || strings.Join(plain.Tags, ",") != "t1" {
		t.Errorf("plain alert: %+v", plain)
	}
	if over.Severity != alert.Critical || over.Message != "overridden" {
		t.Errorf("overriding alert: %+v", over)
	}
}

func TestPolicyProblemsHaveLocations(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"syntax error", map[string]string{"bad.rego": "package rules.x.y\nimport rego.v1\nalert contains {\"message\": \"m\"} if {\n\tinput.eventName ==\n}\n"},
			[]string{"bad.rego:5:1: unexpected } token"}},
		{"no id", map[string]string{"noid.rego": "# METADATA\n# title: T\n# custom:\n#   severity: low\npackage rules.x.noid\nimport rego.v1\nalert contains {\"message\": \"m\"} if { true }\n"},
			[]string{"noid.rego:5:1: package rules.x.noid: METADATA has no custom.id"}},
		{"bad severity", map[string]string{"sev.rego": "# METADATA\n# title: T\n# custom:\n#   id: x.sev\n#   severity: urgent\npackage rules.x.sev\nimport rego.v1\nalert contains {\"message\": \"m\"} if { true }\n"},
			[]string{`sev.rego:6:1: rule x.sev: custom.severity: unknown severity "urgent"`}},
		{"no metadata", map[string]string{"nometa.rego": "package rules.x.nometa\nimport rego.v1\nalert contains {\"message\": \"m\"} if { true }\n"},
			[]string{"nometa.rego:1:1: package rules.x.nometa has no METADATA block"}},
		{"strict mode: unused variable", map[string]string{"strict.rego": "# METADATA\n# title: T\n# custom:\n#   id: x.strict\n#   severity: low\npackage rules.x.strict\nimport rego.v1\nalert contains {\"message\": \"m\"} if {\n\tunused := input.eventName\n\ttrue\n}\n"},
			[]string{"strict.rego:9:"}},
		{"two problems at once", map[string]string{
			"a.rego": "package rules.x.a\nimport rego.v1\nalert contains {\"message\": \"m\"} if { true }\n",
			"b.rego": "# METADATA\n# title: T\n# custom:\n#   severity: low\npackage rules.x.b\nimport rego.v1\nalert contains {\"message\": \"m\"} if { true }\n"},
			[]string{"a.rego:1:1:", "b.rego:5:1:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, tc.files)
			_, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir))
			var pe *engine.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("want a PolicyError, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), filepath.Join(dir, w)) && !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
			if len(pe.Problems) != len(tc.want) {
				t.Errorf("%d problems, want %d: %v", len(pe.Problems), len(tc.want), err)
			}
		})
	}
}

// A rule that fails at evaluation time costs only its own alerts.
func TestEvaluationErrorInOneRule(t *testing.T) {
	ctx := context.Background()
	broken := `# METADATA
# title: Broken
# custom:
#   id: custom.broken
#   severity: low
package rules.custom.broken

import rego.v1

# Two different values for one key: a conflict OPA reports at evaluation time.
verdict := "a" if input.eventName == "CreateServer"

verdict := "b" if input.eventSource == "opsworks-cm.amazonaws.com"

alert contains {"message": verdict} if {
	input.eventName == "CreateServer"
}
`
	dir := writeFiles(t, map[string]string{"custom/create.rego": goodRule, "custom/broken.rego": broken})
	eng, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir))
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := eng.Evaluate(ctx, createServer(t))
	var ee *engine.EvalError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "rule custom.broken") {
		t.Fatalf("want an EvalError naming the rule, got %v", err)
	}
	if ids(alerts) != "custom.create" {
		t.Fatalf("the good rule's alert is lost: %v", ids(alerts))
	}
}

func TestReloadKeepsOldRulesOnError(t *testing.T) {
	ctx := context.Background()
	dir := writeFiles(t, map[string]string{"custom/create.rego": goodRule})
	build := func(ctx context.Context) (*engine.Engine, error) {
		return engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir))
	}
	rl, err := engine.NewReloader(ctx, build)
	if err != nil {
		t.Fatal(err)
	}
	before := rl.Engine()

	// Break the policy: the reload fails and the old rules keep serving.
	os.WriteFile(filepath.Join(dir, "custom/create.rego"), []byte(strings.Replace(goodRule, "if {", "if {{", 1)), 0o644)
	if _, err := rl.Reload(ctx); err == nil || !strings.Contains(err.Error(), "create.rego:") {
		t.Fatalf("broken reload: %v", err)
	}
	if rl.Engine() != before {
		t.Fatal("a failed reload replaced the engine")
	}
	if alerts, _ := rl.Engine().Evaluate(ctx, createServer(t)); len(alerts) != 1 {
		t.Fatalf("old rules stopped serving: %v", ids(alerts))
	}

	// A good change is swapped in whole while evaluations run.
	os.WriteFile(filepath.Join(dir, "custom/create.rego"), []byte(strings.Replace(goodRule, "severity: low", "severity: high", 1)), 0o644)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				alerts, err := rl.Engine().Evaluate(ctx, createServer(t))
				if err != nil || len(alerts) != 1 {
					t.Errorf("during reload: %v %v", ids(alerts), err)
					return
				}
			}
		}()
	}
	if _, err := rl.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	if alerts, _ := rl.Engine().Evaluate(ctx, createServer(t)); alerts[0].Severity != alert.High {
		t.Fatalf("new rules not serving: %+v", alerts)
	}
}

func TestRunTests(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{
		"lib/x.rego":    {Data: []byte("package lib.x\nimport rego.v1\nok if true\n")},
		"p/r.rego":      {Data: []byte(goodRule)},
		"p/r_test.rego": {Data: []byte("package rules.custom.create_test\nimport rego.v1\nimport data.rules.custom.create\ntest_fires if {\n\tcount(create.alert) == 1 with input as {\"eventName\": \"CreateServer\", \"userIdentity\": {\"arn\": \"a\"}}\n}\ntest_fails if {\n\tprint(\"hello from print\")\n\tcount(create.alert) == 5 with input as {\"eventName\": \"CreateServer\", \"userIdentity\": {\"arn\": \"a\"}}\n}\n")},
	}
	var out strings.Builder
	sum, err := engine.RunTests(ctx, &out, engine.TestOptions{}, engine.WithEmbeddedFS(fsys), engine.WithPacks("p"))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Passed != 1 || sum.Failed != 1 {
		t.Fatalf("summary %+v\n%s", sum, out.String())
	}
	if !strings.Contains(out.String(), "rules/p/r_test.rego:7") || !strings.Contains(out.String(), "hello from print") {
		t.Errorf("report lacks the failure's file:row or print output:\n%s", out.String())
	}
}

// The prefilter only ever skips records that no rule matches: every sample
// record gives the same alerts with and without it.
func TestPrefilterNeverHidesAnAlert(t *testing.T) {
	ctx := context.Background()
	data := engine.WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}})
	eng, err := engine.New(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	var recs []cloudtrail.Record
	files, _ := filepath.Glob("../examples/logs/*/*.json")
	for _, f := range files {
		fh, _ := os.Open(f)
		r, _ := cloudtrail.NewReader(fh, f, cloudtrail.Limits{})
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			recs = append(recs, rec)
		}
		r.Close()
		fh.Close()
	}
	samples := len(recs)
	// And the benchmark's generated trail: every kind of event it makes.
	g := gen.New(gen.Options{Seed: 7})
	for i, raw := range g.Records(3000) {
		recs = append(recs, cloudtrail.Record{Raw: raw, Source: "generated", Index: i})
	}

	skipped, narrowed := 0, 0
	for i, rec := range recs {
		in, err := eng.DecodeRecord(rec)
		if err != nil {
			t.Fatal(err)
		}
		full, err := engine.Parse(rec)
		if err != nil {
			t.Fatal(err)
		}
		got, err1 := eng.EvaluateInput(ctx, in)
		want, err2 := eng.EvaluateInput(ctx, full)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if describe(got) != describe(want) {
			t.Fatalf("%s record %d: prefiltered %q, every rule %q", rec.Source, rec.Index, describe(got), describe(want))
		}
		if in.Skipped() {
			skipped++
			if in.EventSource() != full.EventSource() || in.EventTime() != full.EventTime() {
				t.Errorf("%s record %d: eventSource/eventTime %q %q without decoding, %q %q decoded",
					rec.Source, rec.Index, in.EventSource(), in.EventTime(), full.EventSource(), full.EventTime())
			}
		} else if c := in.CandidateRules(); c != nil && len(c) < len(eng.Rules()) {
			narrowed++
		}
		if i == samples-1 {
			t.Logf("%d of %d sample records skipped without decoding", skipped, samples)
		}
	}
	// Most records of a real trail match nothing; the prefilter must notice,
	// and evaluate the others against the few rules that can match them.
	if skipped < len(recs)/2 {
		t.Errorf("only %d of %d records skipped", skipped, len(recs))
	}
	if decoded := len(recs) - skipped; narrowed != decoded {
		t.Errorf("%d of %d decoded records were evaluated against a narrowed set of rules, want all", narrowed, decoded)
	}
	t.Logf("%d of %d records skipped without decoding; the other %d evaluated against their candidate rules only", skipped, len(recs), narrowed)
}

// describe is the alerts' rule ids and messages, for comparisons.
func describe(alerts []alert.Alert) string {
	var b strings.Builder
	for _, a := range alerts {
		fmt.Fprintf(&b, "%s: %s\n", a.RuleID, a.Message)
	}
	return b.String()
}

func TestPrefilterWithCustomRules(t *testing.T) {
	ctx := context.Background()
	rule := func(id, body string) string {
		return "# METADATA\n# title: T\n# custom:\n#   id: x." + id + "\n#   severity: low\npackage rules.x." + id +
			"\nimport rego.v1\nalert contains {\"message\": \"m\"} if {\n" + body + "\n}\n"
	}
	ev := func(name, src string) cloudtrail.Record {
		return cloudtrail.Record{Raw: []byte(`{"eventID":"1","eventName":"` + name + `","eventSource":"` + src + `","userIdentity":{"type":"IAMUser"}}`)}
	}
	tests := []struct {
		name  string
		body  string
		event cloudtrail.Record
		want  int
	}{
		{"indexed on eventName, other event", `input.eventName == "A"`, ev("B", "s"), 0},
		{"indexed on eventName, matching event", `input.eventName == "A"`, ev("A", "s"), 1},
		{"nested field", `input.userIdentity.type == "IAMUser"`, ev("B", "s"), 1},
		{"not indexable", `startswith(input.eventName, "Des")`, ev("Describe", "s"), 1},
		{"indexed on data", `input.eventName == data.wanted`, ev("W", "s"), 1},
		{"absent field", `not input.errorCode`, ev("B", "s"), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{"r.rego": rule("r", tc.body)})
			eng, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(dir), engine.WithData(map[string]any{"wanted": "W"}))
			if err != nil {
				t.Fatal(err)
			}
			// Twice: the second answer comes from the memo.
			for range 2 {
				alerts, err := eng.Evaluate(ctx, tc.event)
				if err != nil || len(alerts) != tc.want {
					t.Fatalf("%d alerts, want %d (%v)", len(alerts), tc.want, err)
				}
			}
		})
	}
}

// The memo is shared by every goroutine evaluating with the engine.
func TestPrefilterConcurrent(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 300 {
				name := fmt.Sprintf("Describe%d", (i*7+g)%50)
				raw := `{"eventID":"1","eventName":"` + name + `","eventSource":"ec2.amazonaws.com","userIdentity":{"type":"IAMUser"}}`
				if i%10 == 0 {
					raw = `{"eventID":"1","eventName":"StopLogging","eventSource":"cloudtrail.amazonaws.com","userIdentity":{"type":"IAMUser","arn":"a"}}`
				}
				alerts, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: []byte(raw)})
				if err != nil || (i%10 == 0) != (len(alerts) == 1) {
					t.Errorf("%s: %d alerts, %v", raw, len(alerts), err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// A known_networks entry that is not a CIDR block is refused at load, naming
// the entry: the helpers trust the list, and a silently skipped typo would
// make a whole office look like an unknown network.
func TestKnownNetworksAreChecked(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		networks any
		want     string // "" for accepted
	}{
		{[]any{"10.0.0.0/8", "2001:db8::/32"}, ""},
		{[]any{}, ""},
		{nil, ""},
		{[]any{"10.0.0.0/8", "office"}, `data.known_networks[1]: expected a CIDR block such as 203.0.113.0/24, got "office"`},
		{[]any{"10.0.0.1"}, `data.known_networks[0]: expected a CIDR block`},
		{[]any{"fe80::/10%eth0", 42}, "2 problems"},
		{"10.0.0.0/8", "data.known_networks: expected a list of CIDR blocks"},
	} {
		_, err := engine.New(ctx, engine.WithData(map[string]any{"known_networks": tc.networks}))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.networks, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: got %v, want an error containing %q", tc.networks, err, tc.want)
		}
	}
}

// A record prepared by one engine and evaluated by another (a reload between
// the two) is evaluated against every rule of the second, not against the
// first engine's candidates.
func TestInputFromAnotherEngine(t *testing.T) {
	ctx := context.Background()
	both, err := engine.New(ctx, engine.WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}}))
	if err != nil {
		t.Fatal(err)
	}
	awsOnly, err := engine.New(ctx, engine.WithPacks("aws"))
	if err != nil {
		t.Fatal(err)
	}
	root := cloudtrail.Record{Raw: []byte(`{"eventID":"e1","eventSource":"opsworks-cm.amazonaws.com","eventName":"DescribeServers","eventTime":"2023-01-01T00:00:00Z","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}`)}
	in, err := both.DecodeRecord(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.CandidateRules()) == 0 {
		t.Fatal("no candidate rules for a root call")
	}
	got, err := awsOnly.EvaluateInput(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if ids(got) != "aws.root_usage" {
		t.Errorf("the aws-only engine reported %q, want aws.root_usage", ids(got))
	}
	if got, err := both.EvaluateInput(ctx, in); err != nil || ids(got) != "aws.root_usage,opsworkscm.root_credentials" {
		t.Errorf("the engine that prepared it reported %q, %v", ids(got), err)
	}
}

// BenchmarkNew is the cost of loading and compiling the built-in packs, which
// the daemon pays at start and on every reload.
func BenchmarkNew(b *testing.B) {
	ctx := context.Background()
	data := engine.WithData(map[string]any{"known_networks": []any{"10.0.0.0/8"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := engine.New(ctx, data); err != nil {
			b.Fatal(err)
		}
	}
}

// Data documents from policy directories, data files and the configuration are
// merged at the root of data; objects merge, other values defined twice are an
// error naming the key (and, between files, both files).
func TestDataDocumentsMerge(t *testing.T) {
	ctx := context.Background()
	rule := "# METADATA\n# title: T\n# custom:\n#   id: x.d\n#   severity: low\npackage rules.x.d\nimport rego.v1\n" +
		"alert contains {\"message\": sprintf(\"%v %v %v\", [data.nets.office, data.nets.vpn, data.limit])} if input.eventName == \"A\"\n"
	dir := writeFiles(t, map[string]string{
		"policy/d.rego":           rule,
		"policy/nets/office.json": `{"office": "10.0.0.0/8"}`, // loaded under data.nets, from its directory
		"policy/.git/x.rego":      "not rego",                 // hidden directories are skipped
		"vpn.yaml":                "nets:\n  vpn: 192.0.2.0/24\n",
		"limit.json":              `{"limit": 3}`,
		"other.json":              `{"limit": 4}`,
	})
	eng, err := engine.New(ctx, engine.WithPacks(), engine.WithPolicyPaths(filepath.Join(dir, "policy")),
		engine.WithDataFiles(filepath.Join(dir, "vpn.yaml")), engine.WithData(map[string]any{"limit": 3}))
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: []byte(`{"eventName":"A"}`)})
	if err != nil || len(alerts) != 1 || alerts[0].Message != "10.0.0.0/8 192.0.2.0/24 3" {
		t.Fatalf("alerts %+v, %v", alerts, err)
	}

	_, err = engine.New(ctx, engine.WithPacks(), engine.WithDataFiles(filepath.Join(dir, "limit.json"), filepath.Join(dir, "other.json")))
	if err == nil || !strings.Contains(err.Error(), "other.json: merge error: conflicting values at data.limit, also defined in "+filepath.Join(dir, "limit.json")) {
		t.Errorf("two files defining data.limit: %v", err)
	}
	_, err = engine.New(ctx, engine.WithPacks(), engine.WithDataFiles(filepath.Join(dir, "limit.json")), engine.WithData(map[string]any{"limit": 5}))
	if err == nil || err.Error() != "rules data: data.limit is defined twice" {
		t.Errorf("a file and the configuration defining data.limit: %v", err)
	}
}

// The embedded packs are named by their path in the source tree in errors, and
// only their .rego files but the tests are read.
func TestEmbeddedFileNames(t *testing.T) {
	fsys := fstest.MapFS{
		"lib/x.rego":      {Data: []byte("package lib.x\nimport rego.v1\nok if true\n")},
		"p/r.rego":        {Data: []byte(goodRule)},
		"p/bad.rego":      {Data: []byte("package rules.p.bad\nimport rego.v1\nalert contains {\"message\": \"m\"} if {\n\tinput.eventName ==\n}\n")},
		"p/README.md":     {Data: []byte("not a policy")},
		"q/other.rego":    {Data: []byte("package rules.q.other\nimport rego.v1\nalert contains if {\n")},
		"p/r_test.rego":   {Data: []byte("package rules.custom.create_test\nimport rego.v1\ntest_x if { true }\n")},
		"lib/data.json":   {Data: []byte(`{"not": "loaded"}`)},
		"p/sub/ok.rego":   {Data: []byte("package lib.sub\nimport rego.v1\nok if true\n")},
		"p/sub/x.json":    {Data: []byte("{not json")}, // only .rego files are read
		"lib/y_test.rego": {Data: []byte("package lib.y_test\nimport rego.v1\ntest_y if { true }\n")},
	}
	_, err := engine.New(context.Background(), engine.WithEmbeddedFS(fsys), engine.WithPacks("p"))
	var pe *engine.PolicyError
	if !errors.As(err, &pe) || len(pe.Problems) != 1 || pe.Problems[0].String() != "rules/p/bad.rego:5:1: unexpected } token" {
		t.Fatalf("want one problem in rules/p/bad.rego, got %v", err)
	}
}

// TestAppendAlerts: the record's alerts come after dst's, written in dst's
// room when it has some; a record without alerts gives dst back as it was.
func TestAppendAlerts(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithPacks("aws", "opsworkscm"))
	if err != nil {
		t.Fatal(err)
	}
	evaluate := func(raw string, dst []alert.Alert) []alert.Alert {
		in, err := eng.DecodeRecord(cloudtrail.Record{Raw: []byte(raw)})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Release()
		out, err := eng.AppendAlerts(ctx, dst, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	root := `{"eventID":"e1","eventSource":"opsworks-cm.amazonaws.com","eventName":"DescribeServers","eventTime":"2023-01-01T00:00:00Z","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"}}`
	dst := make([]alert.Alert, 1, 4)
	dst[0].RuleID = "earlier"
	out := evaluate(root, dst)
	if ids(out) != "earlier,aws.root_usage,opsworkscm.root_credentials" {
		t.Errorf("got %q", ids(out))
	}
	if &out[0] != &dst[0] || dst[:3][1].EventID != "e1" {
		t.Error("the alerts were not written in dst's room")
	}
	quiet := `{"eventID":"e2","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a"}}`
	if out := evaluate(quiet, dst[:1]); len(out) != 1 || out[0].RuleID != "earlier" || &out[0] != &dst[0] {
		t.Errorf("a record without alerts gave %q, want dst as it was", ids(out))
	}
	if out := evaluate(root, nil); ids(out) != "aws.root_usage,opsworkscm.root_credentials" {
		t.Errorf("nil dst: got %q", ids(out))
	}
}
