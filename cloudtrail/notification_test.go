package cloudtrail_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/trailguard/trailguard/cloudtrail"
)

func sns(inner string) string {
	b, _ := json.Marshal(map[string]string{
		"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:trail",
		"Message": inner, "Timestamp": "2026-11-25T10:00:00.000Z",
	})
	return string(b)
}

func s3Event(bucket, key, event string) string {
	return fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":%q,`+
		`"s3":{"s3SchemaVersion":"1.0","bucket":{"name":%q,"arn":"arn:aws:s3:::%s"},"object":{"key":%q,"size":1234}}}]}`,
		event, bucket, bucket, key)
}

func TestParseNotification(t *testing.T) {
	const ctKeys = `{"s3Bucket":"trail-bucket","s3ObjectKey":["AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/a.json.gz","AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/b.json.gz"]}`
	tests := []struct {
		name    string
		body    string
		kind    string
		objects string // "bucket/key,…"
		skipped int
		records int
		ignored bool
		sns     bool
	}{
		{"SNS-wrapped CloudTrail, two keys", sns(ctKeys), "cloudtrail",
			"trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/a.json.gz,trail-bucket/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/25/b.json.gz", 0, 0, false, true},
		{"raw delivery CloudTrail", `{"s3Bucket":"trail-bucket","s3ObjectKey":["k/one.json.gz"]}`, "cloudtrail", "trail-bucket/k/one.json.gz", 0, 0, false, false},
		{"S3 event, key form-encoded", s3Event("trail-bucket", "AWSLogs/x/my+file%3D1.json.gz", "ObjectCreated:Put"), "s3-event", "trail-bucket/AWSLogs/x/my file=1.json.gz", 0, 0, false, false},
		{"S3 event in SNS", sns(s3Event("trail-bucket", "a/b.json.gz", "ObjectCreated:CompleteMultipartUpload")), "s3-event", "trail-bucket/a/b.json.gz", 0, 0, false, true},
		{"S3 event for a deletion", s3Event("trail-bucket", "a/b.json.gz", "ObjectRemoved:Delete"), "s3-event", "", 0, 0, false, false},
		{"digest file skipped", `{"s3Bucket":"trail-bucket","s3ObjectKey":["AWSLogs/1/CloudTrail-Digest/us-east-1/d.json.gz","AWSLogs/1/CloudTrail/us-east-1/l.json.gz"]}`, "cloudtrail", "trail-bucket/AWSLogs/1/CloudTrail/us-east-1/l.json.gz", 1, 0, false, false},
		{"insight file skipped", s3Event("trail-bucket", "AWSLogs/1/CloudTrail-Insight/us-east-1/i.json.gz", "ObjectCreated:Put"), "s3-event", "", 1, 0, false, false},
		{"S3 test event", `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T10:00:00.000Z","Bucket":"trail-bucket"}`, "ignored", "", 0, 0, true, false},
		{"S3 test event in SNS", sns(`{"Service":"Amazon S3","Event":"s3:TestEvent"}`), "ignored", "", 0, 0, true, true},
		{"SNS subscription confirmation", `{"Type":"SubscriptionConfirmation","Message":"You have chosen to subscribe","SubscribeURL":"https://sns.example/"}`, "ignored", "", 0, 0, true, false},
		{"EventBridge CloudTrail event", `{"version":"0","detail-type":"AWS API Call via CloudTrail","source":"aws.opsworks-cm","detail":{"eventID":"e1","eventName":"CreateServer"}}`, "eventbridge-cloudtrail", "", 0, 1, false, false},
		{"EventBridge S3 Object Created", `{"version":"0","detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"trail-bucket"},"object":{"key":"a/b c.json.gz"}}}`, "eventbridge-s3", "trail-bucket/a/b c.json.gz", 0, 0, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := cloudtrail.ParseNotification([]byte(tc.body), cloudtrail.NotificationLimits{})
			if err != nil {
				t.Fatal(err)
			}
			var objs []string
			for _, o := range n.Objects {
				objs = append(objs, o.Bucket+"/"+o.Key)
			}
			if n.Kind != tc.kind || strings.Join(objs, ",") != tc.objects || len(n.Skipped) != tc.skipped ||
				len(n.Records) != tc.records || (n.Ignored != "") != tc.ignored || n.SNS != tc.sns {
				t.Fatalf("got %+v (objects %v)", n, objs)
			}
		})
	}
}

