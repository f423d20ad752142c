package engine

import (
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/trailguard/trailguard/alert"
)

// eventTextPaths are the record's strings an alert copies.
var eventTextPaths = [][]string{
	{"eventID"}, {"eventTime"}, {"eventSource"}, {"eventName"}, {"awsRegion"}, {"recipientAccountId"},
	{"sourceIPAddress"}, {"userAgent"}, {"errorCode"}, {"userIdentity", "type"}, {"userIdentity", "arn"},
	{"userIdentity", "accountId"},
}

// TestEventFieldsAgree: an alert's fields read from a lazily read record,
// parts of its text where they can be, are those of the decoded record, and
// later reads of the record agree, whatever was read before, however long
// the strings, escapes, bytes not UTF-8 and empty strings included.
func TestEventFieldsAgree(t *testing.T) {
	long := strings.Repeat("aws-sdk-go/1.0 (x86_64) ", 40) // past the gathering buffer's first 512 bytes
	docs := []string{
		`{"eventID":"e1","eventTime":"t1","eventSource":"s3.amazonaws.com","sourceIPAddress":"198.51.100.1","userAgent":"` + long + `","errorCode":"Denied","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/` + long + `"}}`,
		`{"eventID":"","eventTime":"t\u00e9\n","sourceIPAddress":"\u2028ip","userAgent":"","userIdentity":{"arn":"a\"b","type":""}}`,
		`{"eventID":"x","eventID":"y","userAgent":7,"errorCode":null,"userIdentity":{"arn":"first","arn":"second"}}`,
		`{"eventTime":"only","userIdentity":{"accountId":"9"}}`,
		`{"eventID":"m","errorMessage":"denied","userIdentity":{"type":"Root"}}`, `{"errorMessage":null,"eventID":"n"}`,
		"{\"userAgent\":\"not UTF-8: \xff\xfe\",\"eventID\":\"caf\xc3\xa9\",\"sourceIPAddress\":\"\xe2\x82\"}",
	}
	for _, doc := range docs {
		v, err := decodeJSON([]byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		var want alert.Alert
		fillEventFields(&want, v)
		// Read nothing first, each field first, and every other field first:
		// a field read before is copied as it was read.
		for pre := -1; pre <= len(eventTextPaths); pre++ {
			l := newLazyTerm([]byte(doc)).Value.(*lazyObject)
			for i, p := range eventTextPaths {
				if i == pre || pre == len(eventTextPaths) && i%2 == 0 {
					l.text(p...)
				}
			}
			var got alert.Alert
			plain, noError := fillLazyEventFields(&got, l)
			if !plain {
				t.Fatalf("%s: not read in one pass", doc)
			}
			if want := at(v, "errorCode") == nil && at(v, "errorMessage") == nil; noError != want {
				t.Errorf("%s: noError %v, want %v", doc, noError, want)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s (read first: %d):\n got %+v\nwant %+v", doc, pre, got, want)
			}
			for _, p := range eventTextPaths {
				if got, want := l.text(p...), str(v, p...); got != want {
					t.Errorf("%s (read first: %d): %v reads %q after the alert's fields, want %q", doc, pre, p, got, want)
				}
			}
		}
	}
}

// TestEventFieldsViewRecord: an alert's event fields not read before (id,
// time, address, user agent, ARN) are parts of the record's own bytes: they
// cost no allocation, and those read before are taken as read.
func TestEventFieldsViewRecord(t *testing.T) {
	raw := []byte(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROA:s",` +
		`"arn":"arn:aws:sts::111122223333:assumed-role/app/s","accountId":"111122223333"},` +
		`"eventTime":"2026-11-25T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances",` +
		`"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0 Python/3.11.6",` +
		`"eventID":"0f2f6a8e-6d0c-4c52-9b8e-3f4c5a6b7c8d","recipientAccountId":"111122223333"}`)
	const runs = 50
	objs := make([]*lazyObject, runs+1) // AllocsPerRun runs once more, to warm up
	for i := range objs {
		l := newLazyTerm(raw).Value.(*lazyObject)
		// What the rule read before its alert: the record's members, and
		// userIdentity's.
		typ := l.text("userIdentity", "type")
		objs[i] = l
		if i > 0 {
			continue
		}
		var a alert.Alert
		fillLazyEventFields(&a, l)
		if a.IdentityType != typ || unsafe.StringData(a.IdentityType) != unsafe.StringData(typ) {
			t.Errorf("identity type %q is not the string read before", a.IdentityType)
		}
		start := uintptr(unsafe.Pointer(unsafe.SliceData(raw)))
		for name, f := range map[string]string{"id": a.EventID, "time": a.EventTime, "address": a.SourceIP, "agent": a.UserAgent, "principal": a.Principal, "account": a.AccountID} {
			p := uintptr(unsafe.Pointer(unsafe.StringData(f)))
			if f == "" || p < start || p+uintptr(len(f)) > start+uintptr(len(raw)) {
				t.Errorf("%s %q is not a part of the record's bytes", name, f)
			}
		}
	}
	next := 0
	n := testing.AllocsPerRun(runs, func() {
		var a alert.Alert
		fillLazyEventFields(&a, objs[next])
		next++
	})
	if n != 0 {
		t.Errorf("%v allocations for an alert's event fields, want none", n)
	}
}

// BenchmarkEventFields: an alert's event fields, read from a record a rule
// read userIdentity.type of.
func BenchmarkEventFields(b *testing.B) {
	raw := []byte(`{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROA:s",` +
		`"arn":"arn:aws:sts::111122223333:assumed-role/app/s","accountId":"111122223333",` +
		`"sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app"}}},` +
		`"eventTime":"2026-11-25T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances",` +
		`"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userAgent":"aws-cli/2.15.0 Python/3.11.6",` +
		`"requestParameters":{"instancesSet":{},"filterSet":{}},"responseElements":null,` +
		`"requestID":"5c9d8a27-1c1e-4a4e-9b65-1a0c1c6b3c5d","eventID":"0f2f6a8e-6d0c-4c52-9b8e-3f4c5a6b7c8d",` +
		`"readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"}`)
	objs := make([]*lazyObject, 256)
	b.ReportAllocs()
	for i := range b.N {
		if i%len(objs) == 0 { // records read as far as the rule read them, made untimed
			b.StopTimer()
			for k := range objs {
				objs[k] = newLazyTerm(raw).Value.(*lazyObject)
				objs[k].text("userIdentity", "type")
			}
			b.StartTimer()
		}
		var a alert.Alert
		fillLazyEventFields(&a, objs[i%len(objs)])
	}
}
