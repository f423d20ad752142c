package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/rules"
)

// TestMessageHelpersMatchRego holds the Go helpers custom.message renders
// with to lib.cloudtrail's, on every record the prefilter is checked on
// (samples, detonation logs, generated traffic, case and shape variants) and
// on hand-made edge cases: empty, missing and non-string fields, numeric
// error codes.
func TestMessageHelpersMatchRego(t *testing.T) {
	ctx := context.Background()
	lib, err := rules.FS.ReadFile("lib/cloudtrail.rego")
	if err != nil {
		t.Fatal(err)
	}
	pq, err := rego.New(
		rego.Query(`w := data.lib.cloudtrail.principal(input); a := data.lib.cloudtrail.action(input); `+
			`r := data.lib.cloudtrail.region(input); s := data.lib.cloudtrail.source(input); `+
			`o := data.lib.cloudtrail.outcome(input); c := data.lib.cloudtrail.describe_call(input, [])`),
		rego.Module("cloudtrail.rego", string(lib)),
	).PrepareForEval(ctx)
	if err != nil {
		t.Fatal(err)
	}
	records := equivRecords(t)
	for _, edge := range []string{
		`{}`,
		`{"userIdentity": {"type": "IAMUser", "userName": "u"}, "eventName": "X"}`,
		`{"userIdentity": {"type": "", "invokedBy": "svc.amazonaws.com"}, "eventSource": 5, "eventName": "X"}`,
		`{"userIdentity": {"arn": ""}, "eventSource": "s3.amazonaws.com", "eventName": "", "awsRegion": ""}`,
		`{"userIdentity": "text", "errorCode": 403, "sourceIPAddress": ""}`,
		`{"errorCode": 1.5}`, `{"errorCode": true}`, `{"errorCode": null, "errorMessage": "no"}`,
		`{"errorCode": "", "errorMessage": ""}`, `{"errorCode": {"a": [1]}}`, `{"errorMessage": 3}`,
		`{"eventSource": "ec2.amazonaws.com"}`, `{"eventName": ["x"]}`,
	} {
		records = append(records, []byte(edge))
	}
	for _, raw := range records {
		in, err := Parse(cloudtrail.Record{Raw: raw})
		if err != nil {
			continue
		}
		rs, err := pq.Eval(ctx, rego.EvalParsedInput(in.Value))
		if err != nil || len(rs) != 1 {
			t.Fatalf("%s: %v (%d results)", raw, err, len(rs))
		}
		b := rs[0].Bindings
		// Both ways the engine reads a record: decoded, and decoded as far
		// as it is read.
		for _, ev := range []event{in.Value, newLazyTerm(raw).Value} {
			// And as an alert's message reads it: the record with the
			// event fields the alert copied from it.
			var a alert.Alert
			v := fillEventFields(&a, ev)
			action, outcome, call := appendAction(nil, v), appendOutcome(nil, v), appendCall(nil, v)
			for _, c := range []struct {
				name, got string
				want      any
			}{
				{"principal", principalOf(ev), b["w"]},
				{"action", actionOf(ev), b["a"]},
				{"region", regionOf(ev), b["r"]},
				{"source", sourceOf(ev), b["s"]},
				{"outcome", outcomeOf(ev), b["o"]},
				{"describe_call", describeCall(ev), b["c"]},
				{"alert's principal", v.principal(), b["w"]},
				{"alert's action", string(action), b["a"]},
				{"alert's region", v.region(), b["r"]},
				{"alert's source", v.source(), b["s"]},
				{"alert's outcome", string(outcome), b["o"]},
				{"alert's describe_call", string(call), b["c"]},
			} {
				if c.got != c.want {
					t.Errorf("%s of %s (%T): Go %q, Rego %q", c.name, raw, ev, c.got, c.want)
				}
			}
		}
	}
}

// TestMessageTemplate renders custom.message through the engine, and refuses
// templates that read what no alert has or use more than plain fields.
func TestMessageTemplate(t *testing.T) {
	ctx := context.Background()
	policy := func(msg string) string {
		return "# METADATA\n# title: T\n# custom:\n#   id: t.m\n#   severity: low\n#   message: " + msg + "\n" +
			"package rules.t.m\n\nimport rego.v1\n\nalert contains {\"thing\": input.requestParameters.thing} if input.eventName == \"Get\"\n"
	}
	eng, err := messageEngine(t, policy(`"{{.who}} got {{.thing}} ({{.title}}, {{.event_name}}): {{.call}}"`))
	if err != nil {
		t.Fatal(err)
	}
	alerts, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: []byte(`{"eventName": "Get", "eventSource": "s3.amazonaws.com", ` +
		`"awsRegion": "eu-west-1", "sourceIPAddress": "192.0.2.1", "errorCode": "AccessDenied", ` +
		`"userIdentity": {"type": "IAMUser", "userName": "ann"}, "requestParameters": {"thing": "b1"}}`)})
	if err != nil || len(alerts) != 1 {
		t.Fatalf("%d alerts, %v", len(alerts), err)
	}
	want := "IAMUser ann got b1 (T, Get): IAMUser ann called s3:Get in eu-west-1 from 192.0.2.1; the call failed with AccessDenied"
	if alerts[0].Message != want {
		t.Errorf("message %q, want %q", alerts[0].Message, want)
	}
	for tmpl, wantErr := range map[string]string{
		`"{{.nothing}}"`:             `custom.message reads "nothing"`,
		`"{{if .who}}x{{end}}"`:      "only text and plain fields",
		`"{{.who | printf \"%s\"}}"`: "only plain fields",
		`"{{.who"`:                   "custom.message:",
		`""`:                         "non-empty template",
	} {
		_, err := messageEngine(t, policy(tmpl))
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("template %s: error %v, want one containing %q", tmpl, err, wantErr)
		}
	}
}

