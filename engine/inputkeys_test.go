package engine

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestInputKeys checks what the analysis finds each rule can read of input:
// keys read directly, through a function's parameter, an alias, object.get
// and another rule; and all of input for any use it cannot bound.
func TestInputKeys(t *testing.T) {
	const lib = `package lib.t
import rego.v1
who(e) := e.userIdentity.arn
code(e) := object.get(e, "errorCode", "")
nested(e) := who(e)
direct if input.resources
named[input.eventType].seen := true
`
	cases := []struct{ body, want string }{
		{`input.eventName == "X"`, "eventName"},
		{`input.requestParameters.bucketName == "b"`, "requestParameters"},
		{`data.lib.t.who(input) == "a"`, "userIdentity"},
		{`data.lib.t.nested(input) == "a"`, "userIdentity"},
		{`data.lib.t.code(input) == "a"`, "errorCode"},
		{`x := input; x.tlsDetails`, "tlsDetails"},
		{`data.lib.t.direct`, "resources"},
		{`data.lib.t.named.AwsApiCall.seen`, "eventType"},
		{`is_object(input); input.eventName`, "eventName"},
		{`object.get(input, ["additionalEventData", "MFAUsed"], "") == "No"`, "additionalEventData"},
		{`walk(input, [_, "x"])`, "all"},
		{`some k; input[k] == "x"`, "all"},
		{`json.marshal(input) != ""`, "all"},
		{`input == {}`, "all"},
		{`k := "eventName"; object.get(input, k, "") == "x"`, "all"},
		{`some k, v in input; v == k`, "all"},
	}
	for _, c := range cases {
		dir := t.TempDir()
		policy := "# METADATA\n# title: T\n# custom:\n#   id: t.k\n#   severity: low\npackage rules.t.k\nimport rego.v1\n" +
			"alert contains {\"message\": \"m\"} if {\n\t" + strings.ReplaceAll(c.body, "; ", "\n\t") + "\n}\n"
		for name, src := range map[string]string{"k.rego": policy, "lib.rego": lib} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		eng, err := New(context.Background(), WithPacks(), WithPolicyPaths(dir))
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		u := newInputAnalysis(eng.compiler).ruleKeys([2]string{"t", "k"})
		got := strings.Join(slices.Sorted(maps.Keys(u.keys)), ",")
		if u.all {
			got = "all"
		}
		if got != c.want {
			t.Errorf("%s: reads %s (%s), want %s", c.body, got, u.why, c.want)
		}
	}
}

// TestShippedRulesDecodeLess holds the analysis to what it is for: no
// shipped or SigmaHQ rule needs the whole record, and none of them reads
// responseElements except the few that look at a response (sign-ins,
// policies returned).
func TestShippedRulesDecodeLess(t *testing.T) {
	eng, err := New(context.Background(), WithSigma("../sigma/testdata/sigmahq"))
	if err != nil {
		t.Fatal(err)
	}
	var response []string
	for _, k := range eng.pre.rules {
		u := eng.pre.uses[k]
		if u.all {
			t.Errorf("%v reads all of input: %s", k, u.why)
		}
		if u.keys["responseElements"] {
			response = append(response, k[1])
		}
	}
	if len(response) > 10 {
		t.Errorf("%d rules read responseElements: %v", len(response), response)
	}
}
