package testpeers

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func TestFauxqs(t *testing.T) {
	t.Parallel()
	f := StartFauxqs(t)
	url, dlq := f.CreateQueueWithDLQ(t, "peers", 2, map[string]string{"VisibilityTimeout": "1"})
	f.Send(t, url, "hello")
	f.WaitCounts(t, url, 1, 0, 5*time.Second)

	for i := 1; i <= 2; i++ {
		msgs := f.Receive(t, url, 10, 5*time.Second)
		if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "hello" {
			t.Fatalf("receive %d: got %+v", i, msgs)
		}
		if got := msgs[0].Attributes["ApproximateReceiveCount"]; got != string(rune('0'+i)) {
			t.Fatalf("receive %d: ApproximateReceiveCount %q", i, got)
		}
		if v, inflight := f.ApproxCounts(t, url); v != 0 || inflight != 1 {
			t.Fatalf("after receive %d: counts %d/%d", i, v, inflight)
		}
	}
	// The third receive finds the message past maxReceiveCount: it moves to the DLQ.
	if msgs := f.Receive(t, url, 10, 3*time.Second); len(msgs) != 0 {
		t.Fatalf("third receive got %d messages", len(msgs))
	}
	f.WaitCounts(t, dlq, 1, 0, 5*time.Second)
	f.WaitCounts(t, url, 0, 0, time.Second)

	f.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := f.SQSClient().GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("peers")}); err == nil {
		t.Fatal("stopped fauxqs still answers")
	}
}

func TestS3(t *testing.T) {
	t.Parallel()
	s := StartS3(t)
	s.CreateBucket(t, "trail-logs")
	s.Put(t, "trail-logs", "a/b.json", []byte(`{"Records":[]}`))
	out, err := s.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("trail-logs"), Key: aws.String("a/b.json")})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(b) != `{"Records":[]}` {
		t.Fatalf("got %q", b)
	}
	s.Delete(t, "trail-logs", "a/b.json")
	if _, err := s.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("trail-logs"), Key: aws.String("a/b.json")}); err == nil {
		t.Fatal("deleted object still there")
	}
}

func TestProxy(t *testing.T) {
	t.Parallel()
	s := StartS3(t)
	p := StartProxy(t, s.Endpoint(), false)
	client := s3.NewFromConfig(awsConfig(t), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(p.Endpoint())
		o.UsePathStyle = true
		o.RetryMaxAttempts = 1
	})
	ctx := context.Background()
	if _, err := client.ListBuckets(ctx, &s3.ListBucketsInput{}); err == nil {
		t.Fatal("request through a down proxy succeeded")
	}
	p.Up()
	if _, err := client.ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil {
		t.Fatalf("request through an up proxy: %v", err)
	}
	p.Down()
	if _, err := client.ListBuckets(ctx, &s3.ListBucketsInput{}); err == nil {
		t.Fatal("request through a proxy taken down succeeded")
	}
}
