package rules_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/format"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/trailguard/trailguard/rules"
)

// wantIDs is the complete list of shipped rule ids.
var wantIDs = []string{
	// opsworkscm
	"opsworkscm.create_server_without_mfa",
	"opsworkscm.root_credentials",
	"opsworkscm.unknown_source_ip",
	"opsworkscm.new_source_network",
	"opsworkscm.destructive_action",
	"opsworkscm.engine_credentials_access",
	"opsworkscm.backups_weakened",
	"opsworkscm.public_server",
	"opsworkscm.access_denied",
	"opsworkscm.call_after_end_of_life",
	// aws: CIS AWS Foundations Benchmark monitoring controls 4.1-4.15
	"aws.unauthorized_api_call",
	"aws.console_login_without_mfa",
	"aws.root_usage",
	"aws.iam_policy_change",
	"aws.cloudtrail_change",
	"aws.console_login_failure",
	"aws.kms_key_disabled_or_deleted",
	"aws.s3_bucket_policy_change",
	"aws.config_change",
	"aws.security_group_change",
	"aws.nacl_change",
	"aws.network_gateway_change",
	"aws.route_table_change",
	"aws.vpc_change",
	"aws.organizations_change",
}

var severities = []string{"info", "low", "medium", "high", "critical"}

// loadModules parses the .rego files in rules.FS the way the engine does:
// Rego v1, with METADATA annotations processed. withTests selects whether
// the _test.rego files are included.
func loadModules(t testing.TB, withTests bool) map[string]*ast.Module {
	t.Helper()
	mods := map[string]*ast.Module{}
	err := fs.WalkDir(rules.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		if !withTests && strings.HasSuffix(p, "_test.rego") {
			return nil
		}
		src, err := fs.ReadFile(rules.FS, p)
		if err != nil {
			return err
		}
		m, err := ast.ParseModuleWithOpts(p, string(src), ast.ParserOptions{
			RegoVersion:       ast.RegoV1,
			ProcessAnnotation: true,
		})
		if err != nil {
			return err
		}
		mods[p] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) == 0 {
		t.Fatal("no .rego files in rules.FS")
	}
	return mods
}

// strictCompiler is the compiler configuration every policy must pass:
// strict mode (unused variables, arguments and imports, shadowed input/data,
// deprecated built-ins are errors).
func strictCompiler() *ast.Compiler {
	return ast.NewCompiler().
		WithStrict(true).
		WithDefaultRegoVersion(ast.RegoV1)
}

