package rules_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail"
	"github.com/trailguard/trailguard/engine"
	"github.com/trailguard/trailguard/notifiers/dispatch"
	"github.com/trailguard/trailguard/notifiers/state"
)

// The stateful built-in rules, fed event sequences through the engine and
// the dispatcher's stateful stage (dispatch.Replay, as eval and the daemon
// do) on each backend: records that arrive late (CloudTrail delivers files
// up to 15 minutes late, unordered inside), records read twice (SQS
// redelivers), and exactly one alert per crossing.

// backends opens empty stateful records of each kind.
var backends = map[string]func(t *testing.T) state.Records{
	"memory": func(*testing.T) state.Records { return state.NewMemoryRecords() },
	"sqlite": func(t *testing.T) state.Records {
		st, err := state.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "state.db"), state.SQLiteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	},
	"miniredis": func(t *testing.T) state.Records {
		mr := miniredis.RunT(t)
		c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		t.Cleanup(func() { _ = c.Close() })
		return state.NewRedis(c, "tg:")
	},
}

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// event is a CloudTrail record built from base with eventID and eventTime set
// and the fields of over replaced.
type event map[string]any

func record(base event, id string, at time.Time, over event) event {
	e := maps.Clone(base)
	maps.Copy(e, over)
	e["eventID"], e["eventTime"] = id, at.Format(time.RFC3339)
	return e
}

