package engine

import (
	"unsafe"

	"github.com/trailguard/trailguard/alert"
	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
)

// The event fields of an alert, read from a lazily read record. A noisy rule
// makes an alert for every other record (SigmaHQ's AssumeRole rule: one
// for every call made with a role), and each alert holds a dozen of its
// record's strings. Those the rules read already are taken as they were
// read. The others, when their text is the string (no escape, UTF-8), are
// the record's own bytes, not a copy: the alert keeps the whole record
// anyway (alert.Alert.Raw is the record's slice, the engine's callers do not
// write to a record they handed it, see DecodeRecord), so a view of it
// keeps nothing alive that was not, and copying them was much of what an
// alert cost in time and allocation.

// eventField is one of the alert's event fields: where it goes, and the
// record's member it is read from (-1: none).
type eventField struct {
	dst *string
	at  int
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
	viewTexts(o, top[:])
	if identity != nil {
		viewTexts(identity, ident[:])
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

// viewTexts sets the fields of o: a string read already as it was read, one
// whose text is the string as a part of recordText(o), any other decoded.
func viewTexts(o *lazyObject, fields []eventField) {
	text := recordText(o)
	for _, f := range fields {
		if f.at < 0 {
			continue
		}
		m := &o.members[f.at]
		if o.raw[m.v0] != '"' {
			continue // not a string: ""
		}
		// The record was checked whole: the value is a string, and when
		// its text has no escape and is UTF-8, the text is the string.
		if r := o.readAt(f.at); r.text == "" && r.val == nil && m.v1-m.v0 >= 2 && o.raw[m.v1-1] == '"' && jsonscan.Verbatim(o.raw[m.v0+1:m.v1-1]) {
			*f.dst = text[m.v0+1 : m.v1-1]
			continue
		}
		*f.dst, _ = o.textAt(f.at) // read already, or escapes, or bytes not UTF-8
	}
}

// recordText is o's text as a string, without a copy. Sound because nothing
// writes to a record's bytes once the engine has them: the reader makes
// them for the record alone (cloudtrail.Record.Raw), the engine only reads
// them, and DecodeRecord's caller may not change them (the alerts hold
// them as Alert.Raw too).
func recordText(o *lazyObject) string {
	return unsafe.String(unsafe.SliceData(o.raw), len(o.raw))
}
