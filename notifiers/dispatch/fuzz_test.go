package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
)

// The dispatcher's configuration (routes, suppressions, dedup key and window)
// and an alert stream (with redeliveries) come from the fuzzer, and notifiers
// fail at random. The oracle routes and suppresses each alert on its own
// (path.Match: the patterns here have no '/', where it agrees with
// internal/glob) and checks:
//   - no alert is both suppressed and delivered, and none reaches a notifier
//     no matching route names;
//   - nothing is lost: while notifiers fail, an alert whose dispatch fails is
//     handed back (as SQS would); once they work again one more round leaves
//     nothing, and after Drain every routed, unsuppressed alert reached each
//     of its notifiers, itself or, held back by the dedup window, through a
//     delivery with a note (a summary, or the next lead) for its group;
//   - nothing reaches a notifier twice.

// What the fuzzer picks from. Each rule has one severity, event source and
// account, so that every alert of a dedup group (which always includes the
// rule) has the same routes.
var (
	fzRules = []struct {
		id      string
		sev     alert.Severity
		source  string
		account string
	}{
		{"aws.root_usage", alert.Critical, "signin.amazonaws.com", "111122223333"},
		{"aws.access_denied", alert.Low, "ec2.amazonaws.com", "222222222222"},
		{"iam.create_user", alert.High, "iam.amazonaws.com", "111100000000"},
		{"ec2.stop_instances", alert.Medium, "ec2.amazonaws.com", "333333333333"},
	}
	fzRuleGlobs    = []string{"aws.*", "*.create_user", "ec2.stop_instance?", "iam.create_user", "[ai]*", "*"}
	fzSourceGlobs  = []string{"*.amazonaws.com", "iam.*", "ec2.amazonaws.com", "s3.*"}
	fzAccountGlobs = []string{"1111*", "222222222222", "*", "3?3*"}
	fzPrincipals   = []string{"alice", "bob", "carol", "ops-role"}
	fzWhereGlobs   = []string{"alice", "b*", "*o*", "*"}
	fzDedupKeys    = [][]string{{"rule_id"}, {"rule_id", "principal"}, {"rule_id", "account_id", "principal"}}
	fzNames        = []string{"n0", "n1", "n2", "n3"}
)

// bytesReader hands out the fuzzer's bytes; past the end, zeros.
type bytesReader struct{ b []byte }

func (r *bytesReader) next() int {
	if len(r.b) == 0 {
		return 0
	}
	v := int(r.b[0])
	r.b = r.b[1:]
	return v
}

func (r *bytesReader) pick(n int) int { return r.next() % n }

// flaky is a notifier that records what it delivered and fails, before
// doing anything, when the run's seed says so for that call.
type flaky struct {
	name string
	seed uint64

	mu      sync.Mutex
	failPct int // 0..100; 0 means healthy
	calls   map[string]int
	got     []fzDelivery
}

type fzDelivery struct{ notifier, key, note string }

func (f *flaky) Name() string { return f.name }

func (f *flaky) Notify(_ context.Context, a *alert.Alert, note string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	k := a.Key()
	f.calls[k]++
	// The decision depends on the seed, notifier, alert and call number,
	// not on the order in which the fan-out's goroutines arrive.
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], f.seed)
	h := sha256.Sum256(fmt.Appendf(b[:], "%s\x00%s\x00%d", f.name, k, f.calls[k]))
	roll := int(binary.LittleEndian.Uint16(h[:2])) % 100
	if roll < f.failPct {
		if roll%7 == 0 {
			return notifiers.Permanent(errors.New("flaky: permanent"))
		}
		return errors.New("flaky: retryable")
	}
	f.got = append(f.got, fzDelivery{notifier: f.name, key: k, note: note})
	return nil
}

func (f *flaky) setFail(pct int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failPct = pct
}

