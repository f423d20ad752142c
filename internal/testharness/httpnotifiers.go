package testharness

import "fmt"

// Blocks of the HTTP notifiers, one entry of the notifiers list each.

// WebhookNotifier POSTs alerts as JSON to url, signed with hmacSecret when it
// is not "".
func WebhookNotifier(name, url, hmacSecret string) string {
	s := fmt.Sprintf("  - name: %s\n    type: webhook\n    webhook:\n      url: %q\n      headers: {X-Team: sec}\n", name, url)
	if hmacSecret != "" {
		s += fmt.Sprintf("      hmac_secret: %q\n", hmacSecret)
	}
	return s
}

// PagerDutyNotifier sends Events API v2 events to apiURL with routingKey.
func PagerDutyNotifier(name, apiURL, routingKey string) string {
	return fmt.Sprintf("  - name: %s\n    type: pagerduty\n    pagerduty:\n      routing_key: %q\n      api_url: %q\n", name, routingKey, apiURL)
}

// TeamsNotifier posts Adaptive Cards to a Workflows webhook at url.
func TeamsNotifier(name, url string) string {
	return fmt.Sprintf("  - name: %s\n    type: teams\n    teams:\n      webhook_url: %q\n", name, url)
}
