package gen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/bench/gen"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
)

func TestSameSeedSameBytes(t *testing.T) {
	a, b := gen.New(gen.Options{Seed: 7}), gen.New(gen.Options{Seed: 7})
	fa, fb := a.Files(30), b.Files(30)
	for i := range fa {
		if fa[i].Key != fb[i].Key || !bytes.Equal(fa[i].Data, fb[i].Data) {
			t.Fatalf("file %d differs for the same seed: %s vs %s", i, fa[i].Key, fb[i].Key)
		}
	}
	if la, lb := a.LargeFile(500), b.LargeFile(500); !bytes.Equal(la.Data, lb.Data) {
		t.Fatal("large file differs for the same seed")
	}
	var ua, ub bytes.Buffer
	if _, _, err := a.WriteUncompressed(&ua, 256<<10); err != nil {
		t.Fatal(err)
	}
	b.WriteUncompressed(&ub, 256<<10)
	if !bytes.Equal(ua.Bytes(), ub.Bytes()) {
		t.Fatal("uncompressed log differs for the same seed")
	}

	c := gen.New(gen.Options{Seed: 8})
	if fc := c.Files(1); bytes.Equal(fc[0].Data, fa[0].Data) {
		t.Fatal("seeds 7 and 8 gave the same first file")
	}
}

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	keyRE  = regexp.MustCompile(`^AWSLogs/123456789012/CloudTrail/[a-z0-9-]+/\d{4}/\d{2}/\d{2}/123456789012_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$`)
)

// record holds the fields the checks below look at.
type record struct {
	EventVersion string `json:"eventVersion"`
	UserIdentity *struct {
		Type           string `json:"type"`
		InvokedBy      string `json:"invokedBy"`
		SessionContext *struct {
			Attributes struct {
				MFAAuthenticated any `json:"mfaAuthenticated"`
			} `json:"attributes"`
		} `json:"sessionContext"`
	} `json:"userIdentity"`
	EventTime          string          `json:"eventTime"`
	EventSource        string          `json:"eventSource"`
	EventName          string          `json:"eventName"`
	AWSRegion          string          `json:"awsRegion"`
	SourceIPAddress    string          `json:"sourceIPAddress"`
	UserAgent          string          `json:"userAgent"`
	ErrorCode          string          `json:"errorCode"`
	RequestParameters  json.RawMessage `json:"requestParameters"`
	ResponseElements   json.RawMessage `json:"responseElements"`
	EventID            string          `json:"eventID"`
	ReadOnly           *bool           `json:"readOnly"`
	EventType          string          `json:"eventType"`
	ManagementEvent    *bool           `json:"managementEvent"`
	RecipientAccountID string          `json:"recipientAccountId"`
	EventCategory      string          `json:"eventCategory"`
	AdditionalData     struct {
		MFAUsed string `json:"MFAUsed"`
	} `json:"additionalEventData"`
	ConsoleLogin struct {
		ConsoleLogin string `json:"ConsoleLogin"`
	}
}

// readAll reads every record of the files through trailguard's own reader.
func readAll(t *testing.T, files []gen.File) []record {
	t.Helper()
	var out []record
	for _, f := range files {
		if !keyRE.MatchString(f.Key) {
			t.Errorf("key %q is not shaped like CloudTrail's", f.Key)
		}
		rd, err := cloudtrail.NewReader(bytes.NewReader(f.Data), f.Key, cloudtrail.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", f.Key, err)
			}
			var r record
			if err := json.Unmarshal(rec.Raw, &r); err != nil {
				t.Fatalf("%s: record %d: %v", f.Key, rec.Index, err)
			}
			out = append(out, r)
			n++
		}
		if n != f.Records {
			t.Errorf("%s: %d records, File says %d", f.Key, n, f.Records)
		}
	}
	return out
}

