// Package s3replay finds the CloudTrail log objects under an S3 prefix that a
// replay needs, and opens them as streams.
//
// CloudTrail delivers to
//
//	[prefix/]AWSLogs/[o-ORGID/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_xxxx.json.gz
//
// and a month of an organisation's logs is hundreds of thousands of objects.
// A [Lister] walks that tree one folder level at a time with the "/"
// delimiter, so the accounts, regions and days a [Filter] excludes are never
// listed, let alone fetched.
package s3replay

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Level is how deep in CloudTrail's key layout a key or folder is.
type Level int

// The levels of the layout, from the AWSLogs folder down to a log file.
const (
	Outside Level = iota // no AWSLogs folder: not in the layout
	Root                 // .../AWSLogs
	Org                  // .../AWSLogs/o-ORGID
	Account              // .../AWSLogs/[o-ORGID/]ACCOUNT
	Service              // .../ACCOUNT/CloudTrail (or CloudTrail-Digest, CloudTrail-Insight, ...)
	Region               // .../CloudTrail/REGION
	Year                 // .../REGION/YYYY
	Month                // .../YYYY/MM
	Day                  // .../MM/DD
	File                 // .../DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_xxxx.json.gz
)

// CloudTrailService is the service folder of CloudTrail's event logs; its
// siblings hold digests (CloudTrail-Digest), Insights events
// (CloudTrail-Insight) or other services' logs sharing the bucket.
const CloudTrailService = "CloudTrail"

// Path is what a key or folder says about itself in CloudTrail's layout.
// Fields below Level are empty.
type Path struct {
	Level   Level
	Org     string // o-ORGID, for an organisation trail
	Account string
	Service string
	Region  string
	// Day is midnight UTC of the day folder, or of the first day of the year
	// or month folder (Level says which).
	Day time.Time
	// Time is the delivery time in a log file's name (Level File).
	Time time.Time
	// Odd is set when segments follow the last one that fitted the layout
	// (a stray folder or a file whose name is not a CloudTrail log's): only
	// the fields up to Level describe it.
	Odd bool
}

var (
	orgRe     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	// Partition prefixes are two to four letters (us, cn, us-gov, eusc-de).
	regionRe = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]+$`)
	// ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHMMZ_UNIQUE.json[.gz]
	fileRe = regexp.MustCompile(`^([0-9]{12})_CloudTrail_([a-z0-9-]+)_([0-9]{8}T[0-9]{4}Z)_[A-Za-z0-9]+\.json(\.gz)?$`)
)

// Parse reads a key, or a folder (ending in "/"), against CloudTrail's
// layout. The AWSLogs folder may be at any depth: what comes before it is
// the trail's own prefix.
func Parse(key string) Path {
	segs := strings.Split(key, "/")
	isDir := strings.HasSuffix(key, "/")
	if isDir {
		segs = segs[:len(segs)-1]
	}
	root := -1
	for i, s := range segs {
		if s == "AWSLogs" && (isDir || i < len(segs)-1) {
			root = i
		}
	}
	if root < 0 {
		return Path{Level: Outside}
	}
	p := Path{Level: Root}
	rest := segs[root+1:]
	var name string // a file's name, parsed once its folder is a day
	if !isDir && len(rest) > 0 {
		name, rest = rest[len(rest)-1], rest[:len(rest)-1]
	}
	if len(rest) > 0 && orgRe.MatchString(rest[0]) {
		p.Level, p.Org, rest = Org, rest[0], rest[1:]
	}
	atDay := p.descend(&rest)
	switch {
	case p.Service != "" && p.Service != CloudTrailService:
		// Not read at all: what is below does not matter.
	case atDay && name != "":
		p.parseFile(name)
	case len(rest) > 0 || name != "":
		// A stray folder, or a file above the day folders.
		p.Odd = true
	}
	return p
}

// descend consumes the folders below AWSLogs[/o-ORGID] that fit the layout;
// it reports whether it reached a CloudTrail day folder.
func (p *Path) descend(rest *[]string) bool {
	next := func() (string, bool) {
		if len(*rest) == 0 {
			return "", false
		}
		s := (*rest)[0]
		return s, true
	}
	take := func(l Level) { p.Level = l; *rest = (*rest)[1:] }

	s, ok := next()
	if !ok || !accountRe.MatchString(s) {
		return false
	}
	p.Account = s
	take(Account)
	if s, ok = next(); !ok || s == "" {
		return false
	}
	p.Service = s
	take(Service)
	if s != CloudTrailService {
		// Digests and Insights have their own layout below; other services
		// theirs. Nothing below is read, so nothing below matters.
		*rest = nil
		return false
	}
	if s, ok = next(); !ok || !regionRe.MatchString(s) {
		return false
	}
	p.Region = s
	take(Region)
	if s, ok = next(); !ok || len(s) != 4 {
		return false
	}
	y, err := strconv.Atoi(s)
	if err != nil || y < 2000 {
		return false
	}
	p.Day = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	take(Year)
	if s, ok = next(); !ok || len(s) != 2 {
		return false
	}
	m, err := strconv.Atoi(s)
	if err != nil || m < 1 || m > 12 {
		return false
	}
	p.Day = time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC)
	take(Month)
	if s, ok = next(); !ok || len(s) != 2 {
		return false
	}
	d, err := strconv.Atoi(s)
	// time.Date would roll 31 April over into May: such a folder is odd.
	if err != nil || d < 1 || d > p.Day.AddDate(0, 1, -1).Day() {
		return false
	}
	p.Day = time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	take(Day)
	return len(*rest) == 0
}

// parseFile reads a log file's name in a day folder; a name that is not a
// CloudTrail log's (or names another account, region or day) leaves the key
// at its day and marks it odd.
func (p *Path) parseFile(name string) {
	if name == "" {
		return
	}
	m := fileRe.FindStringSubmatch(name)
	if m == nil || m[1] != p.Account || m[2] != p.Region {
		p.Odd = true
		return
	}
	t, err := time.Parse("20060102T1504Z", m[3])
	if err != nil || !t.Truncate(24*time.Hour).Equal(p.Day) {
		p.Odd = true
		return
	}
	p.Level, p.Time = File, t
}

// span is the time range [from, to) the path's date fields cover; zero
// times when it has none.
func (p Path) span() (from, to time.Time) {
	switch {
	case p.Level == File:
		return p.Time, p.Time.Add(time.Minute)
	case p.Level >= Day:
		return p.Day, p.Day.AddDate(0, 0, 1)
	case p.Level == Month:
		return p.Day, p.Day.AddDate(0, 1, 0)
	case p.Level == Year:
		return p.Day, p.Day.AddDate(1, 0, 0)
	}
	return time.Time{}, time.Time{}
}
