package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/slack-go/slack"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/notifiers"
)

// threadRef is what a window's first message is known by: chat.update needs
// the channel's ID (which chat.postMessage answers with, whatever name it was
// given) and the message's ts; and, since it replaces the whole message, the
// alert to render again.
type threadRef struct {
	Channel string       `json:"channel"`
	TS      string       `json:"ts"`
	Alert   *alert.Alert `json:"alert"`
}

// Threads implements notifiers.Threader: a bot can reply in threads and
// update its messages; an incoming webhook can do neither.
func (n *Notifier) Threads() bool { return n.api != nil }

// NotifyLead implements notifiers.Threader: it posts a as Notify does and
// returns the message's reference.
func (n *Notifier) NotifyLead(ctx context.Context, a *alert.Alert, note string) (string, error) {
	ch, ts, err := n.post(ctx, a, note)
	if err != nil {
		return "", err
	}
	lead := *a
	lead.Raw = nil // not rendered; kept out of State
	b, err := json.Marshal(threadRef{Channel: ch, TS: ts, Alert: &lead})
	if err != nil {
		return "", notifiers.Permanent(fmt.Errorf("slack: encode thread reference: %w", err))
	}
	return string(b), nil
}

// NotifyReply implements notifiers.Threader: it posts a in the thread of
// ref's message (chat.postMessage with thread_ts), then updates that message
// (chat.update) to say how many repeats its thread holds. The reply is the
// delivery: a failed update is logged, not returned, since retrying would
// post the reply twice; the next repeat's update corrects the count.
func (n *Notifier) NotifyReply(ctx context.Context, ref string, a *alert.Alert, repeats int) error {
	var r threadRef
	if err := json.Unmarshal([]byte(ref), &r); err != nil {
		return notifiers.Permanent(fmt.Errorf("slack: unreadable thread reference: %w", err))
	}
	if r.TS == "" || r.Alert == nil {
		return notifiers.Permanent(errors.New("slack: thread reference without a message or alert"))
	}
	if _, _, err := n.post(ctx, a, "", slack.MsgOptionTS(r.TS)); err != nil {
		return err
	}
	word := "repeats"
	if repeats == 1 {
		word = "repeat"
	}
	note := fmt.Sprintf("%d %s held back by the dedup window: see the thread", repeats, word)
	_, _, _, err := n.api.UpdateMessageContext(ctx, r.Channel, r.TS,
		slack.MsgOptionText(fallback(r.Alert), false),
		slack.MsgOptionBlocks(blocks(r.Alert, note)...),
	)
	if err != nil {
		n.log.WarnContext(ctx, "slack chat.update of the thread's first message failed; its count is stale until the next repeat",
			"notifier", n.name, "channel", r.Channel, "ts", r.TS, "err", err)
	}
	return nil
}

var _ notifiers.Threader = (*Notifier)(nil)
