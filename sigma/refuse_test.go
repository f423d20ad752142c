package sigma

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Everything trailguard cannot compile exactly is refused, naming the line
// and the feature.
func TestRefused(t *testing.T) {
	cases := []struct{ name, detection, want string }{
		{"utf16", "    sel:\n        f|utf16le: x\n    condition: sel", "case.yml:9:9: f|utf16le: modifier utf16le is not supported"},
		{"time modifier", "    sel:\n        eventTime|hour: 3\n    condition: sel", "modifier hour is not supported: time modifiers"},
		{"unknown modifier", "    sel:\n        f|sortof: x\n    condition: sel", `unknown modifier "sortof"`},
		{"regex RE2 cannot compile", "    sel:\n        f|re: '(?<=a)b'\n    condition: sel", "case.yml:9:15: f|re: re \"(?<=a)b\": RE2 cannot compile it"},
		{"flag without re", "    sel:\n        f|i: x\n    condition: sel", "modifier i only follows re"},
		{"null in a list", "    sel:\n        f: [a, null]\n    condition: sel", "null cannot be part of a list"},
		{"all with one value", "    sel:\n        f|all: a\n    condition: sel", "all needs a list of at least two values"},
		{"base64offset without contains", "    sel:\n        f|base64offset: a\n    condition: sel", "base64offset must be followed by contains"},
		{"base64 of a wildcard", "    sel:\n        f|base64: 'a*'\n    condition: sel", "base64 of a value with wildcards"},
		{"undefined placeholder", "    sel:\n        f|expand: '%nobody%'\n    condition: sel", "placeholder %nobody% is not defined"},
		{"bad cidr", "    sel:\n        f|cidr: 10.0.0.0/33\n    condition: sel", `cidr "10.0.0.0/33"`},
		{"compare on a string", "    sel:\n        f|gt: ten\n    condition: sel", "gt takes a number"},
		{"re with contains", "    sel:\n        f|re|contains: x\n    condition: sel", "does not combine"},
		{"aggregation", "    sel:\n        f: x\n    condition: sel | count() > 5", "aggregations after | are not supported"},
		{"near", "    sel:\n        f: x\n    condition: sel near other", "near is not supported"},
		{"undefined identifier", "    sel:\n        f: x\n    condition: sel and filter", `search identifier "filter" is not defined`},
		{"pattern matching nothing", "    sel:\n        f: x\n    condition: 1 of filter_*", "1 of filter_*: no search identifier matches"},
		{"bad syntax", "    sel:\n        f: x\n    condition: (sel", "missing )"},
		{"timeframe", "    sel:\n        f: x\n    timeframe: 5m\n    condition: sel", "timeframe is not supported"},
		{"nested map value", "    sel:\n        f:\n            g: x\n    condition: sel", "a value must be a scalar or a list of scalars"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile("case.yml", []byte(ruleWith(tc.detection)), Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadPathsReportsEverything(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("good.yml", ruleWith("    sel:\n        eventName: X\n    condition: sel"))
	write("bad1.yml", strings.Replace(ruleWith("    sel:\n        f|utf16: x\n        g|re: '('\n    condition: sel"), "5f0c1d9e-0000-4000-8000-000000000001", "5f0c1d9e-0000-4000-8000-000000000002", 1))
	write("windows.yaml", "title: W\nid: 5f0c1d9e-0000-4000-8000-000000000003\nlogsource:\n    product: windows\n    category: process_creation\ndetection:\n    sel:\n        Image: x\n    condition: sel\n")
	write("dup.yml", ruleWith("    sel:\n        eventName: Y\n    condition: sel"))
	write("corr.yml", "title: C\nid: 5f0c1d9e-0000-4000-8000-000000000004\ncorrelation:\n    type: event_count\n    rules: [5f0c1d9e-0000-4000-8000-000000000001, missing_rule]\n    group-by: [userIdentity.arn]\n    timespan: 10m\n    condition:\n        gte: 5\n")
	write("notes.txt", "not a rule")
	rules, skipped, errs := LoadPaths([]string{dir}, Options{})
	if len(rules) != 1 || rules[0].Title != "Test rule" {
		t.Fatalf("rules: %v", rules)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0].Reason, "product: windows") {
		t.Fatalf("skipped: %+v", skipped)
	}
	all := errors.Join(errs...).Error()
	for _, want := range []string{
		"bad1.yml:9:9: f|utf16: modifier utf16 is not supported",
		"bad1.yml:10:15: g|re: re \"(\": RE2 cannot compile it",
		"id 5f0c1d9e-0000-4000-8000-000000000001 is also used by",
		`refers to rule "missing_rule", which is not loaded`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("errors do not say %q:\n%s", want, all)
		}
	}
}

func TestCorrelationParsed(t *testing.T) {
	src := "title: C\nid: c1\ncorrelation:\n    type: value_count\n    rules: [a, b]\n    group-by: [sourceIPAddress]\n    timespan: 2h\n    condition:\n        field: userIdentity.arn\n        gt: 3\n        lte: 10\n"
	r, err := Compile("c.yml", []byte(src), Options{})
	if !errors.Is(err, ErrCorrelation) {
		t.Fatalf("err = %v", err)
	}
	c := r.Correlation
	if c.Type != "value_count" || len(c.Rules) != 2 || c.GroupBy[0] != "sourceIPAddress" || c.Timespan.Hours() != 2 ||
		c.Condition["gt"] != 3 || c.Condition["lte"] != 10 || c.Field != "userIdentity.arn" {
		t.Fatalf("correlation %+v", c)
	}
	_, err = Compile("c.yml", []byte(strings.Replace(src, "value_count", "value_sum", 1)), Options{})
	if err == nil || !strings.Contains(err.Error(), `correlation type "value_sum" is not supported`) {
		t.Fatalf("err = %v", err)
	}
}

// Case-insensitive wildcard matching of the generated Rego against tricky
// inputs, each expectation from the specification.
func TestWildcardTable(t *testing.T) {
	cases := []struct {
		value   string // as written in YAML, single-quoted
		matches []string
		misses  []string
	}{
		{`a?c`, []string{`"abc"`, `"AÉC"`, `"a c"`, `"a\nc"`}, []string{`"ac"`, `"abbc"`}},
		{`*`, []string{`""`, `"x"`, `0`, `false`}, []string{`null`, `{}`}},
		{`?`, []string{`"é"`, `"😀"`, `1`}, []string{`""`, `"ab"`, `12`}},
		{`\*`, []string{`"*"`}, []string{`"x"`, `""`}},
		{`\?`, []string{`"?"`}, []string{`"x"`}},
		{`\\`, []string{`"\\"`}, []string{`"\\\\"`}},
		{`a\\\*`, []string{`"a\\*"`}, []string{`"a\\x"`}},
		{`ÄRGER*`, []string{`"ärgerlich"`, `"ÄRGER"`}, []string{`"arger"`}},
		{`straße`, []string{`"Straße"`, `"STRAßE"`}, []string{`"strasse"`}},
		{`k*`, []string{"\"\u212Aelvin\"", `"K"`}, []string{`"x"`}},
		{`1.5*`, []string{`1.5`, `"1.50"`}, []string{`15`}},
		{`[a]{b}`, []string{`"[A]{B}"`}, []string{`"a"`}},
		{`.*+`, []string{`".*+"`}, []string{`"ab"`}},
		{``, []string{`""`}, []string{`" "`, `null`}},
	}
	for _, tc := range cases {
		src := ruleWith("    sel:\n        f: '" + strings.ReplaceAll(tc.value, "'", "''") + "'\n    condition: sel")
		r, err := Compile("w.yml", []byte(src), Options{})
		if err != nil {
			t.Fatal(err)
		}
		c := compileOPA(t, r)
		for _, m := range tc.matches {
			if len(c.fires(t, `{"f":`+m+`}`)) != 1 {
				t.Errorf("%q should match %s", tc.value, m)
			}
		}
		for _, m := range tc.misses {
			if len(c.fires(t, `{"f":`+m+`}`)) != 0 {
				t.Errorf("%q should not match %s", tc.value, m)
			}
		}
	}
}

func TestConvert(t *testing.T) {
	var out strings.Builder
	if err := Convert(&out, []string{"testdata/sigmahq/aws_root_account_usage.yml"}, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# METADATA", "id: sigma.8ad1600d-e9dc-4251-b0ee-a65268f29add", "severity: medium",
		"package rules.sigma.r_8ad1600d_e9dc_4251_b0ee_a65268f29add", `input.userIdentity.type == "Root"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("convert output lacks %q:\n%s", want, out.String())
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte(ruleWith("    sel:\n        f|wide: x\n    condition: sel")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := Convert(&out, []string{bad}, Options{}); err == nil || !strings.Contains(err.Error(), "bad.yml:9:9") {
		t.Fatalf("err = %v", err)
	}
}
