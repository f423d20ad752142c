package dispatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
)

func TestRouting(t *testing.T) {
	all, allBuf := newStdout("all")
	crit, critBuf := newStdout("crit")
	iam, iamBuf := newStdout("iam")
	prod, prodBuf := newStdout("prod")
	d := mustNew(t, Config{
		Notifiers: []notifiers.Notifier{all, crit, iam, prod},
		Routes: []config.Route{
			{Notifiers: []string{"all"}},
			{Match: config.Match{MinSeverity: alert.Critical}, Notifiers: []string{"crit"}},
			{Match: config.Match{Rules: []string{"iam.*", "sts.assume_*"}}, Notifiers: []string{"iam", "crit"}},
			{Match: config.Match{MinSeverity: alert.Medium, Accounts: []string{"1111*"}, EventSources: []string{"*.amazonaws.com"}},
				Notifiers: []string{"prod", "all"}},
		},
	})

	cases := []struct {
		name  string
		alert *alert.Alert
		want  []string
	}{
		{"low, other rule", mkAlert("s3.public_bucket", alert.Low, "p"), []string{"all"}},
		{"critical", mkAlert("s3.public_bucket", alert.Critical, "p"), []string{"all", "crit", "prod"}},
		{"iam rule, critical: crit once", mkAlert("iam.create_user", alert.Critical, "p"), []string{"all", "crit", "iam", "prod"}},
		{"glob on sts", mkAlert("sts.assume_root", alert.Info, "p"), []string{"all", "crit", "iam"}},
		{"prod needs medium", mkAlert("ec2.x", alert.Low, "p"), []string{"all"}},
		{"prod account", mkAlert("ec2.x", alert.High, "p"), []string{"all", "prod"}},
	}
	other := mkAlert("ec2.x", alert.High, "p")
	other.AccountID = "999988887777"
	cases = append(cases, struct {
		name  string
		alert *alert.Alert
		want  []string
	}{"other account", other, []string{"all"}})

	bufs := map[string]*syncBuffer{"all": allBuf, "crit": critBuf, "iam": iamBuf, "prod": prodBuf}
	for _, c := range cases {
		before := map[string]int{}
		for n, b := range bufs {
			before[n] = len(b.lines(t))
		}
		if err := d.Dispatch(context.Background(), c.alert); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var got []string
		for _, n := range []string{"all", "crit", "iam", "prod"} {
			switch delta := len(bufs[n].lines(t)) - before[n]; delta {
			case 0:
			case 1:
				got = append(got, n)
			default:
				t.Errorf("%s: %s got the alert %d times", c.name, n, delta)
			}
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s: routed to %v, want %v", c.name, got, c.want)
		}
	}
}

func TestUnroutedAlertIsAcknowledged(t *testing.T) {
	n, buf := newStdout("only-critical")
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{n},
		Routes: []config.Route{{Match: config.Match{MinSeverity: alert.Critical}, Notifiers: []string{"only-critical"}}}})
	if err := d.Dispatch(context.Background(), mkAlert("r", alert.Low, "p")); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "" {
		t.Fatal("unrouted alert was sent")
	}
}

// New checks only what config cannot: that routes name notifiers that were
// built, and that the notifiers' names are unique. The rest config.Parse has
// validated; a glob it would have refused still fails to compile here.
func TestNewChecksCrossReferences(t *testing.T) {
	a, _ := newStdout("a")
	a2, _ := newStdout("a")
	ok := Config{Notifiers: []notifiers.Notifier{a}, Routes: everything("a")}
	for name, mut := range map[string]func(*Config){
		"unknown notifier": func(c *Config) { c.Routes = everything("b") },
		"duplicate names":  func(c *Config) { c.Notifiers = []notifiers.Notifier{a, a2} },
		"bad rule glob":    func(c *Config) { c.Routes[0].Match.Rules = []string{"iam.["} },
		"bad where glob": func(c *Config) {
			c.Suppressions = []config.Suppression{{Rule: "*", Where: map[string]string{"principal": "["}}}
		},
	} {
		c := ok
		c.Routes = append([]config.Route(nil), ok.Routes...)
		mut(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(ok); err != nil {
		t.Fatal(err)
	}
	// config warns about a file without routes; then nothing is sent.
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{a}})
	if got := d.route(mkAlert("r", alert.Critical, "p")); len(got) != 0 {
		t.Errorf("routed to %v without routes", got)
	}
}

