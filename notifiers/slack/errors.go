package slack

import (
	"errors"
	"net/http"

	"github.com/slack-go/slack"

	"github.com/trailguard/trailguard/notifiers"
)

// permanentCodes are Slack API error codes that no retry can fix: the token,
// the channel or the payload is wrong until someone changes the configuration.
var permanentCodes = map[string]bool{
	"invalid_auth":            true,
	"not_authed":              true,
	"account_inactive":        true,
	"token_revoked":           true,
	"token_expired":           true,
	"no_permission":           true,
	"missing_scope":           true,
	"org_login_required":      true,
	"ekm_access_denied":       true,
	"channel_not_found":       true,
	"not_in_channel":          true,
	"is_archived":             true,
	"restricted_action":       true,
	"invalid_blocks":          true,
	"invalid_blocks_format":   true,
	"invalid_arguments":       true,
	"invalid_arg_name":        true,
	"msg_too_long":            true,
	"no_text":                 true,
	"too_many_attachments":    true,
	"invalid_form_data":       true,
	"deprecated_endpoint":     true,
	"method_deprecated":       true,
	"team_access_not_granted": true,
}

// classify marks err for the dispatcher:
//   - *slack.RateLimitedError (HTTP 429 with Retry-After) → RetryAfter;
//   - Slack error codes in permanentCodes → Permanent; other codes (internal_error,
//     fatal_error, service_unavailable, request_timeout, unknown ones) are retried,
//     since retrying what might have worked costs less than dropping an alert;
//   - HTTP status errors: 5xx and 429 retryable, other 4xx Permanent
//     (a webhook answers 403 invalid_token, 404 no_team, 410 channel_is_archived);
//   - transport errors are retried.
func classify(err error) error {
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return notifiers.RetryAfter(err, rl.RetryAfter)
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		if permanentCodes[se.Err] {
			return notifiers.Permanent(err)
		}
		return err
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		if sc.Code >= 500 || sc.Code == http.StatusTooManyRequests {
			return err
		}
		return notifiers.Permanent(err)
	}
	return err
}