// TestRego runs every Rego test in rules.FS. Built-in errors fail a test
// rather than making an expression undefined, which proves that no rule
// raises one on the events the tests feed it (net.cidr_contains on a service
// name, time.parse_rfc3339_ns on garbage, lower on a non-string).
func TestRego(t *testing.T) {
	ctx := context.Background()
	store := inmem.New()
	txn, err := store.NewTransaction(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Abort(ctx, txn)

	ch, err := tester.NewRunner().
		SetCompiler(strictCompiler()).
		SetStore(store).
		SetModules(loadModules(t, true)).
		RaiseBuiltinErrors(true).
		RunTests(ctx, txn)
	if err != nil {
		t.Fatal(err) // compile errors, each with file:row:col
	}

	passed := 0
	for r := range ch {
		where := "?"
		if r.Location != nil {
			where = r.Location.String()
		}
		switch {
		case r.Pass():
			passed++
		case r.Skip:
			t.Errorf("%s: %s.%s: skipped (tests must not be left disabled)", where, r.Package, r.Name)
		case r.Error != nil:
			t.Errorf("%s: %s.%s: error: %v", where, r.Package, r.Name, r.Error)
		default:
			t.Errorf("%s: %s.%s: FAIL", where, r.Package, r.Name)
		}
	}
	if passed == 0 {
		t.Fatal("no Rego tests ran")
	}
	t.Logf("%d Rego tests passed", passed)
}

// TestRegoFormatted keeps the policies in `opa fmt` style, so diffs stay small.
func TestRegoFormatted(t *testing.T) {
	err := fs.WalkDir(rules.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".rego") {
			return err
		}
		src, err := fs.ReadFile(rules.FS, p)
		if err != nil {
			return err
		}
		out, err := format.SourceWithOpts(p, src, format.Opts{RegoVersion: ast.RegoV1})
		if err != nil {
			return err
		}
		if !bytes.Equal(out, src) {
			t.Errorf("%s is not formatted: run opa fmt -w rules/", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ruleModules returns the non-test modules under data.rules, keyed by path.
func ruleModules(t *testing.T) map[string]*ast.Module {
	t.Helper()
	out := map[string]*ast.Module{}
	for p, m := range loadModules(t, false) {
		if strings.HasPrefix(m.Package.Path.String(), "data.rules.") {
			out[p] = m
		}
	}
	return out
}

// packageAnnotations returns the METADATA block scoped to the module's package.
func packageAnnotations(m *ast.Module) *ast.Annotations {
	for _, a := range m.Annotations {
		if a.Scope == "package" {
			return a
		}
	}
	return nil
}

// TestRuleLayout checks the conventions the engine and `trailguard test` rely
// on: file <pack>/<rule>.rego holds package rules.<pack>.<rule>, defines alert,
// carries complete metadata, and has a sibling <rule>_test.rego whose package
// is rules.<pack>.<rule>_test.
func TestRuleLayout(t *testing.T) {
	all := loadModules(t, true)
	rulesMods := ruleModules(t)
	for p, m := range rulesMods {
		pkg := strings.TrimPrefix(m.Package.Path.String(), "data.")
		wantPkg := "rules." + strings.ReplaceAll(strings.TrimSuffix(p, ".rego"), "/", ".")
		if pkg != wantPkg {
			t.Errorf("%s: package %s, want %s", p, pkg, wantPkg)
		}
		if !slices.Contains(rules.Packs(), path.Dir(p)) {
			t.Errorf("%s: directory %s is not in rules.Packs() %v", p, path.Dir(p), rules.Packs())
		}

		hasAlert := false
		for _, r := range m.Rules {
			if r.Head.Name.Equal(ast.Var("alert")) || r.Head.Ref().String() == "alert" {
				hasAlert = true
			}
		}
		if !hasAlert {
			t.Errorf("%s: defines no alert rule", p)
		}

		a := packageAnnotations(m)
		if a == nil {
			t.Errorf("%s: no METADATA block above the package", p)
			continue
		}
		wantID := strings.TrimPrefix(pkg, "rules.")
		if id, _ := a.Custom["id"].(string); id != wantID {
			t.Errorf("%s: custom.id %q, want %q", p, id, wantID)
		}
		if sev, _ := a.Custom["severity"].(string); !slices.Contains(severities, sev) {
			t.Errorf("%s: custom.severity %q, want one of %v", p, sev, severities)
		}
		if strings.TrimSpace(a.Title) == "" {
			t.Errorf("%s: no title", p)
		}
		if strings.TrimSpace(a.Description) == "" {
			t.Errorf("%s: no description", p)
		}
		if tags, _ := a.Custom["tags"].([]any); len(tags) == 0 {
			t.Errorf("%s: no custom.tags", p)
		}
		if rb, ok := a.Custom["runbook"]; ok {
			if s, _ := rb.(string); s == "" {
				t.Errorf("%s: custom.runbook must be a non-empty string, got %v", p, rb)
			}
		}

		testPath := strings.TrimSuffix(p, ".rego") + "_test.rego"
		tm, ok := all[testPath]
		if !ok {
			t.Errorf("%s: no sibling %s", p, testPath)
			continue
		}
		if got, want := strings.TrimPrefix(tm.Package.Path.String(), "data."), pkg+"_test"; got != want {
			t.Errorf("%s: package %s, want %s", testPath, got, want)
		}
	}

	// Every pack holds rules.
	for _, pack := range rules.Packs() {
		n := 0
		for p := range rulesMods {
			if path.Dir(p) == pack {
				n++
			}
		}
		if n == 0 {
			t.Errorf("pack %s holds no rules", pack)
		}
	}

	// Every test file belongs to a rule or to the library.
	for p := range all {
		if !strings.HasSuffix(p, "_test.rego") {
			continue
		}
		if _, ok := all[strings.TrimSuffix(p, "_test.rego")+".rego"]; !ok {
			t.Errorf("%s: no rule or library file beside it", p)
		}
	}
}

// TestRuleIDs checks that exactly the documented rules ship.
func TestRuleIDs(t *testing.T) {
	var got []string
	for _, m := range ruleModules(t) {
		if a := packageAnnotations(m); a != nil {
			if id, ok := a.Custom["id"].(string); ok {
				got = append(got, id)
			}
		}
	}
	want := slices.Clone(wantIDs)
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("rule ids:\n got %v\nwant %v", got, want)
	}
}

// inputResolver answers the rule index's questions about input, the way the
// evaluator does.
type inputResolver struct{ input ast.Value }

func (r inputResolver) Resolve(ref ast.Ref) (ast.Value, error) {
	if !ref[0].Equal(ast.InputRootDocument) {
		return nil, nil
	}
	v, err := r.input.Find(ref[1:])
	if err != nil {
		return nil, nil //nolint:nilerr // not found: the ref is undefined, which is no error
	}
	return v, nil
}

// TestRulesAreIndexed checks that OPA's rule index rules out every rule for an
// everyday event no rule is about, so such events cost next to nothing. A rule
// that fails here does not start with an indexable condition such as
// input.eventSource == "..." or input.eventName in {...}.
func TestRulesAreIndexed(t *testing.T) {
	compiler := strictCompiler()
	compiler.Compile(loadModules(t, false))
	if compiler.Failed() {
		t.Fatal(compiler.Errors)
	}
	// invictus-ir/aws_dataset: a successful ssm:GetParameter, trimmed, of a
	// plain String parameter (threats.secrets_bulk_read counts decrypted
	// ones).
	event := ast.MustParseTerm(`{
		"eventVersion": "1.08",
		"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123837392027:user/bert-jan", "accountId": "123837392027", "userName": "bert-jan"},
		"eventTime": "2023-07-10T11:58:13Z",
		"eventSource": "ssm.amazonaws.com",
		"eventName": "GetParameter",
		"awsRegion": "us-east-1",
		"sourceIPAddress": "192.168.10.20",
		"requestParameters": {"name": "/config/app/region", "withDecryption": false},
		"responseElements": null,
		"readOnly": true,
		"eventType": "AwsApiCall"
	}`).Value
	for p, m := range ruleModules(t) {
		ref := m.Package.Path.Append(ast.StringTerm("alert"))
		index := compiler.RuleIndex(ref)
		if index == nil {
			t.Errorf("%s: no rule index for %v", p, ref)
			continue
		}
		res, err := index.Lookup(inputResolver{event})
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if len(res.Rules) > 0 {
			t.Errorf("%s: %d alert bodies are evaluated for an unrelated event; start them with an indexable condition", p, len(res.Rules))
		}
	}
}

// TestIsIPMatchesGo checks lib.cloudtrail.is_ip against Go's own parser, which
// net.cidr_contains uses: whatever is_ip accepts must be safe to hand to
// net.cidr_contains, and whatever Go accepts (zones aside) must be an IP.
func TestIsIPMatchesGo(t *testing.T) {
	ctx := context.Background()
	compiler := strictCompiler()
	compiler.Compile(loadModules(t, false))
	if compiler.Failed() {
		t.Fatal(compiler.Errors)
	}
	pq, err := rego.New(
		rego.Compiler(compiler),
		rego.Query(`data.lib.cloudtrail.is_ip(input)`),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}

	cases := []string{
		"", " ", "AWS Internal", "cloudformation.amazonaws.com", "delivery.logs.amazonaws.com",
		"0.0.0.0", "1.2.3.4", "255.255.255.255", "256.1.1.1", "1.2.3.256", "1.2.3", "1.2.3.4.5",
		"01.2.3.4", "075.050.255.67", "1.2.3.04", "00.0.0.0", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4/32",
		"10.0.0.0/8", "1..2.3", "1.2.3.-4", "+1.2.3.4", "1.2.3.4\n", "١.٢.٣.٤", "0x1.2.3.4",
		"249.199.99.9", "250.200.100.10", "199.99.9.0",
		"::", "::1", "2001:db8::1", "2001:DB8::1", "2001:0db8:0000:0000:0000:0000:0000:0001",
		"::ffff:192.0.2.1", "::ffff:192.0.2.256", "64:ff9b::192.0.2.33", "fe80::1%eth0",
		"2001:db8::/32", "2001:db8:::1", "2001:db8::1::1", "12345::", "g::1", ":", ":::",
		"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "[::1]", "::ffff:075.050.255.67",
	}
	for _, s := range cases {
		rs, err := pq.Eval(ctx, rego.EvalInput(s))
		if err != nil {
			t.Errorf("is_ip(%q): %v", s, err)
			continue
		}
		got := len(rs) > 0
		addr, perr := netip.ParseAddr(s)
		want := perr == nil && addr.Zone() == ""
		if got != want {
			t.Errorf("is_ip(%q) = %v, Go's parser says %v", s, got, want)
		}
	}
}

// TestSamples replays the public CloudTrail samples through the rules with the
// engine's query and strict built-in errors, and checks no evaluation errors
// and a few alerts the samples must raise. It reads the repository's copy of
// the samples (examples/logs), or the directory TRAILGUARD_SAMPLES names.
func TestSamples(t *testing.T) {
	dir := os.Getenv("TRAILGUARD_SAMPLES")
	if dir == "" {
		dir = "../examples/logs"
	}
	ctx := context.Background()
	compiler := strictCompiler()
	compiler.Compile(loadModules(t, false))
	if compiler.Failed() {
		t.Fatal(compiler.Errors)
	}
	store := inmem.NewFromObject(map[string]any{
		"known_networks": []any{"192.168.0.0/16", "2001:db8::/32"},
	})
	pq, err := rego.New(
		rego.Compiler(compiler),
		rego.Store(store),
		rego.Query(`data.rules[pack][rule].alert[a]`),
		rego.StrictBuiltinErrors(true),
	).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}

	events := 0
	fired := map[string]int{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		recs, rerr := readRecords(p)
		if rerr != nil {
			t.Logf("skipping %s: %v", p, rerr) // the Puppet sample is invalid JSON as published
			return nil
		}
		for i, rec := range recs {
			events++
			v, err := ast.InterfaceToValue(rec)
			if err != nil {
				return err
			}
			rs, err := pq.Eval(ctx, rego.EvalParsedInput(v))
			if err != nil {
				t.Errorf("%s record %d: %v", p, i, err)
				continue
			}
			for _, r := range rs {
				id := r.Bindings["pack"].(string) + "." + r.Bindings["rule"].(string)
				fired[id]++
				if testing.Verbose() {
					msg, _ := r.Bindings["a"].(map[string]any)["message"].(string)
					t.Logf("%s %s: %s", filepath.Base(p), id, msg)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events, alerts per rule: %v", events, fired)
	for _, id := range []string{
		"opsworkscm.create_server_without_mfa", // the OpsWorks guide's CreateServer, mfaAuthenticated "false"
		"opsworkscm.unknown_source_ip",         // ... from 101.25.190.51
		"aws.console_login_without_mfa",        // console sign-in example01, invictus ConsoleLogin
		"aws.console_login_failure",            // console sign-in example03, example08
		"aws.root_usage",                       // console sign-in example06-10
		"aws.unauthorized_api_call",            // invictus AccessDenied / Client.UnauthorizedOperation
		"aws.cloudtrail_change",                // invictus CreateTrail, StopLogging
		"aws.iam_policy_change",                // invictus PutRolePolicy, AttachRolePolicy
		"aws.s3_bucket_policy_change",          // invictus PutBucketPolicy
		"aws.route_table_change",               // invictus CreateRoute(Table)
		"aws.vpc_change",                       // invictus CreateVpc
	} {
		if fired[id] == 0 {
			t.Errorf("%s: no alert on the samples", id)
		}
	}
}

// BenchmarkQuery measures the engine's single query over every rule, for an
// event no rule is about and for one that raises three alerts.
func BenchmarkQuery(b *testing.B) {
	ctx := context.Background()
	compiler := strictCompiler()
	compiler.Compile(loadModules(b, false))
	if compiler.Failed() {
		b.Fatal(compiler.Errors)
	}
	store := inmem.NewFromObject(map[string]any{"known_networks": []any{"10.0.0.0/8"}})
	pq, err := rego.New(
		rego.Compiler(compiler),
		rego.Store(store),
		rego.Query(`data.rules[pack][rule].alert[a]`),
	).PrepareForEval(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name   string
		event  string
		alerts int
	}{
		{"unrelated", `{"userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123837392027:user/bert-jan"},
			"eventTime": "2023-07-10T11:58:13Z", "eventSource": "ssm.amazonaws.com", "eventName": "GetParameter",
			"awsRegion": "us-east-1", "sourceIPAddress": "192.168.10.20", "requestParameters": {"name": "/app/db"},
			"eventType": "AwsApiCall"}`, 0},
		{"opsworkscm_create_server", `{"userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::831000000000:assumed-role/Admin/OpsWorksCMUser",
			"sessionContext": {"attributes": {"mfaAuthenticated": "false"}}},
			"eventTime": "2024-06-01T22:18:23Z", "eventSource": "opsworks-cm.amazonaws.com", "eventName": "CreateServer",
			"awsRegion": "us-west-2", "sourceIPAddress": "101.25.190.51", "requestParameters": {"serverName": "OpsChef-test-server", "engine": "Chef"},
			"eventType": "AwsApiCall"}`, 3},
	} {
		input := ast.MustParseTerm(bc.event).Value
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
				if err != nil || len(rs) != bc.alerts {
					b.Fatalf("%d alerts, %v; want %d", len(rs), err, bc.alerts)
				}
			}
		})
	}
}

// readRecords reads a CloudTrail file in any of the samples' shapes:
// {"Records": [...]}, a single record, or one record per line.
func readRecords(p string) ([]map[string]any, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var file struct {
		Records []map[string]any `json:"Records"`
	}
	if err := json.Unmarshal(b, &file); err == nil && file.Records != nil {
		return file.Records, nil
	}
	var one map[string]any
	if err := json.Unmarshal(b, &one); err == nil {
		return []map[string]any{one}, nil
	}
	var recs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, sc.Err()
}
