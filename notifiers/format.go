package notifiers

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trailguard/trailguard/alert"
)

// Helpers shared by the channels. Everything an alert carries from the event
// (principal, user agent, message …) is attacker-influenced: a caller chooses its
// own userAgent and, through resource names, much of the message.

var (
	// Region names as AWS spells them (us-east-1, eu-central-2, us-gov-west-1).
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	// CloudTrail event IDs are UUIDs; allow a little more, but nothing that could
	// leave the URL fragment.
	eventIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
)

// ConsoleURL links to the alert's event in the CloudTrail console, or returns
// false when region or event ID do not look like what AWS produces (so a forged
// value never becomes a link) or the partition has no public console.
func ConsoleURL(a *alert.Alert) (string, bool) {
	region, id := a.Region, a.EventID
	if !regionRE.MatchString(region) || !eventIDRE.MatchString(id) {
		return "", false
	}
	var host string
	switch {
	case strings.HasPrefix(region, "us-iso"):
		return "", false // air-gapped partitions: no console reachable from here
	case strings.HasPrefix(region, "us-gov-"):
		host = "console.amazonaws-us-gov.com"
	case strings.HasPrefix(region, "cn-"):
		host = "console.amazonaws.cn"
	default:
		host = region + ".console.aws.amazon.com"
	}
	u := url.URL{
		Scheme:   "https",
		Host:     host,
		Path:     "/cloudtrailv2/home",
		RawQuery: url.Values{"region": {region}}.Encode(),
		Fragment: "/events/" + id,
	}
	return u.String(), true
}

// HTTPURL returns s when it is an absolute http(s) URL with a host (runbooks and
// references come from rule metadata; anything else, such as javascript:, is not
// rendered as a link).
func HTTPURL(s string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", false
	}
	return u.String(), true
}

// SeverityLabel is the severity as shown to people: "HIGH".
func SeverityLabel(s alert.Severity) string { return strings.ToUpper(s.String()) }

// OneLine makes s safe to show on one line: control characters (CR and LF above
// all, which would forge header lines or message lines) and Unicode line and
// paragraph separators (and invalid UTF-8) become spaces, runs of spaces collapse, ends are trimmed.
func OneLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(r)
		space = false
	}
	return strings.TrimSpace(b.String())
}

// Truncate shortens s to at most max runes, marking the cut with "…".
func Truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	if max <= 0 {
		return ""
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
