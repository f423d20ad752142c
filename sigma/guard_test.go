package sigma

import (
	"strings"
	"testing"
)

// TestGuardAdmitsEveryMatch: over the semantics table (every modifier,
// condition form and value type, with records written from the
// specification), a rule's guard admits every record the rule matches; it
// must also turn some non-matching records away, or it saves nothing.
func TestGuardAdmitsEveryMatch(t *testing.T) {
	opts := Options{Placeholders: map[string][]string{"admins": {"root", "admin-*"}}}
	rejected := 0
	for _, tc := range semanticCases {
		r, err := Compile("case.yml", []byte(ruleWith(tc.detection)), opts)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if r.Guard == nil {
			continue
		}
		for _, rec := range tc.match {
			if !r.Guard.Admits(guardFields(r.Guard, []byte(rec))) {
				t.Errorf("%s: the guard rejects %s, which the rule matches", tc.name, rec)
			}
		}
		for _, rec := range tc.nomatch {
			if !r.Guard.Admits(guardFields(r.Guard, []byte(rec))) {
				rejected++
			}
		}
	}
	if rejected < 10 {
		t.Errorf("guards rejected only %d non-matching records of the table", rejected)
	}
}

// TestGuardCases: what a guard decides and what it leaves to the Rego.
func TestGuardCases(t *testing.T) {
	cases := []struct {
		name, detection string
		admit, reject   []string
	}{
		{"case-insensitive equality", "    sel:\n        userAgent: 'TruffleHog'\n    condition: sel",
			[]string{`{"userAgent":"trufflehog"}`, `{"userAgent":"TRUFFLEHOG"}`, `{"userAgent":["x"]}`, `{"userAgent":7}`},
			[]string{`{"userAgent":"aws-cli/2"}`, `{}`, `{"userAgent":"trufflehog "}`}},
		{"regex with a required literal", "    sel:\n        userIdentity.arn|re: '.+:assumed-role/aws:.+'\n    condition: sel",
			[]string{`{"userIdentity":{"arn":"arn:aws:sts::1:assumed-role/aws:ec2-instance/i-1"}}`, `{"userIdentity":[{"arn":"x"}]}`},
			[]string{`{"userIdentity":{"arn":"arn:aws:sts::1:assumed-role/admin/alice"}}`, `{"userIdentity":"x"}`, `{"userIdentity":{}}`}},
		{"case-insensitive regex has no literal test", "    sel:\n        f|re: '(?i)abc'\n    condition: sel",
			[]string{`{"f":"xABCx"}`}, []string{`{"f":"abd"}`}},
		{"not is left to the Rego", "    sel:\n        f: a\n    condition: not sel", []string{`{"f":"a"}`, `{}`}, nil},
		{"contains, startswith, endswith", "    sel:\n        a|contains: Mid\n        b|startswith: Pre\n        c|endswith: Suf\n    condition: sel",
			[]string{`{"a":"xmidx","b":"PREfix","c":"xSUF"}`},
			[]string{`{"a":"xmix","b":"prefix","c":"suf"}`, `{"a":"mid","b":"xpre","c":"suf"}`, `{"a":"mid","b":"pre","c":"sufx"}`}},
		{"one undecidable value of an OR", "    sel:\n        f:\n            - a\n        g|cidr: 10.0.0.0/8\n    condition: sel",
			[]string{`{"f":"A","g":"10.1.2.3"}`, `{"f":"a","g":"192.0.2.1"}`}, []string{`{"f":"b","g":"10.1.2.3"}`}},
	}
	for _, tc := range cases {
		r, err := Compile("case.yml", []byte(ruleWith(tc.detection)), Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		check := func(rec string, want bool) {
			got := true
			if r.Guard != nil {
				got = r.Guard.Admits(guardFields(r.Guard, []byte(rec)))
			}
			if got != want {
				t.Errorf("%s: %s: admits %v, want %v", tc.name, rec, got, want)
			}
		}
		for _, rec := range tc.admit {
			check(rec, true)
		}
		for _, rec := range tc.reject {
			check(rec, false)
		}
	}
	if lits := requiredLiterals(`.+:assumed-role/aws:.+`); strings.Join(lits, "|") != ":assumed-role/aws:" {
		t.Errorf("required literals %q", lits)
	}
}