func FuzzDispatch(f *testing.F) {
	f.Add([]byte{2, 1, 0, 0, 0, 0, 0, 3, 0, 0, 40, 2, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add([]byte{3, 2, 3, 1, 2, 5, 1, 0, 1, 7, 2, 1, 1, 0, 2, 70, 3, 30, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 200, 100, 50})
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte("routes, suppressions and dedup keys, with notifiers failing at random"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &bytesReader{b: data}
		seed := binary.LittleEndian.Uint64(append(slices.Clone(data), make([]byte, 8)...)[:8])

		// Notifiers.
		nNotifiers := 1 + r.pick(len(fzNames))
		fl := make([]*flaky, nNotifiers)
		ns := make([]notifiers.Notifier, nNotifiers)
		for i := range fl {
			fl[i] = &flaky{name: fzNames[i], seed: seed, calls: map[string]int{}}
			ns[i] = fl[i]
		}

		// Routes.
		routes := make([]config.Route, r.pick(4))
		for i := range routes {
			m := config.Match{MinSeverity: alert.Severity(r.pick(int(alert.Critical) + 1))}
			if r.pick(2) == 1 {
				m.Rules = []string{fzRuleGlobs[r.pick(len(fzRuleGlobs))]}
			}
			if r.pick(3) == 1 {
				m.EventSources = []string{fzSourceGlobs[r.pick(len(fzSourceGlobs))]}
			}
			if r.pick(3) == 1 {
				m.Accounts = []string{fzAccountGlobs[r.pick(len(fzAccountGlobs))], fzAccountGlobs[r.pick(len(fzAccountGlobs))]}
			}
			mask := 1 + r.pick(1<<nNotifiers-1)
			for j := range nNotifiers {
				if mask&(1<<j) != 0 {
					routes[i].Notifiers = append(routes[i].Notifiers, fzNames[j])
				}
			}
			routes[i].Match = m
		}

		// Suppressions.
		sups := make([]config.Suppression, r.pick(3))
		for i := range sups {
			sups[i] = config.Suppression{Rule: fzRuleGlobs[r.pick(len(fzRuleGlobs))], Reason: "fuzz", Owner: "fuzz"}
			switch r.pick(3) {
			case 1:
				sups[i].Where = map[string]string{"principal": fzWhereGlobs[r.pick(len(fzWhereGlobs))]}
			case 2:
				sups[i].Where = map[string]string{"account_id": fzAccountGlobs[r.pick(len(fzAccountGlobs))]}
			}
		}

		// Dedup.
		dd := config.Dedup{Key: fzDedupKeys[r.pick(len(fzDedupKeys))]}
		if r.pick(2) == 1 {
			dd.Window = time.Hour
		}
		failPct := r.pick(90)
		rounds := 1 + r.pick(4)

		clk := newClock()
		d, err := New(Config{
			Notifiers: ns, Routes: routes, Suppressions: sups, Dedup: dd, Now: clk.Now,
			Retry:  RetryPolicy{InitialInterval: time.Microsecond, MaxInterval: time.Microsecond, MaxElapsedTime: time.Millisecond, AttemptTimeout: 5 * time.Second},
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			t.Fatal(err)
		}

		// The alert stream: new alerts, redeliveries of earlier ones, and
		// clock steps (which can end dedup windows).
		type sent struct {
			a   *alert.Alert
			now time.Time
		}
		var stream []sent
		var distinct []*alert.Alert
		for n := 2 + r.pick(40); n > 0; n-- {
			switch op := r.pick(8); {
			case op == 0 && len(distinct) > 0:
				stream = append(stream, sent{distinct[r.pick(len(distinct))], clk.Now()})
				continue
			case op == 1:
				clk.add(time.Duration(r.pick(4)) * 30 * time.Minute)
			}
			ru := fzRules[r.pick(len(fzRules))]
			a := &alert.Alert{
				RuleID: ru.id, Title: ru.id, Severity: ru.sev, EventSource: ru.source, AccountID: ru.account,
				Principal: fzPrincipals[r.pick(len(fzPrincipals))], EventName: "Call", Region: "us-east-1",
				EventID: fmt.Sprintf("ev-%03d", len(distinct)), EventTime: clk.Now().Format(time.RFC3339),
			}
			if r.pick(4) == 0 {
				a.DedupKey = fzPrincipals[r.pick(2)]
			}
			distinct = append(distinct, a)
			stream = append(stream, sent{a, clk.Now()})
		}

		// Delivery, as SQS would: what fails comes back in the next round.
		ctx := context.Background()
		for _, x := range fl {
			x.setFail(failPct)
		}
		pending := stream
		for range rounds {
			var left []sent
			for _, s := range pending {
				if err := d.Dispatch(ctx, s.a); err != nil {
					left = append(left, s)
				}
			}
			pending = left
		}
		for _, x := range fl {
			x.setFail(0)
		}
		for _, s := range pending {
			if err := d.Dispatch(ctx, s.a); err != nil {
				t.Fatalf("alert %s left after a round with every notifier working: %v", s.a.EventID, err)
			}
		}
		if err := d.Drain(ctx); err != nil {
			t.Fatalf("drain with every notifier working: %v", err)
		}

		// The oracle.
		routed := func(a *alert.Alert) map[string]bool {
			out := map[string]bool{}
			for _, rt := range routes {
				m := rt.Match
				if a.Severity < m.MinSeverity || !globAny(m.Rules, a.RuleID) ||
					!globAny(m.EventSources, a.EventSource) || !globAny(m.Accounts, a.AccountID) {
					continue
				}
				for _, n := range rt.Notifiers {
					out[n] = true
				}
			}
			return out
		}
		suppressed := func(a *alert.Alert) bool {
			for _, s := range sups {
				if !globMatch(s.Rule, a.RuleID) {
					continue
				}
				ok := true
				for field, p := range s.Where {
					v, _ := a.Field(field)
					ok = ok && globMatch(p, v)
				}
				if ok {
					return true
				}
			}
			return false
		}
		group := func(a *alert.Alert) string {
			if a.DedupKey != "" {
				return a.RuleID + "\x00key\x00" + a.DedupKey
			}
			g := ""
			for _, f := range dd.Key {
				v, _ := a.Field(f)
				g += f + "=" + v + "\x00"
			}
			return g
		}

		got := map[string]int{}    // notifier + alert key → deliveries
		noted := map[string]bool{} // notifier + group: a delivery with a note
		byKey := map[string]*alert.Alert{}
		for _, a := range distinct {
			byKey[a.Key()] = a
		}
		for _, x := range fl {
			for _, dl := range x.got {
				a := byKey[dl.key]
				if a == nil {
					t.Fatalf("%s delivered an alert nobody sent: %q", dl.notifier, dl.key)
				}
				if suppressed(a) {
					t.Fatalf("alert %s %s (principal %s) is suppressed, yet delivered to %s", a.RuleID, a.EventID, a.Principal, dl.notifier)
				}
				if !routed(a)[dl.notifier] {
					t.Fatalf("alert %s %s delivered to %s, which no matching route names", a.RuleID, a.EventID, dl.notifier)
				}
				got[dl.notifier+"\x00"+dl.key]++
				if dl.note != "" {
					noted[dl.notifier+"\x00"+group(a)] = true
				}
			}
		}
		for k, n := range got {
			if n > 1 {
				t.Errorf("delivered %d times: %q", n, k)
			}
		}
		for _, a := range distinct {
			if suppressed(a) {
				continue
			}
			for n := range routed(a) {
				if got[n+"\x00"+a.Key()] > 0 {
					continue
				}
				if dd.Window > 0 && noted[n+"\x00"+group(a)] {
					continue // held back, and its group's count reported
				}
				t.Errorf("alert %s %s lost for %s (dedup window %s, key %v, dedup_key %q)",
					a.RuleID, a.EventID, n, dd.Window, dd.Key, a.DedupKey)
			}
		}
	})
}

func globMatch(p, s string) bool {
	ok, err := path.Match(p, s)
	return err == nil && ok
}

// globAny: no patterns match everything.
func globAny(ps []string, s string) bool {
	if len(ps) == 0 {
		return true
	}
	return slices.ContainsFunc(ps, func(p string) bool { return globMatch(p, s) })
}
