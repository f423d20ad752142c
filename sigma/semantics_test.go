package sigma

import (
	"encoding/base64"
	"fmt"
	"testing"
)

// ruleWith wraps a detection section (indented by four spaces) in a rule.
func ruleWith(detection string) string {
	return "title: Test rule\nid: 5f0c1d9e-0000-4000-8000-000000000001\nlogsource:\n    product: aws\n    service: cloudtrail\nlevel: high\ndetection:\n" + detection
}

// The expectations below are written from the Sigma specification v2 and
// ISSUE13's contract, not from the compiler's output.
var semanticCases = []struct {
	name           string
	detection      string
	match, nomatch []string
}{
	{"plain string is case-insensitive", "    sel:\n        eventName: ConsoleLogin\n    condition: sel",
		[]string{`{"eventName":"ConsoleLogin"}`, `{"eventName":"consolelogin"}`, `{"eventName":"CONSOLELOGIN"}`},
		[]string{`{"eventName":"ConsoleLogins"}`, `{}`, `{"eventName":null}`, `{"eventName":"Console Login"}`}},
	{"eventSource and eventName in any case", "    sel:\n        eventSource: IAM.amazonaws.com\n        eventName: [createuser, DeleteUser]\n    condition: sel",
		[]string{`{"eventSource":"iam.amazonaws.com","eventName":"CreateUser"}`, `{"eventSource":"IAM.AMAZONAWS.COM","eventName":"deleteuser"}`},
		[]string{`{"eventSource":"iam.amazonaws.com","eventName":"GetUser"}`, `{"eventSource":"sts.amazonaws.com","eventName":"CreateUser"}`, `{"eventName":"CreateUser"}`}},
	{"wildcards * and ?", "    sel:\n        userAgent: 'aws-cli/2.?.*'\n    condition: sel",
		[]string{`{"userAgent":"aws-cli/2.1.0 Python"}`, `{"userAgent":"AWS-CLI/2.x."}`, `{"userAgent":"aws-cli/2.é.0"}`},
		[]string{`{"userAgent":"aws-cli/1.1"}`, `{"userAgent":"aws-cli/2."}`, `{"userAgent":"x aws-cli/2.1"}`}},
	{"escaped wildcard is literal", "    sel:\n        f: 'a\\*b\\?'\n    condition: sel",
		[]string{`{"f":"a*b?"}`, `{"f":"A*B?"}`}, []string{`{"f":"axbc"}`, `{"f":"a*bc"}`}},
	{"escaped backslash before wildcard", "    sel:\n        f: 'c:\\\\*'\n    condition: sel",
		[]string{`{"f":"c:\\"}`, `{"f":"C:\\Windows"}`}, []string{`{"f":"c:x"}`, `{"f":"c:"}`}},
	{"plain backslash", "    sel:\n        f: 'a\\b'\n    condition: sel",
		[]string{`{"f":"a\\b"}`}, []string{`{"f":"ab"}`}},
	// A lone trailing backslash is literal; contains' wildcard is added
	// after the value is read, so it is not escaped by it (found by FuzzSigmaCompile).
	{"trailing backslash with contains", "    sel:\n        f|contains: '\\'\n    condition: sel",
		[]string{`{"f":"a\\b"}`, `{"f":"\\"}`}, []string{`{"f":"*"}`, `{"f":"a*"}`}},
	{"map is AND", "    sel:\n        a: x\n        b: y\n    condition: sel",
		[]string{`{"a":"x","b":"y"}`}, []string{`{"a":"x"}`, `{"b":"y"}`, `{"a":"x","b":"z"}`}},
	{"list of values is OR", "    sel:\n        a: [x, y]\n    condition: sel",
		[]string{`{"a":"x"}`, `{"a":"Y"}`}, []string{`{"a":"z"}`}},
	{"list of maps is OR", "    sel:\n        - a: x\n        - b: y\n    condition: sel",
		[]string{`{"a":"x"}`, `{"b":"y"}`}, []string{`{"a":"y","b":"x"}`}},
	{"dotted path with lists on the way", "    sel:\n        requestParameters.items.name: target\n    condition: sel",
		[]string{`{"requestParameters":{"items":{"name":"Target"}}}`, `{"requestParameters":{"items":[{"name":"x"},{"name":"target"}]}}`, `{"requestParameters":[{"items":[{"name":"target"}]}]}`},
		[]string{`{"requestParameters":{"items":[{"name":"x"}]}}`, `{"requestParameters":{"name":"target"}}`, `{"requestParameters":"target"}`}},
	{"list value: any element", "    sel:\n        tags: b\n    condition: sel",
		[]string{`{"tags":["a","B"]}`, `{"tags":[1,"b"]}`}, []string{`{"tags":["a","c"]}`, `{"tags":[]}`}},
	{"object value: any scalar inside", "    sel:\n        requestParameters|contains: Suspended\n    condition: sel",
		[]string{`{"requestParameters":{"VersioningConfiguration":{"Status":"Suspended"}}}`}, []string{`{"requestParameters":{"Status":"Enabled"}}`}},
	{"keywords search string values", "    keywords:\n        - evil\n        - 'mal*ware'\n    condition: keywords",
		[]string{`{"a":{"b":"very EVIL thing"}}`, `{"x":["malicious software"]}`}, []string{`{"a":"good"}`, `{"evil":"key, not value"}`, `{"n":1}`}},
	{"keywords with all", "    keywords:\n        '|all':\n            - alpha\n            - beta\n    condition: keywords",
		[]string{`{"a":"alpha","b":"BETA"}`, `{"a":"alphabeta"}`}, []string{`{"a":"alpha"}`}},
	{"null is absent or null", "    sel:\n        errorCode: null\n    condition: sel",
		[]string{`{}`, `{"errorCode":null}`}, []string{`{"errorCode":""}`, `{"errorCode":"AccessDenied"}`}},
	{"empty string", "    sel:\n        errorCode: ''\n    condition: sel",
		[]string{`{"errorCode":""}`}, []string{`{}`, `{"errorCode":null}`, `{"errorCode":"x"}`}},
	{"number matches number and string form", "    sel:\n        n: 42\n    condition: sel",
		[]string{`{"n":42}`, `{"n":"42"}`, `{"n":42.0}`}, []string{`{"n":43}`, `{"n":"042"}`, `{"n":"42 "}`}},
	{"numeric string matches number", "    sel:\n        n: '42'\n    condition: sel",
		[]string{`{"n":42}`, `{"n":"42"}`}, []string{`{"n":4}`}},
	{"boolean matches boolean and string form", "    sel:\n        b: true\n    condition: sel",
		[]string{`{"b":true}`, `{"b":"true"}`, `{"b":"True"}`}, []string{`{"b":false}`, `{"b":"yes"}`, `{}`}},
	{"contains", "    sel:\n        f|contains: mid\n    condition: sel", []string{`{"f":"aMIDb"}`, `{"f":"mid"}`}, []string{`{"f":"mi d"}`}},
	{"startswith", "    sel:\n        f|startswith: pre\n    condition: sel", []string{`{"f":"Prefix"}`}, []string{`{"f":"apre"}`}},
	{"endswith", "    sel:\n        f|endswith: .EXE\n    condition: sel", []string{`{"f":"a.exe"}`}, []string{`{"f":"a.exe2"}`}},
	{"all", "    sel:\n        f|contains|all: [a1, b2]\n    condition: sel", []string{`{"f":"b2-a1"}`, `{"f":["a1","b2"]}`}, []string{`{"f":"a1"}`}},
	{"exists true", "    sel:\n        f|exists: true\n    condition: sel", []string{`{"f":null}`, `{"f":""}`, `{"f":false}`, `{"f":{}}`}, []string{`{}`, `{"g":1}`}},
	{"exists false", "    sel:\n        a.f|exists: false\n    condition: sel", []string{`{}`, `{"a":{}}`}, []string{`{"a":{"f":null}}`, `{"a":[{"f":1}]}`}},
	{"cased", "    sel:\n        f|cased: AbC\n    condition: sel", []string{`{"f":"AbC"}`}, []string{`{"f":"abc"}`}},
	{"cased wildcard", "    sel:\n        f|cased|startswith: Ab\n    condition: sel", []string{`{"f":"Abc"}`}, []string{`{"f":"abc"}`}},
	{"neq", "    sel:\n        f|neq: [x, y]\n    condition: sel", []string{`{"f":"z"}`}, []string{`{"f":"X"}`, `{"f":"y"}`, `{}`, `{"f":null}`}},
	{"re is case-sensitive", "    sel:\n        f|re: '^A.c'\n    condition: sel", []string{`{"f":"Abc"}`, `{"f":"Axcd"}`}, []string{`{"f":"abc"}`, `{"f":"xAbc"}`}},
	{"re i", "    sel:\n        f|re|i: '^a.c$'\n    condition: sel", []string{`{"f":"ABC"}`}, []string{`{"f":"ABCD"}`}},
	{"re m", "    sel:\n        f|re|m: '^b$'\n    condition: sel", []string{`{"f":"a\nb\nc"}`}, []string{`{"f":"a b"}`}},
	{"re s", "    sel:\n        f|re|s: 'a.b'\n    condition: sel", []string{`{"f":"a\nb"}`}, []string{`{"f":"a\n\nb"}`}},
	{"re without s", "    sel:\n        f|re: 'a.b'\n    condition: sel", []string{`{"f":"axb"}`}, []string{`{"f":"a\nb"}`}},
	{"cidr", "    sel:\n        sourceIPAddress|cidr: [10.0.0.0/8, '2001:db8::/32']\n    condition: sel",
		[]string{`{"sourceIPAddress":"10.1.2.3"}`, `{"sourceIPAddress":"2001:db8::1"}`},
		[]string{`{"sourceIPAddress":"11.0.0.1"}`, `{"sourceIPAddress":"AWS Internal"}`, `{"sourceIPAddress":"cloudformation.amazonaws.com"}`, `{"sourceIPAddress":7}`}},
	{"lt", "    sel:\n        n|lt: 10\n    condition: sel", []string{`{"n":9}`, `{"n":"9.5"}`}, []string{`{"n":10}`, `{"n":"ten"}`, `{"n":true}`}},
	{"lte", "    sel:\n        n|lte: 10\n    condition: sel", []string{`{"n":10}`}, []string{`{"n":11}`}},
	{"gt", "    sel:\n        n|gt: 10\n    condition: sel", []string{`{"n":10.5}`, `{"n":[1,20]}`}, []string{`{"n":10}`}},
	{"gte", "    sel:\n        n|gte: -1.5\n    condition: sel", []string{`{"n":-1.5}`}, []string{`{"n":-2}`}},
	{"base64", "    sel:\n        f|base64: 'abc'\n    condition: sel", []string{`{"f":"YWJj"}`}, []string{`{"f":"abc"}`}},
	{"base64 contains", "    sel:\n        f|base64|contains: 'abc'\n    condition: sel", []string{`{"f":"xxYWJjyy"}`}, []string{`{"f":"YWJ"}`}},
	{"base64offset", "    sel:\n        f|base64offset|contains: 'http://'\n    condition: sel",
		[]string{b64Record("http://x"), b64Record("-http://x"), b64Record("--http://x"), b64Record("abchttp://")}, []string{b64Record("htp://")}},
	{"windash", "    sel:\n        f|windash|contains: ' -enc '\n    condition: sel",
		[]string{`{"f":"ps -enc x"}`, `{"f":"ps /enc x"}`, `{"f":"ps –enc x"}`, `{"f":"ps ―enc x"}`}, []string{`{"f":"ps enc x"}`}},
	{"fieldref", "    sel:\n        userIdentity.arn|fieldref: requestParameters.userName\n    condition: sel",
		[]string{`{"userIdentity":{"arn":"Bob"},"requestParameters":{"userName":"bob"}}`},
		[]string{`{"userIdentity":{"arn":"bob"},"requestParameters":{"userName":"alice"}}`, `{"userIdentity":{"arn":"bob"}}`}},
	{"fieldref cased", "    sel:\n        a|fieldref|cased: b\n    condition: sel", []string{`{"a":"X","b":"X"}`}, []string{`{"a":"X","b":"x"}`}},
	{"fieldref neq", "    sel:\n        a|fieldref|neq: b\n    condition: sel", []string{`{"a":"x","b":"y"}`}, []string{`{"a":"x","b":"X"}`}},
	{"expand", "    sel:\n        userIdentity.userName|expand: '%admins%'\n    condition: sel",
		[]string{`{"userIdentity":{"userName":"ROOT"}}`, `{"userIdentity":{"userName":"admin-7"}}`}, []string{`{"userIdentity":{"userName":"bob"}}`}},
	{"and", "    a:\n        x: 1\n    b:\n        y: 2\n    condition: a and b", []string{`{"x":1,"y":2}`}, []string{`{"x":1}`}},
	{"or", "    a:\n        x: 1\n    b:\n        y: 2\n    condition: a or b", []string{`{"x":1}`, `{"y":2}`}, []string{`{"x":2}`}},
	{"not", "    a:\n        x: 1\n    b:\n        y: 2\n    condition: a and not b", []string{`{"x":1}`}, []string{`{"x":1,"y":2}`, `{}`}},
	{"parentheses", "    a:\n        x: 1\n    b:\n        y: 2\n    c:\n        z: 3\n    condition: a and (b or c)",
		[]string{`{"x":1,"z":3}`}, []string{`{"y":2,"z":3}`, `{"x":1}`}},
	{"precedence: and binds tighter than or", "    a:\n        x: 1\n    b:\n        y: 2\n    c:\n        z: 3\n    condition: a or b and c",
		[]string{`{"x":1}`, `{"y":2,"z":3}`}, []string{`{"y":2}`}},
	{"not binds tighter than and", "    a:\n        x: 1\n    b:\n        y: 2\n    condition: not a and b", []string{`{"y":2}`}, []string{`{"x":1,"y":2}`}},
	{"1 of pattern", "    sel_a:\n        x: 1\n    sel_b:\n        y: 2\n    other:\n        z: 3\n    condition: 1 of sel_*",
		[]string{`{"y":2}`}, []string{`{"z":3}`}},
	{"all of pattern", "    sel_a:\n        x: 1\n    sel_b:\n        y: 2\n    condition: all of sel_*", []string{`{"x":1,"y":2}`}, []string{`{"x":1}`}},
	{"1 of them skips underscore", "    a:\n        x: 1\n    _b:\n        y: 2\n    condition: 1 of them", []string{`{"x":1}`}, []string{`{"y":2}`}},
	{"all of them", "    a:\n        x: 1\n    b:\n        y: 2\n    condition: all of them", []string{`{"x":1,"y":2}`}, []string{`{"y":2}`}},
	{"not 1 of filters", "    sel:\n        x: 1\n    filter_a:\n        y: 2\n    filter_b:\n        z: 3\n    condition: sel and not 1 of filter_*",
		[]string{`{"x":1}`}, []string{`{"x":1,"z":3}`, `{"x":1,"y":2}`}},
	{"list of conditions is OR", "    a:\n        x: 1\n    b:\n        y: 2\n    condition:\n        - a\n        - b", []string{`{"y":2}`}, []string{`{}`}},
}

func b64Record(s string) string {
	return fmt.Sprintf(`{"f":%q}`, base64.StdEncoding.EncodeToString([]byte(s)))
}

func TestSemantics(t *testing.T) {
	opts := Options{Placeholders: map[string][]string{"admins": {"root", "admin-*"}}}
	for _, tc := range semanticCases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Compile("case.yml", []byte(ruleWith(tc.detection)), opts)
			if err != nil {
				t.Fatal(err)
			}
			c := compileOPA(t, r)
			for _, rec := range tc.match {
				if msgs := c.fires(t, rec); len(msgs) != 1 {
					t.Errorf("want one alert on %s, got %v\n%s", rec, msgs, r.Module)
				}
			}
			for _, rec := range tc.nomatch {
				if msgs := c.fires(t, rec); len(msgs) != 0 {
					t.Errorf("want no alert on %s, got %v\n%s", rec, msgs, r.Module)
				}
			}
		})
	}
}
