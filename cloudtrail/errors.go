package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/trailguard/trailguard/cloudtrail/jsonscan"
)

// ErrTooLarge is wrapped by errors about inputs or records past a Limit.
var ErrTooLarge = errors.New("over the size limit")

// ErrMalformedLog is wrapped by errors about a log whose structure is wrong
// as a whole (a "Records" that is not an array), as opposed to one bad record.
var ErrMalformedLog = errors.New("not a CloudTrail log")

// DecodeError says what was wrong with an input and where. When Fatal is false
// only one record was bad and the reader can go on to the next.
type DecodeError struct {
	Source string
	Offset int64 // byte offset of the problem in the decompressed input
	Line   int
	Col    int
	Index  int // record index, or -1 when the problem is not inside a record
	Fatal  bool
	Err    error
}

func (e *DecodeError) Error() string {
	what := ""
	if e.Index >= 0 {
		what = fmt.Sprintf("record %d: ", e.Index)
	}
	return fmt.Sprintf("%s:%d:%d: %s%v (byte %d)", e.Source, e.Line, e.Col, what, e.Err, e.Offset)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Check validates a record's JSON and, for an EventBridge event, replaces Raw
// with the CloudTrail record it carries. Next does this itself unless the
// reader is Unchecked. The error is a *DecodeError locating the problem in the
// input, as Next would have reported it.
func Check(rec *Record) error {
	if err := jsonscan.Valid(rec.Raw); err != nil {
		return RecordError(*rec, err)
	}
	Unwrap(rec)
	return nil
}

// RecordError is the error about a bad record as the reader reports it: err
// at the line, column and byte of the input where the problem is, which for a
// *jsonscan.SyntaxError (from whoever read rec.Raw with the shared scanner) is
// the byte it names, and otherwise the record's start. It is the one place
// those are worked out.
func RecordError(rec Record, err error) *DecodeError {
	var off int64
	if se, ok := errors.AsType[*jsonscan.SyntaxError](err); ok {
		off = se.At()
	}
	return recordErrIn(rec, rec.Raw, off, err)
}

// Unwrap replaces the Raw of an EventBridge event with the CloudTrail record it
// carries; other records are left as they are.
func Unwrap(rec *Record) {
	if detail, ok := eventBridgeDetail(rec.Raw); ok {
		rec.Raw = detail
	}
}

// recordErrIn locates byte off of the record rec, whose bytes are raw.
func recordErrIn(rec Record, raw []byte, off int64, err error) *DecodeError {
	line, col := rec.Line, rec.Col+int(off)
	if off > 0 && int(off) <= len(raw) {
		if n := bytes.Count(raw[:off], []byte{'\n'}); n > 0 {
			line += n
			col = int(off) - bytes.LastIndexByte(raw[:off], '\n')
		}
	}
	return &DecodeError{Source: rec.Source, Offset: rec.Offset + off, Line: line, Col: col, Index: rec.Index, Err: err}
}

// eventBridgeDetail returns the CloudTrail record inside an EventBridge event
// ("detail-type": "AWS API Call via CloudTrail" and its siblings).
func eventBridgeDetail(raw []byte) ([]byte, bool) {
	if !bytes.Contains(raw, []byte(`"detail-type"`)) {
		return nil, false
	}
	var ev struct {
		DetailType string          `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	if json.Unmarshal(raw, &ev) != nil || !isCloudTrailDetailType(ev.DetailType) {
		return nil, false
	}
	d := bytes.TrimSpace(ev.Detail)
	if len(d) == 0 || d[0] != '{' {
		return nil, false
	}
	return d, true
}

func isCloudTrailDetailType(t string) bool {
	const suffix = " via CloudTrail"
	return len(t) > len(suffix) && t[len(t)-len(suffix):] == suffix
}

// jsonKind names the kind of JSON value that starts with c.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '"':
		return "a string"
	case 'n':
		return "null"
	case 't', 'f':
		return "a boolean"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return fmt.Sprintf("%q", c)
}