func TestParseNotificationRefuses(t *testing.T) {
	many := make([]string, 1001)
	for i := range many {
		many[i] = fmt.Sprintf("k/%d.json.gz", i)
	}
	manyKeys, _ := json.Marshal(map[string]any{"s3Bucket": "trail-bucket", "s3ObjectKey": many})
	tests := []struct {
		name   string
		body   string
		forged bool
		match  string
	}{
		{"not JSON", `hello`, false, "not a JSON object"},
		{"unknown shape", `{"foo":"bar"}`, false, "not a CloudTrail, S3, SNS or EventBridge notification"},
		{"SNS with bad inner message", sns(`{"s3Bucket":`), false, "SNS Message"},
		{"dot-dot key", `{"s3Bucket":"trail-bucket","s3ObjectKey":["AWSLogs/../../etc/passwd"]}`, true, `".." segment`},
		{"absolute key", `{"s3Bucket":"trail-bucket","s3ObjectKey":["/etc/passwd"]}`, true, "absolute"},
		{"URL key", `{"s3Bucket":"trail-bucket","s3ObjectKey":["https://evil.example/x"]}`, true, "is a URL"},
		{"bad bucket name", `{"s3Bucket":"Evil_Bucket/../x","s3ObjectKey":["k"]}`, true, "not a valid S3 bucket name"},
		{"encoded dot-dot in S3 event", s3Event("trail-bucket", "a/%2E%2E/b", "ObjectCreated:Put"), true, `".." segment`},
		{"non-s3 event source", strings.Replace(s3Event("trail-bucket", "a", "ObjectCreated:Put"), "aws:s3", "aws:sqs", 1), false, "not aws:s3"},
		{"too many keys", string(manyKeys), false, "more than the limit of 1000"},
		{"EventBridge without detail", `{"detail-type":"AWS API Call via CloudTrail","detail":null}`, false, "without a detail object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := cloudtrail.ParseNotification([]byte(tc.body), cloudtrail.NotificationLimits{})
			var ne *cloudtrail.NotificationError
			if !errors.As(err, &ne) {
				t.Fatalf("want a NotificationError, got %v", err)
			}
			if errors.Is(err, cloudtrail.ErrForged) != tc.forged || !strings.Contains(err.Error(), tc.match) {
				t.Fatalf("error %q: forged=%v want %v, want it to contain %q", err, errors.Is(err, cloudtrail.ErrForged), tc.forged, tc.match)
			}
		})
	}
}

// A notification naming the same keys many times asks for each object once,
// in the order of first mention: the daemon makes one GET per object.
func TestParseNotificationDeduplicatesKeys(t *testing.T) {
	keys := make([]string, 0, 1000)
	for i := range 1000 {
		keys = append(keys, fmt.Sprintf("%q", []string{"k/c.json.gz", "k/a.json.gz", "k/c.json.gz", "k/b.json.gz"}[i%4]))
	}
	ct := `{"s3Bucket":"trail-bucket","s3ObjectKey":[` + strings.Join(keys, ",") + `]}`
	var recs []string
	for _, b := range []string{"trail-bucket", "other-bucket", "trail-bucket"} {
		e := s3Event(b, "k/x.json.gz", "ObjectCreated:Put")
		recs = append(recs, e[len(`{"Records":[`):len(e)-len(`]}`)])
	}
	ev := `{"Records":[` + strings.Join(recs, ",") + `]}`
	for _, c := range []struct{ body, want string }{
		{sns(ct), "trail-bucket/k/c.json.gz,trail-bucket/k/a.json.gz,trail-bucket/k/b.json.gz"},
		{ev, "trail-bucket/k/x.json.gz,other-bucket/k/x.json.gz"},
	} {
		n, err := cloudtrail.ParseNotification([]byte(c.body), cloudtrail.NotificationLimits{})
		if err != nil {
			t.Fatal(err)
		}
		var objs []string
		for _, o := range n.Objects {
			objs = append(objs, o.Bucket+"/"+o.Key)
		}
		if got := strings.Join(objs, ","); got != c.want {
			t.Errorf("objects %s, want %s", got, c.want)
		}
	}
}