// feed evaluates events in the order given and returns what the dispatcher
// notified, rules of other ids left out.
func feed(t *testing.T, eng *engine.Engine, rec state.Records, ruleID string, events []event) []*alert.Alert {
	t.Helper()
	ctx := context.Background()
	var out []*alert.Alert
	r, err := dispatch.NewReplay(rec, func(a *alert.Alert) error {
		if a.RuleID == ruleID {
			out = append(out, a)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		alerts, err := eng.Evaluate(ctx, cloudtrail.Record{Raw: raw, Source: "seq", Index: i})
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		for _, a := range alerts {
			if err := r.Alert(ctx, &a); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
	}
	return out
}

func statefulEngine(t testing.TB) *engine.Engine {
	t.Helper()
	eng, err := engine.New(context.Background(), engine.WithPacks("opsworkscm", "aws", "threats"))
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func ids(prefix string, ns ...int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprintf("%s-%02d", prefix, n)
	}
	return out
}

var getSecret = event{
	"eventVersion":       "1.09",
	"userIdentity":       event{"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/dev", "accountId": "111122223333", "userName": "dev"},
	"eventSource":        "secretsmanager.amazonaws.com",
	"eventName":          "GetSecretValue",
	"awsRegion":          "us-east-1",
	"sourceIPAddress":    "203.0.113.80",
	"recipientAccountId": "111122223333",
}

// secretRead is alice's (or another's) read of secret n at t0 + sec seconds.
func secretRead(user string, n, sec int) event {
	return record(getSecret, fmt.Sprintf("%s-%02d", user, n), t0.Add(time.Duration(sec)*time.Second), event{
		"userIdentity":      event{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/" + user, "accountId": "111122223333", "userName": user},
		"requestParameters": event{"secretId": fmt.Sprintf("app/secret-%d", n)},
	})
}

// Twelve distinct secrets read 10s apart by alice; 6 and 7 arrive late, 3,
// 6 and 11 twice. Bob reads nine (below the threshold), one of them three
// times. The window that crosses is the one ending at read 11 once read 6
// has arrived: ten distinct secrets, reads 1-6 and 8-11. Reads 7 and 12
// extend the same burst and do not alert again; two hours later a new burst
// does.
func TestStatefulSecretsBulkRead(t *testing.T) {
	eng := statefulEngine(t)
	var seq []event
	for _, n := range []int{1, 2, 3, 4, 5, 8, 9, 10, 11, 6, 3, 7, 12, 6, 11} {
		seq = append(seq, secretRead("alice", n, 10*n))
	}
	for n := range 9 {
		seq = append(seq, secretRead("bob", n, 5*n))
	}
	seq = append(seq, record(secretRead("bob", 0, 0), "bob-again-1", t0.Add(time.Minute), nil),
		record(secretRead("bob", 0, 0), "bob-again-2", t0.Add(2*time.Minute), nil))
	later := make([]event, 10)
	for n := range later {
		later[n] = record(secretRead("alice", 20+n, 0), fmt.Sprintf("later-%02d", n), t0.Add(2*time.Hour+time.Duration(n)*time.Second), nil)
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			rec := open(t)
			got := feed(t, eng, rec, "threats.secrets_bulk_read", seq)
			if len(got) != 1 {
				t.Fatalf("%d alerts, want 1: %+v", len(got), got)
			}
			a := got[0]
			want := ids("alice", 1, 2, 3, 4, 5, 6, 8, 9, 10, 11)
			if a.Count != 10 || a.Window != "10m" || a.Group["principal"] != "arn:aws:iam::111122223333:user/alice" ||
				!slices.Equal(a.EventIDs, want) || a.FirstEventTime != "2025-03-01T10:00:10Z" || a.LastEventTime != "2025-03-01T10:01:50Z" ||
				a.Severity != alert.Medium {
				t.Errorf("alert: count %d window %q group %v events %v first %s last %s severity %v",
					a.Count, a.Window, a.Group, a.EventIDs, a.FirstEventTime, a.LastEventTime, a.Severity)
			}
			// The last read (6, late: it completes the window) in custom.message.
			if wantMsg := "10 distinct secret values in 1m40s for principal=arn:aws:iam::111122223333:user/alice (threshold 10 in 10m); " +
				"the last: arn:aws:iam::111122223333:user/alice read app/secret-6 with secretsmanager:GetSecretValue in us-east-1 from 203.0.113.80"; a.Message != wantMsg {
				t.Errorf("message %q, want %q", a.Message, wantMsg)
			}
			// The same state, two hours on: a new crossing alerts again.
			again := feed(t, eng, rec, "threats.secrets_bulk_read", later)
			if len(again) != 1 || again[0].Count != 10 || !slices.Equal(again[0].EventIDs, ids("later", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)) {
				t.Errorf("second burst: %+v", again)
			}
		})
	}
}

var instanceCall = event{
	"eventVersion": "1.09",
	"userIdentity": event{
		"type": "AssumedRole", "principalId": "AROAEXAMPLE:i-0a1b2c3d4e5f60718",
		"arn":            "arn:aws:sts::111122223333:assumed-role/app/i-0a1b2c3d4e5f60718",
		"accountId":      "111122223333",
		"sessionContext": event{"ec2RoleDelivery": "2.0"},
	},
	"eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances",
	"awsRegion": "us-west-2", "sourceIPAddress": "18.236.253.47",
}

// The instance calls from its own network (two addresses of one /24); its
// credentials are used from a second network, and that call's record arrives
// before the instance's earlier ones. Another instance stays on one network.
func TestStatefulInstanceCredentialsSecondNetwork(t *testing.T) {
	eng := statefulEngine(t)
	from := func(id string, min int, ip string) event {
		return record(instanceCall, id, t0.Add(time.Duration(min)*time.Minute), event{"sourceIPAddress": ip})
	}
	other := record(instanceCall, "other-1", t0, event{"userIdentity": event{
		"type": "AssumedRole", "principalId": "AROAEXAMPLE:i-0fedcba9876543210", "arn": "arn:aws:sts::111122223333:assumed-role/app/i-0fedcba9876543210", "accountId": "111122223333",
		"sessionContext": event{"ec2RoleDelivery": "2.0"},
	}, "sourceIPAddress": "52.10.1.1"})
	seq := []event{
		from("own-2", 20, "18.236.253.47"),
		from("stolen", 30, "198.51.100.23"), // the second network
		from("own-1", 10, "18.236.253.9"),   // late: the first call
		from("stolen", 30, "198.51.100.23"), // read twice
		from("own-3", 40, "10.0.3.4"),       // through the VPC: not counted
		from("stolen-2", 35, "198.51.100.24"),
		other,
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			got := feed(t, eng, open(t), "threats.instance_credentials_second_network", seq)
			if len(got) != 1 {
				t.Fatalf("%d alerts, want 1: %+v", len(got), got)
			}
			a := got[0]
			if a.Count != 2 || a.Group["session"] != "AROAEXAMPLE:i-0a1b2c3d4e5f60718" || a.Severity != alert.High ||
				!slices.Equal(a.EventIDs, []string{"own-2", "stolen"}) || a.Window != "1h" {
				t.Errorf("alert: count %d group %v events %v window %q", a.Count, a.Group, a.EventIDs, a.Window)
			}
		})
	}
}

var consoleLogin = event{
	"eventVersion": "1.08",
	"userIdentity": event{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/anaya", "accountId": "111122223333", "userName": "anaya"},
	"eventSource":  "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
	"responseElements": event{"ConsoleLogin": "Success"},
}

// Sign-ins over eight days: the first week is learned silently (including a
// network first seen on day 6 whose record arrives on day 8), then a known
// network is quiet and a new one alerts once, however often its record comes.
func TestStatefulConsoleLoginNewNetwork(t *testing.T) {
	eng := statefulEngine(t)
	login := func(id string, day int, ip string) event {
		return record(consoleLogin, id, t0.Add(time.Duration(day)*24*time.Hour), event{"sourceIPAddress": ip})
	}
	seq := []event{
		login("d0", 0, "198.51.100.7"),
		login("d3", 3, "203.0.113.9"),
		login("d8-known", 8, "198.51.100.200"), // same /24 as day 0
		login("d6-late", 6, "192.0.2.1"),       // within the learning week
		login("d8-new", 8, "233.252.0.5"),
		login("d8-new", 8, "233.252.0.5"), // redelivered
		login("d9", 9, "233.252.0.77"),    // now known
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			got := feed(t, eng, open(t), "threats.console_login_new_network", seq)
			if len(got) != 1 {
				t.Fatalf("%d alerts, want 1: %+v", len(got), got)
			}
			a := got[0]
			if a.Value != "233.252.0.0/24" || !slices.Equal(a.KnownValues, []string{"198.51.100.0/24", "192.0.2.0/24", "203.0.113.0/24"}) ||
				!slices.Equal(a.EventIDs, []string{"d8-new"}) || a.Group["principal"] != "arn:aws:iam::111122223333:user/anaya" ||
				a.Window != "2160h" {
				t.Errorf("alert: value %q known %v events %v group %v window %q", a.Value, a.KnownValues, a.EventIDs, a.Group, a.Window)
			}
			if want := "first ConsoleLogin from 233.252.0.0/24 for principal=arn:aws:iam::111122223333:user/anaya (known: 198.51.100.0/24, 192.0.2.0/24, 203.0.113.0/24)"; !strings.HasPrefix(a.Message, want) {
				t.Errorf("message %q, want it to start %q", a.Message, want)
			}
		})
	}
}

