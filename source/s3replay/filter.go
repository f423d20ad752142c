package s3replay

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DeliveryLag is how long after its events CloudTrail may deliver the file
// holding them: a file is named after its delivery time and holds events of
// up to about 15 minutes before it. A file delivered up to DeliveryLag after
// Filter.Until is therefore kept.
const DeliveryLag = 15 * time.Minute

// Filter selects the log files of a replay. The zero Filter selects all.
type Filter struct {
	// Since and Until bound the events' time, [Since, Until); zero is open.
	Since, Until time.Time
	// Accounts and Regions, when not empty, are the only ones read.
	Accounts, Regions []string
}

// Empty reports whether f selects everything.
func (f Filter) Empty() bool {
	return f.Since.IsZero() && f.Until.IsZero() && len(f.Accounts) == 0 && len(f.Regions) == 0
}

// Validate checks the accounts and regions are well formed, so that a typo
// fails loudly rather than selecting nothing.
func (f Filter) Validate() error {
	for _, a := range f.Accounts {
		if !accountRe.MatchString(a) {
			return fmt.Errorf("account %q is not a 12-digit AWS account id", a)
		}
	}
	for _, r := range f.Regions {
		if !regionRe.MatchString(r) {
			return fmt.Errorf("region %q is not an AWS region name like us-east-1", r)
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return fmt.Errorf("since (%s) is not before until (%s)", f.Since.Format(time.RFC3339), f.Until.Format(time.RFC3339))
	}
	return nil
}

// Keep reports whether a key or folder may hold selected events, judging by
// what its path tells; a folder whose account or day is not known yet is
// kept (its children will tell). Digests, Insights and other services' logs
// under AWSLogs/ACCOUNT/ are never kept.
func (f Filter) Keep(p Path) bool {
	if p.Service != "" && p.Service != CloudTrailService {
		return false
	}
	if p.Account != "" && len(f.Accounts) > 0 && !slices.Contains(f.Accounts, p.Account) {
		return false
	}
	if p.Region != "" && len(f.Regions) > 0 && !slices.Contains(f.Regions, p.Region) {
		return false
	}
	from, to := p.span()
	if from.IsZero() {
		return true
	}
	if !f.Since.IsZero() && !to.After(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !from.Before(f.Until.Add(DeliveryLag)) {
		return false
	}
	return true
}

// Unpruned names the filters that a kept object's key could not be judged
// by (it is outside the layout, or odd above the level that would tell), so
// that the caller can warn they were not applied to it.
func (f Filter) Unpruned(p Path) []string {
	var out []string
	if len(f.Accounts) > 0 && p.Account == "" {
		out = append(out, "accounts")
	}
	if len(f.Regions) > 0 && p.Region == "" {
		out = append(out, "regions")
	}
	if (!f.Since.IsZero() || !f.Until.IsZero()) && p.Level < Day {
		out = append(out, "time")
	}
	return out
}

var ageRe = regexp.MustCompile(`^([0-9]+)d(.*)$`)

// ParseTime reads a --since or --until value: an RFC 3339 time, a date
// (YYYY-MM-DD, UTC), or an age back from now such as 7d, 36h, 1d12h or 90m.
// A date given as an upper bound (end) means the end of that day, so that
// --since 2024-01-01 --until 2024-01-31 is all of January.
func ParseTime(s string, now time.Time, end bool) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, fmt.Errorf("empty time")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	var age time.Duration
	rest := s
	if m := ageRe.FindStringSubmatch(s); m != nil {
		days, err := strconv.Atoi(m[1])
		if err != nil || days > 100*366 {
			return time.Time{}, fmt.Errorf("%q: too many days", s)
		}
		age, rest = time.Duration(days)*24*time.Hour, m[2]
	}
	if rest != "" {
		d, err := time.ParseDuration(rest)
		if err != nil || d < 0 || strings.HasPrefix(rest, "-") {
			return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time, a date (2006-01-02) nor an age (7d, 36h, 1d12h)", s)
		}
		age += d
	}
	return now.Add(-age).UTC(), nil
}
