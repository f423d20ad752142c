package slack

import (
	"context"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/internal/fakeslack"
	"github.com/trailguard/trailguard/notifiers"
)

// A lead posted to a channel given by name is updated through the channel's
// ID (chat.update refuses names); a reply goes into its thread; the update
// keeps the first alert's content, escaped as before, and adds the count.
func TestThreadReplyAndUpdate(t *testing.T) {
	srv := fakeslack.New(t)
	n := newBot(t, srv, "#alerts")
	if !n.Threads() {
		t.Fatal("a bot does not thread")
	}
	ctx := context.Background()
	lead := hostileAlert()
	ref, err := n.NotifyLead(ctx, lead, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(ref, `"event"`) {
		t.Errorf("the raw event is kept in the thread reference: %s", ref)
	}
	for i := range 2 {
		if err := n.NotifyReply(ctx, ref, hostileAlert(), i+1); err != nil {
			t.Fatal(err)
		}
	}
	msgs, ups := srv.Messages(), srv.Updates()
	if len(msgs) != 3 || msgs[1].ThreadTS != msgs[0].TS || msgs[2].ThreadTS != msgs[0].TS || msgs[0].ThreadTS != "" {
		t.Fatalf("messages: %+v", msgs)
	}
	if len(ups) != 2 || ups[1].Channel != "C0123456789" || ups[1].TS != msgs[0].TS {
		t.Fatalf("updates: %+v", ups)
	}
	blocks := ups[1].Form.Get("blocks")
	if !strings.Contains(blocks, "2 repeats held back by the dedup window: see the thread") || strings.Contains(blocks, "<!channel>") {
		t.Errorf("updated blocks: %s", blocks)
	}
	first := msgs[0].Form.Get("blocks")
	if !strings.HasPrefix(blocks, first[:strings.LastIndex(first, `{"type":"context"`)]) {
		t.Errorf("the update lost the first alert's blocks:\n%s\nwas\n%s", blocks, first)
	}
	if err := n.NotifyReply(ctx, "not json", hostileAlert(), 1); !notifiers.IsPermanent(err) {
		t.Errorf("unreadable reference: %v", err)
	}
}

func TestWebhookDoesNotThread(t *testing.T) {
	srv := fakeslack.New(t)
	if New("hook", &config.Slack{WebhookURL: config.Secret(srv.WebhookURL())}, nil).Threads() {
		t.Error("a webhook claims to thread")
	}
}