func TestFilesAreCloudTrailShaped(t *testing.T) {
	files := gen.New(gen.Options{Seed: 1}).Files(150)
	recs := readAll(t, files)
	minRecs, maxRecs := files[0].Records, files[0].Records
	for _, f := range files {
		minRecs, maxRecs = min(minRecs, f.Records), max(maxRecs, f.Records)
	}
	if minRecs > 5 || maxRecs < 200 || maxRecs > 1000 {
		t.Errorf("files hold %d to %d records; CloudTrail's hold a few to a few hundred", minRecs, maxRecs)
	}

	var n struct {
		denied, root, ops, login, loginNoMFA, loginFailed, serviceIP, internal, readOnly int
	}
	services := map[string]bool{}
	types := map[string]int{}
	for i, r := range recs {
		if r.EventVersion == "" || r.UserIdentity == nil || r.EventSource == "" || r.EventName == "" || r.AWSRegion == "" ||
			r.SourceIPAddress == "" || r.UserAgent == "" || r.ReadOnly == nil || r.ManagementEvent == nil ||
			r.RecipientAccountID != "123456789012" || r.EventCategory != "Management" || r.RequestParameters == nil {
			t.Fatalf("record %d lacks fields CloudTrail writes: %+v", i, r)
		}
		if _, err := time.Parse(time.RFC3339, r.EventTime); err != nil {
			t.Fatalf("record %d: eventTime: %v", i, err)
		}
		if !uuidRE.MatchString(r.EventID) {
			t.Fatalf("record %d: eventID %q is not a UUID", i, r.EventID)
		}
		if sc := r.UserIdentity.SessionContext; sc != nil {
			if v, ok := sc.Attributes.MFAAuthenticated.(string); !ok || (v != "true" && v != "false") {
				t.Fatalf("record %d: mfaAuthenticated %#v is not the string CloudTrail writes", i, sc.Attributes.MFAAuthenticated)
			}
		}
		services[r.EventSource] = true
		types[r.UserIdentity.Type]++
		switch {
		case strings.HasPrefix(r.ErrorCode, "AccessDenied") || strings.HasSuffix(r.ErrorCode, "UnauthorizedOperation"):
			n.denied++
		}
		if r.UserIdentity.Type == "Root" {
			n.root++
		}
		if r.EventSource == "opsworks-cm.amazonaws.com" {
			n.ops++
		}
		if r.EventName == "ConsoleLogin" {
			n.login++
			if r.AdditionalData.MFAUsed == "No" {
				n.loginNoMFA++
			}
		}
		if strings.HasSuffix(r.SourceIPAddress, ".amazonaws.com") {
			n.serviceIP++
		}
		if r.SourceIPAddress == "AWS Internal" {
			n.internal++
		}
		if *r.ReadOnly {
			n.readOnly++
		}
	}
	total := float64(len(recs))
	share := func(k int) float64 { return float64(k) / total }
	t.Logf("%d records in %d files; denied %.2f%%, root %.2f%%, opsworks-cm %.2f%%, console sign-ins %d (%d without MFA), read-only %.1f%%, identity types %v, %d services",
		len(recs), len(files), 100*share(n.denied), 100*share(n.root), 100*share(n.ops), n.login, n.loginNoMFA, 100*share(n.readOnly), types, len(services))
	check := func(what string, got, lo, hi float64) {
		if got < lo || got > hi {
			t.Errorf("%s: %.4f, want %.4f..%.4f", what, got, lo, hi)
		}
	}
	check("denied share", share(n.denied), 0.015, 0.025)
	check("root share", share(n.root), 0.0002, 0.003)
	check("opsworks-cm share", share(n.ops), 0.006, 0.014)
	check("read-only share", share(n.readOnly), 0.75, 0.95)
	check("IAMUser share", share(types["IAMUser"]), 0.2, 0.5)
	check("AssumedRole share", share(types["AssumedRole"]), 0.35, 0.7)
	if len(services) < 15 {
		t.Errorf("%d event sources, want at least 15", len(services))
	}
	if n.login == 0 || n.loginNoMFA == 0 || n.serviceIP == 0 || n.internal == 0 {
		t.Errorf("missing console sign-ins without MFA, service-name or AWS Internal source IPs: %+v", n)
	}
}

func TestOpsWorksActions(t *testing.T) {
	g := gen.New(gen.Options{Seed: 3})
	seen := map[string]int{}
	for range 2000 {
		var r record
		if err := json.Unmarshal(g.AppendKind(nil, gen.KindOpsWorks, "us-east-1", gen.DefaultStart), &r); err != nil {
			t.Fatal(err)
		}
		if r.EventSource != "opsworks-cm.amazonaws.com" {
			t.Fatalf("eventSource %q", r.EventSource)
		}
		seen[r.EventName]++
	}
	for _, a := range gen.OpsWorksActions() {
		if seen[a] == 0 {
			t.Errorf("opsworks-cm action %s never written", a)
		}
	}
	if len(gen.OpsWorksActions()) != 19 || len(seen) != 19 {
		t.Errorf("%d actions written, want the 19 of opsworks-cm: %v", len(seen), seen)
	}
}

// The records must exercise the shipped rules without a single evaluation
// error (the engine runs with strict built-in errors).
func TestShippedRulesFire(t *testing.T) {
	ctx := context.Background()
	eng, err := engine.New(ctx, engine.WithData(map[string]any{"known_networks": []any{"10.0.0.0/8", "203.0.113.0/24"}}))
	if err != nil {
		t.Fatal(err)
	}
	g := gen.New(gen.Options{Seed: 5})
	fired := map[string]int{}
	n := 0
	eval := func(raw []byte) {
		n++
		alerts, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: raw, Source: "gen", Index: n})
		if err != nil {
			t.Fatalf("%v\n%s", err, raw)
		}
		for _, a := range alerts {
			fired[a.RuleID]++
		}
	}
	for _, k := range []gen.Kind{gen.KindConsoleLogin, gen.KindCISChange, gen.KindOpsWorks, gen.KindRoot} {
		for range 600 {
			eval(g.AppendKind(nil, k, "us-east-1", gen.DefaultStart.Add(time.Hour)))
		}
	}
	before := 0
	for _, c := range fired {
		before += c
	}
	mixed := g.Records(2000)
	for _, raw := range mixed {
		eval(raw)
	}
	after := 0
	for _, c := range fired {
		after += c
	}
	t.Logf("the usual mix: %d alerts in %d records", after-before, len(mixed))
	for _, id := range []string{
		"aws.unauthorized_api_call", "aws.root_usage", "aws.console_login_failure", "aws.console_login_without_mfa",
		"aws.security_group_change", "aws.iam_policy_change", "aws.route_table_change", "aws.s3_bucket_policy_change",
		"opsworkscm.access_denied", "opsworkscm.backups_weakened", "opsworkscm.create_server_without_mfa",
		"opsworkscm.destructive_action", "opsworkscm.engine_credentials_access", "opsworkscm.public_server",
		"opsworkscm.unknown_source_ip",
	} {
		if fired[id] == 0 {
			t.Errorf("rule %s never fired", id)
		}
	}
	t.Logf("%d records evaluated, alerts by rule: %v", n, fired)
}
