// Package slack sends alerts to Slack, either as a bot (chat.postMessage with a
// bot token) or through an incoming webhook, rendered as Block Kit with every
// event-derived value escaped (see render.go).
package slack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/config"
	"github.com/trailguard/trailguard/notifiers"
)

// Notifier posts alerts to Slack. It is safe for concurrent use.
type Notifier struct {
	name    string
	api     *slack.Client // bot mode
	channel string
	webhook string // webhook mode; a credential, never logged nor in errors
	http    *http.Client
	log     *slog.Logger
}

// New returns a Notifier named name that posts as a bot (cfg.Token to
// cfg.Channel, through cfg.APIURL) or, when cfg.WebhookURL is set, to that
// incoming webhook. cfg is taken as config.Parse validated it. log receives
// start-up check warnings; nil means slog.Default(). New does not contact
// Slack; call Check.
func New(name string, cfg *config.Slack, log *slog.Logger) *Notifier {
	n := &Notifier{name: name, http: &http.Client{Timeout: 30 * time.Second}, log: cmp.Or(log, slog.Default())}
	if cfg.WebhookURL != "" {
		n.webhook = cfg.WebhookURL.Reveal()
		return n
	}
	n.channel = cfg.Channel
	n.api = slack.New(cfg.Token.Reveal(), slack.OptionAPIURL(cfg.APIURL), slack.OptionHTTPClient(n.http))
	return n
}

// Name implements notifiers.Notifier.
func (n *Notifier) Name() string { return n.name }

// Notify implements notifiers.Notifier. It makes one attempt; errors are
// classified for the dispatcher (see classify).
func (n *Notifier) Notify(ctx context.Context, a *alert.Alert, note string) error {
	if n.webhook != "" {
		text, bs := fallback(a), blocks(a, note)
		f := false
		msg := &slack.WebhookMessage{Text: text, Blocks: &slack.Blocks{BlockSet: bs}, UnfurlLinks: &f, UnfurlMedia: &f}
		if err := slack.PostWebhookCustomHTTPContext(ctx, n.webhook, n.http, msg); err != nil {
			return classify(fmt.Errorf("slack webhook: %w", n.redact(err)))
		}
		return nil
	}
	_, _, err := n.post(ctx, a, note)
	return err
}

// post sends a as a bot with chat.postMessage and returns the channel's ID
// and the message's ts.
func (n *Notifier) post(ctx context.Context, a *alert.Alert, note string, opts ...slack.MsgOption) (channel, ts string, err error) {
	opts = append([]slack.MsgOption{
		slack.MsgOptionText(fallback(a), false), // already escaped, see render.go
		slack.MsgOptionBlocks(blocks(a, note)...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}, opts...)
	channel, ts, err = n.api.PostMessageContext(ctx, n.channel, opts...)
	if err != nil {
		return "", "", classify(fmt.Errorf("slack chat.postMessage to %s: %w", n.channel, err))
	}
	return channel, ts, nil
}

// channelIDRE matches conversation IDs (public, private, DM); names like
// "#alerts" cannot be looked up without listing every conversation.
var channelIDRE = regexp.MustCompile(`^[CGD][A-Z0-9]{6,}$`)

// Check implements notifiers.Checker: in bot mode it calls auth.test and, when
// Channel is an ID, conversations.info, so invalid_auth or channel_not_found
// surface at start-up. The returned errors are classified like Notify's. A
// webhook cannot be checked without posting, so webhook mode only checks the URL.
func (n *Notifier) Check(ctx context.Context) error {
	if n.webhook != "" {
		return nil
	}
	if _, err := n.api.AuthTestContext(ctx); err != nil {
		return classify(fmt.Errorf("slack auth.test: %w", err))
	}
	if !channelIDRE.MatchString(n.channel) {
		n.log.WarnContext(ctx, "slack channel is not an ID; cannot verify it exists before posting",
			"notifier", n.name, "channel", n.channel)
		return nil
	}
	ch, err := n.api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: n.channel})
	if err != nil {
		var se slack.SlackErrorResponse
		if errors.As(err, &se) && se.Err == "missing_scope" {
			// conversations.info needs channels:read / groups:read, which posting does
			// not; lacking it is no reason to refuse to start.
			n.log.WarnContext(ctx, "slack token cannot read channel info (missing scope); channel not verified",
				"notifier", n.name, "channel", n.channel)
			return nil
		}
		return classify(fmt.Errorf("slack conversations.info %s: %w", n.channel, err))
	}
	if ch.IsArchived {
		return notifiers.Permanent(fmt.Errorf("slack channel %s is archived", n.channel))
	}
	return nil
}

// redact removes the URL from err: for a webhook the URL is the credential, and
// *url.Error (wrapped by slack-go into an already formatted message) carries it.
// Rate-limit and status errors do not contain the URL and pass unchanged, so they
// can still be classified.
func (n *Notifier) redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s <webhook URL>: %w", ue.Op, ue.Err)
	}
	if strings.Contains(err.Error(), n.webhook) {
		return errors.New(strings.ReplaceAll(err.Error(), n.webhook, "<webhook URL>"))
	}
	return err
}

var (
	_ notifiers.Notifier = (*Notifier)(nil)
	_ notifiers.Checker  = (*Notifier)(nil)
)