// The routes and suppressions of a configuration file, as config.Parse hands
// them over: globs where '/' is ordinary, event sources as globs, account
// patterns, severity by name.
func TestConfigFileRoutes(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(`notifiers: [{name: prod, type: stdout}, {name: iam, type: stdout}]
routes:
  - {match: {min_severity: HIGH, accounts: ["1111*"], event_sources: ["*.amazonaws.com"]}, notifiers: [prod]}
  - {match: {rules: ["iam.*"], accounts: ["222222222222"]}, notifiers: [iam]}
suppressions:
  - {rule: "iam.*", where: {principal: "arn:aws:iam::*:role/Terraform*"}, reason: IaC, owner: platform}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	prod, prodBuf := newStdout("prod")
	iam, iamBuf := newStdout("iam")
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{prod, iam}, Routes: cfg.Routes, Suppressions: cfg.Suppressions})
	for _, c := range []struct {
		rule, account, source, principal string
		sev                              alert.Severity
		want                             string
	}{
		{"ec2.x", "111122223333", "ec2.amazonaws.com", "p", alert.High, "prod"},
		{"ec2.x", "111122223333", "ec2.amazonaws.com", "p", alert.Medium, ""},
		{"ec2.x", "111122223333", "ec2.example.com", "p", alert.Critical, ""},
		{"ec2.x", "211122223333", "ec2.amazonaws.com", "p", alert.Critical, ""},
		{"iam.create_user", "222222222222", "iam.amazonaws.com", "p", alert.Low, "iam"},
		{"iam.create_user", "222222222223", "iam.amazonaws.com", "p", alert.Low, ""},
		{"iam.create_user", "222222222222", "iam.amazonaws.com", "arn:aws:iam::222222222222:role/TerraformApply/s", alert.Low, "suppressed"},
	} {
		a := mkAlert(c.rule, c.sev, c.principal)
		a.AccountID, a.EventSource = c.account, c.source
		got := ""
		for _, n := range d.route(a) {
			got = n.Name()
		}
		if d.suppressedBy(context.Background(), a) != nil {
			got = "suppressed"
		}
		if got != c.want {
			t.Errorf("%+v: got %q, want %q", c, got, c.want)
		}
	}
	if prodBuf.String() != "" || iamBuf.String() != "" {
		t.Error("route sent something")
	}
}

func TestSuppressions(t *testing.T) {
	n, buf := newStdout("out")
	rec := newRecorder()
	log, logs := testLogger()
	clk := newClock()
	d := mustNew(t, Config{
		Notifiers: []notifiers.Notifier{n}, Routes: everything("out"), Observer: rec, Logger: log, Now: clk.Now,
		Suppressions: []config.Suppression{
			{Rule: "iam.*", Where: map[string]string{"principal": "arn:aws:iam::111122223333:role/Terraform*"},
				Reason: "terraform creates users", Owner: "platform"},
			{Rule: "*", Where: map[string]string{"source_ip": "10.*"}, Reason: "internal scanner", Owner: "secops"},
			{Rule: "s3.*", Reason: "migration", Owner: "data", Expires: clk.Now().Add(time.Hour)},
			{Rule: "ec2.*", Reason: "old exception", Owner: "nobody", Expires: clk.Now().Add(-time.Hour)},
		},
	})
	ctx := context.Background()
	send := func(a *alert.Alert) {
		t.Helper()
		if err := d.Dispatch(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	internal := mkAlert("ec2.x", alert.High, "alice")
	internal.SourceIP = "10.1.2.3"
	send(mkAlert("iam.create_user", alert.High, "arn:aws:iam::111122223333:role/TerraformApply/session"))
	send(internal)
	send(mkAlert("s3.public", alert.High, "bob"))
	if got := buf.lines(t); len(got) != 0 {
		t.Fatalf("suppressed alerts sent: %+v", got)
	}
	if rec.get("out/suppressed") != 3 {
		t.Errorf("suppressed count %d", rec.get("out/suppressed"))
	}
	if !strings.Contains(logs.String(), `"reason":"terraform creates users","owner":"platform"`) {
		t.Errorf("suppression reason not logged:\n%s", logs)
	}

	send(mkAlert("iam.create_user", alert.High, "arn:aws:iam::111122223333:user/mallory")) // no match
	send(mkAlert("ec2.x", alert.High, "alice"))                                            // expired suppression
	send(mkAlert("ec2.y", alert.High, "alice"))
	clk.add(2 * time.Hour)
	send(mkAlert("s3.public", alert.High, "bob")) // expired meanwhile
	send(mkAlert("s3.public", alert.High, "bob"))
	if got := buf.lines(t); len(got) != 5 {
		t.Fatalf("got %d alerts, want 5", len(got))
	}
	// The suppression expired before the start is the configuration's to report
	// (with its file and line); the one that expired while running is warned
	// about once.
	var warned []string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "suppression expired") {
			warned = append(warned, l)
		}
	}
	if len(warned) != 1 || !strings.Contains(warned[0], `"reason":"migration"`) {
		t.Errorf("expiry warnings: %q, want one, for the suppression that expired while running", warned)
	}
}

// A suppression config.Parse found expired was warned about there, with its
// file and line; the dispatcher says nothing more about it.
func TestSuppressionExpiredAtLoadIsNotWarnedAgain(t *testing.T) {
	cfg, err := config.Parse("t.yaml", []byte(`suppressions:
  - {rule: "ec2.*", reason: old, owner: o, expires: 2020-01-01}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings()) != 1 {
		t.Fatalf("config warnings %q, want the expiry", cfg.Warnings())
	}
	n, buf := newStdout("console")
	log, logs := testLogger()
	d := mustNew(t, Config{Notifiers: []notifiers.Notifier{n}, Routes: cfg.Routes, Suppressions: cfg.Suppressions, Logger: log})
	if err := d.Dispatch(context.Background(), mkAlert("ec2.x", alert.High, "p")); err != nil {
		t.Fatal(err)
	}
	if len(buf.lines(t)) != 1 {
		t.Error("an expired suppression still applies")
	}
	if strings.Contains(logs.String(), "suppression expired") {
		t.Errorf("warned again:\n%s", logs)
	}
}