// messageEngine is an engine with lib.cloudtrail and one policy.
func messageEngine(t *testing.T, policy string) (*Engine, error) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m.rego"), []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	return New(context.Background(), WithPacks(), WithPolicyPaths(dir))
}

// TestMessageRenderIsTextTemplate: rendering a template part by part gives
// what text/template gives for the same template and fields.
func TestMessageRenderIsTextTemplate(t *testing.T) {
	raw := []byte(`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9",` +
		`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ana"},"errorCode":"AccessDenied","eventTime":"2026-01-02T03:04:05Z"}`)
	in, err := Parse(cloudtrail.Record{Raw: raw})
	if err != nil {
		t.Fatal(err)
	}
	rule := &Rule{ID: "x.y", Title: "A <title> & more"}
	a := &alert.Alert{Fields: map[string]string{"secret": "prod/db", "count": "3"}}
	v := fillEventFields(a, in.Value) // as the engine does before rendering
	for _, src := range []string{
		"{{.title}}: {{.call}}", "{{.who}} read {{.secret}} {{.count}} times{{.outcome}}", "plain text, no fields",
		"{{.action}}{{.action}} in {{.where}} from {{.from}} at {{.event_time}}.", "{{.who}}\n\t{{.title}}",
	} {
		m, err := parseMessage(src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		got, err := m.render(rule, v)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		data := map[string]string{}
		for _, n := range m.names {
			switch h, ok := eventHelpers[n]; {
			case ok:
				data[n] = string(h.appendTo(nil, recordView{ev: in.Value})) // from the record alone
			case n == "title":
				data[n] = rule.Title
			default:
				data[n], _ = a.Field(n)
			}
		}
		var want strings.Builder
		if err := template.Must(template.New("m").Option("missingkey=error").Parse(src)).Execute(&want, data); err != nil {
			t.Fatal(err)
		}
		if got != want.String() {
			t.Errorf("%q: rendered %q, text/template %q", src, got, want.String())
		}
	}
}

// TestMessageRenderAllocatesOnce: a message costs the string it is, and no
// more (its builder stays on the stack; the record is not searched for what
// the alert copied from it already).
func TestMessageRenderAllocatesOnce(t *testing.T) {
	raw := []byte(`{"eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"203.0.113.9",` +
		`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ana"},"errorCode":"AccessDenied","eventTime":"2026-01-02T03:04:05Z"}`)
	ev := newLazyTerm(raw).Value
	var a alert.Alert
	v := fillEventFields(&a, ev)
	m, err := parseMessage("{{.title}}: {{.call}} ({{.who}}{{.outcome}}, {{.event_time}})")
	if err != nil {
		t.Fatal(err)
	}
	rule := &Rule{ID: "x.y", Title: "T"}
	n := testing.AllocsPerRun(100, func() {
		if _, err := m.render(rule, v); err != nil {
			t.Fatal(err)
		}
	})
	if n != 1 {
		t.Errorf("%v allocations to render a message, want 1", n)
	}
}

// BenchmarkMessageRender: a Sigma rule's message ({{.title}}: {{.call}}) for
// an alert whose event fields were read.
func BenchmarkMessageRender(b *testing.B) {
	raw := []byte(`{"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1",` +
		`"sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0","eventTime":"2026-11-25T10:00:00Z",` +
		`"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/s","accountId":"111122223333"},` +
		`"requestParameters":null,"responseElements":null,"eventID":"0f2f6a8e","recipientAccountId":"111122223333"}`)
	ev := newLazyTerm(raw).Value
	var a alert.Alert
	v := fillEventFields(&a, ev)
	m, err := parseMessage("{{.title}}: {{.call}}")
	if err != nil {
		b.Fatal(err)
	}
	rule := &Rule{ID: "sigma.x", Title: "AWS STS AssumeRole Misuse"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.render(rule, v); err != nil {
			b.Fatal(err)
		}
	}
}
