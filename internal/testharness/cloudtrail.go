package testharness

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Account is the AWS account of every record, log key and notification.
const Account = "123456789012"

// Rules of the aws pack that the records below raise, one alert each.
const (
	RuleConsole = "aws.console_login_failure"
	RuleRoot    = "aws.root_usage"
	RuleDenied  = "aws.unauthorized_api_call"
)

// Record is one CloudTrail record.
type Record map[string]any

// ID is the record's eventID.
func (r Record) ID() string { return r["eventID"].(string) }

// Key is how tests name an alert: "rule eventID".
func Key(rule string, r Record) string { return rule + " " + r.ID() }

// RunID makes event IDs unique across runs too: a real redis-server keeps
// the delivery records of earlier runs for 24 hours, and an event ID seen
// before would be taken for an alert already delivered.
var RunID = func() uint32 {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return binary.BigEndian.Uint32(b[:])
}()

var eventSeq atomic.Int64

// NewEventID is a unique, UUID-shaped CloudTrail eventID:
// RUNID-7e4a-4a6e-9c1d-SEQUENCE.
func NewEventID() string {
	return fmt.Sprintf("%08x-7e4a-4a6e-9c1d-%012x", RunID, eventSeq.Add(1))
}

// Event is a management event with the fields CloudTrail always writes.
func Event(source, name string, identity map[string]any, ip, agent string) Record {
	acct, _ := identity["accountId"].(string)
	if acct == "" {
		acct = Account
	}
	return Record{
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
		"eventID":            NewEventID(),
		"readOnly":           true,
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": acct,
		"eventCategory":      "Management",
		"tlsDetails": map[string]any{
			"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
			"clientProvidedHostHeader": strings.TrimSuffix(source, ".amazonaws.com") + ".us-east-1.amazonaws.com",
		},
	}
}

// IAMUser is the userIdentity of an IAM user of Account.
func IAMUser(name string) map[string]any {
	return map[string]any{
		"type": "IAMUser", "principalId": "AIDA" + strings.ToUpper(name) + "EXAMPLE",
		"arn": "arn:aws:iam::" + Account + ":user/" + name, "accountId": Account,
		"accessKeyId": "AKIAIOSFODNN7EXAMPLE", "userName": name,
	}
}

// ConsoleFailure is a failed console sign-in: RuleConsole (medium). Its
// principal is "IAMUser" (no ARN for a failed sign-in).
func ConsoleFailure(user string) Record {
	r := Event("signin.amazonaws.com", "ConsoleLogin", map[string]any{
		"type": "IAMUser", "principalId": "AIDA" + strings.ToUpper(user) + "EXAMPLE",
		"accountId": Account, "accessKeyId": "", "userName": user,
	}, "203.0.113.7", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	r["eventType"] = "AwsConsoleSignIn"
	r["readOnly"] = false
	r["errorMessage"] = "Failed authentication"
	r["responseElements"] = map[string]any{"ConsoleLogin": "Failure"}
	r["additionalEventData"] = map[string]any{
		"LoginTo":       "https://console.aws.amazon.com/console/home",
		"MobileVersion": "No", "MFAUsed": "No",
	}
	delete(r, "tlsDetails")
	return r
}

// RootCall is the root user of acct listing buckets: RuleRoot (critical),
// principal arn:aws:iam::ACCT:root.
func RootCall(acct string) Record {
	r := Event("s3.amazonaws.com", "ListBuckets", map[string]any{
		"type": "Root", "principalId": acct, "arn": "arn:aws:iam::" + acct + ":root", "accountId": acct,
		"accessKeyId": "ASIAEXAMPLEROOT",
		"sessionContext": map[string]any{"attributes": map[string]any{
			"creationDate": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "mfaAuthenticated": "true"}},
	}, "198.51.100.23", "console.amazonaws.com")
	r["requestParameters"] = map[string]any{"Host": "s3.amazonaws.com"}
	return r
}

// DeniedCall is a call refused by IAM: RuleDenied (low).
func DeniedCall(user string) Record {
	r := Event("iam.amazonaws.com", "ListUsers", IAMUser(user), "192.0.2.44", "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64")
	r["errorCode"] = "AccessDenied"
	r["errorMessage"] = "User: arn:aws:iam::" + Account + ":user/" + user + " is not authorized to perform: iam:ListUsers"
	return r
}

// benignCalls are read-only calls by ordinary users that no shipped rule
// alerts on.
var benignCalls = []struct{ source, name, agent string }{
	{"ec2.amazonaws.com", "DescribeInstances", "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64"},
	{"sts.amazonaws.com", "GetCallerIdentity", "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5"},
	{"iam.amazonaws.com", "GetUser", "Boto3/1.34.100 md/Botocore#1.34.100 Python/3.12.3"},
	{"monitoring.amazonaws.com", "DescribeAlarms", "aws-sdk-java/2.25.40 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.11"},
	{"lambda.amazonaws.com", "ListFunctions20150331", "terraform-provider-aws/5.50.0 (+https://registry.terraform.io)"},
	{"s3.amazonaws.com", "GetBucketLocation", "[aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5]"},
}

// Benign is the i-th of a few read-only calls no shipped rule alerts on.
func Benign(i int) Record {
	c := benignCalls[i%len(benignCalls)]
	users := []string{"deploy", "grafana", "ci-runner", "backup"}
	return Event(c.source, c.name, IAMUser(users[i%len(users)]), fmt.Sprintf("10.%d.%d.%d", i%7, i%251, 1+i%250), c.agent)
}

// Log is a CloudTrail log file: {"Records":[…]}.
func Log(recs ...Record) []byte {
	if recs == nil {
		recs = []Record{}
	}
	return []byte(MustJSON(map[string]any{"Records": recs}))
}

// Gzip compresses b, as CloudTrail writes its log files.
func Gzip(t testing.TB, b []byte) []byte {
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

var keySeq atomic.Int64

// LogKey is a key where CloudTrail delivers logs; suffix makes it readable,
// a sequence number unique.
func LogKey(suffix string) string {
	now := time.Now().UTC()
	return fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%s_%s%d.json.gz",
		Account, now.Format("2006/01/02"), Account, now.Format("20060102T1504Z"), suffix, keySeq.Add(1))
}

// MustJSON marshals v, which cannot fail for the maps and slices above.
func MustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
