package faults

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const account = "123456789012"

// Rules of the aws pack that the scenarios' events raise, one alert each.
const (
	ruleRoot    = "aws.root_usage"
	ruleDenied  = "aws.unauthorized_api_call"
	ruleConsole = "aws.console_login_failure"
)

// rec is one CloudTrail record.
type rec map[string]any

func (r rec) id() string { return r["eventID"].(string) }

// runID makes event IDs unique across runs too: a real redis-server keeps
// the delivery records of earlier runs for 24 hours, and an event ID seen
// before would be taken for an alert already delivered.
var runID = func() uint32 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return binary.BigEndian.Uint32(b[:])
}()

var eventSeq atomic.Int64

// newEventID is a unique, UUID-shaped CloudTrail eventID.
func newEventID() string {
	return fmt.Sprintf("%08x-7e4a-4a6e-9c1d-%012x", runID, eventSeq.Add(1))
}

// event is a management event with the fields CloudTrail always writes.
func event(source, name string, identity map[string]any, ip, agent string) rec {
	return rec{
		"eventVersion":       "1.09",
		"userIdentity":       identity,
		"eventTime":          time.Now().UTC().Add(-3 * time.Minute).Format(time.RFC3339),
		"eventSource":        source,
		"eventName":          name,
		"awsRegion":          "us-east-1",
		"sourceIPAddress":    ip,
		"userAgent":          agent,
		"requestParameters":  nil,
		"responseElements":   nil,
		"requestID":          fmt.Sprintf("%08X-REQ", eventSeq.Load()),
		"eventID":            newEventID(),
		"readOnly":           true,
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": account,
		"eventCategory":      "Management",
	}
}

func iamUser(name string) map[string]any {
	return map[string]any{
		"type": "IAMUser", "principalId": "AIDA" + strings.ToUpper(name) + "EXAMPLE",
		"arn": "arn:aws:iam::" + account + ":user/" + name, "accountId": account,
		"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "userName": name,
	}
}

// rootCall is the root user listing buckets: aws.root_usage (critical).
func rootCall() rec {
	r := event("s3.amazonaws.com", "ListBuckets", map[string]any{
		"type": "Root", "principalId": account, "arn": "arn:aws:iam::" + account + ":root", "accountId": account,
		"accessKeyId": "ASIAEXAMPLEROOT",
		"sessionContext": map[string]any{"attributes": map[string]any{
			"creationDate": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "mfaAuthenticated": "true"}},
	}, "198.51.100.23", "console.amazonaws.com")
	r["requestParameters"] = map[string]any{"Host": "s3.amazonaws.com"}
	return r
}

// deniedCall is a call refused by IAM: aws.unauthorized_api_call (low).
func deniedCall(user string) rec {
	r := event("iam.amazonaws.com", "ListUsers", iamUser(user), "192.0.2.44", "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64")
	r["errorCode"] = "AccessDenied"
	r["errorMessage"] = "User: arn:aws:iam::" + account + ":user/" + user + " is not authorized to perform: iam:ListUsers"
	return r
}

// benign is a read-only call no shipped rule alerts on.
func benign(i int) rec {
	users := []string{"deploy", "grafana", "ci-runner", "backup"}
	return event("ec2.amazonaws.com", "DescribeInstances", iamUser(users[i%len(users)]),
		fmt.Sprintf("10.%d.%d.%d", i%7, i%251, 1+i%250), "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64")
}

// ctLog is a CloudTrail log file.
func ctLog(recs ...rec) []byte {
	if recs == nil {
		recs = []rec{}
	}
	return []byte(mustJSON(map[string]any{"Records": recs}))
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzSplit is a gzipped log file of head followed by rest, and the offset
// in the compressed bytes up to which exactly head's records can be
// decompressed (a sync flush follows them): cutting the file there, or
// stalling its transfer there, leaves a reader with head and nothing of
// rest.
func gzSplit(t *testing.T, head, rest []rec) (file []byte, cut int) {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	write := func(s string) {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"Records":[`)
	for _, r := range head {
		write(mustJSON(r) + ",")
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	cut = buf.Len()
	for i, r := range rest {
		if i > 0 {
			write(",")
		}
		write(mustJSON(r))
	}
	write("]}")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), cut
}

var keySeq atomic.Int64

// logKey is a key where CloudTrail delivers logs; suffix makes it readable.
func logKey(suffix string) string {
	now := time.Now().UTC()
	return fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%s_%s%d.json.gz",
		account, now.Format("2006/01/02"), account, now.Format("20060102T1504Z"), suffix, keySeq.Add(1))
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// ctNotification is CloudTrail's own SNS message, {"s3Bucket","s3ObjectKey"}.
func ctNotification(keys ...string) string {
	return mustJSON(map[string]any{"s3Bucket": bucket, "s3ObjectKey": keys})
}

// snsWrapped is an SNS notification envelope around message.
func snsWrapped(message string) string {
	return mustJSON(map[string]any{
		"Type":             "Notification",
		"MessageId":        "8c9b3d7e-2f1a-5b6c-9d8e-7f6a5b4c3d2e",
		"TopicArn":         "arn:aws:sns:us-east-1:" + account + ":cloudtrail-logs",
		"Message":          message,
		"Timestamp":        time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"SignatureVersion": "1",
		"Signature":        "EXAMPLE",
		"SigningCertURL":   "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
		"UnsubscribeURL":   "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
	})
}

// s3Event is an S3 event notification (ObjectCreated:Put) for key, which it
// form-URL-encodes as S3 does.
func s3Event(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.QueryEscape(s)
	}
	return mustJSON(map[string]any{"Records": []any{map[string]any{
		"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
		"eventTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "eventName": "ObjectCreated:Put",
		"s3": map[string]any{
			"s3SchemaVersion": "1.0", "configurationId": "trailguard",
			"bucket": map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket},
			"object": map[string]any{"key": strings.Join(segs, "/"), "size": 1024},
		},
	}}})
}

// ebCloudTrail is an EventBridge event carrying one CloudTrail record.
func ebCloudTrail(r rec) string {
	return mustJSON(map[string]any{
		"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "AWS API Call via CloudTrail",
		"source": "aws." + strings.TrimSuffix(r["eventSource"].(string), ".amazonaws.com"), "account": account,
		"time": r["eventTime"], "region": "us-east-1", "resources": []any{}, "detail": r,
	})
}
