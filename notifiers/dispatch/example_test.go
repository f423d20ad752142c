package dispatch_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
	"github.com/trailguard/trailguard/notifiers/dispatch"
	"github.com/trailguard/trailguard/notifiers/metrics"
	"github.com/trailguard/trailguard/notifiers/state"
	"github.com/trailguard/trailguard/notifiers/stdout"
)

// How the daemon wires it: notifiers built from configuration, one Dispatcher,
// Ready at start-up, Run in the background, Dispatch per alert, Drain at exit.
func Example() {
	out := stdout.New("stdout", os.Stdout)
	d, err := dispatch.New(dispatch.Config{
		Notifiers: []notifiers.Notifier{out},
		Routes:    []config.Route{{Notifiers: []string{"stdout"}}},
		Suppressions: []config.Suppression{{
			Rule: "iam.*", Where: map[string]string{"principal": "arn:aws:iam::*:role/Terraform*"},
			Reason: "IaC pipeline", Owner: "platform",
		}},
		Dedup:    config.Dedup{Window: time.Hour, Key: []string{"rule_id", "account_id", "principal"}},
		State:    state.NewMemory(state.MemoryOptions{}), // state.NewRedis(client, "") with replicas
		Observer: metrics.New("trailguard"),              // and registry.MustRegister it
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := d.Ready(ctx); err != nil {
		panic(err)
	}
	go d.Run(ctx)

	a := &alert.Alert{RuleID: "iam.create_access_key", Title: "Access key created", Severity: alert.High,
		Message: "alice created a key", EventID: "e1", Principal: "arn:aws:iam::1:user/alice"}
	switch err := d.Dispatch(ctx, a); {
	case err == nil:
		fmt.Println("ack the message")
	case notifiers.IsPermanent(err):
		fmt.Println("log, and ack: retrying cannot help")
	default:
		fmt.Println("leave the message; it comes back")
	}
	cancel()                          // shutdown: stop Run, then report what the window still holds
	_ = d.Drain(context.Background()) // with a fresh, bounded context in real code
	// Output:
	// {"rule_id":"iam.create_access_key","title":"Access key created","severity":"high","message":"alice created a key","event_id":"e1","event_time":"","event_source":"","event_name":"","region":"","account_id":"","principal":"arn:aws:iam::1:user/alice","source_ip":""}
	// ack the message
}
