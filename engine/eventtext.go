package engine

import (
	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
)

// The event fields of an alert, read from a lazily read record. A noisy rule
// makes an alert for every other record, and each alert copies a dozen of
// its record's strings: made one by one, they were most of what an alert
// allocates. Those the rules read already are taken as they were read; the
// others are copied into one string, of which each field is a part (rather
// than looked up in the interned values, intern.go: a copy costs less).

// eventField is one of the alert's event fields: where it goes, and the
// record's member it is read from (-1: none).
type eventField struct {
	dst *string
	at  int
	// batched says that the value is at off:end of the shared string.
	batched  bool
	off, end int
}

// fillLazyEventFields is fillEventFields in one pass over the record's
// members and one over userIdentity's, rather than a search for each field;
// plain is false when a key has escapes (then the search is what decides, as
// for a decoded record, which keeps the last of equal keys). noError says
// that the record has neither errorCode nor errorMessage, which the pass
// sees on the way: the message's outcome is then known to be empty.
func fillLazyEventFields(a *alert.Alert, o *lazyObject) (plain, noError bool) {
	var arn, accountID string
	noError = true
	top := [...]eventField{
		{dst: &a.EventID, at: -1},
		{dst: &a.EventTime, at: -1},
		{dst: &a.EventSource, at: -1},
		{dst: &a.EventName, at: -1},
		{dst: &a.Region, at: -1},
		{dst: &a.AccountID, at: -1},
		{dst: &a.SourceIP, at: -1},
		{dst: &a.UserAgent, at: -1},
		{dst: &a.ErrorCode, at: -1},
	}
	ident := [...]eventField{
		{dst: &a.IdentityType, at: -1},
		{dst: &arn, at: -1},
		{dst: &accountID, at: -1},
	}
	idAt := -1
	plain = o.each(func(i int, key []byte) {
		f := -1
		switch string(key) {
		case "eventID":
			f = 0
		case "eventTime":
			f = 1
		case "eventSource":
			f = 2
		case "eventName":
			f = 3
		case "awsRegion":
			f = 4
		case "recipientAccountId":
			f = 5
		case "sourceIPAddress":
			f = 6
		case "userAgent":
			f = 7
		case "errorCode":
			f = 8
			noError = false
		case "errorMessage":
			noError = false
		case "userIdentity":
			idAt = i
		}
		if f >= 0 {
			top[f].at = i // the last one counts
		}
	})
	var identity *lazyObject
	if idAt >= 0 {
		if t := o.member("userIdentity"); t != nil {
			identity, _ = t.Value.(*lazyObject)
		}
	}
	if identity != nil {
		plain = identity.each(func(i int, key []byte) {
			switch string(key) {
			case "type":
				ident[0].at = i
			case "arn":
				ident[1].at = i
			case "accountId":
				ident[2].at = i
			}
		}) && plain
	}
	if !plain {
		return false, false // cannot be from CloudTrail; the slow way sets every field
	}
	var stack [512]byte // most records' fresh strings fit
	buf := gatherTexts(o, top[:], stack[:0])
	if identity != nil {
		buf = gatherTexts(identity, ident[:], buf)
	}
	s := string(buf)
	spreadText(top[:], s)
	if identity != nil {
		spreadText(ident[:], s)
	}
	a.Principal = arn
	if a.Principal == "" {
		a.Principal = a.IdentityType
	}
	if a.AccountID == "" {
		a.AccountID = accountID
	}
	return true, noError
}

// gatherTexts reads the fields of o: the bytes of the strings not read yet
// are appended to buf, for spreadText; the others are taken as read.
func gatherTexts(o *lazyObject, fields []eventField, buf []byte) []byte {
	for i := range fields {
		f := &fields[i]
		if f.at < 0 {
			continue
		}
		m := &o.members[f.at]
		if o.raw[m.v0] != '"' {
			continue // not a string: ""
		}
		if r := o.readAt(f.at); r.text != "" || r.val != nil {
			*f.dst, _ = o.textAt(f.at)
			continue
		}
		// The record was checked whole: the value is a string, and when
		// its text has no escape and is UTF-8, the text is the string.
		text := o.raw[m.v0:m.v1]
		if len(text) < 2 || text[len(text)-1] != '"' || !jsonscan.Verbatim(text[1:len(text)-1]) {
			*f.dst, _ = o.textAt(f.at) // escapes, or bytes not UTF-8: rare enough to be copied alone
			continue
		}
		f.batched, f.off = true, len(buf)
		buf = append(buf, text[1:len(text)-1]...)
		f.end = len(buf)
	}
	return buf
}

// spreadText sets each batched field to its part of s, the gathered text.
// The member's text is not noted in o for later reads: the message reads
// the alert's fields, and noting it cost more (a write barrier while the
// collector marks, and a slot for Release to clear) than the rare rule
// evaluated after an alert on the same record saves.
func spreadText(fields []eventField, s string) {
	for _, f := range fields {
		if f.batched {
			*f.dst = s[f.off:f.end]
		}
	}
}
