package testharness

import (
	"net/url"
	"strings"
	"time"
)

// CTNotification is CloudTrail's own SNS message: {"s3Bucket","s3ObjectKey"}.
// Sent to SQS as is, it is what a subscription with raw message delivery
// carries.
func CTNotification(bucket string, keys ...string) string {
	return MustJSON(map[string]any{"s3Bucket": bucket, "s3ObjectKey": keys})
}

// SNSWrapped is an SNS notification envelope around message.
func SNSWrapped(message string) string {
	return MustJSON(map[string]any{
		"Type":             "Notification",
		"MessageId":        "8c9b3d7e-2f1a-5b6c-9d8e-7f6a5b4c3d2e",
		"TopicArn":         "arn:aws:sns:us-east-1:" + Account + ":cloudtrail-logs",
		"Message":          message,
		"Timestamp":        time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"SignatureVersion": "1",
		"Signature":        "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
		"SigningCertURL":   "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
		"UnsubscribeURL":   "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:" + Account + ":cloudtrail-logs:1",
	})
}

// S3Event is an S3 event notification (ObjectCreated:Put) for keys, which it
// form-URL-encodes as S3 does (a space becomes "+", "+" becomes "%2B").
func S3Event(bucket string, keys ...string) string {
	var recs []any
	for _, k := range keys {
		segs := strings.Split(k, "/")
		for i, s := range segs {
			segs[i] = url.QueryEscape(s)
		}
		recs = append(recs, map[string]any{
			"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
			"eventTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "eventName": "ObjectCreated:Put",
			"userIdentity":      map[string]any{"principalId": "AWS:AROAEXAMPLE:regionalDeliverySession"},
			"requestParameters": map[string]any{"sourceIPAddress": "10.0.0.1"},
			"responseElements":  map[string]any{"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD"},
			"s3": map[string]any{
				"s3SchemaVersion": "1.0", "configurationId": "trailguard",
				"bucket": map[string]any{"name": bucket, "ownerIdentity": map[string]any{"principalId": "A3NL1KOZZKExample"}, "arn": "arn:aws:s3:::" + bucket},
				"object": map[string]any{"key": strings.Join(segs, "/"), "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e", "sequencer": "0055AED6DCD90281E5"},
			},
		})
	}
	return MustJSON(map[string]any{"Records": recs})
}

// S3TestEvent is what S3 sends when a notification is configured.
func S3TestEvent(bucket string) string {
	return MustJSON(map[string]any{
		"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": time.Now().UTC().Format(time.RFC3339),
		"Bucket": bucket, "RequestId": "5582815E1AEA5ADF", "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
	})
}

// EBCloudTrail is an EventBridge event carrying one CloudTrail record.
func EBCloudTrail(r Record) string {
	detailType, source := "AWS API Call via CloudTrail", "aws."+strings.TrimSuffix(r["eventSource"].(string), ".amazonaws.com")
	if r["eventType"] == "AwsConsoleSignIn" {
		detailType = "AWS Console Sign In via CloudTrail"
	}
	return MustJSON(map[string]any{
		"version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": detailType,
		"source": source, "account": Account, "time": r["eventTime"], "region": "us-east-1",
		"resources": []any{}, "detail": r,
	})
}

// EBObjectCreated is an EventBridge S3 "Object Created" event.
func EBObjectCreated(bucket, key string) string {
	return MustJSON(map[string]any{
		"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
		"source": "aws.s3", "account": Account, "time": time.Now().UTC().Format(time.RFC3339), "region": "us-east-1",
		"resources": []any{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{
			"version": "0", "bucket": map[string]any{"name": bucket},
			"object":     map[string]any{"key": key, "size": 5, "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "00617F08299329D189"},
			"request-id": "N4N7GDK58NMKJ12R", "requester": "cloudtrail.amazonaws.com",
			"source-ip-address": "cloudtrail.amazonaws.com", "reason": "PutObject",
		},
	})
}