var opsworksCall = event{
	"eventVersion": "1.05",
	"userIdentity": event{"type": "AssumedRole", "arn": "arn:aws:sts::831000000000:assumed-role/Admin/ops", "accountId": "831000000000"},
	"eventSource":  "opsworks-cm.amazonaws.com", "eventName": "DescribeServers", "awsRegion": "us-west-2",
	"recipientAccountId": "831000000000",
}

// Without known_networks, OpsWorks CM calls teach each account its networks
// and a new one after the first week alerts, once. With known_networks the
// learning rule is quiet and unknown_source_ip judges each call.
func TestStatefulOpsworksNewSourceNetwork(t *testing.T) {
	call := func(id string, day int, ip string) event {
		return record(opsworksCall, id, t0.Add(time.Duration(day)*24*time.Hour), event{"sourceIPAddress": ip})
	}
	seq := []event{
		call("a", 0, "198.51.100.7"),
		call("b", 8, "198.51.100.8"),
		call("c", 8, "203.0.113.5"),
		call("c", 8, "203.0.113.5"),
		call("d", 9, "cloudformation.amazonaws.com"),
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			got := feed(t, statefulEngine(t), open(t), "opsworkscm.new_source_network", seq)
			if len(got) != 1 || got[0].Value != "203.0.113.0/24" || got[0].Group["account_id"] != "831000000000" ||
				!slices.Equal(got[0].KnownValues, []string{"198.51.100.0/24"}) {
				t.Fatalf("alerts: %+v", got)
			}
		})
	}
	known, err := engine.New(context.Background(), engine.WithPacks("opsworkscm"),
		engine.WithData(map[string]any{"known_networks": []any{"198.51.100.0/24"}}))
	if err != nil {
		t.Fatal(err)
	}
	if got := feed(t, known, nil, "opsworkscm.new_source_network", seq); len(got) != 0 {
		t.Errorf("with known_networks: %d learning alerts, want 0", len(got))
	}
	if got := feed(t, known, nil, "opsworkscm.unknown_source_ip", seq); len(got) != 2 {
		t.Errorf("with known_networks: %d unknown_source_ip alerts, want 2 (call c, twice: per event, no state)", len(got))
	}
}

// Ten different refused actions in four minutes, one of them retried and one
// record read twice: one alert, beside CIS 4.1's per-event alerts.
func TestStatefulDeniedCallsBurst(t *testing.T) {
	eng := statefulEngine(t)
	actions := []string{"ListUsers", "ListRoles", "ListPolicies", "GetAccountSummary", "ListGroups",
		"ListAccessKeys", "GetUser", "ListMFADevices", "ListSAMLProviders", "GetAccountAuthorizationDetails"}
	denied := event{
		"eventVersion": "1.09",
		"userIdentity": event{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ci", "accountId": "111122223333", "userName": "ci"},
		"eventSource":  "iam.amazonaws.com", "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.9",
		"errorCode": "AccessDenied",
	}
	var seq []event
	for i, name := range slices.Backward(actions) { // newest first
		seq = append(seq, record(denied, fmt.Sprintf("deny-%02d", i), t0.Add(time.Duration(i)*25*time.Second), event{"eventName": name}))
	}
	seq = append(seq, seq[0], record(denied, "retry", t0.Add(time.Second), event{"eventName": actions[0]}))
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			got := feed(t, eng, open(t), "threats.denied_calls_burst", seq)
			if len(got) != 1 || got[0].Count != 10 || len(got[0].EventIDs) != 10 || got[0].EventIDs[0] != "deny-00" {
				t.Fatalf("alerts: %+v", got)
			}
			if cis := feed(t, eng, open(t), "aws.unauthorized_api_call", seq); len(cis) != len(seq) {
				t.Errorf("CIS 4.1: %d alerts, want one per record (%d)", len(cis), len(seq))
			}
		})
	}
}
