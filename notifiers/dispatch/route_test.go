package dispatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

func TestRouting(t *testing.T) {
	all, allBuf := newStdout("all")
	crit, critBuf := newStdout("crit")
	iam, iamBuf := newStdout("iam")
	prod, prodBuf := newStdout("prod")
	d := mustNew(t, Config{
		Notifiers: []notifiers.Notifier{all, crit, iam, prod},
		Routes: []Route{
			{Name: "catch-all", Notifiers: []string{"all"}},
			{Name: "critical", Match: Match{MinSeverity: alert.Critical}, Notifiers: []string{"crit"}},
			{Name: "iam", Match: Match{Rules: []string{"iam.*", "sts.assume_*"}}, Notifiers: []string{"iam", "crit"}},
			{Name: "prod", Match: Match{MinSeverity: alert.Medium, Accounts: []string{"1111*"}, EventSources: []string{"*.amazonaws.com"}},
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
		Routes: []Route{{Match: Match{MinSeverity: alert.Critical}, Notifiers: []string{"only-critical"}}}})
	if err := d.Dispatch(context.Background(), mkAlert("r", alert.Low, "p")); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "" {
		t.Fatal("unrouted alert was sent")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	a, _ := newStdout("a")
	a2, _ := newStdout("a")
	ok := Config{Notifiers: []notifiers.Notifier{a}, Routes: everything("a")}
	for name, mut := range map[string]func(*Config){
		"no routes":            func(c *Config) { c.Routes = nil },
		"unknown notifier":     func(c *Config) { c.Routes = everything("b") },
		"route without target": func(c *Config) { c.Routes = []Route{{}} },
		"duplicate names":      func(c *Config) { c.Notifiers = []notifiers.Notifier{a, a2} },
		"bad rule glob":        func(c *Config) { c.Routes[0].Match.Rules = []string{"iam.["} },
		"bad severity":         func(c *Config) { c.Routes[0].Match.MinSeverity = 42 },
		"empty suppression":    func(c *Config) { c.Suppressions = []Suppression{{Reason: "x"}} },
		"unknown where field":  func(c *Config) { c.Suppressions = []Suppression{{Where: map[string]string{"nope": "*"}}} },
		"bad where glob":       func(c *Config) { c.Suppressions = []Suppression{{Where: map[string]string{"principal": "["}}} },
		"unknown dedup field":  func(c *Config) { c.Dedup = Dedup{Window: time.Hour, Key: []string{"nope"}} },
		"negative window":      func(c *Config) { c.Dedup = Dedup{Window: -time.Second} },
	} {
		c := ok
		c.Routes = append([]Route(nil), ok.Routes...)
		mut(&c)
		if _, err := New(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := New(ok); err != nil {
		t.Fatal(err)
	}
}

func TestSuppressions(t *testing.T) {
	n, buf := newStdout("out")
	rec := newRecorder()
	log, logs := testLogger()
	clk := newClock()
	d := mustNew(t, Config{
		Notifiers: []notifiers.Notifier{n}, Routes: everything("out"), Observer: rec, Logger: log, Now: clk.Now,
		Suppressions: []Suppression{
			{Rule: "iam.*", Where: map[string]string{"principal": "arn:aws:iam::111122223333:role/Terraform*"},
				Reason: "terraform creates users", Owner: "platform"},
			{Where: map[string]string{"source_ip": "10.*"}, Reason: "internal scanner", Owner: "secops"},
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
